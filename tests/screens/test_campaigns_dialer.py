"""The agent's power-dialer panel (K2): a `campaign_call` event naming the acting user pops a panel up
with the contact's named columns and the script, follows the call, and Esc dismisses it. The events
come over a real engine feed (the engine publishes them as the campaign runner will); progress events
reach the Campaigns screen over the same connection."""

from __future__ import annotations

from textual.widgets import Static

from ringtui.screens.power_dialer import DialerPanel
from tests.screens.conftest import SALES, run, running_engine, tui_app, until

ANA = SALES[0]


def call_event(agent: str, state: str, result: str | None = None, number: str = "+33612345601") -> dict:
    return {"type": "campaign_call", "campaign": "Renewals", "agent": agent, "number": number,
            "columns": {"name": "Claire Martin", "company": "Client SA", "Plan": "gold"},
            "script": "Hello, this is Acme about your renewal.", "state": state, "result": result}


def panel_text(app, part: str) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=__import__("io").StringIO())
    console.print(app.screen.query_one(f"#dialer-{part}", Static).content)
    return console.export_text()


def test_the_agent_sees_the_contact_and_script_of_each_call(center):
    settings = center.settings(acting_user=ANA)

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            app = tui_app(settings, url)
            async with app.run_test(size=(80, 24)) as pilot:
                await until(lambda: app.context.feed.connected and app.context.options.get("scope"), pilot)
                # another agent's call: nothing pops up for ana
                runtime.feed.publish(call_event(SALES[1], "dialing_agent"))
                runtime.feed.publish({"type": "kpi", "inbound_calls": 1})
                await until(lambda: app.context.feed.events > 2, pilot)
                await pilot.pause(0.2)
                assert not isinstance(app.screen, DialerPanel)
                runtime.feed.publish(call_event(ANA, "dialing_agent"))
                await until(lambda: isinstance(app.screen, DialerPanel), pilot)
                # the panel is the screen as soon as it is pushed; it fills itself once mounted
                await until(lambda: "Calling you" in panel_text(app, "state"), pilot)
                contact = panel_text(app, "contact")
                assert "Claire Martin" in contact and "Client SA" in contact and "gold" in contact
                assert "Hello, this is Acme about your renewal." in panel_text(app, "script")
                panel = app.screen
                runtime.feed.publish(call_event(ANA, "connected"))
                await until(lambda: "Connected" in panel_text(app, "state"), pilot)
                runtime.feed.publish(call_event(ANA, "ended", "answered"))
                await until(lambda: "Call ended: answered" in panel_text(app, "state"), pilot)
                assert app.screen is panel, "one panel follows the call"
                await pilot.press("escape")
                await pilot.pause()
                assert not isinstance(app.screen, DialerPanel)
                # the next number of the campaign opens it again
                runtime.feed.publish(call_event(ANA, "dialing_agent", number="+33612345602"))
                await until(lambda: isinstance(app.screen, DialerPanel), pilot)
                await until(lambda: "+33612345602" in panel_text(app, "state"), pilot)

    run(scenario())


def test_progress_over_the_engine_feed_reaches_the_campaigns_screen(center):
    settings = center.settings()
    from tests.conftest import ok

    cli = center.cli
    ok(cli("account", "power-dialer", "on"))
    ok(cli("campaign", "calls", "create", "Renewals", "--to", "0612345601,0612345602", "--agent", ANA))

    async def scenario():
        async with running_engine(settings) as (runtime, _clock, url):
            app = tui_app(settings, url, start="campaigns")
            async with app.run_test(size=(120, 30)) as pilot:
                from ringtui.screens.campaigns import CampaignsScreen

                await until(lambda: isinstance(app.screen, CampaignsScreen)
                            and app.screen.table.rows_all and app.context.feed.connected, pilot)
                runtime.feed.publish({"type": "campaign_progress", "campaign": "Renewals", "kind": "calls",
                                      "status": "running", "total": 2, "done": 1, "results": {"busy": 1}})
                table = app.screen.table
                await until(lambda: [str(c) for c in table.get_row("Renewals")][2:5]
                            == ["running", "1/2", "busy 1"], pilot)

    run(scenario())
