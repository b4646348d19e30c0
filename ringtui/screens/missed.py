"""The missed-call worklist (L4, S2): unprocessed calls carry a bell; processing records the channel."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ringtui.screens.context import TuiContext
from ringtui.screens.logs import call_detail
from ringtui.screens.widgets.filter_bar import FilterBar, describe
from ringtui.screens.widgets.forms import Field, ServiceScreen
from ringtui.screens.widgets.records_table import RecordsTable, columns

MISSED_COLUMNS = columns("bell", "id", "started_at", "from_number", "to_number", "ivr", "type", "wait_s",
                         "tags", "processed_channel", "processed_by",
                         bell=" ", started_at="started (UTC)", processed_channel="processed",
                         narrow={"started_at": "started", "from_number": "caller", "to_number": None,
                                 "wait_s": "wait", "tags": None, "processed_channel": None,
                                 "processed_by": None})  # under 110 columns: what fits in 80
STATES = {"unprocessed": False, "processed": True, "all": None}
LIST_LIMIT = 5000


class MissedScreen(ServiceScreen):
    """Missed inbound calls; `c`, `t`, `m` process the selected one; `u` cycles unprocessed/processed/all."""

    BINDINGS = [
        Binding("f", "filters", "Filters", id="missed.filters"),
        Binding("u", "cycle_state", "Unprocessed/processed/all", id="missed.state"),
        Binding("c", "process('call')", "Called back", id="missed.call"),
        Binding("t", "process('sms')", "Texted (SMS)", id="missed.sms"),
        Binding("m", "process('email')", "Mailed", id="missed.email"),
        Binding("x", "process_as", "Process as...", id="missed.process"),
        Binding("ctrl+r", "reload", "Reload", id="missed.reload"),
    ]
    DEFAULT_CSS = """
    MissedScreen #bell { height: 1; padding: 0 1; text-style: bold; }
    MissedScreen RecordsTable { height: 1fr; }
    """

    def __init__(self, context: TuiContext) -> None:
        super().__init__(context)
        self.state = "unprocessed"
        self.filters = FilterBar(id="filters")
        self.unprocessed = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="bell")
        yield self.filters
        yield RecordsTable(MISSED_COLUMNS, export_name="missed", id="missed")
        yield self.status_line()
        yield self.footer()

    @property
    def table(self) -> RecordsTable:
        return self.query_one("#missed", RecordsTable)

    def bell_mark(self) -> str:
        return "(!)" if self.context.options.get("ascii") else "🔔"

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def reload(self) -> None:
        from ringtui.services import missed

        now = self.context.options.get("now")

        def load(op: Any) -> tuple[list[dict[str, Any]], int]:
            rows = missed.list_missed(op, self.filters.options, processed=STATES[self.state],
                                      limit=LIST_LIMIT, now=now)
            waiting = missed.list_missed(op, self.filters.options, processed=False, limit=LIST_LIMIT, now=now)
            return rows, len(waiting)

        loaded = self.call(load)
        if loaded is None:
            return
        rows, self.unprocessed = loaded
        bell = self.bell_mark()
        for row in rows:
            row["bell"] = "" if row["processed_at"] else bell
        self.table.set_rows(rows)
        self.query_one("#bell", Static).update(
            f"{bell} {self.unprocessed} unprocessed missed call(s)   showing: {self.state}")
        self.show_info(f"{len(rows)} {self.state} missed call(s): {describe(self.filters.options)}")

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.reload()
        self.table.focus()

    def on_filter_bar_refused(self, event: FilterBar.Refused) -> None:
        self.show_error(event.error)

    def on_records_table_chosen(self, event: RecordsTable.Chosen) -> None:
        from ringtui.services import calls

        call = self.call(lambda op: calls.show_call(op, event.row["id"]))
        if call is not None:
            self.app.push_screen(call_detail(call))

    def action_filters(self) -> None:
        self.filters.focus_input()

    def action_reload(self) -> None:
        self.reload()

    def action_cycle_state(self) -> None:
        names = list(STATES)
        self.state = names[(names.index(self.state) + 1) % len(names)]
        self.reload()

    def _chosen_id(self) -> int | None:
        row = self.table.current_row()
        if row is None:
            self.show_error("Error: no missed call is selected")
            return None
        return int(row["id"])

    def action_process(self, channel: str) -> None:
        from ringtui.services import missed

        call_id = self._chosen_id()
        if call_id is None:
            return
        result = self.call(lambda op: missed.process_missed(op, call_id, channel))
        if result is not None:
            self.reload()
            self.show_info(f"Missed call {call_id} processed by {result['processed_channel']}.")

    def action_process_as(self) -> None:
        from ringtui.services import missed

        call_id = self._chosen_id()
        if call_id is None:
            return

        def submit(op: Any, values: dict[str, str]) -> str:
            result = missed.process_missed(op, call_id, values["channel"])
            return f"Missed call {call_id} processed by {result['processed_channel']}."

        self.open_form(f"Process missed call {call_id}",
                       [Field("channel", "Channel used (call, sms or email)", "call")], submit)
