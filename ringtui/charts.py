"""Terminal charts for statistics (S3 history, S4 heatmap), drawn with plotext.

Imported only by the rendering step of a command, never on the `--json` path,
so plotext stays off the CLI import path. Output fits 80 columns; without
colour (NO_COLOR, or stdout not a terminal) the levels stay readable as
characters.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import plotext

WIDTH = 80
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
LEVELS = ("░░", "▒▒", "▓▓", "██")  # lowest to highest quarter of the maximum
LEVEL_COLOURS = (39, 226, 208, 196)  # 256-colour codes: blue, yellow, orange, red
EMPTY, NO_VALUE = "  ", "··"
_LABELS = {"hour": "%m-%d %Hh", "day": "%m-%d", "week": "%m-%d", "month": "%Y-%m"}


def colour_wanted() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


ASCII_LEVELS = ("..", "::", "**", "##")  # for terminals that break block characters
ASCII_NO_VALUE = "--"
# plotext's frame, ticks and bars, for terminals that break line drawing: anything else non-ASCII is '#'
_ASCII_GLYPHS = str.maketrans({"─": "-", "│": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "┤": "+",
                               "├": "+", "┬": "+", "┴": "+", "┼": "+"})


def to_ascii(drawn: str) -> str:
    """A chart with its box and block glyphs replaced by ASCII ones."""
    return "".join(ch if ord(ch) < 128 else "#" for ch in drawn.translate(_ASCII_GLYPHS))


def _plain(text: Any, colour: bool | None = None) -> str:
    wanted = colour_wanted() if colour is None else colour
    return str(text) if wanted else str(plotext.uncolorize(text))


def history_chart(history: dict[str, Any], zone: str, *, width: int = WIDTH, height: int = 20,
                  colour: bool | None = None, ascii_only: bool = False) -> str:
    """A bar chart of the points, labelled in the account's local time (ANSI colours unless `colour`
    is False or colour is not wanted; `ascii_only` draws it without box or block glyphs)."""
    points = history["points"]
    labels = [datetime.fromisoformat(p["start"]).astimezone(ZoneInfo(zone)).strftime(
        _LABELS[history["interval"]]) for p in points]
    values = [p["value"] or 0 for p in points]
    figure = plotext.figure
    figure.clear()
    figure.plot_size(width, height)
    figure.title(f"{history['indicator']} per {history['interval']} ({zone})")
    figure.draw(figure.bar(labels, values))
    drawn = _plain(figure.build(), colour)
    return to_ascii(drawn) if ascii_only else drawn


def level(value: float | None, highest: float) -> int | None:
    """0-3 for a positive value (quarters of the highest), None for zero or no value."""
    if not value or highest <= 0:
        return None
    return min(3, int(4 * value / highest - 1e-9)) if value < highest else 3


def _cell(value: float | None, highest: float, colour: bool | None = None,
          levels: tuple[str, ...] = LEVELS) -> str:
    if value is None:
        return ASCII_NO_VALUE if levels is ASCII_LEVELS else NO_VALUE
    rank = level(value, highest)
    if rank is None:
        return EMPTY
    return _plain(plotext.colorize(levels[rank], LEVEL_COLOURS[rank]), colour)


def heatmap_grid(heatmap: dict[str, Any], zone: str, *, colour: bool | None = None,
                 ascii_only: bool = False) -> str:
    """Weekday rows x hour columns (3 characters each: 77 columns), with the level legend;
    `ascii_only` draws the levels with ASCII characters instead of shade blocks."""
    levels = ASCII_LEVELS if ascii_only else LEVELS
    less_or_equal = "<=" if ascii_only else "≤"
    values = {(c["weekday"], c["hour"]): c["value"] for c in heatmap["cells"]}
    highest = max((v for v in values.values() if v is not None), default=0) or 0
    lines = [f"{heatmap['indicator']} by weekday and hour ({zone})",
             "     " + "".join(f"{hour:02d} " for hour in range(24))]
    for day, name in enumerate(WEEKDAYS):
        lines.append(f"{name}  " + " ".join(_cell(values[(day, h)], highest, colour, levels)
                                            for h in range(24)))
    quarters = [highest * (rank + 1) / 4 for rank in range(4)]
    legend = "   ".join(f"{_cell(q, highest, colour, levels)} {less_or_equal}{q:g}" for q in quarters)
    lines.append(f"{legend}   '{EMPTY}' 0   {ASCII_NO_VALUE if ascii_only else NO_VALUE} none")
    return "\n".join(lines)
