"""Creating the three campaign kinds from the Campaigns screen (K1-K3): good input creates the campaign
and shows the import report, bad input shows the CLI's words and writes nothing, the SMS form
estimates as the text is typed, a supervisor without the right is refused; SMS access request/approve."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from ringtui.screens.campaign_forms import CampaignForm
from ringtui.screens.widgets.forms import DetailScreen
from tests.conftest import ADMIN, ok
from tests.screens.campaigns_fixtures import (
    AGENT,
    CAMPAIGNER,
    OURS,
    PLAIN_SUP,
    build_campaign_center,
    campaigns_host,
    tone,
)
from tests.screens.conftest import until
from tests.screens.screens_fixtures import fill, form_error, rows, status

pytestmark = pytest.mark.anyio


@pytest.fixture
def campaign_center(cli, db_url):
    build_campaign_center(cli, db_url)
    return cli


def shown(cli, name: str) -> dict:
    return ok(cli("campaign", "show", name, "--json")).json()


def app_value(app, field: str) -> str:
    return app.screen.query_one(f"#field-{field}", Input).value


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_sms_campaign_with_a_live_estimate_and_the_import_report(campaign_center, db_url, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("0612345678\n0612345678\n+34612345678\nnot a number\n")
    app = campaigns_host(db_url, ADMIN)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CampaignForm)
        assert form.query_one("#field-country", Input).value == "FR"  # the account's country
        form.query_one("#field-to", Input).value = "0612345678, 0698765432"
        form.query_one("#field-message", Input).value = "Prix en €uros"  # the euro counts two septets
        await until(lambda: text_of(app, "#estimate").startswith(
            "13 character(s): 1 gsm7 fragment(s) per SMS; 2 recipient(s), estimated cost 0.10"), pilot)
        form.query_one("#field-message", Input).value = "☀ Soldes" * 10  # a sun: UCS-2, 80 characters
        await until(lambda: text_of(app, "#estimate").startswith(
            "80 character(s): 2 ucs2 fragment(s) per SMS; 2 recipient(s), estimated cost 0.20"), pilot)
        form.query_one("#field-country", Input).value = "XX"
        await until(lambda: "unknown country 'XX'" in text_of(app, "#estimate"), pilot)
        form.query_one("#field-country", Input).value = "FR"
        # a list file with a duplicate and an invalid line: refused as the CLI refuses it, nothing written
        values = {"name": "Spring", "sender": "Acme", "to": "", "recipients": str(listing)}
        for name, value in values.items():
            form.query_one(f"#field-{name}", Input).value = value
        await pilot.press("enter")
        await pilot.pause()
        cli_error = campaign_center("campaign", "sms", "create", "Spring", "--sender", "Acme", "--country",
                                    "FR", "--message", "☀ Soldes" * 10, "--recipients",
                                    str(listing)).stderr.strip()
        assert form_error(app) == cli_error and "line 4" in cli_error
        assert ok(campaign_center("campaign", "list", "--json")).json() == []
        # skipping the invalid numbers: created, and the import report tells what was left out
        form.query_one("#field-skip_invalid", Input).value = "y"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        report = app.screen
        assert "line 4:" in text_of(app, "#invalid-lines")
        await pilot.press("escape")
        await pilot.pause()
        assert report not in app.screen_stack
        assert status(app).startswith("Campaign 'Spring' created: 2 ucs2 fragment(s) per SMS")
        assert [row["name"] for row in rows(app)] == ["Spring"]
    created = shown(campaign_center, "Spring")
    assert (created["recipients"], created["encoding"], created["status"]) == (2, "ucs2", "draft")


async def test_call_campaign_from_a_csv_with_named_columns(campaign_center, db_url, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(ok(campaign_center("campaign", "sample", "calls")).stdout)
    app = campaigns_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await fill(pilot, "c", name="Renewals", recipients=str(path), phone_column="phone",
                   columns="name=name, company=company, plan=custom:Plan", attempts="3", retry_minutes="30",
                   dial_order="customer-first", agents=AGENT, groups="Sales", script="Hello!", tags="hot")
        assert isinstance(app.screen, DetailScreen), form_error(app)
        await pilot.press("escape")
        await pilot.pause()
        assert status(app) == ("Call campaign 'Renewals' created (3 of at most 1,000 contacts). "
                               "Launch it with l.")
    created = shown(campaign_center, "Renewals")
    assert (created["attempts"], created["retry_delay_s"], created["dial_order"], created["tags"]) == (
        3, 1800, "customer-first", ["Hot"])
    assert (created["agents"], created["groups"], created["columns"]) == (
        [AGENT], ["Sales"], {"name": "name", "company": "company", "plan": "Plan"})


@pytest.mark.parametrize(("values", "args", "fragment"), [
    ({"attempts": "0"}, ("--attempts", "0"), "--attempts 0"),
    ({"dial_order": "random"}, ("--dial-order", "random"), "'random'"),
    ({"tags": "Cold"}, ("--tag", "Cold"), "no tag 'Cold'"),
    ({"agents": ""}, (), "needs people to call"),
])
async def test_call_campaign_bad_input_shows_the_cli_words(campaign_center, db_url, unchanged, values, args,
                                                          fragment):
    app = campaigns_host(db_url, CAMPAIGNER)
    form = {"name": "C", "to": "0612345678", "agents": AGENT, **values}
    cli_args = ["campaign", "calls", "create", "C", "--to", "0612345678",
                *(["--agent", AGENT] if form["agents"] else []), *args]
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "c", **form)
            assert isinstance(app.screen, CampaignForm)
            assert fragment in form_error(app)
            assert form_error(app) == campaign_center(*cli_args, as_user=CAMPAIGNER).stderr.strip()


async def test_call_campaign_attempts_must_be_a_number(campaign_center, db_url, unchanged):
    app = campaigns_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "c", name="C", to="0612345678", agents=AGENT, attempts="three")
            assert form_error(app) == "Error: --attempts 'three' is not a whole number"


async def test_voice_campaign_good_and_bad(campaign_center, db_url, tmp_path, unchanged):
    message = tone(tmp_path / "reminder.wav", 1.5)
    app = campaigns_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "v", name="Reminder", from_number="+33140506099", message_file=str(message),
                       to="0612345678")
            assert form_error(app) == campaign_center(
                "campaign", "voice", "create", "Reminder", "--from", "+33140506099", "--message-file",
                str(message), "--to", "0612345678").stderr.strip()
            app.screen.query_one("#field-message_file", Input).value = str(tmp_path / "missing.mp3")
            app.screen.query_one("#field-from_number", Input).value = OURS
            await pilot.press("enter")
            await pilot.pause()
            assert "missing.mp3" in form_error(app)
        app.screen.query_one("#field-message_file", Input).value = str(message)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen), form_error(app)
        await pilot.press("escape")
        await pilot.pause()
        assert status(app) == "Voice campaign 'Reminder' created: a 1.5 s message."
    created = shown(campaign_center, "Reminder")
    assert (created["kind"], created["from_number"], created["recipients"]) == ("voice", OURS, 1)


async def test_a_supervisor_without_the_right_may_not_create(campaign_center, db_url, unchanged):
    app = campaigns_host(db_url, PLAIN_SUP)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        with unchanged():
            await fill(pilot, "c", name="C", to="0612345678", agents=AGENT)
            expected = campaign_center("campaign", "calls", "create", "C", "--to", "0612345678", "--agent",
                                       AGENT, as_user=PLAIN_SUP).stderr.strip()
            assert form_error(app) == expected and "without the Campaigns right" in expected


async def test_sms_access_is_requested_then_approved_by_the_owner(campaign_center, db_url):
    app = campaigns_host(db_url, CAMPAIGNER)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await fill(pilot, "a", reason="spring sale")
        assert status(app).startswith(f"Access to SMS campaigns requested for {CAMPAIGNER}")
        await fill(pilot, "A", user=CAMPAIGNER)  # a supervisor does not decide: the CLI's refusal
        assert form_error(app) == campaign_center("campaign", "sms", "approve", CAMPAIGNER,
                                                  as_user=CAMPAIGNER).stderr.strip()
    owner = campaigns_host(db_url, ADMIN)
    async with owner.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("A")  # the request waiting is filled in
        await pilot.pause()
        assert app_value(owner, "user") == CAMPAIGNER
        await pilot.press("enter")
        await pilot.pause()
        assert status(owner) == f"{CAMPAIGNER}: SMS campaign access approved."
    requests = ok(campaign_center("campaign", "sms", "requests", "--json")).json()
    assert [(r["user"], r["status"]) for r in requests if r["user"] == CAMPAIGNER] == [
        (CAMPAIGNER, "approved")]
