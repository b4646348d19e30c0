"""`ringtui export calls|sms|meet|contacts`: whole call logs or the address book as CSV or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ringtui.commands._filters import (
    CallDirection,
    CallType,
    Country,
    GroupName,
    Hours,
    IvrName,
    Period,
    SavedFilterName,
    Scope,
    TagName,
    UserEmail,
    filter_options,
)
from ringtui.commands._runtime import operation
from ringtui.output import info

NAME = "export"
HELP = "Export calls, SMS or meetings (with FILTERS) or contacts as CSV or a JSON array, to stdout or a file."
app = typer.Typer(no_args_is_help=True)

Kind = Annotated[str, typer.Argument(
    metavar="calls|sms|meet|contacts", help="What to export: calls, sms, meet (meetings) or contacts.")]
Format = Annotated[str, typer.Option("--format", help="csv (with a header) or json (one array).")]
Out = Annotated[Path | None, typer.Option(
    "--out", help="Write to this file, replaced only once complete (default: stdout).")]


@app.callback(invoke_without_command=True, subcommand_metavar="[FILTERS] [--format csv|json] [--out FILE]",
              context_settings={"allow_interspersed_args": True})
def export(
    kind: Kind,
    period: Period = None, hours: Hours = None, scope: Scope = None, ivr: IvrName = None,
    group: GroupName = None, user: UserEmail = None, country: Country = None, tag: TagName = None,
    direction: CallDirection = None, type_: CallType = None, saved: SavedFilterName = None,
    file_format: Format = "csv", out: Out = None,
) -> None:
    """Export every call, SMS or meeting the acting user may see (filtered as the lists), or every contact."""
    from ringtui.services import exports

    options = filter_options(period=period, hours=hours, scope=scope, ivr=ivr, group=group, user=user,
                             country=country, tag=tag, direction=direction, type=type_, saved=saved)
    with operation() as op:
        result = exports.export(op, kind, options, file_format=file_format, out=out, stdout=sys.stdout)
    if out is not None:
        info(f"Exported {result['rows']} {result['kind']} as {result['format']} to {out}.")
