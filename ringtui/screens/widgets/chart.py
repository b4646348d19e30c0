"""A history chart (S3) drawn by plotext through ringtui.charts, shown in a Static at the widget's width."""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.widgets import Static


def colour_on() -> bool:
    """Colours unless NO_COLOR is set (the terminal is Textual's, not stdout)."""
    return "NO_COLOR" not in os.environ


class HistoryChart(Static):
    """An indicator over time as a bar chart; redrawn when resized."""

    DEFAULT_CSS = "HistoryChart { height: 1fr; min-height: 12; }"

    def __init__(self, *, ascii_only: bool = False, id: str | None = None,
                 empty: str = "No calls in the selection.") -> None:
        super().__init__("", id=id)
        self.ascii_only = ascii_only
        self.empty = empty
        self.history: dict[str, Any] | None = None
        self.zone = "UTC"

    def show(self, history: dict[str, Any], zone: str) -> None:
        self.history, self.zone = history, zone
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if self.history is None:
            return
        if not self.history["points"]:
            self.update(self.empty)
            return
        from ringtui.charts import history_chart

        width = max(40, self.size.width or 80)
        height = max(10, self.size.height or 20)
        drawn = history_chart(self.history, self.zone, width=width, height=height, colour=colour_on(),
                              ascii_only=self.ascii_only)
        self.update(Text.from_ansi(drawn))
