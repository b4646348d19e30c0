"""Logs (L1-L6): call logs with the S6 filters, a call in detail, tag and flag; SMS and Meet logs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static, TabbedContent, TabPane

from ringtui.formats import cell
from ringtui.screens.context import TuiContext
from ringtui.screens.widgets.filter_bar import FilterBar
from ringtui.screens.widgets.forms import DetailScreen, Field, ServiceScreen, words
from ringtui.screens.widgets.records_table import Column, RecordsTable, columns

# Under 110 terminal columns (records_table.NARROW_BELOW) the lists keep what fits in 80:
# a call's customer (the number that is not ours) replaces from and to.
NARROW_HIDDEN = None
CALL_COLUMNS = columns("id", "started_at", "direction", "type", "from_number", "to_number", "ivr", "agent",
                       "wait_s", "talk_s", "tags", "ended_by_customer", "processed_channel",
                       started_at="started (UTC)", ended_by_customer="customer hung up",
                       processed_channel="processed",
                       narrow={"started_at": "started", "direction": "dir", "from_number": NARROW_HIDDEN,
                               "to_number": NARROW_HIDDEN, "agent": NARROW_HIDDEN, "wait_s": NARROW_HIDDEN,
                               "talk_s": "talk", "tags": NARROW_HIDDEN, "ended_by_customer": NARROW_HIDDEN,
                               "processed_channel": NARROW_HIDDEN})
CALL_COLUMNS.insert(4, Column("customer", "customer", wide=False))
ATTEMPT_COLUMNS = columns("agent", "started_at", "ended_at", "outcome")
DETAIL_FIELDS = ("id", "started_at", "answered_at", "ended_at", "direction", "type", "kind", "from_number",
                 "to_number", "caller_country", "caller_area", "ivr", "agent", "wait_s", "talk_s", "ended_by",
                 "vip", "tags", "flagged", "recorded", "processed_channel", "processed_by", "processed_at")
SMS_COLUMNS = [
    replace(column, narrow_width=18) if column.key == "text" else column  # an SMS is cut at 80 columns
    for column in columns("id", "sent_at", "direction", "customer_number", "account_number", "agent", "ivr",
                          "text", "unicode", "fragments", "price", "status", sent_at="sent (UTC)",
                          customer_number="customer", account_number="our number",
                          narrow={"sent_at": "sent", "direction": "dir", "account_number": NARROW_HIDDEN,
                                  "agent": NARROW_HIDDEN, "ivr": NARROW_HIDDEN, "unicode": NARROW_HIDDEN,
                                  "fragments": NARROW_HIDDEN, "price": NARROW_HIDDEN})
]
MEET_COLUMNS = columns("id", "started_at", "ended_at", "tool", "agent", "title", "duration_s", "participants",
                       started_at="started (UTC)", ended_at="ended (UTC)",
                       narrow={"started_at": "started", "ended_at": NARROW_HIDDEN, "duration_s": "dur",
                               "participants": NARROW_HIDDEN, "title": NARROW_HIDDEN})
LIST_LIMIT = 5000
TABS = ("calls", "sms", "meet")
NOUNS = {"calls": "call(s)", "sms": "SMS", "meet": "meeting(s)"}


def facts(record: dict[str, Any], names: tuple[str, ...]) -> Static:
    """Name / value lines of a record, as the CLI's `show` prints them."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for name in names:
        table.add_row(name, cell(record.get(name)))
    return Static(table)


def call_detail(call: dict[str, Any]) -> DetailScreen:
    attempts = RecordsTable(ATTEMPT_COLUMNS, row_key="", export_name=f"call-{call['id']}-attempts",
                            id="attempts")
    attempts.styles.height = "auto"
    parts: list[Any] = [facts(call, DETAIL_FIELDS), Static("Ring attempts", classes="form-title"), attempts]
    recording = "recorded (the recording is kept with the call)" if call["recorded"] else "not recorded"
    parts.append(Static(f"Recording: {recording}"))
    if call.get("transfers"):
        lines = "\n".join(
            f"  {cell(t['at'])}  {t['kind']} by {t['by'] or '?'} to {t['to'] or '?'}"
            f"  ({'answered' if t['answered'] else 'not answered'})" for t in call["transfers"])
        parts.append(Static(f"Transfers:\n{lines}", id="transfers"))
    if call["survey"]:
        lines = "\n".join(f"  {a['category']}: {a['question']} -> {a['rating']}" for a in call["survey"])
        parts.append(Static(f"Survey answers:\n{lines}"))
    screen = DetailScreen(f"Call {call['id']}", parts)
    screen.call_after_refresh(lambda: attempts.set_rows(call["attempts"]))
    return screen


