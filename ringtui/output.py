"""Rendering of command results: Rich tables by default, `--json` or `--csv`.

With --json exactly one JSON document goes to stdout (an array for lists, an
object otherwise); messages for people go to stderr.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ringtui.formats import cell, jsonable, shown_zone_name

# Phone numbers, times and figures are never wrapped in human tables; text folds.
_UNBREAKABLE = re.compile(r"[+\d][\d:.+-]{0,19}|\d{4}-\d\d-\d\d \d\d:\d\d")


def to_json(data: Any) -> str:
    return json.dumps(data, default=jsonable, ensure_ascii=False, indent=2)


def _cell(value: Any) -> str:
    return cell(value)


def _csv_cell(value: Any) -> str:
    """CSV is for programs: times stay ISO-8601 UTC, as in JSON."""
    return cell(value, iso_times=True)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, no_color="NO_COLOR" in os.environ or None, highlight=False)


def _stdout_console():
    from rich.console import Console

    return Console(no_color="NO_COLOR" in os.environ or None, highlight=False)


def info(message: str) -> None:
    """A message for people, on stderr so that stdout stays machine-readable."""
    stderr_console().print(message, markup=False, soft_wrap=True)


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    as_json: bool = False,
    as_csv: bool = False,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    caption: str | None = None,
    highlight: int | None = None,
) -> None:
    """Print a list of records as a table, a JSON array or CSV; the row at index `highlight` (if
    any) stands out in the table."""
    if as_json:
        sys.stdout.write(to_json(list(rows)) + "\n")
        return
    names = list(columns or (rows[0].keys() if rows else []))
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_csv_cell(row.get(name)) for name in names] for row in rows)
        return
    from rich import box
    from rich.table import Table

    if _holds_times(row.get(name) for row in rows for name in names):
        caption = "; ".join(filter(None, [caption, _times_note()]))
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, header_style="bold",
                  pad_edge=False, collapse_padding=True)
    cells = [[_cell(row.get(name)) for name in names] for row in rows]
    for index, name in enumerate(names):
        tokens = [token for line in cells for token in line[index].split(", ")]
        unbroken = max((len(t) for t in tokens if _UNBREAKABLE.fullmatch(t)), default=None)
        table.add_column(name.replace("_", " "), overflow="fold", min_width=unbroken)
    for index, line in enumerate(cells):
        table.add_row(*line, style="bold reverse" if index == highlight else None)
    console = _stdout_console()
    console.print(table, crop=False)
    if not rows:
        info("(no rows)")


def render_object(data: Mapping[str, Any], *, as_json: bool = False, title: str | None = None) -> None:
    """Print one record as a two-column table or a JSON object."""
    if as_json:
        sys.stdout.write(to_json(dict(data)) + "\n")
        return
    from rich.table import Table

    caption = _times_note() if _holds_times(data.values()) else None
    table = Table(title=title, caption=caption, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(key.replace("_", " "), _cell(value))
    _stdout_console().print(table)


def _holds_times(values: Iterable[Any]) -> bool:
    return any(isinstance(value, datetime) for value in values)


def _times_note() -> str:
    """Human tables show times in the account's zone (JSON and CSV keep UTC): the caption says which."""
    return f"times in {shown_zone_name()}"


def write_csv(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
