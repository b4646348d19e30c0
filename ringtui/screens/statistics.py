"""Statistics (S1-S14): one tab per family over the same FILTERS line, computed in SQL by services/stats.

Only the tab shown is queried; switching tabs or changing the filters reads it
again. History and heatmap are drawn with plotext through ringtui.charts. The
omnichannel tab (S9) has three views (`v`): figures and the sent/received
leaderboard, history, heatmap, narrowed by `platform=` in the filters line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, Static, TabbedContent, TabPane

from ringtui.errors import Invalid
from ringtui.screens.context import TuiContext
from ringtui.screens.widgets.chart import HistoryChart
from ringtui.screens.widgets.filter_bar import FilterBar, describe
from ringtui.screens.widgets.forms import ServiceScreen
from ringtui.screens.widgets.heatmap import Heatmap
from ringtui.screens.widgets.records_table import Column, RecordsTable, columns

OUTCOMES = ("out", "answered", "toolate", "call_answered", "no_answer", "rejected", "incall", "snooze",
            "planning", "notconnected", "sip_phone_error")
LEADERBOARD_COLUMNS = [Column("agent", "agent"), *(Column(o, o.upper()) for o in OUTCOMES),
                       Column("talk_s", "talk_s")]
FIGURE_COLUMNS = columns("indicator", "value")
POINT_COLUMNS = columns("start", "value", start="start (UTC)")
TABLE_COLUMNS = {
    "tags": columns("tag", "color", "calls", "talk_s"),
    "surveys": columns("ivr", "category", "agent", "answers", "avg_rating"),
    "snooze": columns("agent", "reason", "periods", "snoozed_s"),
    "callers": columns("number", "calls", "answered", "missed", "talk_total_s", "talk_min_s", "talk_max_s",
                       "talk_avg_s", "received", "transferred", "transfer_ratio", "top_agent"),
    "geo": columns("country", "calls", "answered"),
}
AREA_COLUMNS = columns("area", "zone", "calls", "answered", "inbound", "outbound")
MESSAGE_BOARDS = {"sms": columns("agent", "sent", "received", "fragments"),
                  "meet": columns("agent", "meetings", "duration_s")}
OMNI_BOARD = columns("agent", "sent", "received")
OMNI_VIEWS = ("summary", "history", "heatmap")
TABS = ("calls", "leaderboard", "history", "heatmap", "tags", "surveys", "snooze", "callers", "geo", "sms",
        "meet", "omnichannel")
TITLES = {"calls": "Calls", "leaderboard": "Leaderboard", "history": "History", "heatmap": "Heatmap",
          "tags": "Tags", "surveys": "Surveys", "snooze": "Snooze", "callers": "Callers", "geo": "Geo",
          "sms": "SMS", "meet": "Meet", "omnichannel": "Omni"}
EXTRA = ("interval", "indicator", "by", "sort", "limit", "channel", "tool", "platform")
INTERVALS = ("hour", "day", "week", "month")


class StatisticsScreen(ServiceScreen):
    """Calls, leaderboard, history, heatmap, tags, surveys, snooze, callers, geography, SMS and Meet."""

    BINDINGS = [
        Binding("f", "filters", "Filters", id="stats.filters"),
        Binding("i", "cycle_interval", "Interval", id="stats.interval"),
        Binding("n", "cycle_indicator", "Indicator", id="stats.indicator"),
        Binding("v", "omni_view", "View", id="stats.omni_view"),
        Binding("ctrl+r", "reload", "Reload", id="stats.reload"),
        Binding("right_square_bracket", "next_tab(1)", "Next family", key_display="]", id="stats.next"),
        Binding("left_square_bracket", "next_tab(-1)", "Previous family", key_display="[", show=False,
                id="stats.previous"),
    ]
    DEFAULT_CSS = """
    StatisticsScreen RecordsTable { height: 1fr; }
    StatisticsScreen #points { height: 8; }
    StatisticsScreen .figures { height: auto; max-height: 12; }
    StatisticsScreen TabbedContent, StatisticsScreen TabPane { height: 1fr; }
    StatisticsScreen TabPane { padding: 0; }
    StatisticsScreen #omni-views, StatisticsScreen #omni-summary { height: 1fr; }
    StatisticsScreen #geo { height: auto; max-height: 14; }
    StatisticsScreen .busiest { height: auto; text-style: bold; padding: 0 1; }
    """

    def __init__(self, context: TuiContext) -> None:
        super().__init__(context)
        self.filters = FilterBar(extra=EXTRA, id="filters")

    def compose(self) -> ComposeResult:
        yield self.filters
        with TabbedContent(id="stats-tabs", initial="tab-calls"):
            with TabPane(TITLES["calls"], id="tab-calls"):
                yield RecordsTable(FIGURE_COLUMNS, row_key="indicator", export_name="stats-calls",
                                   id="figures")
            with TabPane(TITLES["leaderboard"], id="tab-leaderboard"):
                yield RecordsTable(LEADERBOARD_COLUMNS, row_key="agent", export_name="leaderboard",
                                   id="leaderboard")
            with TabPane(TITLES["history"], id="tab-history"):
                yield HistoryChart(ascii_only=bool(self.context.options.get("ascii")), id="history-chart")
                yield RecordsTable(POINT_COLUMNS, row_key="start", export_name="history", id="points")
            with TabPane(TITLES["heatmap"], id="tab-heatmap"):
                yield Heatmap(ascii_only=bool(self.context.options.get("ascii")), id="heatmap")
            for tab, cols in TABLE_COLUMNS.items():
                with TabPane(TITLES[tab], id=f"tab-{tab}"):
                    yield RecordsTable(cols, row_key="", export_name=f"stats-{tab}", id=tab)
                    if tab == "geo":  # S14 by area code under the countries, the busiest of each named
                        yield Static("", id="geo-busiest", classes="busiest")
                        yield RecordsTable(AREA_COLUMNS, row_key="", export_name="stats-areas",
                                           id="geo-areas")
            for tab, cols in MESSAGE_BOARDS.items():
                with TabPane(TITLES[tab], id=f"tab-{tab}"):
                    yield RecordsTable(FIGURE_COLUMNS, row_key="indicator", export_name=f"stats-{tab}",
                                       id=f"{tab}-figures", classes="figures")
                    yield RecordsTable(cols, row_key="agent", export_name=f"{tab}-leaderboard",
                                       id=f"{tab}-board")
            with TabPane(TITLES["omnichannel"], id="tab-omnichannel"):
                yield from self._omni_views()
        yield self.status_line()
        yield self.footer()

    def _omni_views(self) -> ComposeResult:
        ascii_only = bool(self.context.options.get("ascii"))
        with ContentSwitcher(initial="omni-summary", id="omni-views"):
            with Vertical(id="omni-summary"):
                yield RecordsTable(FIGURE_COLUMNS, row_key="indicator", export_name="stats-omnichannel",
                                   id="omnichannel-figures", classes="figures")
                yield RecordsTable(OMNI_BOARD, row_key="agent", export_name="omnichannel-leaderboard",
                                   id="omnichannel-board")
            yield HistoryChart(ascii_only=ascii_only, id="omni-history",
                               empty="No messages in the selection.")
            yield Heatmap(ascii_only=ascii_only, id="omni-heatmap")

    @property
    def omni_view(self) -> str:
        current = self.query_one("#omni-views", ContentSwitcher).current or "omni-summary"
        return current.removeprefix("omni-")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "omni_view":
            try:
                return self.tab == "omnichannel"
            except NoMatches:  # not composed yet
                return False
        return super().check_action(action, parameters)

    def action_omni_view(self) -> None:
        following = OMNI_VIEWS[(OMNI_VIEWS.index(self.omni_view) + 1) % len(OMNI_VIEWS)]
        self.query_one("#omni-views", ContentSwitcher).current = f"omni-{following}"
        self.reload()
        self.focus_tab()

    @property
    def tab(self) -> str:
        return self.query_one("#stats-tabs", TabbedContent).active.removeprefix("tab-")

    def on_mount(self) -> None:
        self.reload()
        self.focus_tab()

    def focus_tab(self) -> None:
        """Keys go to the family shown (its table), not to the filters line."""
        pane = self.query_one(f"#tab-{self.tab}", TabPane)
        tables = pane.query(RecordsTable)
        if tables:
            tables.first().focus()
        else:
            self.query_one("#stats-tabs Tabs").focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.reload()
        self.focus_tab()
        self.refresh_bindings()  # `v` shows on the omnichannel tab only

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.reload()
        self.focus_tab()

    def on_filter_bar_refused(self, event: FilterBar.Refused) -> None:
        self.show_error(event.error)

    def action_filters(self) -> None:
        self.filters.focus_input()

    def action_reload(self) -> None:
        self.reload()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#stats-tabs", TabbedContent).active = f"tab-{tab}"

    def action_next_tab(self, step: int) -> None:
        self.action_show_tab(TABS[(TABS.index(self.tab) + step) % len(TABS)])

    def _set_extra(self, key: str, value: str) -> None:
        extra = {**self.filters.extra_values, key: value}
        self.filters.apply(describe(self.filters.options, extra).replace("all calls", ""))

    def action_cycle_interval(self) -> None:
        current = self.filters.extra_values.get("interval", "day")
        self._set_extra("interval", INTERVALS[(INTERVALS.index(current) + 1) % len(INTERVALS)]
                        if current in INTERVALS else "day")

    def action_cycle_indicator(self) -> None:
        from ringtui.services.stats import DEFAULT_INDICATOR, TREND_INDICATORS
        from ringtui.services.stats_messages import OMNI_INDICATORS

        indicators = tuple(OMNI_INDICATORS) if self.tab == "omnichannel" else TREND_INDICATORS
        current = self.filters.extra_values.get("indicator", indicators[0] if self.tab == "omnichannel"
                                                else DEFAULT_INDICATOR)
        following = (indicators.index(current) + 1) if current in indicators else 0
        self._set_extra("indicator", indicators[following % len(indicators)])

    # ------------------------------------------------------------ reading one family

    def reload(self) -> None:
        loaders: dict[str, Callable[[], bool]] = {
            "calls": self._calls, "leaderboard": self._leaderboard, "history": self._history,
            "heatmap": self._heatmap, "sms": self._sms, "meet": self._meet, "omnichannel": self._omnichannel,
            "geo": self._geo}
        tab = self.tab
        shown = loaders[tab]() if tab in loaders else self._table(tab)
        if shown:
            self.show_info(f"{TITLES[tab]}: {describe(self.filters.options, self.filters.extra_values)}")

    def _service(self, work: Callable[[Any, Any, Any], Any]) -> Any:
        now = self.context.options.get("now")
        return self.call(lambda op: work(op, self.filters.options, now))

    def _fill(self, table_id: str, rows: list[dict[str, Any]] | None) -> bool:
        if rows is None:
            self.query_one(f"#{table_id}", RecordsTable).set_rows([])
            return False
        self.query_one(f"#{table_id}", RecordsTable).set_rows(rows)
        return True

    def _calls(self) -> bool:
        from ringtui.services import stats

        figures = self._service(lambda op, options, now: stats.call_stats(op, options, now=now))
        rows = None if figures is None else [{"indicator": k, "value": v} for k, v in figures.items()]
        return self._fill("figures", rows)

    def _leaderboard(self) -> bool:
        from ringtui.services import stats

        return self._fill("leaderboard", self._service(
            lambda op, options, now: stats.leaderboard(op, options, now=now)))

    def _history(self) -> bool:
        from ringtui.services import stats_messages

        extra = self.filters.extra_values

        def read(op: Any, options: Any, now: Any) -> tuple[dict[str, Any], str]:
            history = stats_messages.history(op, extra.get("channel", "calls"), extra.get("interval", "day"),
                                             extra.get("indicator"), options, now=now)
            return history, op.account.timezone or "UTC"

        result = self._service(read)
        if result is None:
            return self._fill("points", None)
        history, zone = result
        self.query_one("#history-chart", HistoryChart).show(history, zone)
        return self._fill("points", history["points"])

    def _heatmap(self) -> bool:
        from ringtui.services import stats_messages

        extra = self.filters.extra_values

        def read(op: Any, options: Any, now: Any) -> tuple[dict[str, Any], str]:
            grid = stats_messages.heatmap(op, extra.get("channel", "calls"), extra.get("indicator"), options,
                                          now=now)
            return grid, op.account.timezone or "UTC"

        result = self._service(read)
        if result is None:
            return False
        self.query_one("#heatmap", Heatmap).show(*result)
        return True

    def _messages(self, tab: str, read: Callable[[Any, Any, Any], dict[str, Any]]) -> bool:
        figures = self._service(read)
        if figures is None:
            self._fill(f"{tab}-figures", None)
            return self._fill(f"{tab}-board", None)
        rows: list[dict[str, Any]] = []
        for name, value in figures.items():
            if isinstance(value, dict):
                rows += [{"indicator": f"{name}: {key}", "value": count} for key, count in value.items()]
            elif name != "leaderboard":
                rows.append({"indicator": name, "value": value})
        self._fill(f"{tab}-figures", rows)
        return self._fill(f"{tab}-board", figures["leaderboard"])

    def _sms(self) -> bool:
        from ringtui.services import stats_messages

        return self._messages("sms", lambda op, options, now: stats_messages.sms_stats(op, options, now=now))

    def _meet(self) -> bool:
        from ringtui.services import stats_messages

        extra = self.filters.extra_values
        return self._messages("meet", lambda op, options, now: stats_messages.meet_stats(
            op, options, extra.get("tool"), extra.get("sort", "meetings"), now=now))

    def _omnichannel(self) -> bool:
        """The view shown of S9; `indicator=` counts only when it is an omnichannel one (the
        other tabs' indicators are about calls)."""
        from ringtui.services import stats_messages

        extra = self.filters.extra_values
        platform = extra.get("platform")
        indicator = extra.get("indicator")
        if indicator not in stats_messages.OMNI_INDICATORS:
            indicator = None
        view = self.omni_view
        if view == "summary":
            return self._messages("omnichannel", lambda op, options, now: stats_messages.omni_stats(
                op, options, platform, now=now))

        def read(op: Any, options: Any, now: Any) -> tuple[dict[str, Any], str]:
            if view == "history":
                figures = stats_messages.message_history(op, "omnichannel", extra.get("interval", "day"),
                                                         indicator, options, now=now, platform=platform)
            else:
                figures = stats_messages.message_heatmap(op, "omnichannel", indicator, options, now=now,
                                                         platform=platform)
            return figures, op.account.timezone or "UTC"

        result = self._service(read)
        if result is None:
            return False
        if view == "history":
            self.query_one("#omni-history", HistoryChart).show(*result)
        else:
            self.query_one("#omni-heatmap", Heatmap).show(*result)
        return True

    def _geo(self) -> bool:
        from ringtui.services import stats

        figures = self._service(lambda op, options, now: stats.geo_stats(op, options, now=now))
        if figures is None:
            self._fill("geo-areas", None)
            return self._fill("geo", None)
        areas = figures["areas"]
        busiest = f"{areas[0]['area']} ({areas[0]['zone'] or 'no name'})" if areas else "none"
        self.query_one("#geo-busiest", Static).update(
            f"Busiest country: {figures['busiest'] or 'none'}    Busiest area code: {busiest}")
        self._fill("geo-areas", areas)
        return self._fill("geo", figures["countries"])

    def _table(self, tab: str) -> bool:
        from ringtui.services import stats

        extra = self.filters.extra_values

        def read(op: Any, options: Any, now: Any) -> Any:
            if tab == "tags":
                return stats.tag_stats(op, options, extra.get("sort", "calls"), now=now)
            if tab == "surveys":
                return stats.survey_stats(op, options, extra.get("by", "ivr"), now=now)
            if tab == "callers":
                return stats.caller_stats(op, options, _number(extra.get("limit"), 20), now=now)
            return stats.snooze_stats(op, options.period, options.group, options.user,
                                      hours=options.hours, now=now)

        return self._fill(tab, self._service(read))


def _number(text: str | None, default: int) -> int:
    """A whole number typed in the filters (the service checks its range)."""
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise Invalid(f"limit {text!r} is not a whole number: give 1..1000") from None
