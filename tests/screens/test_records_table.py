"""The records table under every list screen: paging, filter, sort, export of the whole view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.app import App

from ringtui.screens.widgets.records_table import PAGE, RecordsTable, columns

pytestmark = pytest.mark.anyio
ROWS = [{"id": i, "name": f"[b]agent {i}[/b]" if i == 7 else f"agent {i}", "calls": i % 13}
        for i in range(2000)]


class TableApp(App[None]):
    def compose(self):
        yield RecordsTable(columns("id", "name", "calls"), export_name="agents", id="t")


async def test_rows_come_a_page_at_a_time_and_export_writes_them_all(tmp_path: Path):
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordsTable)
        table.set_rows(ROWS)
        await pilot.pause()
        assert (table.row_count, len(table.view_rows)) == (PAGE, 2000)
        assert "400 loaded" in table.describe()
        table.move_cursor(row=PAGE - 1)
        await pilot.pause()
        assert table.row_count == 2 * PAGE
        assert str(table.get_row_at(7)[1]) == "[b]agent 7[/b]"  # text, never markup
        out = tmp_path / "agents.json"
        assert table.export(out) == 2000
        assert len(json.loads(out.read_text())) == 2000


async def test_filter_and_sort_work_on_every_row_not_only_the_loaded_ones():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordsTable)
        table.set_rows(ROWS)
        table.filter_text = "agent 199"
        table.refresh_view()
        assert [r["id"] for r in table.view_rows] == [199, *range(1990, 2000)]
        table.sort_by("calls", reverse=True)
        assert (table.view_rows[0]["id"], table.view_rows[0]["calls"]) == (1999, 10)
        await pilot.press("s")  # the column after `calls`: none, back to the service's order
        assert table.sort_column is None


async def test_the_sort_keys_cycle_the_columns_and_r_reverses_from_the_keyboard():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordsTable)
        table.set_rows(ROWS[:30])
        table.focus()
        await pilot.press("s", "s", "s")  # id, name, calls
        assert table.sort_column == "calls" and not table.sort_reverse
        assert [row["calls"] for row in table.view_rows[:3]] == [0, 0, 0]
        await pilot.press("r")
        assert table.sort_reverse and table.view_rows[0]["calls"] == 12
        assert str(table.get_row_at(0)[2]) == "12"  # the table shows the new order, not only the rows


async def test_a_narrow_terminal_shows_the_narrow_columns_and_sorts_only_through_them():
    class Narrow(App[None]):
        def compose(self):
            yield RecordsTable(columns("id", "name", "calls", narrow={"name": None, "calls": "n"}), id="t")

    app = Narrow()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordsTable)
        table.set_rows(ROWS[:30])
        table.focus()
        assert [str(column.label) for column in table.ordered_columns] == ["id", "n"]
        await pilot.press("s", "s")
        assert table.sort_column == "calls"  # `name` is not on screen: the cycle skips it
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        assert [str(column.label) for column in table.ordered_columns] == ["id", "name", "calls"]
        assert table.sort_column == "calls" and str(table.get_row_at(0)[2]) == "0"


async def test_clicking_a_header_sorts_by_it_and_clicking_again_reverses():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RecordsTable)
        table.set_rows(ROWS[:30])
        await pilot.pause()
        id_width, name_width = (column.get_render_width(table) for column in table.ordered_columns[:2])
        calls_header = (id_width + name_width + 1, 0)
        await pilot.click(RecordsTable, offset=calls_header)
        assert table.sort_column == "calls" and not table.sort_reverse
        assert str(table.get_row_at(0)[2]) == "0"
        await pilot.click(RecordsTable, offset=calls_header)
        assert table.sort_reverse and str(table.get_row_at(0)[2]) == "12"
