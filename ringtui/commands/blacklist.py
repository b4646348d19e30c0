"""`ringtui blacklist ...`: numbers and prefixes refused inbound and/or outbound (T3)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "blacklist"
HELP = "Block numbers or prefixes inbound and/or outbound, company-wide or for one user (business, advanced)."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["number", "direction", "user", "created_at"]

NumberArg = Annotated[str, typer.Argument(
    help="A number (national or +CC...) or a prefix ending in '*', such as +33899* or 0899*.")]
UserOption = Annotated[str | None, typer.Option(
    "--user", help="The user's own blacklist (e-mail); company-wide when omitted.")]


@app.command("add")
def add(
    number: NumberArg,
    direction: Annotated[str, typer.Option(
        "--direction", help="in (calls received), out (calls made) or both.")],
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Blacklist a number or prefix; adding the other direction of an entry makes it both."""
    from ringtui.services import blacklist

    with operation() as op:
        result = blacklist.add_entry(op, number, direction, user=user)
    whose = f"for {result['user']}" if result["user"] else "company-wide"
    info(f"{result['number']} is blacklisted {whose}, direction {result['direction']}.")
    render_object(result, as_json=as_json)


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's entries (e-mail).")] = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """List blacklist entries: company-wide ones first, then each user's."""
    from ringtui.services import blacklist

    with operation() as op:
        rows = blacklist.list_entries(op, user=user)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Blacklist")


@app.command("remove")
def remove(
    number: NumberArg,
    direction: Annotated[str | None, typer.Option(
        "--direction", help="Direction to lift: in, out or both (default: the whole entry).")] = None,
    user: UserOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Lift a blacklist entry, or one direction of it."""
    from ringtui.services import blacklist

    with operation() as op:
        result = blacklist.remove_entry(op, number, direction=direction, user=user)
    left = f"still blocked {result['direction']}" if result["direction"] else "no longer blacklisted"
    info(f"{result['number']}: {result['removed']} lifted; {left}.")
    render_object(result, as_json=as_json)
