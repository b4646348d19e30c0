"""`ringtui tags ...`: call tags and the maximum of tags per call (T1)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "tags"
HELP = "Manage call tags (name, colour, conditions of use) and the maximum of tags per call."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["name", "color", "conditions"]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Tag name, unique ignoring case (up to 60 characters).")],
    color: Annotated[str | None, typer.Option(
        "--color", help="Hex colour such as #1E90FF (default #888888).")] = None,
    conditions: Annotated[str, typer.Option(
        "--conditions", help="Conditions of use, shown to agents when they tag a call.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a tag."""
    from ringtui.services import tags

    with operation() as op:
        result = tags.add_tag(op, name, color=color, conditions=conditions)
    info(f"Tag {result['name']!r} added.")
    render_object(result, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List tags, with the maximum of tags per call."""
    from ringtui.services import tags

    with operation() as op:
        result = tags.list_tags(op)
    render_rows(result["tags"], as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS,
                title="Tags", caption=f"at most {result['max_tags_per_call']} tags per call")


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="Tag name (case does not matter).")],
    as_json: JsonFlag = False,
) -> None:
    """Remove a tag."""
    from ringtui.services import tags

    with operation() as op:
        result = tags.remove_tag(op, name)
    info(f"Tag {result['name']!r} removed.")
    render_object(result, as_json=as_json)


@app.command("max")
def max_(
    value: Annotated[int | None, typer.Argument(
        help="New maximum of tags per call, 1..20; omit it to show the current value.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show or set the account-wide maximum of tags on one call."""
    from ringtui.services import tags

    with operation() as op:
        result = tags.max_tags_per_call(op, value)
    render_object(result, as_json=as_json)
