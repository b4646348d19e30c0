"""Activity (A1-A5): today's KPIs, the agent board, waiting calls, calls in progress, meetings.

Every table is keyed by row (agent e-mail, call id) and updated in place from the
feed's coalesced changes: a cell that changed is updated, an agent who changes
column moves (remove_row + add_row), nothing is rebuilt. A supervisor sees only
the agents of their groups and the calls of their IVRs (U7).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from ringtui.errors import RingtuiError
from ringtui.screens.feed import BOARD_COLUMNS, COLUMN_OF_STATE, Changes
from ringtui.screens.live_screen import LiveScreen, selected_key, set_cell, text
from ringtui.screens.theme import duration, percent, vip_mark
from ringtui.screens.widgets.header import SafeHeader
from ringtui.screens.widgets.live_table import LiveTable

BOARD_TITLES = {"free": "Free", "in_call": "In call", "snooze": "Snooze", "off": "Off"}
BOARD_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "free": (("agent", "Agent"), ("interface", "Interface")),
    "in_call": (("agent", "Agent"), ("state", "State"), ("time", "Time")),
    "snooze": (("agent", "Agent"), ("reason", "Reason"), ("time", "Time")),
    "off": (("agent", "Agent"), ("interface", "Interface")),
}
WAITING_FIELDS = (("wait", "Wait"), ("vip", "VIP"), ("ivr", "IVR"), ("customer", "Customer"),
                  ("name", "Name"))
CALL_FIELDS = (("time", "Time"), ("dir", "Dir"), ("customer", "Customer"), ("name", "Name"),
               ("agent", "Agent"), ("line", "IVR / line"), ("state", "State"))
# Under NARROW_BELOW columns Waiting and Calls in progress sit side by side in 80 columns:
# the contact's name takes the number's place when it is known (Caller), a call's direction
# and IVR / line are left out, and the columns get fixed widths (key, label, width with the
# one space that separates it from the next) instead of two spaces of padding each.
NARROW_BELOW = 110
WAITING_NARROW = (("wait", "Wait", 6), ("vip", "VIP", 4), ("ivr", "IVR", 9), ("caller", "Caller", 15))
CALL_NARROW = (("time", "Time", 6), ("caller", "Caller", 15), ("agent", "Agent", 10), ("state", "State", 9))
TITLE_EVERY_S = 1.0
STATE_WORDS = {"ringing": "ringing", "in_call": "in call", "after_call_work": "wrap-up"}
CALL_STATE_WORDS = {"connected": "talking", "queued": "waiting", "ringing": "ringing", "menu": "menu",
                    "routing": "routing", "voicemail": "voicemail", "forwarded": "forwarded",
                    "dialing": "dialing"}


def interface_text(agent: dict[str, Any]) -> str:
    interface = agent.get("interface") or "-"
    phones = agent.get("sip_phones") or []  # registered SIP phones, from the snapshot
    device = agent.get("device") or next((p["user_agent"] for p in phones if p.get("user_agent")), None)
    return f"{interface} ({device})" if device and interface != "-" else interface


def customer_number(call: dict[str, Any]) -> str:
    return (call.get("to_number") if call.get("direction") == "out" else call.get("from_number")) or "-"


def in_order(changed: set[str], rows: dict[str, Any]) -> list[str]:
    """Changed keys in the feed's order (arrival), then the removed ones: new rows are added in
    the order things happened, the same on every run."""
    if len(changed) * 4 < len(rows):
        return sorted(changed, key=lambda key: (key not in rows, key))  # few changes: cheap, stable
    present = [key for key in rows if key in changed]
    return present + sorted(changed.difference(rows))


def retitle(table: DataTable[Any], title: str) -> None:
    """Setting a border title repaints the whole table, even to the same title."""
    if table.border_title != title:
        table.border_title = title


class ReasonScreen(ModalScreen[str | None]):
    """Ask the snooze reason (Enter confirms, esc cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen > Vertical { width: 60; height: auto; background: $surface; padding: 1 2; }
    """

    def __init__(self, agent: str) -> None:
        super().__init__()
        self.agent = agent

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Snooze {self.agent}: reason (Enter to confirm, esc to cancel)")
            yield Input(value="Break", id="reason")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TargetScreen(ModalScreen[str | None]):
    """Ask where to transfer a call: an agent's e-mail or an E.164 number (Enter confirms, esc cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = """
    TargetScreen { align: center middle; }
    TargetScreen > Vertical { width: 70; height: auto; background: $surface; padding: 1 2; }
    """

    def __init__(self, call_id: str, agent: str) -> None:
        super().__init__()
        self.call_id, self.agent = call_id, agent

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Transfer {self.call_id} from {self.agent} to: an agent's e-mail or a number "
                         "in E.164 form (Enter to confirm, esc to cancel)")
            yield Input(placeholder="agent@example.com or +33612345678", id="target")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ActivityScreen(LiveScreen):
    screen_title = "Activity"
    BINDINGS = [
        Binding("s", "snooze", "Snooze", id="activity.snooze"),
        Binding("u", "unsnooze", "Unsnooze", id="activity.unsnooze"),
        Binding("t", "take", "Take call", id="activity.take"),
        Binding("w", "whisper", "Whisper", id="activity.whisper"),
        # not in the footer (kept as it was); listed by ? and the palette
        Binding("x", "transfer", "Transfer call", id="activity.transfer", show=False),
        Binding("tab", "app.focus_next", "Next table", id="activity.next", show=False),
    ]
    # Under 110 columns four board columns side by side leave room for the agent's name
    # only: the board becomes two by two (Free, In call / Snooze, Off), each with every field.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    ActivityScreen #board { height: 1fr; }
    ActivityScreen.-narrow #board { layout: grid; grid-size: 2 2; height: 3fr; }
    ActivityScreen.-narrow #calls-row { height: 2fr; }
    ActivityScreen #board > DataTable { width: 1fr; }
    ActivityScreen.-narrow #board > DataTable { height: 1fr; }
    ActivityScreen #calls-row { height: 1fr; }
    ActivityScreen #waiting { width: 2fr; }
    ActivityScreen #calls { width: 3fr; }
    ActivityScreen.-narrow #waiting { width: 37; }
    ActivityScreen.-narrow #calls { width: 1fr; }
    ActivityScreen.-narrow #calls-row > DataTable { scrollbar-size-vertical: 1; }
    """

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._column_of: dict[str, str] = {}  # agent e-mail -> board column
        self._time_texts: dict[str, str] = {}  # row key -> time text shown
        # customer number -> contact name (None: none); options["contact_names"] pre-seeds it (tests, bench)
        self._contact_cache: dict[str, str | None] = dict(context.options.get("contact_names") or {})
        self._pending_names: set[str] = set()
        self._titled_at = -TITLE_EVERY_S
        self._kpis_shown = ""
        self._narrow = False

    def compose(self) -> ComposeResult:
        yield SafeHeader(show_clock=False, icon="*" if self.ascii else "⭘")
        yield Static("Today: waiting for the engine's figures...", id="kpis", classes="kpis")
        with Horizontal(id="board"):
            for column in BOARD_COLUMNS:
                table = LiveTable(id=f"board-{column}", classes="panel", cursor_type="row")
                table.border_title = BOARD_TITLES[column]
                for key, label in BOARD_FIELDS[column]:
                    table.add_column(label, key=key)
                yield table
        self._narrow = self.app.size.width < NARROW_BELOW
        with Horizontal(id="calls-row"):
            waiting = LiveTable(id="waiting", classes="panel", cursor_type="row")
            waiting.border_title = "Waiting"
            calls = LiveTable(id="calls", classes="panel", cursor_type="row")
            calls.border_title = "Calls in progress"
            self._call_columns(waiting, calls)
            yield waiting
            yield calls
        yield Static("Meetings: none in progress (Meet is not connected to ringtui yet).", id="meetings",
                     classes="note")
        yield Footer()


    def _call_columns(self, waiting: LiveTable, calls: LiveTable) -> None:
        """The columns of Waiting and Calls in progress for the screen's width."""
        for table, wide, narrow in ((waiting, WAITING_FIELDS, WAITING_NARROW),
                                    (calls, CALL_FIELDS, CALL_NARROW)):
            table.clear(columns=True)
            table.cell_padding = 0 if self._narrow else 1
            if self._narrow:
                for key, label, width in narrow:
                    table.add_column(label, key=key, width=width)
            else:
                for key, label in wide:
                    table.add_column(label, key=key)

    def on_resize(self) -> None:
        """Crossing NARROW_BELOW swaps the call tables' columns and refills them from the feed."""
        narrow = self.size.width < NARROW_BELOW
        if narrow == self._narrow:
            return
        self._narrow = narrow
        waiting, calls = self.query_one("#waiting", LiveTable), self.query_one("#calls", LiveTable)
        self._call_columns(waiting, calls)
        for key in [k for k in self._time_texts if k.startswith(("w:", "c:"))]:
            del self._time_texts[key]
        if self.ready and self.live is not None:  # before the first frame, that frame fills them
            self.apply_changes(Changes(waiting=set(self.live.waiting), calls=set(self.live.calls)))

    def _fill(self, table: LiveTable, row: str, values: dict[str, str]) -> None:
        """Add the row, or update the cells that changed, in the columns the table has now."""
        if row in table.rows:
            for column in table.columns:
                set_cell(table, row, str(column.value), values[str(column.value)])
        else:
            table.add_row(*(text(values[str(column.value)]) for column in table.columns), key=row)

    # ------------------------------------------------------------ visibility (U7)

    def _agent_visible(self, email: str) -> bool:
        agents = self.scope.get("agents")
        return agents is None or email in agents

    def _call_visible(self, call: dict[str, Any]) -> bool:
        agents, ivrs = self.scope.get("agents"), self.scope.get("ivrs")
        if agents is None:
            return True
        return (call.get("ivr") in (ivrs or ())) or (call.get("agent") in agents)

    # ------------------------------------------------------------ applying the feed

    def apply_changes(self, changes: Changes) -> None:
        live = self.live
        if live is None:
            return
        with self.app.batch_update():
            removals: dict[LiveTable, list[str]] = {}
            for email in in_order(changes.agents, live.agents):
                self._apply_agent(email, live.agents.get(email), removals)
            waiting = self.query_one("#waiting", LiveTable)
            for call_id in in_order(changes.waiting, live.waiting):
                self._apply_waiting(waiting, call_id, live.waiting.get(call_id), removals)
            calls = self.query_one("#calls", LiveTable)
            for call_id in in_order(changes.calls, live.calls):
                self._apply_call(calls, call_id, live.calls.get(call_id), removals)
            for table, keys in removals.items():
                table.remove_rows(keys)
            if changes.kpis:
                self._apply_kpis(live.kpis)
            if time.monotonic() - self._titled_at >= TITLE_EVERY_S:
                self._titles()
        if self._pending_names:  # after this frame is drawn: the lookup loads the ORM in a thread
            self.call_after_refresh(self._lookup_names)

    def _board(self, column: str) -> LiveTable:
        return self.query_one(f"#board-{column}", LiveTable)

    def _apply_agent(self, email: str, agent: dict[str, Any] | None,
                     removals: dict[LiveTable, list[str]]) -> None:
        previous = self._column_of.get(email)
        column = COLUMN_OF_STATE.get(agent.get("state") or "off", "off") if agent else None
        if agent is not None and not self._agent_visible(email):
            column = None
        if previous is not None and previous != column:
            removals.setdefault(self._board(previous), []).append(email)
            self._time_texts.pop(email, None)
            del self._column_of[email]
        if column is None or agent is None:
            return
        values = self._agent_cells(column, agent)
        table = self._board(column)
        if previous == column:
            for key, value in values.items():
                set_cell(table, email, key, value)
        else:
            table.add_row(*map(text, values.values()), key=email)
            self._column_of[email] = column

    def _agent_cells(self, column: str, agent: dict[str, Any]) -> dict[str, str]:
        name = agent.get("name") or agent["email"]
        if column in ("free", "off"):
            return {"agent": name, "interface": interface_text(agent)}
        time = duration(self.live.seconds_since(agent.get("since"))) if self.live else "-"
        self._time_texts[agent["email"]] = time
        if column == "snooze":
            return {"agent": name, "reason": agent.get("reason") or "snooze", "time": time}
        return {"agent": name, "state": STATE_WORDS.get(agent.get("state") or "", "in call"), "time": time}

    def _apply_waiting(self, table: LiveTable, call_id: str, row: dict[str, Any] | None,
                       removals: dict[LiveTable, list[str]]) -> None:
        if row is None or not self._call_visible(row):
            if call_id in table.rows:
                removals.setdefault(table, []).append(call_id)
            self._time_texts.pop(f"w:{call_id}", None)
            return
        number = row.get("from_number") or "-"
        wait = duration(self.live.seconds_since(row.get("started_at"))) if self.live else "-"
        name = self._contact_name(number)
        vip = bool(row.get("vip"))
        values = {"wait": wait, "vip": ("*" if self.ascii else "★") if vip and self._narrow
                  else vip_mark(vip, self.ascii),
                  "ivr": row.get("ivr") or "-", "customer": number, "name": name, "caller": name or number}
        self._time_texts[f"w:{call_id}"] = wait
        self._fill(table, call_id, values)

    def _apply_call(self, table: LiveTable, call_id: str, call: dict[str, Any] | None,
                    removals: dict[LiveTable, list[str]]) -> None:
        if call is None or call.get("state") == "queued" or not self._call_visible(call):
            if call_id in table.rows:
                removals.setdefault(table, []).append(call_id)
            self._time_texts.pop(f"c:{call_id}", None)
            return
        number = customer_number(call)
        line = call.get("ivr") or (f"direct {call.get('to_number')}" if call.get("direction") == "in"
                                   else "outbound")
        time = duration(self.live.seconds_since(call.get("started_at"))) if self.live else "-"
        name = self._contact_name(number)
        values = {"dir": "in" if call.get("direction") != "out" else "out", "customer": number,
                  "name": name, "caller": name or number, "line": line,
                  "agent": self._agent_name(call.get("agent")),
                  "state": CALL_STATE_WORDS.get(call.get("state") or "", call.get("state") or "-"),
                  "time": time}
        self._time_texts[f"c:{call_id}"] = time
        self._fill(table, call_id, values)

    def _apply_kpis(self, kpis: dict[str, Any]) -> None:
        if not kpis:
            return
        text = (f"Today  SL {percent(kpis.get('service_level'))}  in {kpis.get('inbound_calls', 0)}"
                f"  answered {kpis.get('answered_calls', 0)}  missed {kpis.get('missed_calls', 0)}"
                f"  out {kpis.get('outbound_calls', 0)}\n"
                f"avg wait {duration(kpis.get('avg_wait_s'))}"
                f"  avg abandon {duration(kpis.get('avg_abandon_s'))}"
                f"  max wait {duration(kpis.get('max_wait_s'))}  TMC in {duration(kpis.get('avg_talk_in_s'))}"
                f"  TMC out {duration(kpis.get('avg_talk_out_s'))}")
        if text != self._kpis_shown:  # an update repaints the widget even with the same text
            self._kpis_shown = text
            self.query_one("#kpis", Static).update(text)

    def _titles(self) -> None:
        """Row counts in the tables' titles. A new title repaints the whole table, so a busy
        frame retitles at most once a second (tick() catches up)."""
        self._titled_at = time.monotonic()
        for column in BOARD_COLUMNS:
            table = self._board(column)
            retitle(table, f"{BOARD_TITLES[column]} ({table.row_count})")
        waiting = self.query_one("#waiting", LiveTable)
        retitle(waiting, f"Waiting ({waiting.row_count})")
        calls = self.query_one("#calls", LiveTable)
        retitle(calls, f"Calls in progress ({calls.row_count})")

    def tick(self) -> None:
        """Times in state, waits and durations move every second; only changed cells are sent, and
        only on the rows on screen (a row scrolled into view shows its time at the next tick)."""
        live = self.live
        if live is None:
            return
        with self.app.batch_update():
            self._titles()
            for column in ("in_call", "snooze"):
                board = self._board(column)
                for email in board.visible_row_keys():
                    self._retime(board, email, email,
                                 live.seconds_since((live.agents.get(email) or {}).get("since")))
            waiting = self.query_one("#waiting", LiveTable)
            for key in waiting.visible_row_keys():
                self._retime(waiting, key, f"w:{key}", live.seconds_since((live.waiting.get(key) or {}).get(
                    "started_at")), column="wait")
            calls = self.query_one("#calls", LiveTable)
            for key in calls.visible_row_keys():
                self._retime(calls, key, f"c:{key}",
                             live.seconds_since((live.calls.get(key) or {}).get("started_at")))

    def _retime(self, table: DataTable[Any], row: str, memo: str, seconds: float | None,
                column: str = "time") -> None:
        text = duration(seconds)
        if self._time_texts.get(memo) != text:
            self._time_texts[memo] = text
            set_cell(table, row, column, text)

    def _agent_name(self, email: str | None) -> str:
        if not email:
            return "-"
        agent = self.live.agents.get(email) if self.live else None
        return (agent or {}).get("name") or email

    # ------------------------------------------------------------ contact names (A4)

    def _contact_name(self, number: str) -> str:
        if number == "-" or not number:
            return ""
        if number not in self._contact_cache:
            self._pending_names.add(number)
            return ""
        return self._contact_cache[number] or ""

    @work(group="names", exclusive=False)
    async def _lookup_names(self) -> None:
        numbers, self._pending_names = set(self._pending_names), set()
        if not numbers:  # an earlier frame's lookup took them
            return
        for number in numbers:
            self._contact_cache.setdefault(number, None)
        try:
            found = await asyncio.to_thread(self._contact_names, numbers)
        except Exception as error:  # a lookup that fails leaves names blank; the board keeps running
            self.log.warning(f"contact lookup failed: {error}")
            return
        for number, name in found.items():
            self._contact_cache[number] = name
        if found:
            self._fill_names(found)

    def _contact_names(self, numbers: set[str]) -> dict[str, str]:
        from ringtui.services.live import contact_names

        with self.context.operation() as op:
            return contact_names(op, numbers)

    def _fill_names(self, found: dict[str, str]) -> None:
        live = self.live
        if live is None:
            return
        waiting = self.query_one("#waiting", LiveTable)
        for key in list(waiting.rows):
            number = (live.waiting.get(key.value or "") or {}).get("from_number")
            if number in found:
                self._name_cells(waiting, key.value or "", found[number])
        calls = self.query_one("#calls", LiveTable)
        for key in list(calls.rows):
            number = customer_number(live.calls.get(key.value or "") or {})
            if number in found:
                self._name_cells(calls, key.value or "", found[number])

    def _name_cells(self, table: LiveTable, row: str, name: str) -> None:
        column = "caller" if self._narrow else "name"
        set_cell(table, row, column, name)

    # ------------------------------------------------------------ actions (feed:control)

    def _selected_agent(self) -> str | None:
        focused = self.focused
        if isinstance(focused, DataTable) and (focused.id or "").startswith("board-"):
            return selected_key(focused)
        return None

    def _selected(self, table_id: str) -> str | None:
        return selected_key(self.query_one(f"#{table_id}", DataTable))

    def action_snooze(self) -> None:
        agent = self._selected_agent()
        if agent is None:
            self.notify("select an agent on the board first (tab moves between tables)", severity="warning")
            return

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.control("snooze", agent=agent, reason=reason.strip() or "snooze")

        self.app.push_screen(ReasonScreen(agent), chosen)

    def action_unsnooze(self) -> None:
        agent = self._selected_agent()
        if agent is None:
            self.notify("select an agent on the board first (tab moves between tables)", severity="warning")
            return
        self.control("unsnooze", agent=agent)

    def action_take(self) -> None:
        call_id = self._selected("waiting")
        if call_id is None:
            self.notify("no waiting call to take", severity="warning")
            return
        self.control("take", call_id=call_id, agent=self.scope.get("email", ""))

    def action_whisper(self) -> None:
        call_id = self._selected("calls")
        if call_id is None:
            self.notify("no call in progress to whisper to", severity="warning")
            return
        agent = (self.live.calls.get(call_id) or {}).get("agent") if self.live else None
        self.control("whisper", call_id=call_id, supervisor=self.scope.get("email", ""), on_agent=agent)

    def action_transfer(self) -> None:
        call_id = self._selected("calls")
        call = (self.live.calls.get(call_id) if self.live and call_id else None) or {}
        agent = call.get("agent")
        if call_id is None or not agent or call.get("state") != "connected":
            self.notify("select a call in progress with an agent first (tab moves between tables)",
                        severity="warning")
            return

        def chosen(target: str | None) -> None:
            if target:
                self.control("transfer", call_id=call_id, agent=agent, target=target)

        self.app.push_screen(TargetScreen(call_id, agent), chosen)

    @work(group="control", exclusive=False)
    async def control(self, action: str, **fields: Any) -> dict[str, Any]:
        """Check the acting user's rights (same rules and words as the CLI), then ask the engine."""
        app: Any = self.app
        acted_on = fields.pop("on_agent", None) or fields.get("agent")  # on_agent: checked, not sent
        try:
            await asyncio.to_thread(self._require, action, acted_on)
        except RingtuiError as error:
            self.notify(f"{action} refused: {error}", severity="error", timeout=8)
            return {"type": "error", "error": str(error)}
        if app.connection is None:
            reply = {"type": "error", "error": "not connected to an engine"}
        else:
            reply = await app.connection.control(action, **fields)
        if reply.get("type") == "ack":
            target = fields.get("agent") if action in ("snooze", "unsnooze") else fields.get("call_id")
            self.notify(f"{action}: done ({target})", timeout=3)
        else:
            self.notify(f"{action} refused by the engine: {reply.get('error')}", severity="error", timeout=8)
        return reply

    def _require(self, action: str, agent: str | None) -> None:
        from ringtui.services.live import require_live_action

        with self.context.operation() as op:
            require_live_action(op, action, agent)

    def palette_actions(self) -> list[tuple[str, str, Any]]:
        return [("snooze the selected agent", "s", self.action_snooze),
                ("unsnooze the selected agent", "u", self.action_unsnooze),
                ("take the selected waiting call", "t", self.action_take),
                ("whisper to the agent of the selected call", "w", self.action_whisper),
                ("transfer the selected call to an agent or a number", "x", self.action_transfer)]
