"""`ringtui calls ...`: call logs (L1-L3), tagging (T1) and flagging (L2)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ringtui.commands._filters import Limit, with_filters
from ringtui.commands._runtime import CsvFlag, JsonFlag, SkipInvalid, operation
from ringtui.output import info, render_object, render_rows

if TYPE_CHECKING:
    from ringtui.services.filters import FilterOptions

NAME = "calls"
HELP = "Call logs: list with filters, show one call, tag or flag it, import Asterisk CDRs."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["id", "started_at", "direction", "type", "from_number", "to_number", "ivr", "agent",
                "wait_s", "talk_s", "tags", "processed_channel", "transferred"]
# CSV carries every key of the JSON rows (CLI.md `calls list`), not only the table's columns.
CSV_COLUMNS = ["id", "started_at", "direction", "type", "from_number", "to_number", "ivr", "agent",
               "wait_s", "talk_s", "tags", "ended_by_customer", "processed_channel", "transferred"]

@app.command("list")
@with_filters()
def list_(
    *, filters: FilterOptions,
    limit: Limit = 100,
    as_json: JsonFlag = False, as_csv: CsvFlag = False,
) -> None:
    """List calls (inbound, outbound, missed), newest first."""
    from ringtui.services import calls

    with operation() as op:
        rows = calls.list_calls(op, filters, limit=limit)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=CSV_COLUMNS if as_csv else LIST_COLUMNS,
                title="Calls")


@app.command("show")
def show(
    call_id: Annotated[int, typer.Argument(help="Call id (see `ringtui calls list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Show one call: ring attempts and their outcomes, tags, survey, recording, transfers (when, blind or
    attended, by and to whom: an agent's e-mail or a number, answered or not)."""
    from ringtui.services import calls

    with operation() as op:
        call = calls.show_call(op, call_id)
    if as_json:
        render_object(call, as_json=True)
        return
    details = {k: v for k, v in call.items() if k not in ("attempts", "transfers")}
    render_object(details, title=f"Call {call_id}")
    render_rows(call["attempts"], columns=["agent", "started_at", "ended_at", "outcome"],
                title="Ring attempts")
    if call["transfers"]:
        render_rows(call["transfers"], columns=["at", "kind", "by", "to", "answered"], title="Transfers")


@app.command("tag")
def tag(
    call_id: Annotated[int, typer.Argument(help="Call id.")],
    names: Annotated[list[str], typer.Argument(help="Tag names to add (see `ringtui tags list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Tag a call (needs the tag_calls permission; at most the account's maximum of tags per call)."""
    from ringtui.services import calls

    with operation() as op:
        result = calls.tag_call(op, call_id, names)
    info(f"Call {call_id} tagged: {', '.join(result['tags'])}.")
    render_object(result, as_json=as_json)


@app.command("flag")
def flag(
    call_id: Annotated[int, typer.Argument(help="Call id.")],
    off: Annotated[bool, typer.Option("--off", help="Take the flag off.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Flag a call for attention (or take the flag off with --off)."""
    from ringtui.services import calls

    with operation() as op:
        result = calls.flag_call(op, call_id, flagged=not off)
    info(f"Call {call_id} {'flagged' if result['flagged'] else 'unflagged'}.")
    render_object(result, as_json=as_json)


ImportFormat = Annotated[str, typer.Option("--format", help="asterisk-csv: Asterisk/FreePBX Master.csv.")]
ImportZone = Annotated[str | None, typer.Option(
    "--timezone", help="Time zone of the PBX's start/answer/end times (IANA name); default the account's.")]


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(
        help="Master.csv (18 columns, accountcode..userfield; header line optional).")],
    format_: ImportFormat = "asterisk-csv", timezone: ImportZone = None,
    skip_invalid: SkipInvalid = False, as_json: JsonFlag = False,
) -> None:
    """Import call-detail records from Asterisk/FreePBX; lines imported before are skipped."""
    from ringtui.services import cdr_import

    with operation() as op:
        summary = cdr_import.import_cdrs(op, file, format=format_, timezone=timezone,
                                         skip_invalid=skip_invalid)
    for line, problem in summary["invalid"]:
        info(f"line {line}: {problem} (skipped)")
    if as_json:
        render_object(summary, as_json=True)
        return
    info(_import_sentence(summary))


def _import_sentence(summary: dict[str, Any]) -> str:
    parts = [f"Imported {summary['imported']} call(s) from {summary['file']} "
             f"(times in {summary['timezone']})"]
    if summary["already_imported"]:
        parts.append(f"{summary['already_imported']} already imported before, skipped")
    if summary["internal_skipped"]:
        parts.append(f"{summary['internal_skipped']} internal call(s) between extensions skipped")
    if summary["invalid"]:
        parts.append(f"{len(summary['invalid'])} bad line(s) skipped")
    if not summary["imported"] and summary["already_imported"]:
        parts[0] = f"Nothing new in {summary['file']}: every call was imported before"
    return "; ".join(parts) + "."
