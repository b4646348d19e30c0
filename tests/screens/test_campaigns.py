"""Campaigns screen (K1-K3): the list, its live progress in place, the drill-down, launch/pause/resume,
and the refusals in the CLI's words. Creation forms are in test_campaigns_forms.py."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from ringtui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
from ringtui.screens.feed import LiveState
from ringtui.screens.registry import visible_screens
from tests.conftest import ok
from tests.screens.campaigns_fixtures import (
    AGENT,
    CAMPAIGNER,
    PLAIN_SUP,
    build_campaign_center,
    campaigns_host,
    set_results,
)
from tests.screens.conftest import until
from tests.screens.screens_fixtures import rows, select_row, status

pytestmark = pytest.mark.anyio

CALLS = ("campaign", "calls", "create", "Renewals", "--to", "0612345601,0612345602,0612345603,0612345604",
         "--agent", AGENT, "--script", "Hello, this is Acme.")


@pytest.fixture
def campaign_center(cli, db_url):
    build_campaign_center(cli, db_url)
    ok(cli(*CALLS, as_user=CAMPAIGNER))
    ok(cli("campaign", "sms", "create", "Promo", "--sender", "Acme", "--country", "FR", "--message", "Hi",
           "--to", "0612345678,0698765432"))
    return cli


def live_host(db_url: str, acting_user: str | None = None) -> tuple[Any, LiveState]:
    """The screen on a feed state the test feeds (the engine's campaign events arrive through it)."""
    feed = LiveState()
    return campaigns_host(db_url, acting_user, feed), feed


def facts_text(app) -> str:
    console = Console(width=150, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#facts", Static).content)
    return console.export_text()


async def open_detail(pilot, name: str) -> None:
    """Enter on a campaign of the list, and wait for its numbers (read in a thread)."""
    await pilot.pause()
    select_row(pilot.app, "name", name)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CampaignDetailScreen)
    await until(lambda: rows(pilot.app, "numbers"), pilot)


def by_name(app) -> dict[str, dict]:
    return {row["name"]: row for row in rows(app)}


def cells(app, name: str) -> list[str]:
    table = app.screen.query_one("#records")
    return [str(value) for value in table.get_row(name)]


async def test_list_shows_every_campaign_with_progress_and_results(campaign_center, db_url):
    set_results(db_url, "Renewals", {1: ("answered", AGENT), 2: ("busy", AGENT)})
    app = campaigns_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        shown = by_name(app)
        assert set(shown) == {"Renewals", "Promo"}
        assert cells(app, "Renewals")[:5] == ["Renewals", "calls", "draft", "2/4", "answered 1, busy 1"]
        assert cells(app, "Promo")[:5] == ["Promo", "sms", "draft", "0/2", "-"]
        assert status(app) == "2 campaign(s)"


async def test_progress_events_update_the_row_in_place(campaign_center, db_url):
    app, feed = live_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#records")
        cleared = []
        original = table.clear
        table.clear = lambda *a, **k: (cleared.append(1), original(*a, **k))[1]
        feed.apply({"type": "campaign_progress", "campaign": "Renewals", "kind": "calls", "status": "running",
                    "total": 4, "done": 3, "results": {"answered": 2, "no_answer": 1}})
        await pilot.pause(0.3)
        assert cells(app, "Renewals")[2:5] == ["running", "3/4", "answered 2, no_answer 1"]
        assert cells(app, "Promo")[2:4] == ["draft", "0/2"]
        # the SMS runner's event carries no counts: that one campaign is read again from the database
        set_results(db_url, "Promo", {1: ("sent", None)})
        feed.apply({"type": "campaign_progress", "campaign": "Promo", "sent": 1})
        await pilot.pause(0.3)
        assert cells(app, "Promo")[3:5] == ["1/2", "sent 1"]
        # the next batch at once: read again a second later at most, but never lost
        set_results(db_url, "Promo", {2: ("sent", None)})
        feed.apply({"type": "campaign_progress", "campaign": "Promo", "sent": 1})
        await until(lambda: cells(app, "Promo")[3:5] == ["2/2", "sent 2"], pilot)
        assert not cleared, "rows are updated in place, never cleared and rebuilt"
        # paused (p in the app): nothing is applied until live updates resume
        app.paused = True
        feed.apply({"type": "campaign_progress", "campaign": "Renewals", "kind": "calls",
                    "status": "finished", "total": 4, "done": 4, "results": {"answered": 3, "no_answer": 1}})
        await pilot.pause(0.3)
        assert cells(app, "Renewals")[2] == "running"
        app.paused = False
        await pilot.pause(0.3)
        assert cells(app, "Renewals")[2:5] == ["finished", "4/4", "answered 3, no_answer 1"]


async def test_launch_pause_resume_and_the_refusals(campaign_center, db_url):
    app = campaigns_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        select_row(app, "name", "Renewals")
        await pilot.press("P")  # a draft cannot be paused: the CLI's words
        await pilot.pause()
        assert status(app) == campaign_center("campaign", "pause", "Renewals").stderr.strip()
        await pilot.press("l")
        await pilot.press("enter")  # confirm
        await pilot.pause()
        assert status(app).startswith("Campaign 'Renewals' launched")
        assert cells(app, "Renewals")[2] == "running"
        await pilot.press("P")
        await pilot.pause()
        assert cells(app, "Renewals")[2] == "paused"
        assert ok(campaign_center("campaign", "show", "Renewals", "--json")).json()["status"] == "paused"
        await pilot.press("R")
        await pilot.pause()
        assert cells(app, "Renewals")[2] == "running" and status(app) == "Campaign 'Renewals' resumed."
        # the supervisor has no approved SMS access: launching Promo is refused, nothing changes
        select_row(app, "name", "Promo")
        await pilot.press("l")
        await pilot.press("enter")
        await pilot.pause()
        expected = campaign_center("campaign", "launch", "Promo", as_user=CAMPAIGNER).stderr.strip()
        assert status(app) == expected and "SMS campaigns need an approved access request" in expected
        assert cells(app, "Promo")[2] == "draft"


async def test_drill_down_shows_details_numbers_and_agents(campaign_center, db_url):
    set_results(db_url, "Renewals", {1: ("answered", AGENT), 2: ("no_answer", AGENT), 3: ("busy", None)})
    app, feed = live_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_detail(pilot, "Renewals")
        facts = facts_text(app)
        for fragment in ("Hello, this is Acme.", "agent-first", AGENT, "3/4 done, 1 pending",
                         "answered 1, no_answer 1, busy 1"):
            assert fragment in facts
        numbers = {row["number"]: row for row in rows(app, "numbers")}
        assert numbers["+33612345601"]["status"] == "answered" and numbers["+33612345601"]["agent"] == AGENT
        assert numbers["+33612345604"]["status"] == "pending"
        agents = rows(app, "agents")
        assert [(a["agent"], a["numbers"], a["answered"], a["no_answer"]) for a in agents] == [
            (AGENT, 2, 1, 1)]
        # launched from the detail; progress of this campaign re-reads it
        await pilot.press("l")
        await pilot.press("enter")
        await pilot.pause()
        assert any(line.split() == ["status", "running"] for line in facts_text(app).splitlines())
        set_results(db_url, "Renewals", {4: ("answered", AGENT)})
        feed.apply({"type": "campaign_progress", "campaign": "Renewals", "kind": "calls", "status": "running",
                    "total": 4, "done": 4, "results": {"answered": 2, "no_answer": 1, "busy": 1}})
        await pilot.pause(1.3)
        assert [a["answered"] for a in rows(app, "agents")] == [2]
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CampaignsScreen)
        assert cells(app, "Renewals")[3] == "4/4"


