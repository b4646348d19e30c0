"""`ringtui groups ...`: groups of users (U2)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import render_object, render_rows

NAME = "groups"
HELP = "Create groups, add and remove members, list them."
app = typer.Typer(no_args_is_help=True)

Emails = Annotated[list[str], typer.Argument(help="E-mails of users.")]


@app.command("create")
def create(
    name: str,
    open_: Annotated[bool, typer.Option("--open", help="Users may join by themselves.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a group."""
    from ringtui.services import groups

    with operation() as op:
        result = groups.create_group(op, name, open_=open_)
    render_object(result, as_json=as_json)


@app.command("add")
def add(name: str, emails: Emails, as_json: JsonFlag = False) -> None:
    """Add users to a group."""
    from ringtui.services import groups

    with operation() as op:
        result = groups.add_members(op, name, emails)
    render_object(result, as_json=as_json)


@app.command("remove")
def remove(name: str, emails: Emails, as_json: JsonFlag = False) -> None:
    """Remove users from a group."""
    from ringtui.services import groups

    with operation() as op:
        result = groups.remove_members(op, name, emails)
    render_object(result, as_json=as_json)


@app.command("join")
def join(name: str, as_json: JsonFlag = False) -> None:
    """Join an open group as the acting user."""
    from ringtui.services import groups

    with operation() as op:
        result = groups.join_open_group(op, name)
    render_object(result, as_json=as_json)


@app.command("delete")
def delete(name: str, as_json: JsonFlag = False) -> None:
    """Delete a group (its members stay users)."""
    from ringtui.services import groups

    with operation() as op:
        result = groups.delete_group(op, name)
    render_object(result, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List groups with their member counts."""
    from ringtui.services import groups

    with operation() as op:
        rows = groups.list_groups(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=["name", "open", "member_count"],
                title="Groups")