class LogsScreen(ServiceScreen):
    """Call, SMS and Meet logs over one FILTERS line; Enter opens a record, `t` tags a call, `x` flags it."""

    BINDINGS = [
        Binding("f", "filters", "Filters", id="logs.filters"),
        Binding("t", "tag", "Tag", id="logs.tag"),
        Binding("x", "flag", "Flag", id="logs.flag"),
        Binding("ctrl+r", "reload", "Reload", id="logs.reload"),
    ]
    DEFAULT_CSS = """
    LogsScreen TabbedContent, LogsScreen TabPane { height: 1fr; }
    LogsScreen TabPane { padding: 0; }
    LogsScreen RecordsTable#calls { height: 1fr; }
    """

    def __init__(self, context: TuiContext) -> None:
        super().__init__(context)
        self.filters = FilterBar(extra=("limit", "tool"), id="filters")

    def compose(self) -> ComposeResult:
        yield self.filters
        with TabbedContent(id="logs-tabs"):
            with TabPane("Calls", id="tab-calls"):
                yield RecordsTable(CALL_COLUMNS, export_name="calls", id="calls")
            with TabPane("SMS", id="tab-sms"):
                yield RecordsTable(SMS_COLUMNS, export_name="sms", id="sms")
            with TabPane("Meet", id="tab-meet"):
                yield RecordsTable(MEET_COLUMNS, export_name="meetings", id="meet")
        yield self.status_line()
        yield self.footer()

    @property
    def tab(self) -> str:
        return self.query_one("#logs-tabs", TabbedContent).active.removeprefix("tab-")

    @property
    def table(self) -> RecordsTable:
        return self.query_one(f"#{self.tab}", RecordsTable)

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.reload()
        self.table.focus()

    def _rows(self, op: Any, tab: str) -> list[dict[str, Any]]:
        from ringtui.services import calls, meetings, messages

        options, now = self.filters.options, self.context.options.get("now")
        limit = int(self.filters.extra_values.get("limit") or LIST_LIMIT)
        if tab == "sms":
            return messages.list_sms(op, options, limit=limit, now=now)
        if tab == "meet":
            return meetings.list_meetings(op, options, self.filters.extra_values.get("tool"), limit=limit,
                                          now=now)
        return [{**row, "customer": row.get("to_number") if row.get("direction") == "out"
                 else row.get("from_number")} for row in calls.list_calls(op, options, limit=limit, now=now)]

    def reload(self) -> None:
        tab, table = self.tab, self.table
        rows = self.call(lambda op: self._rows(op, tab))
        if rows is None:
            table.set_rows([])
            return
        table.set_rows(rows)
        self.show_info(f"{len(rows)} {NOUNS[tab]}: {self._described()}")

    def _described(self) -> str:
        from ringtui.screens.widgets.filter_bar import describe

        return describe(self.filters.options, self.filters.extra_values)

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        if event.extra.get("limit") and not event.extra["limit"].isdigit():
            self.show_error(f"Error: limit {event.extra['limit']!r} is not a number: give 1..100000")
            return
        self.reload()
        self.table.focus()

    def on_filter_bar_refused(self, event: FilterBar.Refused) -> None:
        self.show_error(event.error)

    def on_records_table_chosen(self, event: RecordsTable.Chosen) -> None:
        from ringtui.services import calls

        if event.table.id != "calls":
            title = "SMS" if event.table.id == "sms" else "Meeting"
            names = tuple(c.key for c in event.table.data_cols)
            self.app.push_screen(DetailScreen(f"{title} {event.row['id']}", [facts(event.row, names)]))
            return
        call = self.call(lambda op: calls.show_call(op, event.row["id"]))
        if call is not None:
            self.app.push_screen(call_detail(call))

    def action_filters(self) -> None:
        self.filters.focus_input()

    def action_reload(self) -> None:
        self.reload()

    def _chosen_id(self) -> int | None:
        if self.tab != "calls":
            self.show_error("Error: tags and flags are for calls: open the Calls tab")
            return None
        row = self.table.current_row()
        if row is None:
            self.show_error("Error: no call is selected")
            return None
        return int(row["id"])

    def action_tag(self) -> None:
        from ringtui.services import calls

        call_id = self._chosen_id()
        if call_id is None:
            return

        def submit(op: Any, values: dict[str, str]) -> str:
            result = calls.tag_call(op, call_id, words(values["tags"]))
            return f"Call {call_id} tagged: {', '.join(result['tags'])}."

        self.open_form(f"Tag call {call_id}", [Field("tags", "Tags (names separated by spaces or commas)")],
                       submit)

    def action_flag(self) -> None:
        from ringtui.services import calls

        call_id = self._chosen_id()
        if call_id is None:
            return

        def toggle(op: Any) -> dict[str, Any]:
            flagged = calls.show_call(op, call_id)["flagged"]
            return calls.flag_call(op, call_id, flagged=not flagged)

        result = self.call(toggle)
        if result is not None:
            self.show_info(f"Call {call_id} {'flagged' if result['flagged'] else 'unflagged'}.")
