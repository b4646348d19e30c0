"""`ringtui missed ...`: the missed-call worklist (L4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ringtui.commands._filters import Limit, with_filters
from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.commands.calls import CSV_COLUMNS as CALL_CSV_COLUMNS
from ringtui.output import info, render_object, render_rows

if TYPE_CHECKING:
    from ringtui.services.filters import FilterOptions

NAME = "missed"
HELP = "Missed inbound calls: the worklist, and recording how each was followed up."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["id", "started_at", "from_number", "to_number", "ivr", "type", "wait_s", "tags",
                "processed_channel", "processed_by"]
CSV_COLUMNS = [*CALL_CSV_COLUMNS, "processed_at", "processed_by"]  # every key of the JSON rows


@app.command("list")
@with_filters()
def list_(
    unprocessed: Annotated[bool, typer.Option("--unprocessed", help="Only calls still to process.")] = False,
    processed: Annotated[bool, typer.Option("--processed", help="Only calls already processed.")] = False,
    *, filters: FilterOptions,
    limit: Limit = 100,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """List missed inbound calls, newest first."""
    from ringtui.services import missed

    if unprocessed and processed:
        raise typer.BadParameter("give --unprocessed or --processed, not both")
    state = True if processed else (False if unprocessed else None)
    with operation() as op:
        rows = missed.list_missed(op, filters, processed=state, limit=limit)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=CSV_COLUMNS if as_csv else LIST_COLUMNS,
                title="Missed calls")


@app.command("process")
def process(
    call_id: Annotated[int, typer.Argument(help="Id of a missed inbound call (see `ringtui missed list`).")],
    channel: Annotated[str, typer.Option("--channel", help="How it was followed up: call, sms or email.")],
    as_json: JsonFlag = False,
) -> None:
    """Mark a missed call as processed, with the channel used."""
    from ringtui.services import missed

    with operation() as op:
        result = missed.process_missed(op, call_id, channel)
    info(f"Missed call {call_id} processed by {result['processed_channel']}.")
    render_object(result, as_json=as_json)
