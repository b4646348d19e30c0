"""`ringtui users ...`: provisioning users, their roles, permissions and settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, SkipInvalid, operation
from ringtui.output import info, render_object, render_rows

NAME = "users"
HELP = "Add, list, import and configure users (roles, permissions, settings, SIP, snooze)."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["email", "first_name", "last_name", "status", "role", "groups", "numbers"]


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="E-mail of the new user; an invitation is sent.")],
    first_name: Annotated[str, typer.Option("--first-name", help="First name.")] = "",
    last_name: Annotated[str, typer.Option("--last-name", help="Last name.")] = "",
    license: Annotated[str, typer.Option("--license", help="smart, business or advanced.")] = "business",
    number: Annotated[str | None, typer.Option(
        "--number", help="An available number of the account.")] = None,
    role: Annotated[str, typer.Option("--role", help="Dashboard role.")] = "none",
    group: Annotated[list[str] | None, typer.Option("--group", help="Group to join (repeatable).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a user (U1)."""
    from ringtui.services import users

    with operation() as op:
        result = users.add_user(op, email, first_name=first_name, last_name=last_name, license=license,
                                number=number, role=role, groups=group or [])
    info(f"Invitation sent to {result['email']}.")
    render_object(result, as_json=as_json)


@app.command("list")
def list_(
    group: Annotated[str | None, typer.Option("--group", help="Only members of this group.")] = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """List users."""
    from ringtui.services import users

    with operation() as op:
        rows = users.list_users(op, group=group)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Users")


@app.command("show")
def show(email: str, as_json: JsonFlag = False) -> None:
    """Show one user."""
    from ringtui.services import users

    with operation() as op:
        result = users.show_user(op, email)
    render_object(result, as_json=as_json)


@app.command("remove")
def remove(email: str, as_json: JsonFlag = False) -> None:
    """Remove a user; the user's numbers are released."""
    from ringtui.services import users

    with operation() as op:
        result = users.remove_user(op, email)
    info(f"Removed {result['email']}; released {len(result['released_numbers'])} number(s).")
    render_object(result, as_json=as_json)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with header email,first_name,last_name,role,number,groups "
                                         "(groups separated by ';').")],
    skip_invalid: SkipInvalid = False,
    as_json: JsonFlag = False,
) -> None:
    """Import users from a CSV file, all or nothing unless --skip-invalid."""
    from ringtui.services import user_import

    with operation() as op:
        result = user_import.import_users(op, file, skip_invalid=skip_invalid)
    for line, message in result["invalid"]:
        info(f"line {line}: {message}")
    info(f"Imported {result['imported']} user(s); {len(result['invalid'])} bad line(s) skipped.")
    render_object(result, as_json=as_json)


@app.command("role")
def role(
    email: str,
    role: Annotated[str, typer.Argument(help="none, accountant, technical, supervisor or admin.")],
    scope: Annotated[list[str] | None, typer.Option(
        "--scope", help="group:NAME or ivr:NAME a supervisor may see (repeatable).")] = None,
    campaigns: Annotated[bool, typer.Option("--campaigns", help="Supervisor may run campaigns.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Set a user's dashboard role (U7)."""
    from ringtui.services import users

    with operation() as op:
        result = users.set_role(op, email, role, scopes=scope or [], campaigns=campaigns)
    render_object(result, as_json=as_json)


@app.command("perms")
def perms(
    email: str,
    pairs: Annotated[list[str] | None, typer.Argument(help="NAME=VALUE; none to show all.")] = None,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """Show or change a user's permissions (U4)."""
    from ringtui.services import users

    with operation() as op:
        rows = (users.set_permissions(op, email, pairs) if pairs
                else users.show_permissions(op, email))
    render_rows(rows, as_json=as_json, as_csv=as_csv, title=f"Permissions of {email}")


@app.command("set")
def set_(
    email: str,
    pairs: Annotated[list[str], typer.Argument(help=(
        "NAME=VALUE: outgoing_number, forward_to, ring_seconds, call_waiting, record_by_default, "
        "schedule, or a sound (ringback, welcome_message, hold_music, voicemail_message, "
        "recording_announcement)."))],
    as_json: JsonFlag = False,
) -> None:
    """Change a user's phone settings (U5) and sounds (U6)."""
    from ringtui.services import users

    with operation() as op:
        result = users.set_settings(op, email, pairs)
    render_object(result, as_json=as_json)


@app.command("sip-credentials")
def sip_credentials(
    email: str,
    reset: Annotated[bool, typer.Option("--reset", help="Generate a new password.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show (or reset) the user's SIP account for a desk phone or softphone."""
    from ringtui.services import users

    with operation() as op:
        result = users.sip_credentials(op, email, reset=reset)
    render_object(result, as_json=as_json)


@app.command("snooze")
def snooze(
    email: str,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (shown on the agent board).")] = None,
    off: Annotated[bool, typer.Option("--off", help="End the snooze.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Put a user in snooze (with a reason) or take them out."""
    if off and reason is not None:
        raise typer.BadParameter("give --reason or --off, not both")
    from ringtui.services import users

    with operation() as op:
        result = users.snooze(op, email, reason=reason, off=off)
    render_object(result, as_json=as_json)
