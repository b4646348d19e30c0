"""A DataTable for tables the feed updates several times a second.

Textual's DataTable keys every render cache on one update counter, so a single
`update_cell` throws away every rendered cell and the whole visible table is drawn
again (Rich renders each cell through Padding and Styled: most of a live screen's
CPU). LiveTable keeps what did not change:

- a cell's rendering is cached by what it shows (its text, style, width, cursor and
  hover state), not by the counter; a row that only moved up (a row above it left)
  reuses its cells' rendering with the new row index put into the mouse metadata;
- `update_cell` with the value already shown does nothing, and a real change repaints
  that row's region only if it is on screen (not the whole widget);
- the widget's style is computed once per paint instead of once per line.

Everything else (cursor, sorting, widths, mouse) is DataTable's own.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import CellDoesNotExist, ColumnKey, RowKey

Lines = list[list[Segment]]
CELL_CACHE = 20_000  # rendered cells kept: a few screens' worth of distinct cells


def shown(value: Any) -> Any:
    """What a cell shows, as a hashable key (Text is mutable, hence unhashable)."""
    if isinstance(value, Text):
        return (value.plain, value.style, tuple(value.spans), value.justify, value.overflow)
    return value if isinstance(value, (str, int, float)) else None


def moved_to(lines: Lines, meta: Style) -> Lines:
    """The same rendering with other mouse metadata (the row and column a click selects)."""
    return [
        [
            Segment(segment.text, segment.style + meta if segment.style else meta, segment.control)
            for segment in line
        ]
        for line in lines
    ]


class LiveTable(DataTable[Any]):
    # A row added or removed changes the scrollable size: the scrollbars need a layout, but
    # the rows on screen are repainted only where they changed (add_row, remove_rows).
    virtual_size = Reactive(Size(0, 0), layout=True, repaint=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cells_at: LRUCache[tuple[Any, ...], Lines] = LRUCache(CELL_CACHE)  # by position
        self._cells_showing: LRUCache[tuple[Any, ...], Lines] = LRUCache(CELL_CACHE)  # by content
        self._paint_style: Style | None = None
        self._paint_widths: tuple[int, ...] | None = None
        self._rows_at: LRUCache[tuple[Any, ...], tuple[Lines, Lines]] = LRUCache(2_000)
        self._rows_showing: LRUCache[tuple[Any, ...], tuple[Lines, Lines]] = LRUCache(2_000)
        self._strips: dict[int, tuple[tuple[Lines, Lines], tuple[int, int, int], Strip]] = {}

    # ------------------------------------------------------------ updates

    def update_cell(
        self, row_key: RowKey | str, column_key: ColumnKey | str, value: Any, *, update_width: bool = False
    ) -> None:
        if update_width:
            super().update_cell(row_key, column_key, value, update_width=True)
            return
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        row_index = self._row_locations.get(row_key)
        if row_index is None or column_key not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.")
        cells = self._data[row_key]
        old = cells.get(column_key)
        if old is value or (shown(old) is not None and shown(old) == shown(value)):
            return
        cells[column_key] = value
        self._update_count += 1  # DataTable's row renderables are cached on it
        self._refresh_line(row_index)

    def add_row(
        self, *cells: Any, height: int | None = 1, key: str | None = None, label: Any = None
    ) -> RowKey:
        if height != 1:
            raise ValueError("a LiveTable's rows are one line high")
        row_key = super().add_row(*cells, height=1, key=key, label=label)
        self._refresh_line(self.row_count - 1)
        return row_key

    def remove_rows(self, keys: list[str]) -> None:
        """Remove several rows at once, repainting only the lines from the first one removed down.

        DataTable.remove_row rebuilds the row index on every call (O(rows)) and repaints the
        whole table; a frame that moves fifty agents out of a 1,000-row column would do that
        fifty times. This rebuilds the index once, through the same attributes remove_row
        uses (falling back to remove_row when they are not there: another Textual version).
        """
        present = [key for key in keys if key in self.rows]
        locations = getattr(self, "_row_locations", None)
        if not present:
            return
        if locations is None or not hasattr(locations, "_forward"):
            for key in present:
                self.remove_row(key)
            return
        from textual._two_way_dict import TwoWayDict
        from textual.widgets._data_table import CellKey

        gone = {RowKey(key) for key in present}
        first = min(locations._forward[key] for key in gone)
        kept = sorted((index, key) for key, index in locations._forward.items() if key not in gone)
        self._row_locations = TwoWayDict({key: position for position, (_index, key) in enumerate(kept)})
        for key in gone:
            for column_key in self._data.get(key, {}):
                self._updated_cells.discard(CellKey(key, column_key))
            del self.rows[key]
            del self._data[key]
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.check_idle()
        # the rows below the first one removed moved up: repaint from there to the window's end
        top = first + (self.header_height if self.show_header else 0)
        bottom = self.scroll_offset.y + self.size.height
        if top < bottom:
            width = max(self.size.width, self.virtual_size.width)
            self._refresh_region(Region(0, top, width, bottom - top))

    def _update_dimensions(self, new_rows: Any) -> None:
        """Column widths follow new rows: when one changes, every line is drawn again."""
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        super()._update_dimensions(new_rows)
        if widths != [column.get_render_width(self) for column in self.ordered_columns]:
            self.refresh()

    def visible_row_keys(self) -> list[str]:
        """The keys of the rows on screen, top to bottom (rows are one line high)."""
        top = self.scroll_offset.y
        header = self.header_height if self.show_header else 0
        bottom = min(top + max(self.scrollable_content_region.height - header, 0), self.row_count)
        keys = (self._row_locations.get_key(index) for index in range(max(top, 0), bottom))
        return [str(key.value) for key in keys if key is not None]

    def _refresh_line(self, row_index: int) -> None:
        """Repaint one row if it is on screen: a hidden row costs nothing to draw. Rows are one
        line high, so its line is its index (DataTable's refresh_row sums the heights of
        the rows above it, sorting them again after every update)."""
        y = row_index + (self.header_height if self.show_header else 0)
        self._refresh_region(Region(0, y, max(self.size.width, self.virtual_size.width), 1))

    # ------------------------------------------------------------ rendering

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._forget()

    def notify_style_update(self) -> None:
        self._forget()
        super().notify_style_update()

    def _forget(self) -> None:
        for cache in (self._cells_at, self._cells_showing, self._rows_at, self._rows_showing, self._strips):
            cache.clear()

    @property
    def rich_style(self) -> Style:
        if self._paint_style is not None:
            return self._paint_style
        return super().rich_style

    def render_lines(self, crop: Region) -> list[Strip]:
        self._paint_style = None
        self._paint_style = self.rich_style
        self._paint_widths = tuple(column.get_render_width(self) for column in self.ordered_columns)
        try:
            return super().render_lines(crop)
        finally:
            self._paint_style, self._paint_widths = None, None

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """A line whose row rendering is the one drawn last time is the strip drawn last time."""
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        pair = self._render_line_in_row(
            row_key, line_no, base_style, self.cursor_coordinate, self.hover_coordinate
        )
        crop = (x1, x2, self.size.width)
        memo = self._strips.get(y)
        if memo is not None and memo[0] is pair and memo[1] == crop:
            return memo[2]
        strip = super()._render_line(y, x1, x2, base_style)
        self._strips[y] = (pair, crop, strip)
        return strip

    def _render_line_in_row(
        self, row_key: RowKey, line_no: int, base_style: Style, cursor_location: Any, hover_location: Any
    ) -> tuple[Lines, Lines]:
        """A row's rendering cached by what it shows and where, not by the update counter."""
        row_index = self._row_locations.get(row_key)
        if (
            row_index is None
            or self._paint_widths is None
            or self.cursor_type != "row"
            or self.fixed_columns
            or self._labelled_row_exists
        ):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        content = tuple(shown(value) for value in self._data[row_key].values())
        parity = row_index % 2 if self.zebra_stripes else 0
        state = (
            line_no,
            base_style,
            cursor_location.row == row_index,
            hover_location.row == row_index,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            row_index < self.fixed_rows,
            parity,
            self.size.width,
            self._paint_widths,
            content,
        )
        at = (row_index, *state)
        pair = self._rows_at.get(at)
        if pair is not None:
            return pair
        moved = self._rows_showing.get(state)
        if moved is not None:  # the same row one or more lines up or down: only the metadata differs
            meta = Style.from_meta({"row": row_index})
            pair = (moved_to(moved[0], meta), moved_to(moved[1], meta))
        else:
            pair = super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
            self._rows_showing.set(state, pair)
        self._rows_at.set(at, pair)
        return pair

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Lines:
        if row_index < 0 or column_index < 0:  # header and row labels: DataTable's own cache
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        content = shown(self._data.get(row_key, {}).get(column_key)) if row_key is not None else None
        if content is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        state = (
            column_key,
            content,
            base_style,
            width,
            cursor,
            hover,
            fixed,
            self._show_hover_cursor,
            self.show_cursor,
            self._pseudo_class_state,
            self.cell_padding,
        )
        at = (row_index, column_index, *state)
        lines = self._cells_at.get(at)
        if lines is not None:
            return lines
        moved = self._cells_showing.get(state)
        if moved is not None:
            lines = moved_to(moved, Style.from_meta({"row": row_index, "column": column_index}))
        else:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._cells_showing.set(state, lines)
        self._cells_at.set(at, lines)
        return lines
