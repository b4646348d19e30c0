"""Wallboard: every IVR at once, large, for a screen on the wall.

One card per IVR the user may see: calls waiting in big digits, the longest wait,
today's service level (the call records read when the screen opens, as `ringtui stats
calls --period today --ivr NAME` counts them, plus the calls the feed has ended since),
and how many of the agents the IVR rings are free. Cards are updated in place, only
when their text changes.
"""

from __future__ import annotations

import re
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Digits, Footer, Static

from ringtui.errors import RingtuiError
from ringtui.screens.feed import Changes
from ringtui.screens.live_screen import LiveScreen
from ringtui.screens.theme import duration, percent
from ringtui.screens.widgets.header import SafeHeader

CARD_WIDTH = 38


def card_id(ivr: str) -> str:
    return "ivr-" + re.sub(r"[^A-Za-z0-9_-]", "_", ivr)


class IvrCard(Vertical):
    DEFAULT_CSS = """
    IvrCard { height: 9; border: round $primary; padding: 0 1; }
    IvrCard.-busy { border: round $warning; }
    IvrCard .name { text-style: bold; }
    IvrCard .big { height: 3; text-style: bold; }
    """

    def __init__(self, ivr: str, ascii_only: bool) -> None:
        super().__init__(id=card_id(ivr))
        self.ivr = ivr
        self.ascii_only = ascii_only
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(self.ivr, classes="name", markup=False)
        if self.ascii_only:
            yield Static("0 waiting", classes="big")
        else:
            yield Digits("0", classes="big")
        yield Static("", classes="details")

    def show(self, waiting: int, longest: float | None, level: float | None, free: int, reach: int) -> None:
        if not self.children:  # not composed yet: the next frame shows it
            return
        big = str(waiting) if not self.ascii_only else f"{waiting} waiting"
        details = (f"waiting     {waiting}\nlongest     {duration(longest) if waiting else '-'}\n"
                   f"SL {percent(level):>4}   free {free}/{reach}")
        if self._shown.get("big") != big:
            self._shown["big"] = big
            widget = self.query_one(".big")
            if isinstance(widget, Digits):
                widget.update(big)
            else:
                widget.update(big)  # type: ignore[attr-defined]
        if self._shown.get("details") != details:
            self._shown["details"] = details
            self.query_one(".details", Static).update(details)
        self.set_class(waiting > 0 and free == 0, "-busy")


class WallboardScreen(LiveScreen):
    screen_title = "Wallboard"
    DEFAULT_CSS = """
    WallboardScreen #cards { grid-size: 2; grid-gutter: 0 1; height: 1fr; }
    WallboardScreen #summary { height: 1; padding: 0 1; text-style: bold; }
    """

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        # IVR name -> {"agents", "inbound", "answered"} from the database (None: being read);
        # options["ivr_today"] pre-seeds it (tests, bench)
        self.today: dict[str, dict[str, Any]] | None = context.options.get("ivr_today")
        self._tally_at_read: dict[str, list[int]] = {}  # the feed's tally when `today` was read

    def compose(self) -> ComposeResult:
        yield SafeHeader(show_clock=False, icon="*" if self.ascii else "⭘")
        yield Static("Reading today's figures...", id="summary")
        yield Grid(id="cards")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        if self.today is None:
            self._read_today()
        else:
            self._show_today(self.today, {})

    @work(thread=True, exit_on_error=False, group="wallboard-today")
    def _read_today(self) -> None:
        from ringtui.services.live import wallboard_today

        try:
            with self.context.operation() as op:
                today = wallboard_today(op, self.scope.get("ivrs"), self._now())
        except RingtuiError as error:
            self.app.call_from_thread(self.notify, f"wallboard: {error}", severity="error", timeout=8)
            today = {}
        self.app.call_from_thread(self._show_today, today, None)

    def _now(self) -> Any:
        """The engine's time ("today" is the engine's day: a simulated one in the demo)."""
        live = self.live
        return self.context.options.get("now") or (live.now if live is not None else None)

    def _show_today(self, today: dict[str, dict[str, Any]], tally: dict[str, list[int]] | None) -> None:
        """Cards for these IVRs. The feed's tally is taken now, after the read: a call the feed
        ended before is in the records already, only later ones are added to them."""
        live = self.live
        if tally is None:
            tally = {ivr: list(counts) for ivr, counts in (live.ivr_tally.items() if live else ())}
        self.today, self._tally_at_read = today, tally
        grid = self.query_one("#cards", Grid)
        grid.remove_children()
        grid.mount_all([IvrCard(ivr, self.ascii) for ivr in self._ivrs()])
        self._fit(self.size.width)
        self.call_after_refresh(self._redraw)

    def on_resize(self, event: Any) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        columns = max(1, min(len(self._ivrs()) or 1, width // CARD_WIDTH))
        self.query_one("#cards", Grid).styles.grid_size_columns = columns

    def _ivrs(self) -> list[str]:
        names = set(self.today or {})
        if self.scope.get("ivrs") is not None:
            names &= set(self.scope["ivrs"])
        return sorted(names)

    def level(self, ivr: str) -> float | None:
        """Today's service level: the records read at opening plus the calls ended since."""
        live, base = self.live, (self.today or {}).get(ivr) or {}
        now = live.ivr_tally.get(ivr, [0, 0]) if live is not None else [0, 0]
        then = self._tally_at_read.get(ivr, [0, 0])
        inbound = int(base.get("inbound") or 0) + now[0] - then[0]
        answered = int(base.get("answered") or 0) + now[1] - then[1]
        return answered / inbound if inbound else None

    def apply_changes(self, changes: Changes) -> None:
        self._redraw()

    def tick(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        live = self.live
        if live is None:
            return
        waiting: dict[str, list[float]] = {}
        for row in live.waiting.values():
            seconds = live.seconds_since(row.get("started_at"))
            waiting.setdefault(row.get("ivr") or "", []).append(seconds or 0.0)
        free_agents = {email for email, agent in live.agents.items() if agent.get("state") == "free"}
        today = self.today or {}
        with self.app.batch_update():
            for card in self.query(IvrCard):
                ivr = card.ivr
                waits = waiting.get(ivr, [])
                agents = (today.get(ivr) or {}).get("agents") or []
                card.show(len(waits), max(waits) if waits else None, self.level(ivr),
                          sum(1 for email in agents if email in free_agents), len(agents))
            kpis = live.kpis
            total_waiting = sum(len(w) for w in waiting.values())
            self.query_one("#summary", Static).update(
                f"Waiting {total_waiting}   Free agents {len(free_agents)}   "
                f"Today SL {percent(kpis.get('service_level'))}   in {kpis.get('inbound_calls', 0)}"
                f"   max wait {duration(kpis.get('max_wait_s'))}")
