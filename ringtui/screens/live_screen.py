"""What every live screen shares: it applies the feed's coalesced changes at most `refresh_hz`
times a second, only while it is the screen on top and updates are not paused, and ticks
its time cells (waits, durations) once a second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.screen import Screen
from textual.widgets import DataTable

from ringtui.screens.context import TuiContext
from ringtui.screens.feed import Changes, LiveState

if TYPE_CHECKING:
    from ringtui.screens.app import RingtuiApp


# Share of one core the process may spend before a live screen skips a frame: under a
# flood of events the frame rate drops instead of the CPU rising. The process averages
# about the budget while it skips, so it sits below the 25% with a margin.
CPU_BUDGET = 0.18
MIN_FRAME_S = 1.0  # at least one frame a second, whatever the budget says
CPU_WINDOW_S = 1.0  # the share is measured over the last one to two windows


class LiveScreen(Screen[None]):
    screen_id: str | None = None
    screen_title = "ringtui"

    def __init__(self, context: TuiContext) -> None:
        super().__init__()
        self.context = context
        self.changes: Changes | None = None
        self.applied_frames = 0
        self.skipped_frames = 0
        self.ready = False
        self._last_frame_at = 0.0
        started = (time.monotonic(), time.process_time())
        self._marks = [started, started]  # (wall, cpu) at the start of the previous and current window
        self._status_shown = ""

    @property
    def live(self) -> LiveState | None:
        return self.context.feed

    @property
    def ascii(self) -> bool:
        return bool(self.context.options.get("ascii"))

    @property
    def scope(self) -> dict[str, Any]:
        return self.context.options.get("scope") or {}

    def on_mount(self) -> None:
        if self.live is not None:
            self.changes = self.live.subscribe()
        hz = float(self.context.options.get("refresh_hz") or 10.0)
        self.set_interval(1.0 / max(hz, 0.5), self.apply_pending, name="live-frame")
        self.set_interval(1.0, self._tick, name="live-clock")
        self.show_status()
        self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        """Once every composed widget is mounted (a frame must not query half a screen)."""
        self.ready = True
        self.apply_pending(force=True)

    def on_unmount(self) -> None:
        if self.live is not None and self.changes is not None:
            self.live.unsubscribe(self.changes)

    @property
    def showing(self) -> bool:
        app: RingtuiApp = self.app  # type: ignore[assignment]
        return self.is_current and not app.paused

    def apply_pending(self, force: bool = False) -> None:
        """Apply what changed since the last frame (nothing while paused or hidden)."""
        if (not self.ready or self.changes is None or (not force and not self.showing)
                or not self.changes.any()):
            return
        if not force and self._over_budget():
            self.skipped_frames += 1
            return
        self.apply_changes(self.changes.take())
        self.applied_frames += 1
        self._last_frame_at = time.monotonic()

    def _over_budget(self) -> bool:
        """True when the process used more than CPU_BUDGET of a core lately (and a frame was
        drawn less than MIN_FRAME_S ago)."""
        now, cpu = time.monotonic(), time.process_time()
        if now - self._marks[1][0] >= CPU_WINDOW_S:
            self._marks = [self._marks[1], (now, cpu)]
        wall_at, cpu_at = self._marks[0]
        if now - self._last_frame_at >= MIN_FRAME_S or now - wall_at < 0.2:
            return False
        return (cpu - cpu_at) / (now - wall_at) > CPU_BUDGET

    def _tick(self) -> None:
        if not self.ready:
            return
        if self.live is not None and self.live.status != self._status_shown:
            self._status_shown = self.live.status
            self.show_status()
        if self.showing:
            self.tick()

    def on_screen_resume(self) -> None:
        self.apply_pending(force=True)

    def on_pause_changed(self, paused: bool) -> None:
        self.show_status()
        if not paused:
            self.apply_pending()

    def show_status(self) -> None:
        """The header's second part: the feed's state, or PAUSED. In ASCII mode it joins the title
        with a plain dash (the header draws an em dash between the two)."""
        app: RingtuiApp = self.app  # type: ignore[assignment]
        status = ("PAUSED - p resumes" if app.paused
                  else self.live.status if self.live else "offline: no engine feed")
        if self.ascii:
            self.title, self.sub_title = f"{self.screen_title} - {status}", ""
        else:
            self.title, self.sub_title = self.screen_title, status

    # ------------------------------------------------------------ for subclasses

    def apply_changes(self, changes: Changes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def tick(self) -> None:
        """Once a second: time cells."""


def text(value: Any) -> Text:
    """A cell as plain text: a DataTable reads a str as Rich markup, and names, reasons and
    numbers come from users ("[b]" in a snooze reason must show as typed)."""
    return value if isinstance(value, Text) else Text(str(value))


def set_cell(table: DataTable[Any], row: str, column: str, value: Any) -> None:
    """Update one cell if the row is there (a row may be gone between two frames)."""
    if row in table.rows:
        table.update_cell(row, column, text(value))


def selected_key(table: DataTable[Any]) -> str | None:
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # a cursor past the last row after removals
        return None
