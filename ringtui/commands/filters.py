"""`ringtui filters ...`: saved filters (S16), reusable by name with `--filter NAME`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ringtui.commands._filters import with_filters
from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

if TYPE_CHECKING:
    from ringtui.services.filters import FilterOptions

NAME = "filters"
HELP = "Saved filters: FILTERS options kept under a name, used with --filter NAME by every FILTERS command."
app = typer.Typer(no_args_is_help=True)

FilterName = Annotated[str, typer.Argument(help="The filter's name (unique in the account).")]
COLUMNS = ["name", "owner", "options", "created_at"]


@app.command("save")
@with_filters()
def save(
    name: FilterName,
    *, filters: FilterOptions,
    as_json: JsonFlag = False,
) -> None:
    """Save FILTERS options under NAME (a relative period such as last-week stays relative)."""
    from ringtui.services import saved_filters

    with operation() as op:
        result = saved_filters.save_filter(op, name, filters)
    info(f"Filter {result['name']!r} saved: {_options_text(result['options'])}.")
    if as_json:
        render_object(result, as_json=True)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """Your saved filters (every user's for an admin)."""
    from ringtui.services import saved_filters

    with operation() as op:
        rows = saved_filters.list_filters(op)
    if as_json:
        render_rows(rows, as_json=True)
        return
    shown = [row | {"options": _options_text(row["options"])} for row in rows]
    render_rows(shown, as_csv=as_csv, columns=COLUMNS, title="Saved filters")


@app.command("remove")
def remove(name: FilterName, as_json: JsonFlag = False) -> None:
    """Remove a saved filter (yours; an admin may remove any)."""
    from ringtui.services import saved_filters

    with operation() as op:
        result = saved_filters.remove_filter(op, name)
    info(f"Filter {result['name']!r} removed.")
    if as_json:
        render_object(result, as_json=True)


def _options_text(options: dict[str, str]) -> str:
    return " ".join(f"--{name}={value}" for name, value in options.items())
