"""`ringtui users ...` through the CLI, happy and refused paths."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, ok, refused


def test_add_then_list_shows_the_user_with_contract_fields(account):
    ok(account("users", "add", "Ana@Acme.test", "--first-name", "Ana", "--last-name", "Diaz"))
    users = ok(account("users", "list", "--json")).json()
    ana = next(u for u in users if u["email"] == "ana@acme.test")
    assert {"email", "first_name", "last_name", "status", "role", "groups", "numbers"} <= set(ana)
    assert (ana["first_name"], ana["status"], ana["role"]) == ("Ana", "invited", "none")
    assert [u["email"] for u in users] == sorted(u["email"] for u in users)


@pytest.mark.parametrize("order", [("--json", "--csv"), ("--csv", "--json")])
def test_json_and_csv_together_are_a_usage_error(account, order):
    result = account("users", "list", *order)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--json or --csv, not both" in result.stderr


def test_duplicate_user_is_refused_and_changes_nothing(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("users", "add", "ANA@acme.test"), "ana@acme.test", "already exists")


def test_invalid_email_is_refused(account, unchanged):
    with unchanged():
        refused(account("users", "add", "not-an-email"), "'not-an-email'")


def test_unknown_permission_and_wrong_type_are_refused(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("users", "perms", "ana@acme.test", "fly=true"), "'fly'", "known permissions")
        refused(account("users", "perms", "ana@acme.test", "max_channels=lots"), "max_channels", "1..10")
        # one bad pair among good ones: nothing applied
        refused(account("users", "perms", "ana@acme.test", "snooze=false", "tag_calls=maybe"), "tag_calls")


def test_permissions_are_set_and_shown_with_defaults(account):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "perms", "ana@acme.test", "max_channels=4", "snooze=off"))
    perms = {p["name"]: p for p in ok(account("users", "perms", "ana@acme.test", "--json")).json()}
    assert perms["max_channels"]["value"] == 4 and perms["max_channels"]["changed"]
    assert perms["snooze"]["value"] is False
    assert perms["tag_calls"] == {**perms["tag_calls"], "value": True, "changed": False}


def test_only_the_super_admin_grants_admin(account, unchanged):
    ok(account("users", "add", "adm@acme.test", "--role", "admin"))
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("users", "role", "ana@acme.test", "admin", as_user="adm@acme.test"),
                "only the super admin grants the admin role")


def test_an_admin_cannot_change_another_admins_permissions(account, unchanged):
    ok(account("users", "add", "adm1@acme.test", "--role", "admin"))
    ok(account("users", "add", "adm2@acme.test", "--role", "admin"))
    with unchanged():
        refused(account("users", "perms", "adm2@acme.test", "snooze=false", as_user="adm1@acme.test"),
                "adm2@acme.test")
        refused(account("users", "role", "adm2@acme.test", "none", as_user="adm1@acme.test"),
                "another admin")


def test_technical_user_may_add_users_but_not_change_roles(account, unchanged):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    ok(account("users", "add", "ana@acme.test", as_user="tech@acme.test"))
    with unchanged():
        refused(account("users", "role", "ana@acme.test", "supervisor", as_user="tech@acme.test"),
                "technical", "only an admin")


def test_accountant_cannot_touch_configuration(account, unchanged):
    ok(account("users", "add", "money@acme.test", "--role", "accountant"))
    with unchanged():
        refused(account("users", "add", "x@acme.test", as_user="money@acme.test"),
                "accountant", "configuration")


def test_supervisor_role_with_scopes_and_campaigns(account):
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", "sup@acme.test"))
    shown = ok(account("users", "role", "sup@acme.test", "supervisor", "--scope", "group:Sales",
                       "--campaigns", "--json")).json()
    assert (shown["role"], shown["scopes"], shown["campaigns"]) == ("supervisor", ["group:Sales"], True)


def test_scope_for_a_non_supervisor_or_unknown_group_is_refused(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("users", "role", "ana@acme.test", "technical", "--scope", "group:Sales"),
                "supervisors only")
        refused(account("users", "role", "ana@acme.test", "supervisor", "--scope", "group:Nope"), "'Nope'")
        refused(account("users", "role", "ana@acme.test", "boss"), "'boss'")


def test_permissions_need_business_plan(cli, unchanged):
    ok(cli("init", "--plan", "smart", "--admin", ADMIN))
    ok(cli("users", "add", "ana@acme.test"))
    with unchanged():
        refused(cli("users", "perms", "ana@acme.test", "snooze=false"), "business or advanced", "smart")


def test_settings_schedule_and_forwarding(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    result = ok(account("users", "set", "ana@acme.test", "forward_to=06 12 34 56 78",
                        "schedule=mon-fri 09:00-12:00,14:00-18:00", "ring_seconds=30", "--json")).json()
    assert result["settings"]["forward_to"] == "+33612345678"
    assert result["settings"]["schedule"]["fri"] == [["09:00", "12:00"], ["14:00", "18:00"]]
    assert "sat" not in result["settings"]["schedule"]
    with unchanged():
        refused(account("users", "set", "ana@acme.test", "ring_seconds=2"), "ring_seconds", "5..300")
        refused(account("users", "set", "ana@acme.test", "schedule=mon 18:00-09:00"), "18:00-09:00")
        refused(account("users", "set", "ana@acme.test", "volume=11"), "'volume'")


def test_user_edits_own_settings_unless_forbidden(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "set", "ana@acme.test", "call_waiting=false", as_user="ana@acme.test"))
    ok(account("users", "perms", "ana@acme.test", "edit_call_forwarding=false"))
    with unchanged():
        refused(account("users", "set", "ana@acme.test", "forward_to=+33612345678", as_user="ana@acme.test"),
                "edit_call_forwarding")


def test_sip_credentials_and_reset(account):
    ok(account("users", "add", "ana@acme.test"))
    first = ok(account("users", "sip-credentials", "ana@acme.test", "--json")).json()
    assert set(first) == {"username", "password", "domain"}
    again = ok(account("users", "sip-credentials", "ana@acme.test", "--json")).json()
    assert again == first
    reset = ok(account("users", "sip-credentials", "ana@acme.test", "--reset", "--json")).json()
    assert reset["username"] == first["username"] and reset["password"] != first["password"]


def test_sip_credentials_refused_when_sip_not_allowed(account):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "perms", "ana@acme.test", "sip_account=false"))
    refused(account("users", "sip-credentials", "ana@acme.test"), "sip_account=false")


def test_snooze_with_reason_and_off(account):
    ok(account("users", "add", "ana@acme.test"))
    on = ok(account("users", "snooze", "ana@acme.test", "--reason", "lunch", "--json")).json()
    assert on["snoozed"] and on["reason"] == "lunch"
    assert ok(account("users", "list", "--json")).json()[0]["snooze_reason"] == "lunch"
    off = ok(account("users", "snooze", "ana@acme.test", "--off", "--json")).json()
    assert not off["snoozed"]


def test_unknown_acting_user_is_refused(account):
    refused(account("users", "list", as_user="ghost@acme.test"), "ghost@acme.test")


def test_command_before_init_says_to_run_init(cli):
    refused(cli("users", "list"), "ringtui init")


def test_json_output_is_only_the_document(account):
    result = ok(account("users", "add", "ana@acme.test", "--json"))
    assert result.json()["email"] == "ana@acme.test"
    assert "Invitation" in result.stderr


def test_foreign_format_number_is_refused_with_a_hint(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("users", "set", "ana@acme.test", "forward_to=(202) 555-0143"),
                "'(202) 555-0143'", "international form")
