"""SVG snapshots of the Campaigns screen, a campaign's detail, the SMS form and the power-dialer panel at
80x24 and 160x48, on a fixed dataset with frozen times (`--snapshot-update` to accept changes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from ringtui.screens.feed import LiveState
from ringtui.screens.power_dialer import PowerDialerWatch
from tests.conftest import ok
from tests.screens.campaigns_fixtures import (
    AGENT,
    CAMPAIGNER,
    build_campaign_center,
    campaigns_host,
    cli_on,
    freeze_times,
    set_results,
    template_copy,
)
from tests.screens.conftest import until
from tests.screens.test_campaigns_dialer import call_event

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.fixture(scope="module")
def seeded_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three campaigns in three states with results, on one SQLite database shared by the snapshots."""
    url = template_copy(sqlite_template, tmp_path_factory.mktemp("campaign-snapshots"))
    cli = cli_on(url)
    build_campaign_center(cli, url)
    numbers = ",".join(f"06123456{i:02d}" for i in range(1, 13))
    ok(cli("campaign", "calls", "create", "Renewals", "--to", numbers, "--agent", AGENT, "--group", "Sales",
           "--attempts", "2", "--script", "Hello, this is Acme about your renewal.", "--tag", "Hot",
           as_user=CAMPAIGNER))
    ok(cli("campaign", "launch", "Renewals"))
    ok(cli("campaign", "sms", "create", "Spring sale", "--sender", "Acme", "--country", "FR",
           "--message", "Spring sale: -20% until Sunday!", "--to", "0698765401,0698765402,+34612345678"))
    ok(cli("campaign", "launch", "Spring sale"))
    ok(cli("campaign", "pause", "Spring sale"))
    ok(cli("campaign", "sms", "create", "Newsletter", "--sender", "Acme", "--country", "FR",
           "--message", "Our November news", "--to", "0698765401"))
    set_results(url, "Renewals", {1: ("answered", AGENT), 2: ("answered", AGENT), 3: ("no_answer", AGENT),
                                  4: ("busy", None), 5: ("in_progress", AGENT)})
    set_results(url, "Spring sale", {1: ("delivered", None), 2: ("sent", None)})
    freeze_times(url)
    return url


@pytest.mark.parametrize("size", SIZES)
def test_campaigns_list_snapshot(snap_compare, seeded_url: str, size: str, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert snap_compare(campaigns_host(seeded_url, CAMPAIGNER), terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_campaign_detail_snapshot(snap_compare, seeded_url: str, size: str, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)

    async def open_detail(pilot) -> None:
        await pilot.pause()
        await pilot.press("enter")  # the first row: Renewals
        for _ in range(100):
            await pilot.pause()
            if pilot.app.screen.query("#numbers") and pilot.app.screen.query_one("#numbers").row_count:
                return

    assert snap_compare(campaigns_host(seeded_url, CAMPAIGNER), run_before=open_detail,
                        terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_sms_form_snapshot(snap_compare, seeded_url: str, size: str, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)

    async def type_sms(pilot) -> None:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        values = {"name": "Winter", "sender": "Acme", "message": "Winter sale: €10 off", "to": "0612345678"}
        for name, value in values.items():
            pilot.app.screen.query_one(f"#field-{name}").value = value
        estimate = pilot.app.screen.query_one("#estimate")
        await until(lambda: "20 character(s)" in str(estimate.render()), pilot)  # once typing pauses

    assert snap_compare(campaigns_host(seeded_url), run_before=type_sms, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_dialer_panel_snapshot(snap_compare, size: str, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    feed = LiveState()

    class Agent(App[None]):
        def on_mount(self) -> None:
            self.watch_dialer = PowerDialerWatch(self, feed, lambda: AGENT)
            feed.apply(call_event(AGENT, "connected"))

    assert snap_compare(Agent(), terminal_size=SIZES[size])
