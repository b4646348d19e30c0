"""A weekday x hour heatmap (S4) with its colour scale; readable without colour (shade levels),
and in ASCII-only mode (no block characters)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from ringtui.screens.widgets.chart import colour_on


class Heatmap(Static):
    DEFAULT_CSS = "Heatmap { height: auto; }"

    def __init__(self, *, ascii_only: bool = False, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.ascii_only = ascii_only

    def show(self, grid: dict[str, Any], zone: str) -> None:
        from ringtui.charts import heatmap_grid

        drawn = heatmap_grid(grid, zone, colour=colour_on(), ascii_only=self.ascii_only)
        self.update(Text.from_ansi(drawn))
