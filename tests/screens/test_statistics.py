"""The Statistics screen (S1-S14): each family over the FILTERS line, figures equal to the CLI's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from ringtui.screens.statistics import StatisticsScreen
from ringtui.screens.widgets.records_table import RecordsTable
from tests.conftest import ok
from tests.screens.screens_fixtures import ACC, ANA, BOB, SUP, calls_center_fixture, host  # noqa: F401

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("calls_center")]
NOV_2 = "2026-11-02..2026-11-02"


def rows(app, table_id: str) -> list[dict]:
    return app.screen.query_one(f"#{table_id}", RecordsTable).view_rows


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def show(pilot, tab: str) -> None:
    pilot.app.screen.action_show_tab(tab)
    await pilot.pause()


async def type_filters(pilot, value: str) -> None:
    await pilot.press("f")
    pilot.app.screen.query_one("#filters-input", Input).value = value
    await pilot.press("enter")
    await pilot.pause()


async def test_call_figures_are_the_clis(db_url, calls_center, cli):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        figures = {r["indicator"]: r["value"] for r in rows(app, "figures")}
        assert figures == ok(cli("stats", "calls", "--json")).json()
        await type_filters(pilot, f"period={NOV_2} direction=in")
        figures = {r["indicator"]: r["value"] for r in rows(app, "figures")}
        expected = ok(cli("stats", "calls", "--period", NOV_2, "--direction", "in", "--json")).json()
        assert figures == expected
        assert figures["inbound_calls"] == 5  # c0 is Nov 2 00:30 in Paris


async def test_leaderboard_has_the_eleven_outcomes_and_sorts(db_url, calls_center, tmp_path: Path):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await show(pilot, "leaderboard")
        await pilot.pause()
        table = app.screen.query_one("#leaderboard", RecordsTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["agent", "OUT", "ANSWERED", "TOOLATE", "CALL_ANSWERED", "NO_ANSWER", "REJECTED",
                          "INCALL", "SNOOZE", "PLANNING", "NOTCONNECTED", "SIP_PHONE_ERROR", "talk_s"]
        board = {r["agent"]: r for r in rows(app, "leaderboard")}
        assert (board[ANA]["answered"], board[ANA]["out"], board[ANA]["incall"]) == (2, 1, 1)
        assert (board[BOB]["rejected"], board[BOB]["snooze"]) == (1, 1)
        table.sort_by("rejected", reverse=True)
        assert rows(app, "leaderboard")[0]["agent"] == BOB
        table.focus()
        out = tmp_path / "board.json"
        await pilot.press("e")
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        exported = json.loads(out.read_text())
        assert [r["agent"] for r in exported] == [BOB, ANA]
        assert set(exported[0]) == {"agent", "talk_s", *(c.lower() for c in labels[1:-1])}


async def test_history_and_heatmap_are_drawn(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await show(pilot, "history")
        await pilot.pause()
        points = rows(app, "points")
        assert [p["value"] for p in points] == [6, 1]  # Nov 2 and Nov 3 in Paris (c6 at 00:30)
        assert "total_calls per day (Europe/Paris)" in text(app, "#history-chart")
        await pilot.press("i")  # week
        await pilot.pause()
        assert [p["value"] for p in rows(app, "points")] == [7]
        await show(pilot, "heatmap")
        await pilot.pause()
        grid = text(app, "#heatmap")
        assert "total_calls by weekday and hour (Europe/Paris)" in grid
        assert "Mon" in grid and "≤" in grid


async def test_heatmap_in_ascii_mode_has_no_block_characters(db_url, calls_center):
    app = host(StatisticsScreen, db_url, ascii=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "heatmap")
        await pilot.pause()
        grid = text(app, "#heatmap")
        assert "##" in grid and not any(ch in grid for ch in "░▒▓█≤")


async def test_the_other_families(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "tags")
        await pilot.pause()
        assert [(r["tag"], r["calls"]) for r in rows(app, "tags")] == [("Sale", 1), ("Urgent", 1)]
        await show(pilot, "callers")
        await pilot.pause()
        callers = {r["number"]: r for r in rows(app, "callers")}
        assert callers["+33612345678"]["calls"] == 2
        await show(pilot, "geo")
        await pilot.pause()
        geo = rows(app, "geo")[0]
        assert geo == {"country": "FR", "calls": 5, "answered": 3, "inbound": 3, "outbound": 2}
        await show(pilot, "snooze")
        await pilot.pause()
        assert rows(app, "snooze") == []
        await show(pilot, "surveys")
        await pilot.pause()
        assert rows(app, "surveys") == []


async def test_bad_values_are_refused_with_the_cli_message(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "history")
        await type_filters(pilot, "interval=fortnight")
        assert "Error: " in text(app, "#status") and "fortnight" in text(app, "#status")
        await show(pilot, "callers")
        await type_filters(pilot, "limit=many")
        assert text(app, "#status") == "Error: limit 'many' is not a whole number: give 1..1000"


async def test_a_supervisor_counts_only_the_ivrs_granted(db_url, calls_center):
    app = host(StatisticsScreen, db_url, SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        figures = {r["indicator"]: r["value"] for r in rows(app, "figures")}
        assert figures["total_calls"] == 2  # c3 and c5, the Sales IVR


async def test_an_accountant_gets_no_statistics(db_url, calls_center):
    app = host(StatisticsScreen, db_url, ACC)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert rows(app, "figures") == []
        assert text(app, "#status").startswith("Error: acc@acme.test")


async def test_sms_and_meet_statistics(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press(*["left_square_bracket"] * 3)  # from Calls back to SMS
        await pilot.pause()
        figures = {r["indicator"]: r["value"] for r in rows(app, "sms-figures")}
        assert figures["total_sms"] == 2
        assert rows(app, "sms-board") == [{"agent": ANA, "sent": 1, "received": 0, "fragments": 1}]
        await pilot.press("right_square_bracket")
        await pilot.pause()
        figures = {r["indicator"]: r["value"] for r in rows(app, "meet-figures")}
        assert (figures["total_meetings"], figures["by_tool: zoom"]) == (1, 1)
        assert rows(app, "meet-board") == [{"agent": BOB, "meetings": 1, "duration_s": 2700.0}]
        await show(pilot, "history")
        await type_filters(pilot, "channel=sms interval=day")
        assert [p["value"] for p in rows(app, "points")] == [2]
        assert "total_sms per day" in text(app, "#history-chart")


async def test_omnichannel_figures_views_and_platforms_are_the_clis(db_url, calls_center, cli):
    """S9 on the omnichannel messages of the CLI's tests: refused without the add-on, then the
    same figures and leaderboard as `stats omnichannel`, narrowed by platform, drawn over time."""
    from tests.commands.test_stats_messages import activate_omnichannel, seed_messages

    seed_messages(db_url)
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "omnichannel")
        assert "omnichannel add-on" in text(app, "#status") and rows(app, "omnichannel-board") == []
        activate_omnichannel(db_url)
        await type_filters(pilot, f"period={NOV_2}")
        expected = ok(cli("stats", "omnichannel", "--period", NOV_2, "--json")).json()
        figures = {r["indicator"]: r["value"] for r in rows(app, "omnichannel-figures")}
        assert figures == {**{k: v for k, v in expected.items() if k not in ("by_platform", "leaderboard")},
                           **{f"by_platform: {k}": v for k, v in expected["by_platform"].items()}}
        assert (figures["total_messages"], figures["unanswered_messages"]) == (6, 1)
        assert rows(app, "omnichannel-board") == expected["leaderboard"]
        await type_filters(pilot, f"period={NOV_2} platform=whatsapp")
        figures = {r["indicator"]: r["value"] for r in rows(app, "omnichannel-figures")}
        assert (figures["total_messages"], figures["avg_response_s"]) == (2, 120.0)
        assert rows(app, "omnichannel-board") == [{"agent": ANA, "sent": 1, "received": 0}]
        await pilot.press("v")  # history of the whatsapp messages, per day
        await pilot.pause()
        assert "total_messages per day (Europe/Paris)" in text(app, "#omni-history")
        await pilot.press("n")  # the next omnichannel indicator, not a call one
        await pilot.pause()
        assert "sent_messages per day" in text(app, "#omni-history")
        await pilot.press("v")
        await pilot.pause()
        assert "sent_messages by weekday and hour (Europe/Paris)" in text(app, "#omni-heatmap")
        await type_filters(pilot, "platform=telegram")
        assert "'telegram'" in text(app, "#status") and "whatsapp" in text(app, "#status")


async def test_the_omnichannel_view_key_belongs_to_its_tab(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("v")  # on Calls: nothing happens
        assert app.screen.omni_view == "summary"
        await show(pilot, "omnichannel")
        await pilot.press("v")
        await pilot.pause()
        assert app.screen.omni_view == "history"


async def test_heatmap_without_colour_keeps_its_levels(db_url, calls_center, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "heatmap")
        drawn = app.screen.query_one("#heatmap", Static).content
        assert not [span for span in drawn.spans if span.style]  # no colour at all
        assert "██" in drawn.plain and "▒▒" in drawn.plain  # the levels are still told apart


async def test_brackets_walk_through_the_families(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.screen.tab == "leaderboard"
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert app.screen.tab == "omnichannel"
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.screen.tab == "meet"


async def test_the_leaderboard_sorts_by_an_outcome_named_from_the_keyboard(db_url, calls_center):
    app = host(StatisticsScreen, db_url)
    async with app.run_test(size=(160, 48)) as pilot:
        await show(pilot, "leaderboard")
        await pilot.press("S")
        app.screen.query_one(Input).value = "-REJ"
        await pilot.press("enter")
        table = app.screen.query_one("#leaderboard", RecordsTable)
        assert (table.sort_column, table.sort_reverse) == ("rejected", True)
        assert rows(app, "leaderboard")[0]["agent"] == BOB
        await pilot.press("S")
        app.screen.query_one(Input).value = "incall"
        await pilot.press("enter")
        assert (table.sort_column, table.sort_reverse) == ("incall", False)
        assert [r["agent"] for r in rows(app, "leaderboard")] == [BOB, ANA]