async def test_export_writes_the_campaign_table(campaign_center, db_url, tmp_path):
    app = campaigns_host(db_url, CAMPAIGNER)
    target = tmp_path / "campaigns.json"
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#prompt-input").value = str(target)
        await pilot.press("enter")
        await pilot.pause()
    exported = json.loads(target.read_text())
    assert {row["name"]: row["progress"] for row in exported} == {"Renewals": "0/4", "Promo": "0/2"}


async def test_a_supervisor_without_the_right_is_refused(campaign_center, db_url):
    assert "campaigns" not in {entry.id for entry in visible_screens(["activity", "logs", "statistics"])}
    assert "campaigns" in {entry.id for entry in visible_screens(["campaigns"])}
    app = campaigns_host(db_url, PLAIN_SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert rows(app) == []
        expected = campaign_center("campaign", "list", as_user=PLAIN_SUP).stderr.strip()
        assert status(app) == expected and "without the Campaigns right" in expected


async def test_ascii_mode_draws_no_box_or_block_glyph(campaign_center, db_url):
    from ringtui.config import load_settings
    from ringtui.screens.campaign_forms import CampaignForm
    from ringtui.screens.context import TuiContext
    from ringtui.screens.power_dialer import DialerPanel, PowerDialerWatch
    from tests.screens.test_ascii_screens import AsciiHost, glyphs
    from tests.screens.test_campaigns_dialer import call_event

    set_results(db_url, "Renewals", {1: ("answered", AGENT)})
    shared = TuiContext(settings=load_settings(database_url=db_url), acting_user=CAMPAIGNER,
                        options={"ascii": True})
    app = AsciiHost(lambda: CampaignsScreen(shared))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert not glyphs(app), sorted(glyphs(app))
        for key in ("enter", "escape", "c"):  # the detail, back, a creation form
            await pilot.press(key)
            await pilot.pause()
            assert not glyphs(app), (key, sorted(glyphs(app)))
        assert isinstance(app.screen, CampaignForm)
        await pilot.press("escape")
        feed = LiveState()
        PowerDialerWatch(app, feed, lambda: AGENT)
        feed.apply(call_event(AGENT, "dialing_agent"))
        await pilot.pause()
        assert isinstance(app.screen, DialerPanel)
        assert not glyphs(app), sorted(glyphs(app))


async def test_a_long_list_is_re_read_on_ctrl_r_only(campaign_center, db_url, monkeypatch):
    monkeypatch.setattr("ringtui.screens.campaigns.NUMBERS_LIVE_MAX", 3)  # Renewals holds 4 numbers
    app, feed = live_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_detail(pilot, "Renewals")
        assert "ctrl+r reads them again" in str(app.screen.query_one("#numbers-title").render())
        set_results(db_url, "Renewals", {1: ("answered", AGENT)})
        feed.apply({"type": "campaign_progress", "campaign": "Renewals", "kind": "calls", "status": "running",
                    "total": 4, "done": 1, "results": {"answered": 1}})
        await pilot.pause(1.3)
        assert "1/4 done" in facts_text(app)  # the counts follow (SQL), the 4 rows are not read again
        assert rows(app, "numbers")[0]["status"] == "pending"
        await pilot.press("ctrl+r")
        await until(lambda: rows(app, "numbers")[0]["status"] == "answered", pilot)
