"""What an agent may dial out (services/dialing.py): E.164 or national numbers, off-plan and special-rate
rules, the caller ID; against the account's database (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session

from ringtui.db import engine_for
from ringtui.errors import Invalid, PermissionDenied
from ringtui.models import Account
from ringtui.services.dialing import destination, dialler
from tests.conftest import ok

ANA = "ana@acme.test"


@pytest.fixture
def ana(account, db_url) -> str:
    """Ana, with an outgoing number of the account; that number."""
    ok(account("users", "add", ANA))
    number = ok(account("numbers", "search", "--country", "FR", "--format", "national", "--limit", "1",
                        "--json")).json()[0]["number"]
    ok(account("numbers", "add", number))
    e164 = ok(account("numbers", "list", "--json")).json()[0]["number"]
    ok(account("users", "set", ANA, f"outgoing_number={e164}"))
    return e164


def who(db_url: str):
    with Session(engine_for(db_url)) as db:
        return dialler(db, ANA)


def test_a_national_number_is_called_in_e164_with_the_outgoing_number(ana, db_url):
    caller = who(db_url)
    assert caller.caller_id == ana and caller.country == "FR"
    assert destination(caller, "0612345678") == destination(caller, "+33612345678") == "+33612345678"


@pytest.mark.parametrize("typed", ["0612", "not-a-number", "+999123"])
def test_what_is_not_a_number_is_refused_naming_it(ana, db_url, typed):
    with pytest.raises(Invalid, match=typed.replace("+", r"\+")):
        destination(who(db_url), typed)


def test_another_country_is_off_plan_and_needs_the_permission_and_unblocked_consumption(ana, account, db_url):
    with pytest.raises(PermissionDenied, match=r"\+34612345678 \(ES\) is off-plan.*off_plan_destinations"):
        destination(who(db_url), "+34612345678")
    ok(account("users", "perms", ANA, "off_plan_destinations=true"))
    assert destination(who(db_url), "0034612345678") == "+34612345678"
    with Session(engine_for(db_url)) as db:
        db.exec(update(Account).values(off_plan_blocked=True))
        db.commit()
    with pytest.raises(PermissionDenied, match="blocks off-plan consumption"):
        destination(who(db_url), "+34612345678")
    assert destination(who(db_url), "0612345678") == "+33612345678"  # national calls are in the plan


def test_special_rate_numbers_need_their_permission(ana, account, db_url):
    with pytest.raises(PermissionDenied, match=r"\+33899123456 is a special-rate number.*special_rate"):
        destination(who(db_url), "0899123456")
    ok(account("users", "perms", ANA, "special_rate_numbers=true"))
    assert destination(who(db_url), "0899123456") == "+33899123456"


def test_without_an_outgoing_number_the_direct_line_is_the_caller_id_else_the_call_is_refused(ana, account,
                                                                                            db_url):
    ok(account("users", "set", ANA, "outgoing_number=none"))
    with pytest.raises(PermissionDenied, match="no outgoing number nor direct line"):
        destination(who(db_url), "0612345678")
    ok(account("numbers", "assign", ana, "--user", ANA))
    assert who(db_url).caller_id == ana
