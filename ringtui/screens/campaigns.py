"""Campaigns (K1-K3): every campaign with its live progress; drill into one; create, launch, pause, resume.

Rows are updated in place, by campaign name, from the feed's `campaign_progress`
events (coalesced: the latest event of each campaign is applied at most ten times a
second, only while the screen is shown and updates are not paused). An event that
does not carry the counts (the SMS runner's `{"campaign", "sent"}`) re-reads that one
campaign. Who may do what is the services' decision: a refusal is shown in the CLI's words.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from ringtui.errors import RingtuiError
from ringtui.formats import cell
from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.campaign_forms import CampaignForms
from ringtui.screens.context import TuiContext
from ringtui.screens.widgets.forms import FormScreen, ServiceScreen
from ringtui.screens.widgets.latest_worker import LatestInThread
from ringtui.screens.widgets.records_table import RecordsTable, columns

CAMPAIGN_COLUMNS = columns("name", "kind", "status", "progress", "results", "created_by", "launched_at",
                           launched_at="launched")
NUMBER_COLUMNS = columns("position", "number", "status", "attempts", "agent", "contact", "last_attempt_at",
                         "detail", position="#", last_attempt_at="last attempt")
AGENT_COLUMNS = columns("agent", "numbers", "answered", "no_answer", "busy", "invalid", "blacklisted",
                        "failed")
HIDDEN_FACTS = {"by_status", "done", "pending"}
FRAME_S = 0.1
DETAIL_FRAME_S = 1.0  # the detail re-reads its campaign at most once a second
REREAD_S = 1.0  # a campaign's row is read from the database at most this often
NUMBERS_LIVE_MAX = 2000  # longer lists: the numbers are re-read on ctrl+r only, not on every progress
VERBS = {"launch": "launched; a running engine (`ringtui engine run`) sends it", "pause": "paused",
         "resume": "resumed"}


def update_row(table: RecordsTable, key: str, row: dict[str, Any], fresh: dict[str, Any]) -> None:
    """Change a shown row's values and the cells that differ, in place (no rebuild)."""
    for column in table.shown_cols:
        if column.key in fresh and cell(fresh[column.key]) != cell(row.get(column.key)) and key in table.rows:
            table.update_cell(key, column.key, Text(cell(fresh[column.key]), no_wrap=True))
    row.update(fresh)


def event_row(row: dict[str, Any], event: dict[str, Any]) -> dict[str, Any] | None:
    """The new values of a campaign row from a `campaign_progress` event; None when the event does not
    carry the counts (the row is then read again from the database)."""
    from ringtui.services.campaigns.progress import with_progress

    if not all(key in event for key in ("total", "done", "results")):
        return None
    total, done = int(event["total"]), int(event["done"])
    fresh = {"recipients": total, "done": done, "pending": total - done,
             "status": event.get("status") or row["status"]}
    return with_progress({**row, **fresh}, event["results"] or {})


class ProgressListener:
    """The latest `campaign_progress` event of each campaign since a screen last looked."""

    def __init__(self, screen: ServiceScreen, apply: Callable[[dict[str, dict[str, Any]]], None],
                 interval: float) -> None:
        self.screen, self.apply, self.pending = screen, apply, {}
        self.stop: Callable[[], None] | None = None
        feed = screen.context.feed
        if feed is not None:
            self.stop = feed.listen("campaign_progress", self.keep)
        screen.set_interval(interval, self.frame, name="campaign-progress")

    def keep(self, event: dict[str, Any]) -> None:
        if event.get("campaign"):
            self.pending[str(event["campaign"])] = event

    def frame(self) -> None:
        paused = bool(getattr(self.screen.app, "paused", False))
        if self.pending and self.screen.is_current and not paused:
            taken, self.pending = self.pending, {}
            self.apply(taken)

    def close(self) -> None:
        if self.stop is not None:
            self.stop()
            self.stop = None


