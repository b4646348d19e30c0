"""`ringtui blacklist ...` through the CLI, and `is_blocked` as the routing engine will call it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from ringtui.config import load_settings
from ringtui.db import engine_for
from ringtui.models import User
from ringtui.services.base import operation
from ringtui.services.blacklist import is_blocked, load_snapshot
from ringtui.services.lookups import user_by_email
from tests.conftest import ADMIN, ok, refused

FIELDS = {"number", "direction", "user", "created_at"}


def entries(cli, *args: str) -> list[dict]:
    return ok(cli("blacklist", "list", *args, "--json")).json()


def test_add_national_number_is_stored_in_e164_company_wide(account):
    ok(account("blacklist", "add", "01 40 50 60 70", "--direction", "in"))
    [entry] = entries(account)
    assert set(entry) == FIELDS
    assert (entry["number"], entry["direction"], entry["user"]) == ("+33140506070", "in", None)
    assert entry["created_at"].endswith("Z")


def test_adding_the_other_direction_merges_into_both(account):
    ok(account("blacklist", "add", "+33140506070", "--direction", "in"))
    merged = ok(account("blacklist", "add", "0140506070", "--direction", "out", "--json")).json()
    assert merged["direction"] == "both"
    assert [(e["number"], e["direction"]) for e in entries(account)] == [("+33140506070", "both")]


def test_adding_what_is_already_blocked_is_a_conflict(account, unchanged):
    ok(account("blacklist", "add", "+33140506070", "--direction", "both"))
    with unchanged():
        refused(account("blacklist", "add", "0140506070", "--direction", "in"),
                "+33140506070", "already blacklisted", "both")
        refused(account("blacklist", "add", "0140506070", "--direction", "both"), "+33140506070")


@pytest.mark.parametrize("typed", ["0899*", "+33899*", "0033 899*"])
def test_prefixes_are_stored_as_e164_prefixes(account, typed):
    ok(account("blacklist", "add", typed, "--direction", "out"))
    assert [(e["number"], e["direction"]) for e in entries(account)] == [("+33899*", "out")]


def test_per_user_entries_are_listed_apart(account):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("blacklist", "add", "+44*", "--direction", "out", "--user", "Ana@acme.test"))
    ok(account("blacklist", "add", "+44*", "--direction", "in"))
    everything = entries(account)
    assert [(e["number"], e["direction"], e["user"]) for e in everything] == [
        ("+44*", "in", None), ("+44*", "out", "ana@acme.test")]
    assert [e["user"] for e in entries(account, "--user", "ana@acme.test")] == ["ana@acme.test"]


def test_list_as_csv(account):
    ok(account("blacklist", "add", "+33140506070", "--direction", "in"))
    lines = ok(account("blacklist", "list", "--csv")).stdout.splitlines()
    assert lines[0] == "number,direction,user,created_at"
    assert lines[1].startswith("+33140506070,in,,")


def test_removing_one_direction_of_both_leaves_the_other(account):
    ok(account("blacklist", "add", "+33140506070", "--direction", "both"))
    result = ok(account("blacklist", "remove", "0140506070", "--direction", "in", "--json")).json()
    assert (result["removed"], result["direction"]) == ("in", "out")
    assert [e["direction"] for e in entries(account)] == ["out"]
    ok(account("blacklist", "remove", "0140506070"))
    assert entries(account) == []


def test_removing_what_is_not_there_is_refused(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("blacklist", "add", "+33140506070", "--direction", "out"))
    with unchanged():
        refused(account("blacklist", "remove", "+33145454545"), "+33145454545", "not blacklisted")
        refused(account("blacklist", "remove", "+33140506070", "--direction", "in"),
                "+33140506070", "out only", "not in")
        refused(account("blacklist", "remove", "+33140506070", "--user", "ana@acme.test"),
                "+33140506070", "ana@acme.test")


@pytest.mark.parametrize(("number", "direction", "fragment"), [
    ("12", "in", "'12'"),
    ("abc*", "in", "'abc*'"),
    ("*", "out", "'*'"),
    ("+33140506070", "sideways", "'sideways'"),
])
def test_bad_numbers_and_directions_are_refused(account, unchanged, number, direction, fragment):
    with unchanged():
        refused(account("blacklist", "add", number, "--direction", direction), fragment)


def test_unknown_user_is_refused(account, unchanged):
    with unchanged():
        refused(account("blacklist", "add", "+44*", "--direction", "in", "--user", "ghost@acme.test"),
                "'ghost@acme.test'")
        refused(account("blacklist", "list", "--user", "ghost@acme.test"), "'ghost@acme.test'")


def test_smart_plan_is_refused_naming_the_plans(cli, unchanged):
    ok(cli("init", "--plan", "smart", "--admin", ADMIN))
    with unchanged():
        refused(cli("blacklist", "add", "+33140506070", "--direction", "in"), "business or advanced", "smart")
        refused(cli("blacklist", "list"), "business or advanced")


def test_only_configuration_roles_manage_the_blacklist(account, unchanged):
    ok(account("users", "add", "tech@acme.test", "--role", "technical"))
    ok(account("users", "add", "money@acme.test", "--role", "accountant"))
    ok(account("blacklist", "add", "+33140506070", "--direction", "in", as_user="tech@acme.test"))
    with unchanged():
        refused(account("blacklist", "add", "+33145454545", "--direction", "in", as_user="money@acme.test"),
                "accountant", "configuration")


def test_every_change_is_audited(account, db_url):
    ok(account("blacklist", "add", "+33140506070", "--direction", "in"))
    ok(account("blacklist", "add", "+33140506070", "--direction", "out"))
    ok(account("blacklist", "remove", "+33140506070"))
    with engine_for(db_url).connect() as connection:
        actions = connection.execute(text(
            "SELECT action FROM audit_entry WHERE action LIKE 'blacklist.%' ORDER BY id")).scalars().all()
    assert actions == ["blacklist.add", "blacklist.add", "blacklist.remove"]


# ---------------------------------------------------------------- is_blocked, for the routing engine


@pytest.fixture
def blocked(account, db_url):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("users", "add", "bob@acme.test"))
    ok(account("blacklist", "add", "+33140506070", "--direction", "in"))
    ok(account("blacklist", "add", "+33899*", "--direction", "both"))
    ok(account("blacklist", "add", "+44*", "--direction", "out", "--user", "ana@acme.test"))
    return db_url


def test_is_blocked_matches_exact_numbers_by_direction(blocked):
    with Session(engine_for(blocked)) as session:
        assert is_blocked(session, "+33140506070", "in")
        assert not is_blocked(session, "+33140506070", "out")
        assert not is_blocked(session, "+33140506071", "in")


def test_is_blocked_matches_prefixes_both_ways(blocked):
    with Session(engine_for(blocked)) as session:
        assert is_blocked(session, "+33899123456", "in")
        assert is_blocked(session, "+33899123456", "out")
        assert not is_blocked(session, "+33898123456", "in")


def test_is_blocked_applies_a_users_entries_to_that_user_only(blocked):
    settings = load_settings(database_url=blocked)
    with operation(settings) as op:
        ana, bob = user_by_email(op, "ana@acme.test"), user_by_email(op, "bob@acme.test")
        assert is_blocked(op, "+442079460958", "out", user_id=ana.id)
        assert not is_blocked(op, "+442079460958", "in", user_id=ana.id)
        assert not is_blocked(op, "+442079460958", "out", user_id=bob.id)
        assert not is_blocked(op, "+442079460958", "out")
        assert is_blocked(op, "+33140506070", "in", user_id=bob.id)  # company entries apply to everyone


def test_is_blocked_refuses_an_ambiguous_direction(blocked):
    from ringtui.errors import Invalid

    with Session(engine_for(blocked)) as session, pytest.raises(Invalid, match="in or out"):
        is_blocked(session, "+33140506070", "both")


def test_in_memory_snapshot_agrees_with_the_query(account, db_url):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("blacklist", "add", "+33899*", "--direction", "out"))
    ok(account("blacklist", "add", "+33612345678", "--direction", "in", "--user", "ana@acme.test"))
    ok(account("blacklist", "add", "+34911111111", "--direction", "both"))
    with Session(engine_for(db_url)) as db:
        snapshot = load_snapshot(db)
        ana = db.exec(select(User.id).where(User.email == "ana@acme.test")).one()
        for number in ("+33899123456", "+33612345678", "+34911111111", "+33700000000"):
            for direction in ("in", "out"):
                for email, user_id in ((None, None), ("ana@acme.test", ana)):
                    assert snapshot.blocks(number, direction, email) == is_blocked(
                        db, number, direction, user_id), (number, direction, email)
