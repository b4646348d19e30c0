"""The table every list screen uses: service rows (dicts) shown by column, filtered, sorted, exported.

Filtering and sorting happen on the rows before they reach the DataTable, and the
DataTable is given them a page at a time (the next page when the cursor nears the
end): DataTable measures every cell it holds, so 20,000 rows at once would take
seconds. Cells are plain Text (a name with [brackets] is not read as markup).
Row keys are the rows' own ids, so the cursor stays on the same record after a
reload. Export writes every row of the view, not only the pages loaded.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ringtui.formats import cell, jsonable
from ringtui.screens.widgets.forms import PromptScreen

# Under NARROW_BELOW terminal columns a table shows its narrow columns only (readable at 80).
NARROW_BELOW = 110


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    narrow: str | None = ""  # its label under NARROW_BELOW columns ("": the same; None: not shown)
    wide: bool = True  # shown at full width and exported (False: a narrow-only summary of others)
    narrow_width: int | None = None  # a fixed width under NARROW_BELOW (long free text)


def columns(*keys: str, narrow: dict[str, str | None] | None = None, **labels: str) -> list[Column]:
    """Columns named by their row keys; a label defaults to the key. `narrow` gives the label of a
    column under NARROW_BELOW terminal columns, or None to leave it out there."""
    narrow = narrow or {}
    return [Column(key, labels.get(key, key), narrow.get(key, "")) for key in keys]


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, datetime):  # by the instant: local text repeats an hour when clocks go back
        return (1, jsonable(value))
    return (1, cell(value).lower())


def write_export(path: Path, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """CSV (times ISO-8601 UTC) unless the name ends in .json (a JSON array); written atomically."""
    path = path.expanduser()
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give a file name")
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", newline="", encoding="utf-8") as out:
        if path.suffix.lower() == ".json":
            json.dump([{key: row.get(key) for key in keys} for row in rows], out, default=jsonable, indent=2)
            out.write("\n")
        else:
            writer = csv.writer(out)
            writer.writerow(keys)
            writer.writerows([cell(row.get(key), iso_times=True) for key in keys] for row in rows)
    os.replace(partial, path)


PAGE = 400  # rows handed to the DataTable at a time
PRELOAD = 40  # the next page is added when the cursor comes this close to the last row loaded


class RecordsTable(DataTable[Text]):
    """Rows of a service: `/` filter, `s` sort (cycles columns), `S` sort by a column named, `r` reverse,
    `e` export, Enter."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="records.filter"),
        Binding("s", "sort", "Sort", id="records.sort"),
        Binding("S", "sort_by_name", "Sort by...", show=False, id="records.sort_by"),
        Binding("r", "reverse", "Reverse", show=False, id="records.reverse"),
        Binding("e", "export", "Export", id="records.export"),
    ]

    class Chosen(Message):
        """Enter on a row: the screen drills down into it."""

        def __init__(self, table: RecordsTable, row: dict[str, Any]) -> None:
            super().__init__()
            self.table, self.row = table, row

        @property
        def control(self) -> RecordsTable:
            return self.table

    def __init__(self, cols: list[Column], *, row_key: str = "id", export_name: str = "export",
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.cols, self.row_key, self.export_name = cols, row_key, export_name
        self.rows_all: list[dict[str, Any]] = []
        self.view_rows: list[dict[str, Any]] = []
        self.loaded = 0  # how many of view_rows the DataTable holds
        self._keys: set[str] = set()
        self.filter_text = ""
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.narrow = False

    @property
    def shown_cols(self) -> list[Column]:
        """The columns on screen: the narrow ones under NARROW_BELOW terminal columns."""
        if self.narrow:
            return [c for c in self.cols if c.narrow is not None]
        return [c for c in self.cols if c.wide]

    @property
    def data_cols(self) -> list[Column]:
        """The columns exported and shown in details (not the narrow-only summaries)."""
        return [c for c in self.cols if c.wide]

    def on_mount(self) -> None:
        self.narrow = self.app.size.width < NARROW_BELOW
        self._add_columns()

    def _add_columns(self) -> None:
        for column in self.shown_cols:
            label = (column.narrow or column.label) if self.narrow else column.label
            width = column.narrow_width if self.narrow else None
            self.add_column(label, key=column.key, width=width)

    def on_resize(self) -> None:
        """Crossing NARROW_BELOW terminal columns swaps the columns; the rows are drawn again."""
        narrow = self.app.size.width < NARROW_BELOW
        if narrow != self.narrow:
            self.narrow = narrow
            self.clear(columns=True)
            self._add_columns()
            self.refresh_view()

    # ------------------------------------------------------------ rows

    def key_of(self, row: dict[str, Any], index: int) -> str:
        value = row.get(self.row_key)
        return str(value) if value is not None else f"#{index}"

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows_all = list(rows)
        self.refresh_view()

    def refresh_view(self) -> None:
        """Filter, sort and draw the rows; the cursor stays on the same record when it is still shown."""
        chosen = self.current_row()
        chosen_key = self.key_of(chosen, -1) if chosen else None
        reach = max(PAGE, self.loaded)  # the cursor follows its record only as far as it was loaded
        rows = self.rows_all
        if self.filter_text:
            needle = self.filter_text.lower()
            rows = [row for row in rows if any(needle in cell(row.get(c.key)).lower() for c in self.cols)]
        if self.sort_column:
            column, reverse = self.sort_column, self.sort_reverse
            rows = sorted(rows, key=lambda row: _sort_key(row.get(column)), reverse=reverse)
        self.view_rows = rows
        self.clear()
        self.loaded, self._keys = 0, set()
        self.load_more(PAGE)
        if chosen_key is not None:
            position = next((i for i, row in enumerate(rows[:reach]) if self.key_of(row, i) == chosen_key),
                            None)
            if position is not None:
                self.load_more(position + 1 - self.loaded)
                self.move_cursor(row=position)
        self.border_subtitle = self.describe()

    def load_more(self, count: int) -> None:
        """Hand the next `count` rows of the view to the DataTable."""
        end = min(len(self.view_rows), self.loaded + max(count, 0))
        for index in range(self.loaded, end):
            row = self.view_rows[index]
            key = self.key_of(row, index)
            if key in self._keys:
                key = f"{key}#{index}"
            self._keys.add(key)
            self.add_row(*(Text(cell(row.get(c.key)), no_wrap=True) for c in self.shown_cols), key=key)
        self.loaded = end

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.loaded < len(self.view_rows) and event.cursor_row >= self.loaded - PRELOAD:
            self.load_more(PAGE)
            self.border_subtitle = self.describe()

    def describe(self) -> str:
        parts = [f"{len(self.view_rows)}/{len(self.rows_all)} rows"]
        if self.loaded < len(self.view_rows):
            parts.append(f"{self.loaded} loaded, more as you move down")
        if self.filter_text:
            parts.append(f"filter {self.filter_text!r}")
        if self.sort_column:
            parts.append(f"sort {self.sort_column}{' desc' if self.sort_reverse else ''}")
        return ", ".join(parts)

    def current_row(self) -> dict[str, Any] | None:
        if not self.view_rows or self.cursor_row < 0 or self.cursor_row >= len(self.view_rows):
            return None
        return self.view_rows[self.cursor_row]

    # ------------------------------------------------------------ actions

    def action_filter(self) -> None:
        def apply(text: str | None) -> None:
            if text is not None:
                self.filter_text = text.strip()
                self.refresh_view()

        prompt = PromptScreen("Show only rows containing (empty: all rows)", self.filter_text)
        self.app.push_screen(prompt, apply)

    def sort_by(self, key: str | None, *, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = key, reverse
        self.refresh_view()

    def action_sort(self) -> None:
        keys = [c.key for c in self.shown_cols]
        following = 0 if self.sort_column not in keys else keys.index(self.sort_column) + 1
        self.sort_by(keys[following] if following < len(keys) else None)

    def column_named(self, text: str) -> str | None:
        """The column whose key or label is, or else starts with, `text` (any case)."""
        wanted = text.strip().lower()
        for exact in (True, False):
            for column in self.cols:
                names = (column.key.lower(), str(column.label).lower())
                if any(name == wanted if exact else name.startswith(wanted) for name in names):
                    return column.key
        return None

    def action_sort_by_name(self) -> None:
        def apply(text: str | None) -> None:
            if not text or not text.strip():
                return
            descending = text.strip().startswith("-")
            key = self.column_named(text.strip().lstrip("-"))
            if key is None:
                names = ", ".join(c.key for c in self.cols)
                self.notify(f"Error: no column {text.strip()!r}: give one of {names}", severity="error")
                return
            self.sort_by(key, reverse=descending)

        current = f"-{self.sort_column}" if self.sort_reverse else self.sort_column or ""
        self.app.push_screen(PromptScreen("Sort by column (a leading - sorts descending)", current), apply)

    def action_reverse(self) -> None:
        if self.sort_column:
            self.sort_by(self.sort_column, reverse=not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        self.sort_by(key, reverse=self.sort_column == key and not self.sort_reverse)

    def default_export_path(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return f"{self.export_name}-{stamp}.csv"

    def export(self, path: Path) -> int:
        write_export(path, self.view_rows, [c.key for c in self.data_cols])
        return len(self.view_rows)

    def action_export(self) -> None:
        def save(text: str | None) -> None:
            if not text:
                return
            path = Path(text.strip())
            try:
                count = self.export(path)
            except OSError as error:
                self.notify(f"Error: cannot write {path}: {error.strerror or error}", severity="error")
                return
            self.notify(f"Exported {count} row(s) to {path}")

        self.app.push_screen(PromptScreen("Export the rows shown to (.csv, or .json for JSON)",
                                          self.default_export_path()), save)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.current_row()
        if row is not None:
            self.post_message(self.Chosen(self, row))