class LifecycleActions:
    """Launch, pause and resume of one campaign, shared by the list and the detail."""

    BINDINGS = [
        Binding("l", "launch", "Launch", id="campaigns.launch"),
        Binding("P", "pause", "Pause", id="campaigns.pause"),
        Binding("R", "resume", "Resume", id="campaigns.resume"),
    ]

    def campaign_name(self) -> str | None:  # pragma: no cover - both screens define it
        raise NotImplementedError

    def lifecycle_done(self, result: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def change(self, verb: str) -> None:
        from ringtui.services.campaigns import lifecycle

        screen: Any = self
        name = self.campaign_name()
        if name is None:
            return
        result = screen.call(lambda op: getattr(lifecycle, verb)(op, name))
        if result is not None:
            self.lifecycle_done(result)
            screen.show_info(f"Campaign {result['name']!r} {VERBS[verb]}.")

    def action_launch(self) -> None:
        name = self.campaign_name()
        if name is None:
            return
        screen: Any = self
        screen.app.push_screen(
            _confirm(f"Launch campaign {name!r}? It starts sending at once.", "Enter: launch   Esc: no"),
            lambda yes: self.change("launch") if yes else None)

    def action_pause(self) -> None:
        self.change("pause")

    def action_resume(self) -> None:
        self.change("resume")


def _confirm(question: str, hint: str) -> FormScreen:
    return FormScreen(question, [], lambda _values: "yes", hint=hint)


class CampaignsScreen(LifecycleActions, CampaignForms, ListScreen):
    TITLE_TEXT = "Campaigns"
    NOUN = "campaign(s)"
    HELP_TEXT = "m SMS  c calls  v voice  l launch  P pause  R resume  Enter detail"
    COLUMNS = CAMPAIGN_COLUMNS
    ROW_KEY = "name"
    EXPORT_NAME = "campaigns"
    BINDINGS = [*LifecycleActions.BINDINGS, *CampaignForms.BINDINGS]

    def __init__(self, context: TuiContext) -> None:
        super().__init__(context)
        self.progress: ProgressListener | None = None
        self._read_at: dict[str, float] = {}  # campaign -> when its row was last read (monotonic)

    def on_mount(self) -> None:
        self.progress = ProgressListener(self, self.apply_progress, FRAME_S)

    def on_unmount(self) -> None:
        if self.progress is not None:
            self.progress.close()

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services.campaigns.progress import campaign_rows

        return campaign_rows(op)

    def apply_progress(self, events: dict[str, dict[str, Any]]) -> None:
        rows = {row["name"]: row for row in self.table.rows_all}
        if any(name not in rows for name in events):  # created elsewhere since: read the list again
            self.reload()
            return
        for name, event in events.items():
            fresh = event_row(rows[name], event) or self.read_row(name, event)
            if fresh is not None:
                update_row(self.table, name, rows[name], fresh)

    def read_row(self, name: str, event: dict[str, Any]) -> dict[str, Any] | None:
        """A campaign's row from the database, at most once a second each: the SMS runner tells every
        batch, and counting a large list ten times a second would cost more than the sending."""
        now = time.monotonic()
        if now - self._read_at.get(name, 0.0) < REREAD_S:
            if self.progress is not None:
                self.progress.pending.setdefault(name, event)  # applied on a later frame
            return None
        self._read_at[name] = now
        return self.call(lambda op: _read_row(op, name))

    def campaign_name(self) -> str | None:
        row = self.chosen("campaign")
        return row["name"] if row else None

    def lifecycle_done(self, result: dict[str, Any]) -> None:
        fresh = self.call(lambda op: _read_row(op, result["name"]))
        row = next((r for r in self.table.rows_all if r["name"] == result["name"]), None)
        if fresh is not None and row is not None:
            update_row(self.table, result["name"], row, fresh)

    def drill_down(self, table: RecordsTable, row: dict[str, Any]) -> None:
        self.app.push_screen(CampaignDetailScreen(self.context, row["name"]))


def _read_row(op: Any, name: str) -> dict[str, Any]:
    from ringtui.services.campaigns.progress import campaign_row

    return campaign_row(op, name)


class CampaignDetailScreen(LifecycleActions, ServiceScreen):
    """One campaign as `campaign show` gives it, its numbers and, for a call campaign, its agents."""

    BINDINGS = [*LifecycleActions.BINDINGS,
                Binding("escape", "close", "Back", id="campaigns.detail.close"),
                Binding("ctrl+r", "reload", "Reload", id="campaigns.detail.reload")]
    DEFAULT_CSS = """
    CampaignDetailScreen .screen-title { text-style: bold; padding: 0 1; }
    CampaignDetailScreen #facts { height: auto; max-height: 50%; padding: 0 1; overflow-y: auto; }
    CampaignDetailScreen #numbers { height: 1fr; }
    CampaignDetailScreen #agents { height: auto; max-height: 8; }
    CampaignDetailScreen .section { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, context: TuiContext, name: str) -> None:
        super().__init__(context)
        self.name_shown = name
        self.kind: str | None = None
        self.recipients = 0
        self._numbers: LatestInThread[list[dict[str, Any]] | RingtuiError] = LatestInThread(self)
        self.progress: ProgressListener | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"Campaign {self.name_shown}: l launch  P pause  R resume  e export  Esc back",
                    classes="screen-title")
        yield Static("", id="facts")
        yield Label("Numbers", classes="section", id="numbers-title")
        yield RecordsTable(NUMBER_COLUMNS, row_key="number", export_name=f"campaign-{self.name_shown}",
                           id="numbers")
        yield Label("Agents", classes="section", id="agents-title")
        yield RecordsTable(AGENT_COLUMNS, row_key="agent", export_name=f"campaign-{self.name_shown}-agents",
                           id="agents")
        yield self.status_line()
        yield self.footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#numbers", RecordsTable).focus()
        self.progress = ProgressListener(self, self.apply_progress, DETAIL_FRAME_S)

    def on_unmount(self) -> None:
        if self.progress is not None:
            self.progress.close()

    def apply_progress(self, events: dict[str, dict[str, Any]]) -> None:
        if self.name_shown in events:
            self.reload(numbers=self.recipients <= NUMBERS_LIVE_MAX)

    def reload(self, *, numbers: bool = True) -> None:
        """Read the campaign again: its facts and agents (counted in SQL), and its numbers when asked."""
        from ringtui.services.campaigns import progress
        from ringtui.services.campaigns.lifecycle import show_campaign

        def read(op: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            shown = show_campaign(op, self.name_shown)
            agents = progress.agent_results(op, self.name_shown) if shown["kind"] == "calls" else []
            return shown, agents

        found = self.call(read)
        if found is None:
            return
        shown, agents = found
        self.kind, self.recipients = str(shown["kind"]), int(shown["recipients"])
        self.query_one("#facts", Static).update(campaign_facts(shown))
        if numbers:
            self.read_numbers()
        live = "" if self.recipients <= NUMBERS_LIVE_MAX else " (a long list: ctrl+r reads them again)"
        self.query_one("#numbers-title", Label).update(f"Numbers{live}")
        calls = self.kind == "calls"
        self.query_one("#agents-title").display = calls
        self.query_one("#agents", RecordsTable).display = calls
        if calls:
            self.query_one("#agents", RecordsTable).set_rows(agents)
        self.show_info(f"{shown['status']}: {shown['done']:,} of {shown['recipients']:,} done")

    def read_numbers(self) -> None:
        """Every number of the campaign, read in a thread (100,000 take seconds: Esc still works)."""
        from ringtui.services.campaigns.progress import recipient_rows

        def read() -> list[dict[str, Any]] | RingtuiError:
            try:
                with self.context.operation() as op:
                    return recipient_rows(op, self.name_shown)
            except RingtuiError as error:
                return error

        def show(found: list[dict[str, Any]] | RingtuiError) -> None:
            if isinstance(found, RingtuiError):
                self.show_error(found)
            else:
                self.query_one("#numbers", RecordsTable).set_rows(found)

        self._numbers.run(read, show)

    def action_reload(self) -> None:
        self.reload()

    def action_close(self) -> None:
        self.app.pop_screen()

    def campaign_name(self) -> str | None:
        return self.name_shown

    def lifecycle_done(self, result: dict[str, Any]) -> None:
        self.reload()

    def on_records_table_chosen(self, event: RecordsTable.Chosen) -> None:
        event.stop()  # a number or an agent: everything is already on its row


def campaign_facts(shown: dict[str, Any]) -> Any:
    """`campaign show`'s fields as name / value lines, the results by status as one line."""
    from rich.table import Table

    from ringtui.services.campaigns.progress import results_text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in shown.items():
        if key not in HIDDEN_FACTS:
            grid.add_row(key, cell(value))
        if key == "recipients":
            grid.add_row("progress",
                         f"{shown['done']:,}/{shown['recipients']:,} done, {shown['pending']:,} pending")
            grid.add_row("results", results_text(shown.get("by_status") or {}))
    return grid

