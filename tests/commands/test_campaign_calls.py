"""`campaign calls create` (K2): the list with its named columns, who calls, attempts, tags, and the
contact limit the call-campaign extension raises by 1,000 per user (M2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from ringtui import db as ringtui_db
from ringtui.models import CampaignAssignee, CampaignRecipient
from tests.conftest import ok, refused


@pytest.fixture
def dialer(advanced_account):
    ok(advanced_account("account", "power-dialer", "on"))
    ok(advanced_account("users", "add", "ana@acme.test"))
    ok(advanced_account("groups", "create", "Sales"))
    ok(advanced_account("tags", "add", "Hot"))
    return advanced_account


def numbers(count: int, start: int = 10_000_000) -> str:
    return ",".join(f"06{i:08d}" for i in range(start, start + count))


def test_create_from_the_sample_csv_with_named_columns(dialer, tmp_path: Path, db_url):
    path = tmp_path / "calls.csv"
    path.write_text(ok(dialer("campaign", "sample", "calls")).stdout)
    result = ok(dialer("campaign", "calls", "create", "Renewals", "--file", str(path),
                       "--phone-column", "phone", "--column", "name=name", "--column", "company=company",
                       "--column", "plan=custom:Plan", "--attempts", "3", "--retry-minutes", "30",
                       "--agent", "ana@acme.test", "--group", "Sales", "--script", "Hello!",
                       "--tag", "hot", "--dial-order",
                       "customer-first", "--json")).json()
    assert (result["recipients"], result["attempts"], result["retry_delay_s"], result["dial_order"]) == (
        3, 3, 1800, "customer-first")
    assert (result["agents"], result["groups"], result["tags"], result["contact_limit"]) == (
        ["ana@acme.test"], ["Sales"], ["Hot"], 1000)
    with Session(ringtui_db.engine_for(db_url)) as db:
        first = db.exec(select(CampaignRecipient).order_by(CampaignRecipient.position)).first()
        assert (first.number, first.columns) == ("+33140506070", {"name": "Ana Martin", "company": "Acme",
                                                                  "Plan": "gold"})
        assert len(db.exec(select(CampaignAssignee)).all()) == 2
    shown = ok(dialer("campaign", "show", "Renewals", "--json")).json()
    assert (shown["agents"], shown["groups"], shown["tags"], shown["attempts"]) == (
        ["ana@acme.test"], ["Sales"], ["Hot"], 3)
    assert ok(dialer("campaign", "launch", "Renewals", "--json")).json()["status"] == "running"


def test_refusals_name_what_is_missing(dialer, unchanged):
    base = ("campaign", "calls", "create", "C", "--to", "0612345678", "--agent", "ana@acme.test")
    with unchanged():
        refused(dialer(*base[:6]), "needs people to call", "--agent", "--group")
        refused(dialer(*base, "--agent", "nobody@acme.test"), "nobody@acme.test")
        refused(dialer(*base, "--group", "Night"), "'Night'")
        refused(dialer(*base, "--tag", "Cold"), "no tag 'Cold'", "Hot")
        refused(dialer(*base, "--attempts", "0"), "--attempts 0", "1 to 10")
        refused(dialer(*base, "--retry-minutes", "0"), "--retry-minutes 0")
        refused(dialer(*base, "--dial-order", "random"), "'random'", "agent-first")
    ok(dialer("account", "power-dialer", "off"))
    with unchanged():
        refused(dialer(*base), "power dialer", "account power-dialer on")


def test_business_plan_is_refused_naming_advanced(account, unchanged):
    with unchanged():
        refused(account("campaign", "calls", "create", "C", "--to", "0612345678"), "call campaigns",
                "advanced")


def test_contact_limit_and_the_extension_add_on(dialer, unchanged):
    with unchanged():
        refused(dialer("campaign", "calls", "create", "Big", "--to", numbers(1001), "--group", "Sales"),
                "1,001 numbers",
                "at most 1,000", "call-campaign-extension")
    ok(dialer("campaign", "calls", "create", "Fits", "--to", numbers(1000), "--group", "Sales"))
    ok(dialer("addons", "activate", "call-campaign-extension", "--user", "ana@acme.test"))
    result = ok(dialer("campaign", "calls", "create", "Bigger", "--to", numbers(2000), "--group", "Sales",
                         "--json")).json()
    assert (result["recipients"], result["contact_limit"]) == (2000, 2000)
    with unchanged():
        refused(dialer("campaign", "calls", "create", "Huge", "--to", numbers(2001), "--group", "Sales"),
                "at most 2,000")
