"""`ringtui account ...` and `ringtui addons ...` through the CLI, happy and refused paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from typer.main import get_command

from ringtui import db as ringtui_db
from ringtui.cli import app
from tests.conftest import ADMIN, ok, refused

# The contract says `ringtui addons ...`; until the root registers it, the same
# commands are reachable as `ringtui account addons ...`.
ADDONS = ("addons",) if "addons" in get_command(app).commands else ("account", "addons")


def addons(cli, *args: str, **kwargs: Any):
    return cli(*ADDONS, *args, **kwargs)


def audit_entries(db_url: str, action: str) -> list[dict[str, Any]]:
    with ringtui_db.engine_for(db_url).connect() as connection:
        rows = connection.execute(
            text("SELECT actor, target, after FROM audit_entry WHERE action = :action ORDER BY id"),
            {"action": action}).mappings().all()
    # Raw SQL: SQLite hands JSON columns back as text, PostgreSQL as decoded objects.
    return [{**row, "after": json.loads(row["after"]) if isinstance(row["after"], str) else row["after"]}
            for row in rows]


def insert_blacklist_entry(db_url: str, number: str) -> None:
    """The blacklist commands belong to another issue; a row is enough to block a downgrade."""
    with ringtui_db.engine_for(db_url).begin() as connection:
        connection.execute(
            text("INSERT INTO blacklist_entry (number, is_prefix, direction, created_at) "
                 "VALUES (:number, false, 'in', CURRENT_TIMESTAMP)"), {"number": number})


@pytest.fixture
def smart_account(cli):
    ok(cli("init", "--company", "Acme", "--plan", "smart", "--admin", ADMIN, "--country", "FR"))
    return cli


# ---------------------------------------------------------------- account show


def test_show_gives_the_account_summary(account):
    ok(account("users", "add", "ana@acme.test"))
    shown = ok(account("account", "show", "--json")).json()
    assert set(shown) == {"company", "plan", "country", "timezone", "addons", "max_tags_per_call",
                          "retention_days", "users", "numbers", "created_at", "super_admin"}
    assert (shown["company"], shown["plan"], shown["country"]) == ("Acme", "business", "FR")
    assert (shown["timezone"], shown["addons"], shown["max_tags_per_call"]) == ("Europe/Paris", [], 3)
    assert (shown["users"], shown["numbers"], shown["super_admin"]) == (2, 0, ADMIN)
    assert shown["created_at"].endswith("Z")


def test_show_as_a_table_names_the_company(account):
    result = ok(account("account", "show"))
    assert "Acme" in result.stdout and ADMIN in result.stdout


def test_show_is_refused_to_a_telephony_only_user(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("account", "show", as_user="ana@acme.test"), "ana@acme.test", "none role")


# ---------------------------------------------------------------- account plan


def test_upgrade_changes_the_plan_and_is_audited(account, db_url):
    result = ok(account("account", "plan", "Advanced", "--json"))
    assert result.json()["plan"] == "advanced" and result.json()["changed"] is True
    assert "now on the advanced plan" in result.stderr
    assert ok(account("account", "show", "--json")).json()["plan"] == "advanced"
    [entry] = audit_entries(db_url, "account.plan")
    assert (entry["actor"], entry["target"]) == (ADMIN, "Acme")


def test_same_plan_changes_nothing(account, unchanged):
    with unchanged():
        result = ok(account("account", "plan", "business", "--json"))
    assert result.json()["changed"] is False


def test_unknown_plan_is_refused(account, unchanged):
    with unchanged():
        refused(account("account", "plan", "gold"), "'gold'", "smart, business, advanced")


def test_accountant_may_change_the_plan_but_technical_may_not(account, unchanged):
    ok(account("users", "add", "money@acme.test", "--role", "accountant"))
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    with unchanged():
        refused(account("account", "plan", "advanced", as_user="tech@acme.test"),
                "tech@acme.test", "technical", "billing")
    ok(account("account", "plan", "advanced", as_user="money@acme.test"))
    assert ok(account("account", "show", "--json")).json()["plan"] == "advanced"


def test_downgrade_to_smart_is_refused_while_the_blacklist_is_used(account, db_url, unchanged):
    insert_blacklist_entry(db_url, "+33612345678")
    with unchanged():
        refused(account("account", "plan", "smart"), "smart plan", "blacklist entries: 1",
                "the blacklist needs the business or advanced plan")


def test_downgrade_to_smart_is_refused_while_permissions_are_customised(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "perms", "ana@acme.test", "snooze=false"))
    with unchanged():
        refused(account("account", "plan", "smart"), "users with non-default permissions: 1",
                "`ringtui users perms EMAIL`")
    ok(account("users", "perms", "ana@acme.test", "snooze=true"))  # back to the default
    assert ok(account("account", "plan", "smart", "--json")).json()["plan"] == "smart"


def test_downgrade_is_refused_while_an_addon_of_the_higher_plan_is_active(advanced_account, unchanged):
    ok(addons(advanced_account, "activate", "call-campaign-extension"))
    with unchanged():
        refused(advanced_account("account", "plan", "business"), "call-campaign-extension",
                "advanced plan", "ringtui addons deactivate call-campaign-extension")


def test_downgrade_reports_every_blocker(account, db_url, unchanged):
    insert_blacklist_entry(db_url, "+33612345678")
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "perms", "ana@acme.test", "tag_calls=false"))
    ok(addons(account, "activate", "omnichannel"))
    with unchanged():
        refused(account("account", "plan", "smart"), "blacklist entries", "non-default permissions",
                "active add-on omnichannel")


# ---------------------------------------------------------------- addons


def test_addons_list_shows_every_addon_inactive_at_first(account):
    rows = ok(addons(account, "list", "--json")).json()
    assert [r["name"] for r in rows] == ["extra-outbound-channel", "call-campaign-extension", "omnichannel"]
    assert not any(r["active"] for r in rows)
    omni = rows[2]
    assert omni["plans"] == ["business", "advanced"] and omni["targets"] == []


def test_addons_list_as_csv(account):
    lines = ok(addons(account, "list", "--csv")).stdout.splitlines()
    assert lines[0] == "name,active,plans,targets"
    assert lines[1].startswith("extra-outbound-channel,no,")


def test_activate_then_deactivate(account, db_url):
    result = ok(addons(account, "activate", "omnichannel", "--json"))
    assert result.json() == {"name": "omnichannel", "active": True, "target": None}
    assert ok(account("account", "show", "--json")).json()["addons"] == ["omnichannel"]
    listed = {r["name"]: r["active"] for r in ok(addons(account, "list", "--json")).json()}
    assert listed["omnichannel"] and not listed["extra-outbound-channel"]
    ok(addons(account, "deactivate", "omnichannel"))
    assert ok(account("account", "show", "--json")).json()["addons"] == []
    assert [e["target"] for e in audit_entries(db_url, "addon.activate")] == ["omnichannel"]
    assert [e["target"] for e in audit_entries(db_url, "addon.deactivate")] == ["omnichannel"]


def test_activation_for_a_user_or_group_is_recorded_in_the_audit(account, db_url):
    ok(account("users", "add", "ana@acme.test"))
    result = ok(addons(account, "activate", "extra-outbound-channel", "--user", "Ana@Acme.test", "--json"))
    assert result.json()["target"] == {"kind": "user", "name": "ana@acme.test"}
    ok(addons(account, "deactivate", "extra-outbound-channel"))
    ok(account("groups", "create", "Sales"))
    ok(addons(account, "activate", "extra-outbound-channel", "--group", "Sales"))
    targets = [e["after"]["target"] for e in audit_entries(db_url, "addon.activate")]
    assert targets == [{"kind": "user", "name": "ana@acme.test"}, {"kind": "group", "name": "Sales"}]


def test_activating_twice_is_a_conflict(account, unchanged):
    ok(addons(account, "activate", "omnichannel"))
    with unchanged():
        refused(addons(account, "activate", "omnichannel"), "omnichannel", "already active")


def test_deactivating_an_inactive_addon_is_refused(account, unchanged):
    with unchanged():
        refused(addons(account, "deactivate", "omnichannel"), "omnichannel", "not active")


def test_unknown_addon_is_refused(account, unchanged):
    with unchanged():
        refused(addons(account, "activate", "teleportation"), "'teleportation'", "omnichannel")
        refused(addons(account, "deactivate", "teleportation"), "'teleportation'")


def test_only_an_admin_activates_addons(account, unchanged):
    ok(account("users", "add", "money@acme.test", "--role", "accountant"))
    ok(account("users", "add", "adm@acme.test", "--role", "admin"))
    with unchanged():
        refused(addons(account, "activate", "omnichannel", as_user="money@acme.test"),
                "money@acme.test", "accountant", "only an admin or the super admin")
    ok(addons(account, "activate", "omnichannel", as_user="adm@acme.test"))
    with unchanged():
        refused(addons(account, "deactivate", "omnichannel", as_user="money@acme.test"), "accountant")


def test_addon_outside_the_plan_is_refused(smart_account, unchanged):
    with unchanged():
        refused(addons(smart_account, "activate", "omnichannel"), "omnichannel",
                "business or advanced plan", "smart plan")
        refused(addons(smart_account, "activate", "call-campaign-extension"), "advanced plan")


def test_bad_addon_targets_are_refused(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("groups", "create", "Sales"))
    with unchanged():
        refused(addons(account, "activate", "omnichannel", "--user", "ana@acme.test"),
                "omnichannel", "whole account", "'ana@acme.test'")
        refused(addons(account, "activate", "extra-outbound-channel", "--user", "ghost@acme.test"),
                "'ghost@acme.test'")
        refused(addons(account, "activate", "extra-outbound-channel", "--group", "Nope"), "'Nope'")
        refused(addons(account, "activate", "extra-outbound-channel", "--user", "ana@acme.test",
                       "--group", "Sales"), "not both")


def test_retention_is_set_shown_and_cleared(account):
    assert ok(account("account", "show", "--json")).json()["retention_days"] is None
    assert ok(account("account", "retention", "365", "--json")).json()["retention_days"] == 365
    assert ok(account("account", "show", "--json")).json()["retention_days"] == 365
    assert ok(account("account", "retention", "--forever", "--json")).json()["retention_days"] is None


def test_bad_retention_requests_change_nothing(account, unchanged):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    with unchanged():
        refused(account("account", "retention", "0"), "0 days", "1 to 36500")
        refused(account("account", "retention", "30", as_user="tech@acme.test"), "technical", "retention")
        assert account("account", "retention").exit_code == 2
        assert account("account", "retention", "30", "--forever").exit_code == 2
