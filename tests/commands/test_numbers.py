"""`ringtui numbers ...` through the CLI, happy and refused paths (N1-N4), and how users hold numbers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session, select

from ringtui.db import engine_for
from ringtui.models import AuditEntry, Conference, PhoneNumber, PortDocument, User
from tests.conftest import ok, refused

PARIS = "+33142685300"
LYON = "+33427211479"
NINE = "+33912345678"
MOBILE = "+33612345678"
CONTRACT_FIELDS = {"number", "country", "format", "region", "status", "assigned_to", "label"}


@pytest.fixture
def numbers(account):
    """The FR account holding a Paris line, a 09 number and a mobile, all available."""
    ok(account("numbers", "add", PARIS, "--address", "8 rue de Rivoli, 75004 Paris"))
    ok(account("numbers", "add", NINE))
    ok(account("numbers", "add", MOBILE))
    return account


@pytest.fixture
def documents(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for kind in ("request", "bill", "identity"):
        paths[kind] = tmp_path / f"{kind}.pdf"
        paths[kind].write_bytes(f"%PDF-1.4 {kind}".encode())
    return paths


def document_options(paths: dict[str, Path]) -> list[str]:
    return [arg for kind, path in paths.items() for arg in ("--document", f"{kind}={path}")]


def audit_actions(db_url: str) -> list[tuple[str, str]]:
    with Session(engine_for(db_url)) as db:
        return [(e.action, e.target) for e in db.exec(select(AuditEntry).order_by(AuditEntry.id))]


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """SQL statements run by any engine (the CLI's engine is its own) inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


# ---------------------------------------------------------------- search


def test_search_lists_available_numbers_with_the_contract_fields(account):
    found = ok(account("numbers", "search", "--country", "FR", "--format", "local", "--limit", "20",
                       "--json")).json()
    assert len(found) == 20 and len({n["number"] for n in found}) == 20
    assert all(set(n) == CONTRACT_FIELDS for n in found)
    assert {(n["country"], n["format"], n["status"], n["assigned_to"], n["label"]) for n in found} == {
        ("FR", "local", "available", None, None)}
    assert all(n["number"].startswith("+33") and n["region"] for n in found)


def test_search_filters_by_region_and_leaves_out_numbers_the_account_holds(account):
    found = ok(account("numbers", "search", "--country", "fr", "--format", "local", "--region", "LYON",
                       "--limit", "3", "--json")).json()
    assert {n["region"] for n in found} == {"Lyon"}
    ok(account("numbers", "add", found[0]["number"], "--address", "1 place Bellecour, 69002 Lyon"))
    again = ok(account("numbers", "search", "--country", "FR", "--format", "local", "--region", "Lyon",
                       "--limit", "3", "--json")).json()
    assert found[0]["number"] not in {n["number"] for n in again}
    assert [n["number"] for n in again][:2] == [n["number"] for n in found][1:]


def test_search_csv_has_the_contract_columns(account):
    lines = ok(account("numbers", "search", "--country", "BE", "--format", "mobile", "--limit", "2",
                       "--csv")).stdout.splitlines()
    assert lines[0] == "number,country,format,region,status,assigned_to,label" and len(lines) == 3


@pytest.mark.parametrize(("args", "fragments"), [
    (("--country", "FR", "--format", "local", "--region", "Atlantis"), ("'Atlantis'", "Paris")),
    (("--country", "US", "--format", "mobile"), ("mobile", "US", "local")),
    (("--country", "FR", "--format", "premium"), ("'premium'", "national, mobile, local")),
    (("--country", "ZZ", "--format", "mobile"), ("'ZZ'",)),
    (("--country", "FR", "--format", "mobile", "--limit", "0"), ("--limit 0", "1 to 100")),
])
def test_bad_searches_are_refused(account, unchanged, args, fragments):
    with unchanged():
        refused(account("numbers", "search", *args), *fragments)


# ---------------------------------------------------------------- add


def test_add_derives_country_format_region_and_mentions_the_monthly_price(account, db_url):
    added = ok(account("numbers", "add", "04 27 21 14 79", "--address", "20 rue de la République, Lyon",
                       "--json"))
    assert added.json() == {"number": LYON, "country": "FR", "format": "local", "region": "Lyon",
                            "status": "available", "assigned_to": None, "label": None,
                            "address": "20 rue de la République, Lyon"}
    assert "5 EUR excl. VAT" in added.stderr
    mobile = ok(account("numbers", "add", "+34612345678", "--json")).json()
    assert (mobile["country"], mobile["format"], mobile["region"]) == ("ES", "mobile", "Spain")
    assert ("number.add", LYON) in audit_actions(db_url)


@pytest.mark.parametrize(("args", "fragments"), [
    ((PARIS,), (PARIS, "Paris", "--address")),
    ((PARIS, "--address", "1 place Bellecour, 69002 Lyon"), ("'1 place Bellecour, 69002 Lyon'", "Paris")),
    (("+33472000000", "--address", "Lyon"), ("+33472000000", "no city")),
    (("+33800123456",), ("+33800123456", "toll-free", "09 numbers")),
    (("12345",), ("'12345'", "not a valid")),
])
def test_bad_adds_are_refused(account, unchanged, args, fragments):
    with unchanged():
        refused(account("numbers", "add", *args), *fragments)


def test_adding_a_number_the_account_holds_is_a_conflict(numbers, unchanged):
    with unchanged():
        refused(numbers("numbers", "add", "09 12 34 56 78"), NINE, "already one of the account's numbers")


# ---------------------------------------------------------------- list, assign, release


def test_assign_to_user_ivr_and_conference_and_list_them(numbers):
    ok(numbers("users", "add", "ana@acme.test"))
    ok(numbers("ivr", "create", "Support"))
    mine = ok(numbers("numbers", "assign", PARIS, "--user", "ana@acme.test", "--label", "Ana direct",
                      "--json")).json()
    assert (mine["status"], mine["assigned_to"], mine["label"]) == (
        "assigned", {"kind": "user", "name": "ana@acme.test"}, "Ana direct")
    ok(numbers("numbers", "assign", NINE, "--ivr", "Support", "--label", "Hotline"))
    ok(numbers("numbers", "assign", "06 12 34 56 78", "--conference", "Weekly"))
    listed = {n["number"]: n for n in ok(numbers("numbers", "list", "--json")).json()}
    assert listed[NINE]["assigned_to"] == {"kind": "ivr", "name": "Support"}
    assert listed[MOBILE]["assigned_to"] == {"kind": "conference", "name": "Weekly"}
    assert set(listed[PARIS]) >= CONTRACT_FIELDS
    ok(numbers("numbers", "release", PARIS))
    available = ok(numbers("numbers", "list", "--available", "--json")).json()
    assert [n["number"] for n in available] == [PARIS]
    assert available[0]["assigned_to"] is None and available[0]["label"] is None
    assigned = ok(numbers("numbers", "list", "--assigned", "--json")).json()
    assert sorted(n["number"] for n in assigned) == sorted([NINE, MOBILE])


def test_list_by_country_and_as_csv(numbers):
    ok(numbers("numbers", "add", "+34612345678"))
    spanish = ok(numbers("numbers", "list", "--country", "ES", "--json")).json()
    assert [n["number"] for n in spanish] == ["+34612345678"]
    lines = ok(numbers("numbers", "list", "--csv")).stdout.splitlines()
    assert lines[0] == "number,country,format,region,status,assigned_to,label" and len(lines) == 5


def test_list_refuses_both_filters_as_a_usage_error(numbers):
    assert numbers("numbers", "list", "--available", "--assigned").exit_code == 2


def test_list_costs_the_same_queries_for_many_numbers(numbers, db_url):
    ok(numbers("users", "add", "ana@acme.test"))
    ok(numbers("numbers", "assign", PARIS, "--user", "ana@acme.test"))
    with counted_queries() as few:
        ok(numbers("numbers", "list", "--json"))
    with Session(engine_for(db_url)) as db:  # each number in a room of its own: no cache to lean on
        for n in range(40):
            room = Conference(name=f"Room {n}")
            db.add(room)
            db.flush()
            db.add(PhoneNumber(e164=f"+3314268{n:04d}", country="FR", format="local", region="Paris",
                               status="assigned", assigned_kind="conference", conference_id=room.id))
        db.commit()
    with counted_queries() as many:
        assert len(ok(numbers("numbers", "list", "--json")).json()) == 43
    assert len(many) == len(few)


def test_assigning_an_assigned_number_names_its_assignee(numbers, unchanged):
    ok(numbers("users", "add", "ana@acme.test"))
    ok(numbers("users", "add", "bob@acme.test"))
    ok(numbers("numbers", "assign", PARIS, "--user", "ana@acme.test"))
    with unchanged():
        refused(numbers("numbers", "assign", PARIS, "--user", "bob@acme.test"), PARIS, "ana@acme.test")
        refused(numbers("numbers", "assign", PARIS, "--conference", "Weekly"), PARIS, "user ana@acme.test")


@pytest.mark.parametrize(("args", "fragments"), [
    ((NINE,), ("exactly one of --user",)),
    ((NINE, "--user", "ana@acme.test", "--ivr", "Support"), ("exactly one of --user",)),
    (("+33612121212", "--user", "ana@acme.test"), ("+33612121212", "not one of the account's numbers")),
    ((NINE, "--user", "ghost@acme.test"), ("'ghost@acme.test'",)),
    ((NINE, "--ivr", "Nowhere"), ("'Nowhere'",)),
])
def test_bad_assignments_are_refused(numbers, unchanged, args, fragments):
    ok(numbers("users", "add", "ana@acme.test"))
    with unchanged():
        refused(numbers("numbers", "assign", *args), *fragments)


def test_releasing_an_unassigned_or_unknown_number_is_refused(numbers, unchanged):
    with unchanged():
        refused(numbers("numbers", "release", NINE), NINE, "not assigned")
        refused(numbers("numbers", "release", "+33612121212"), "+33612121212", "not one of the account's")


def test_technical_users_manage_numbers_and_supervisors_may_not(numbers, unchanged):
    ok(numbers("users", "add", "tech@acme.test", "--role", "technical"))
    ok(numbers("users", "add", "sup@acme.test", "--role", "supervisor"))
    ok(numbers("numbers", "add", LYON, "--address", "Lyon", as_user="tech@acme.test"))
    ok(numbers("numbers", "assign", LYON, "--user", "tech@acme.test", as_user="tech@acme.test"))
    with unchanged():
        refused(numbers("numbers", "add", "+33472000001", "--address", "Lyon", as_user="sup@acme.test"),
                "sup@acme.test", "supervisor", "configuration")
        refused(numbers("numbers", "release", LYON, as_user="sup@acme.test"), "supervisor")
        refused(numbers("numbers", "list", as_user="sup@acme.test"), "supervisor")
        refused(numbers("numbers", "search", "--country", "FR", "--format", "mobile",
                        as_user="sup@acme.test"), "supervisor")


# ---------------------------------------------------------------- porting in


def test_port_stores_the_documents_and_adds_the_number_as_porting(account, documents, db_url):
    ported = ok(account("numbers", "port", LYON, *document_options(documents), "--json"))
    request = ported.json()
    expected = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()  # FR: 10 days
    assert (request["number"], request["status"], request["expected_by"]) == (LYON, "requested", expected)
    assert expected in ported.stderr
    assert {d["kind"] for d in request["documents"]} == {"request", "bill", "identity"}
    with Session(engine_for(db_url)) as db:
        stored = {d.kind: d for d in db.exec(select(PortDocument))}
    content = documents["bill"].read_bytes()
    assert stored["bill"].content == content and stored["bill"].size == len(content)
    assert stored["bill"].sha256 == hashlib.sha256(content).hexdigest()
    listed = ok(account("numbers", "list", "--json")).json()
    assert [(n["number"], n["status"]) for n in listed] == [(LYON, "porting")]
    ports = ok(account("numbers", "ports", "--json")).json()
    assert [(p["number"], p["status"], p["expected_by"]) for p in ports] == [(LYON, "requested", expected)]
    assert ("number.port", LYON) in audit_actions(db_url)


def test_porting_days_follow_the_country(account, documents):
    request = ok(account("numbers", "port", "+14155550100", *document_options(documents), "--json")).json()
    assert request["expected_by"] == (datetime.now(UTC).date() + timedelta(days=30)).isoformat()


def test_port_refuses_missing_unknown_absent_or_empty_documents(account, documents, tmp_path, unchanged):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with unchanged():
        refused(account("numbers", "port", LYON, "--document", f"bill={documents['bill']}"),
                "missing: request, identity")
        refused(account("numbers", "port", LYON, *document_options(documents), "--document",
                        f"passport={documents['bill']}"), "'passport'", "request, bill, identity")
        absent = documents | {"identity": tmp_path / "no.pdf"}
        refused(account("numbers", "port", LYON, *document_options(absent)),
                "identity", "no.pdf", "does not exist")
        refused(account("numbers", "port", LYON, *document_options(documents | {"request": empty})),
                "request", "empty.pdf", "is empty")
        refused(account("numbers", "port", LYON, "--document", "bill"), "'bill'", "KIND=PATH")


def test_a_number_being_ported_is_not_ported_twice_nor_assigned(numbers, documents, unchanged):
    ok(numbers("numbers", "port", LYON, *document_options(documents)))
    ok(numbers("users", "add", "ana@acme.test"))
    with unchanged():
        refused(numbers("numbers", "port", LYON, *document_options(documents)), LYON, "being ported")
        refused(numbers("numbers", "port", NINE, *document_options(documents)), NINE, "already one of")
        refused(numbers("numbers", "assign", LYON, "--user", "ana@acme.test"), LYON, "ported")


def test_completed_port_makes_the_number_available(account, documents):
    ok(account("numbers", "port", LYON, *document_options(documents)))
    moving = ok(account("numbers", "port-status", LYON, "in-progress", "--json")).json()
    assert moving["status"] == "in_progress"
    done = ok(account("numbers", "port-status", LYON, "completed", "--json")).json()
    assert done["status"] == "completed" and done["completed_at"]
    assert ok(account("numbers", "list", "--available", "--json")).json()[0]["number"] == LYON
    ok(account("users", "add", "ana@acme.test", "--number", LYON))
    assert ok(account("numbers", "ports", "--json")).json()[0]["status"] == "completed"


def test_rejected_port_removes_the_number_but_keeps_the_request(account, documents, db_url):
    ok(account("numbers", "port", LYON, *document_options(documents)))
    assert ok(account("numbers", "port-status", LYON, "rejected", "--json")).json()["status"] == "rejected"
    assert ok(account("numbers", "list", "--json")).json() == []
    [request] = ok(account("numbers", "ports", "--json")).json()
    assert (request["number"], request["status"], request["region"]) == (LYON, "rejected", "Lyon")
    assert sorted(request["documents"]) == ["bill", "identity", "request"]
    with Session(engine_for(db_url)) as db:
        assert len(db.exec(select(PortDocument)).all()) == 3
    assert ("number.port_status", LYON) in audit_actions(db_url)
    # the number may be ported again later
    ok(account("numbers", "port", LYON, *document_options(documents)))


def test_bad_port_status_changes_are_refused(numbers, documents, unchanged):
    ok(numbers("numbers", "port", LYON, *document_options(documents)))
    ok(numbers("users", "add", "tech@acme.test", "--role", "technical"))
    with unchanged():
        refused(numbers("numbers", "port-status", LYON, "done"), "'done'", "in_progress, completed, rejected")
        refused(numbers("numbers", "port-status", NINE, "completed"), NINE, "no port request")
        refused(numbers("numbers", "port-status", LYON, "completed", as_user="tech@acme.test"),
                "tech@acme.test", "only an admin")
        refused(numbers("numbers", "port-status", LYON, "requested"), "'requested'")


# ---------------------------------------------------------------- users and their numbers


def test_adding_a_user_with_a_number_assigns_it(numbers):
    shown = ok(numbers("users", "add", "ana@acme.test", "--number", "01 42 68 53 00", "--json")).json()
    assert shown["numbers"] == [PARIS]
    listed = {n["number"]: n for n in ok(numbers("numbers", "list", "--json")).json()}
    assert listed[PARIS]["assigned_to"] == {"kind": "user", "name": "ana@acme.test"}


def test_adding_a_user_with_an_assigned_number_creates_nothing(numbers, unchanged, db_url):
    ok(numbers("users", "add", "ana@acme.test", "--number", PARIS))
    with unchanged():
        refused(numbers("users", "add", "bob@acme.test", "--number", PARIS), PARIS, "ana@acme.test")
    with Session(engine_for(db_url)) as db:
        assert db.exec(select(User).where(User.email == "bob@acme.test")).first() is None


def test_removing_a_user_releases_their_numbers(numbers, db_url):
    ok(numbers("users", "add", "ana@acme.test", "--number", PARIS))
    ok(numbers("numbers", "assign", NINE, "--user", "ana@acme.test"))
    removed = ok(numbers("users", "remove", "ana@acme.test", "--json")).json()
    assert sorted(removed["released_numbers"]) == sorted([PARIS, NINE])
    available = ok(numbers("numbers", "list", "--available", "--json")).json()
    assert {n["number"] for n in available} == {PARIS, NINE, MOBILE}
    with engine_for(db_url).connect() as connection:
        releases = connection.execute(text(
            "SELECT target FROM audit_entry WHERE action = 'number.release'")).scalars().all()
    assert sorted(releases) == sorted([PARIS, NINE])


def test_a_customers_own_fixed_line_without_a_city_can_be_ported_in(account, documents):
    # The geocoder places +33 4 78... in no city: not offered by the inventory, but a customer's own number.
    ported = ok(account("numbers", "port", "+33478000000", *document_options(documents), "--json")).json()
    assert ported["status"] == "requested"
    listed = ok(account("numbers", "list", "--json")).json()
    assert [(n["number"], n["status"], n["format"]) for n in listed] == [("+33478000000", "porting", "local")]
