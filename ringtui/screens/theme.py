"""Styles of the app, the ASCII-only variant, and the few glyphs screens draw themselves."""

from __future__ import annotations

BASE_CSS = """
.panel { border: round $primary-darken-1; border-title-color: $text; height: 1fr; }
.kpis { height: auto; padding: 0 1; }
.note { color: $text-muted; padding: 0 1; height: auto; }
#home-who, #home-none { padding: 1 2; }
#home-menu { height: auto; margin: 0 2; }
"""

# No box drawing and no block glyphs: ascii borders, no scrollbars, no tall/wide borders.
ASCII_CSS = """
* { scrollbar-size: 0 0; }
.panel { border: ascii $primary; }
.panel:focus { border: ascii $accent; }
HelpScreen > Vertical { border: ascii $accent; }
IvrCard, IvrCard.-busy { border: ascii $primary; }
CommandPalette > Vertical { border: none; }
CommandPalette CommandInput, CommandPalette CommandInput:focus { border: none; }
CommandPalette #--input { border: none; }
CommandPalette CommandList, CommandPalette CommandList:focus { border: none; }
Toast { border-left: none; }
Input, Input:focus { border: ascii $primary; }
OptionList, OptionList:focus { border: none; }
"""


def vip_mark(vip: bool, ascii_only: bool) -> str:
    if not vip:
        return ""
    return "VIP" if ascii_only else "★ VIP"


def duration(seconds: float | None) -> str:
    """12s, 4m05, 1h02m: short enough for a board cell."""
    if seconds is None:
        return "-"
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.0%}"
