"""LiveTable draws exactly what a plain DataTable draws after the same updates, additions,
removals, cursor moves and scrolling: its caches keep renderings of what did not change,
never a stale one (text, colours, and the row a mouse click on each cell selects)."""

from __future__ import annotations

import random
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widgets import DataTable

from ringtui.screens.widgets.live_table import LiveTable
from tests.screens.conftest import run

STATES = ("free", "in call", "ringing", "wrap-up", "snooze", "off")


class Pair(App[None]):
    AUTO_FOCUS = None
    CSS = "DataTable { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            for name, kind in (("live", LiveTable), ("plain", DataTable)):
                table = kind(id=name, cursor_type="row")
                table.add_column("Agent", key="agent")
                table.add_column("State", key="state")
                table.add_column("Time", key="time")
                for index in range(30):
                    table.add_row(Text(f"agent {index}"), Text("free"), Text("-"), key=f"a{index}")
                yield table


def drawn(table: DataTable[Any]) -> list[list[tuple[str, Any, Any, bool, Any]]]:
    """Every line on screen as (text, colour, background, bold, row under the mouse) per segment."""
    lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [
        [
            (
                segment.text,
                segment.style.color,
                segment.style.bgcolor,
                bool(segment.style.bold),
                segment.style.meta.get("row") if segment.style else None,
            )
            for segment in strip
        ]
        for strip in lines
    ]


def test_a_live_table_draws_what_a_plain_data_table_draws_after_the_same_changes():
    rng = random.Random(3)

    async def scenario():
        app = Pair()
        async with app.run_test(size=(100, 20)) as pilot:
            live, plain = app.query_one("#live", LiveTable), app.query_one("#plain", DataTable)
            next_key = 30
            for step in range(60):
                keys = [key.value for key in plain.rows]
                for _ in range(rng.randrange(1, 6)):  # cells change, some to the value they had
                    key = rng.choice(keys)
                    state = Text(rng.choice(STATES))
                    for table in (live, plain):
                        table.update_cell(key, "state", state)
                        table.update_cell(key, "time", Text(f"{step}s"))
                if rng.random() < 0.6:  # rows leave, the first ones often (the oldest call answered)
                    gone = rng.sample(keys[:8], 2) if rng.random() < 0.5 else rng.sample(keys, 3)
                    live.remove_rows(gone)
                    for key in gone:
                        plain.remove_row(key)
                for _ in range(rng.randrange(0, 3)):
                    row = (Text(f"agent {next_key}"), Text(rng.choice(STATES)), Text("0s"))
                    for table in (live, plain):
                        table.add_row(*row, key=f"a{next_key}")
                    next_key += 1
                if step % 7 == 3:
                    row = rng.randrange(plain.row_count)
                    for table in (live, plain):
                        table.move_cursor(row=row)
                if step % 11 == 5:
                    y = rng.randrange(10)
                    for table in (live, plain):
                        table.scroll_to(y=y, animate=False)
                await pilot.pause()
                assert [row.key for row in live.ordered_rows] == [row.key for row in plain.ordered_rows]
                assert drawn(live) == drawn(plain), f"step {step}"

    run(scenario())


def test_an_update_to_the_value_shown_changes_nothing():
    async def scenario():
        app = Pair()
        async with app.run_test(size=(100, 20)) as pilot:
            live = app.query_one("#live", LiveTable)
            await pilot.pause()
            before = drawn(live)
            count = live._update_count
            live.update_cell("a3", "state", Text("free"))
            assert live._update_count == count  # nothing invalidated, nothing to repaint
            live.update_cell("a3", "state", Text("snooze"))
            await pilot.pause()
            assert drawn(live) != before
            assert [str(cell) for cell in live.get_row("a3")] == ["agent 3", "snooze", "-"]

    run(scenario())


def test_the_visible_rows_are_the_rows_drawn():
    async def scenario():
        app = Pair()
        async with app.run_test(size=(100, 20)) as pilot:
            live = app.query_one("#live", LiveTable)
            for y in (0, 5, 11):
                live.scroll_to(y=y, animate=False)
                await pilot.pause()
                names = [
                    "".join(segment[0] for segment in line).split("  ")[0].strip() for line in drawn(live)[1:]
                ]  # under the header
                keys = live.visible_row_keys()
                assert [f"agent {key[1:]}" for key in keys] == [name for name in names if name]
                assert keys[0] == f"a{y}"

    run(scenario())
