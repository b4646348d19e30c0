"""Who may run campaigns (K1-K3, U7): each refusal names what is missing and writes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, ok, refused

SUP = "sup@acme.test"
SMS = ("campaign", "sms", "create", "Promo", "--sender", "Acme", "--country", "FR", "--message", "Hi",
       "--to", "0612345678")


def supervisor(cli, *, campaigns: bool = True) -> None:
    ok(cli("users", "add", SUP))
    ok(cli("users", "role", SUP, "supervisor", *(["--campaigns"] if campaigns else [])))


def test_an_approved_supervisor_with_the_campaigns_right_creates_an_sms_campaign(account):
    supervisor(account)
    requested = ok(account("campaign", "sms", "request-access", "--reason", "spring sale", "--json",
                           as_user=SUP)).json()
    assert (requested["user"], requested["status"], requested["reason"]) == (SUP, "pending", "spring sale")
    approved = ok(account("campaign", "sms", "approve", SUP, "--json")).json()
    assert (approved["status"], approved["decided_by"]) == ("approved", ADMIN)
    assert ok(account(*SMS, "--json", as_user=SUP)).json()["recipients"] == 1


def test_smart_plan_is_refused_naming_the_plans(cli, unchanged):
    ok(cli("init", "--company", "Acme", "--plan", "smart", "--admin", ADMIN, "--country", "FR"))
    with unchanged():
        refused(cli(*SMS), "SMS campaigns", "business or advanced", "smart")
        refused(cli("campaign", "sms", "request-access"), "business or advanced")


def test_role_without_campaigns_is_refused(account, unchanged):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    with unchanged():
        refused(account(*SMS, as_user="tech@acme.test"), "tech@acme.test", "technical", "campaigns")
        refused(account("campaign", "list", as_user="tech@acme.test"), "technical")
        refused(account("campaign", "sms", "request-access", as_user="tech@acme.test"), "technical")


def test_supervisor_without_the_campaigns_right_is_told_how_to_get_it(account, unchanged):
    supervisor(account, campaigns=False)
    with unchanged():
        refused(account(*SMS, as_user=SUP), SUP, "without the Campaigns right", "--campaigns")


def test_sms_campaign_without_an_approved_request_is_refused_at_each_stage(account, unchanged):
    supervisor(account)
    with unchanged():
        refused(account(*SMS, as_user=SUP), "approved access request", "has not asked",
                "campaign sms request-access")
    ok(account("campaign", "sms", "request-access", as_user=SUP))
    with unchanged():
        refused(account(*SMS, as_user=SUP), "not yet approved", f"campaign sms approve {SUP}")
        refused(account("campaign", "sms", "request-access", as_user=SUP), "already asked")
    ok(account("campaign", "sms", "refuse", SUP))
    with unchanged():
        refused(account(*SMS, as_user=SUP), "was refused access")


def test_only_the_account_owner_decides_requests(account, unchanged):
    supervisor(account)
    ok(account("users", "add", "admin2@acme.test", "--role", "admin"))
    ok(account("campaign", "sms", "request-access", as_user=SUP))
    with unchanged():
        refused(account("campaign", "sms", "approve", SUP, as_user="admin2@acme.test"),
                "admin2@acme.test", "only the account owner")
        refused(account("campaign", "sms", "approve", "nobody@acme.test"), "nobody@acme.test")
        refused(account("campaign", "sms", "approve", "admin2@acme.test"), "admin2@acme.test",
                "has not asked")


def test_request_reason_too_long_is_refused(account, unchanged):
    with unchanged():
        refused(account("campaign", "sms", "request-access", "--reason", "x" * 501), "501", "at most 500")


def test_requests_are_listed(account):
    supervisor(account)
    ok(account("campaign", "sms", "request-access", as_user=SUP))
    rows = ok(account("campaign", "sms", "requests", "--json")).json()
    assert [(r["user"], r["status"]) for r in rows] == [(SUP, "pending")]


@pytest.fixture
def business(account):
    return account


def test_power_dialer_is_refused_on_business_and_for_a_supervisor(business, unchanged):
    supervisor(business)
    with unchanged():
        refused(business("account", "power-dialer", "on"), "call campaigns", "advanced")
        refused(business("account", "power-dialer", "on", as_user=SUP), SUP, "only an admin")


def test_power_dialer_on_and_off_on_advanced(advanced_account):
    assert ok(advanced_account("account", "power-dialer", "on", "--json")).json() == {
        "power_dialer": True, "changed": True}
    assert ok(advanced_account("account", "power-dialer", "off", "--json")).json()["power_dialer"] is False
    assert advanced_account("account", "power-dialer", "maybe").exit_code == 2
