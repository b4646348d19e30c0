"""`ringtui export calls|sms|meet|contacts`: whole call logs or the address book as CSV or JSON."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ringtui.commands._filters import with_filters
from ringtui.commands._runtime import operation
from ringtui.output import info

if TYPE_CHECKING:
    from ringtui.services.filters import FilterOptions

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
@with_filters()
def export(
    kind: Kind,
    *, filters: FilterOptions,
    file_format: Format = "csv", out: Out = None,
) -> None:
    """Export every call, SMS or meeting the acting user may see (filtered as the lists), or every contact."""
    from ringtui.services import exports

    with operation() as op:
        result = exports.export(op, kind, filters, file_format=file_format, out=out, stdout=sys.stdout)
    if out is not None:
        info(f"Exported {result['rows']} {result['kind']} as {result['format']} to {out}.")
