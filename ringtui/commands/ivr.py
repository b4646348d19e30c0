"""`ringtui ivr ...`: IVR records (I1)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "ivr"
HELP = "Create, list, show and delete IVRs."
app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    record: Annotated[bool, typer.Option(
        "--record", help="Record inbound and outbound conversations.")] = False,
    vip: Annotated[list[str] | None, typer.Option(
        "--vip", help="VIP number, served first in the waiting list (repeatable).")] = None,
    anonymous: Annotated[str, typer.Option("--anonymous", help="allow or reject anonymous calls.")] = "allow",
    script: Annotated[str, typer.Option("--script", help="Outbound call script shown to agents.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create an IVR."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.create_ivr(op, name, record=record, vip_numbers=vip or [], anonymous=anonymous,
                                 script=script)
    render_object(result, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List IVRs."""
    from ringtui.services import ivrs

    with operation() as op:
        rows = ivrs.list_ivrs(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, title="IVRs",
                columns=["name", "numbers", "record_inbound", "anonymous", "vip_numbers"])


@app.command("show")
def show(name: str, as_json: JsonFlag = False) -> None:
    """Show one IVR."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.show_ivr(op, name)
    render_object(result, as_json=as_json)


@app.command("delete")
def delete(name: str, as_json: JsonFlag = False) -> None:
    """Delete an IVR; its numbers become available again."""
    from ringtui.services import ivrs

    with operation() as op:
        result = ivrs.delete_ivr(op, name)
    info(f"Deleted IVR {result['name']}; released {len(result['numbers'])} number(s).")
    render_object(result, as_json=as_json)
