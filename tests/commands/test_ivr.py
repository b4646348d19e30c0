"""`ringtui ivr create/list/show/delete` (I1 records)."""

from __future__ import annotations

from tests.conftest import ok, refused


def test_create_show_and_list(account):
    created = ok(account("ivr", "create", "Support", "--record", "--vip", "06 12 34 56 78",
                         "--anonymous", "reject", "--script", "Hello", "--json")).json()
    assert created["vip_numbers"] == ["+33612345678"]
    assert (created["anonymous"], created["record_inbound"], created["script"]) == ("reject", True, "Hello")
    assert ok(account("ivr", "show", "Support", "--json")).json() == created
    assert [i["name"] for i in ok(account("ivr", "list", "--json")).json()] == ["Support"]


def test_bad_ivr_input_is_refused(account, unchanged):
    ok(account("ivr", "create", "Support"))
    with unchanged():
        refused(account("ivr", "create", "Support"), "'Support'", "already exists")
        refused(account("ivr", "create", "Sales", "--vip", "12"), "'12'")
        refused(account("ivr", "create", "Sales", "--anonymous", "maybe"), "'maybe'", "allow or reject")
        refused(account("ivr", "show", "Nope"), "'Nope'")
        refused(account("ivr", "delete", "Nope"), "'Nope'")


def test_supervisor_sees_only_granted_ivrs(account):
    ok(account("ivr", "create", "Support"))
    ok(account("ivr", "create", "Sales"))
    ok(account("users", "add", "sup@acme.test"))
    ok(account("users", "role", "sup@acme.test", "supervisor", "--scope", "ivr:Sales"))
    seen = ok(account("ivr", "list", "--json", as_user="sup@acme.test")).json()
    assert [i["name"] for i in seen] == ["Sales"]
    refused(account("ivr", "show", "Support", as_user="sup@acme.test"), "'Support'")


def test_delete_removes_the_ivr(account):
    ok(account("ivr", "create", "Support"))
    ok(account("ivr", "delete", "Support"))
    assert ok(account("ivr", "list", "--json")).json() == []
