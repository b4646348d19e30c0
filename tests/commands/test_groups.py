"""`ringtui groups ...` (U2)."""

from __future__ import annotations

from tests.conftest import ok, refused


def test_create_add_remove_and_list(account):
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "add", "bob@acme.test"))
    group = ok(account("groups", "add", "Sales", "ana@acme.test", "bob@acme.test", "--json")).json()
    assert (group["member_count"], group["members"]) == (2, ["ana@acme.test", "bob@acme.test"])
    ok(account("groups", "remove", "Sales", "bob@acme.test"))
    assert ok(account("groups", "list", "--json")).json() == [
        {"name": "Sales", "open": False, "member_count": 1}]
    assert ok(account("users", "show", "ana@acme.test", "--json")).json()["groups"] == ["Sales"]


def test_same_user_twice_in_one_add_joins_once(account):
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", "ana@acme.test"))
    group = ok(account("groups", "add", "Sales", "ana@acme.test", "ANA@acme.test", "--json")).json()
    assert group["members"] == ["ana@acme.test"]


def test_bad_group_requests_change_nothing(account, unchanged):
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", "ana@acme.test"))
    ok(account("groups", "add", "Sales", "ana@acme.test"))
    with unchanged():
        refused(account("groups", "create", "Sales"), "'Sales'", "already exists")
        refused(account("groups", "create", "  "), "must not be empty")
        refused(account("groups", "add", "Sales", "ana@acme.test"), "ana@acme.test", "already in group")
        refused(account("groups", "add", "Nope", "ana@acme.test"), "'Nope'")
        refused(account("groups", "add", "Sales", "ghost@acme.test"), "'ghost@acme.test'")
        refused(account("groups", "remove", "Sales", "boss@acme.test"), "boss@acme.test", "not a member")


def test_open_groups_are_joined_by_users_themselves(account, unchanged):
    ok(account("groups", "create", "Night shift", "--open"))
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", "ana@acme.test"))
    joined = ok(account("groups", "join", "Night shift", "--json", as_user="ana@acme.test")).json()
    assert joined["members"] == ["ana@acme.test"]
    ok(account("users", "add", "bob@acme.test"))
    ok(account("users", "perms", "bob@acme.test", "join_open_groups=false"))
    with unchanged():
        refused(account("groups", "join", "Sales", as_user="ana@acme.test"), "'Sales'", "not open")
        refused(account("groups", "join", "Night shift", as_user="bob@acme.test"), "join_open_groups=false")


def test_agents_without_a_role_cannot_manage_groups(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    with unchanged():
        refused(account("groups", "create", "Mine", as_user="ana@acme.test"), "ana@acme.test", "none")


def test_supervisor_lists_only_granted_groups(account):
    for name in ("Sales", "Support"):
        ok(account("groups", "create", name))
    ok(account("users", "add", "sup@acme.test"))
    ok(account("users", "role", "sup@acme.test", "supervisor", "--scope", "group:Support"))
    assert [g["name"] for g in ok(account("groups", "list", "--json", as_user="sup@acme.test")).json()] == [
        "Support"]


def test_deleting_a_group_keeps_its_members(account):
    ok(account("groups", "create", "Sales"))
    ok(account("users", "add", "ana@acme.test", "--group", "Sales"))
    ok(account("groups", "delete", "Sales"))
    assert ok(account("users", "show", "ana@acme.test", "--json")).json()["groups"] == []
