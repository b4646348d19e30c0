"""`ringtui contacts ...` through the CLI, happy and refused paths, and bulk-import speed."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from ringtui.db import engine_for
from tests.conftest import ok, refused

FIELDS = {"id", "name", "company", "numbers", "fields", "created_at"}


def contacts(cli, *args: str) -> list[dict]:
    return ok(cli("contacts", "list", *args, "--json")).json()


def search(cli, query: str, *args: str) -> list[str]:
    return [c["name"] for c in ok(cli("contacts", "search", query, *args, "--json")).json()]


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def audit_actions(db_url: str) -> list[str]:
    with engine_for(db_url).connect() as connection:
        return connection.execute(text(
            "SELECT action FROM audit_entry WHERE action LIKE 'contact%' ORDER BY id")).scalars().all()


# ---------------------------------------------------------------- add, list, remove


def test_add_stores_numbers_in_e164_with_company_and_fields(account):
    added = ok(account("contacts", "add", "--name", "Ana Diaz", "--number", "06 12 34 56 78",
                       "--number", "+34 612 345 678", "--number", "0612345678", "--company", "Acme",
                       "--field", "vip=yes", "--field", "city=Lyon", "--json")).json()
    assert set(added) == FIELDS
    assert added["numbers"] == ["+33612345678", "+34612345678"]
    assert (added["name"], added["company"]) == ("Ana Diaz", "Acme")
    assert added["fields"] == {"vip": "yes", "city": "Lyon"}
    assert contacts(account) == [added]


def test_add_with_a_country_for_national_numbers(account):
    added = ok(account("contacts", "add", "--name", "Luis", "--number", "612 345 678", "--country", "ES",
                       "--json")).json()
    assert added["numbers"] == ["+34612345678"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["--name", "Ana", "--number", "12"], "'12'"),
    (["--company", "Acme"], "name or a number"),
    (["--name", "Ana", "--field", "vip"], "'vip'"),
    (["--name", "Ana", "--field", "a=1", "--field", "a=2"], "'a'"),
    (["--name", "Ana", "--number", "0612345678", "--country", "XX"], "'XX'"),
    (["--name", "A" * 201], "200 characters"),
])
def test_bad_contacts_are_refused(account, unchanged, args, fragment):
    with unchanged():
        refused(account("contacts", "add", *args), fragment)


def test_list_is_by_name_and_takes_a_limit_and_csv(account):
    for name in ("zoe", "Bob", "ana"):
        ok(account("contacts", "add", "--name", name))
    assert [c["name"] for c in contacts(account)] == ["ana", "Bob", "zoe"]
    assert [c["name"] for c in contacts(account, "--limit", "2")] == ["ana", "Bob"]
    lines = ok(account("contacts", "list", "--csv")).stdout.splitlines()
    assert lines[0] == "id,name,company,numbers,fields,created_at" and len(lines) == 4


def test_remove_deletes_the_contact_and_its_numbers(account, db_url):
    added = ok(account("contacts", "add", "--name", "Ana", "--number", "0612345678", "--json")).json()
    ok(account("contacts", "remove", str(added["id"])))
    assert contacts(account) == []
    with engine_for(db_url).connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM contact_number")).scalar() == 0
    assert audit_actions(db_url) == ["contact.add", "contact.remove"]


def test_removing_a_missing_contact_is_refused(account, unchanged):
    with unchanged():
        refused(account("contacts", "remove", "42"), "42", "contacts list")


def test_contacts_need_the_contacts_tab(account, unchanged):
    ok(account("users", "add", "ana@acme.test"))
    ok(account("contacts", "add", "--name", "Bob", as_user="ana@acme.test"))
    ok(account("users", "perms", "ana@acme.test", "contacts_tab=false"))
    with unchanged():
        refused(account("contacts", "add", "--name", "Zoe", as_user="ana@acme.test"),
                "ana@acme.test", "contacts")
        refused(account("contacts", "list", as_user="ana@acme.test"), "contacts")


# ---------------------------------------------------------------- search


@pytest.fixture
def address_book(account):
    ok(account("contacts", "add", "--name", "Ana Diaz", "--number", "01 40 50 60 70"))
    ok(account("contacts", "add", "--name", "Bob Martin", "--number", "06 12 34 56 78"))
    ok(account("contacts", "add", "--name", "Diane 100%", "--number", "+44 20 7946 0958"))
    return account


@pytest.mark.parametrize(("query", "names"), [
    ("dia", ["Ana Diaz", "Diane 100%"]),
    ("MARTIN", ["Bob Martin"]),
    ("%", ["Diane 100%"]),
    ("_", []),
    ("01", ["Ana Diaz"]),
    ("+331", ["Ana Diaz"]),
    ("0033 1", ["Ana Diaz"]),
    ("06", ["Bob Martin"]),
    ("+44", ["Diane 100%"]),
    ("+33", ["Ana Diaz", "Bob Martin"]),
    ("09", []),
])
def test_search_by_name_substring_or_number_prefix(address_book, query, names):
    assert search(address_book, query) == names


def test_search_limit(address_book):
    assert search(address_book, "+33", "--limit", "1") == ["Ana Diaz"]


def test_bad_searches_are_refused(address_book, unchanged):
    with unchanged():
        refused(address_book("contacts", "search", "dia", "--limit", "0"), "--limit 0")
        refused(address_book("contacts", "search", "  "), "empty search")


# ---------------------------------------------------------------- import

CSV = (
    "name,phone,company,City\n"
    "Ana Diaz,01 40 50 60 70;06 12 34 56 78,Acme,Lyon\n"
    "Bob,12,,\n"
    ",,,\n"
    ",,Nobody Inc,Paris\n"
    "\"Martin, Zoe\",+44 20 7946 0958,,\n"
)


def test_import_is_all_or_nothing_and_names_every_bad_line(account, unchanged, tmp_path):
    path = write(tmp_path, "book.csv", CSV)
    with unchanged():
        result = refused(account("contacts", "import", path),
                         "book.csv", "2 bad line(s)", "nothing was imported")
    assert "line 3: '12'" in result.stderr
    assert "line 5: a contact needs a name or a number" in result.stderr


def test_import_skip_invalid_imports_the_rest_and_records_the_import(account, tmp_path, db_url):
    path = write(tmp_path, "book.csv", CSV)
    result = ok(account("contacts", "import", path, "--skip-invalid", "--json"))
    report = result.json()
    assert (report["filename"], report["imported_count"], report["skipped_count"]) == ("book.csv", 2, 2)
    assert [line for line, _ in report["invalid"]] == [3, 5]
    assert report["imported_at"].endswith("Z")
    assert re.search(r"Imported 2 contact\(s\) from book.csv on \d{4}-\d\d-\d\d at \d\d:\d\d:\d\d CES?T",
                     result.stderr)
    assert "line 3: '12'" in result.stderr
    book = {c["name"]: c for c in contacts(account)}
    assert book["Ana Diaz"]["numbers"] == ["+33140506070", "+33612345678"]
    assert (book["Ana Diaz"]["company"], book["Ana Diaz"]["fields"]) == ("Acme", {"City": "Lyon"})
    assert book["Martin, Zoe"]["numbers"] == ["+442079460958"]
    [record] = ok(account("contacts", "imports", "--json")).json()
    assert record == {key: report[key] for key in record}
    assert record["actor_email"] == "boss@acme.test"
    assert audit_actions(db_url) == ["contacts.import"]


def test_import_csv_with_semicolons_and_extra_cells(account, unchanged, tmp_path):
    path = write(tmp_path, "book.csv", "Name;Number\nAna;0140506070\nBob;0612345678;oops\n")
    with unchanged():
        refused(account("contacts", "import", path), "line 3: 3 cells but the header has 2 columns")
    ok(account("contacts", "import", path, "--skip-invalid"))
    assert [c["numbers"] for c in contacts(account)] == [["+33140506070"]]


def test_import_txt_lines(account, tmp_path):
    path = write(tmp_path, "numbers.txt", "name;number\nAna Diaz;01 40 50 60 70\n\n0612345678\n"
                                          "Martin, Zoe,+44 20 7946 0958\n")
    report = ok(account("contacts", "import", path, "--json")).json()
    assert (report["imported_count"], report["skipped_count"]) == (3, 0)
    assert {(c["name"], c["numbers"][0]) for c in contacts(account)} == {
        ("Ana Diaz", "+33140506070"), ("", "+33612345678"), ("Martin, Zoe", "+442079460958")}


def test_import_txt_bad_lines_are_numbered(account, unchanged, tmp_path):
    path = write(tmp_path, "numbers.txt", "0612345678\n;\nnot a number\nAna;\n")
    with unchanged():
        result = refused(account("contacts", "import", path), "2 bad line(s)")
    assert "line 2: a contact needs a name or a number" in result.stderr
    assert "line 3: 'not a number'" in result.stderr


def test_import_with_a_country(account, tmp_path):
    path = write(tmp_path, "es.txt", "Luis;612 345 678\n")
    ok(account("contacts", "import", path, "--country", "ES"))
    assert contacts(account)[0]["numbers"] == ["+34612345678"]


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("book.xlsx", "x", "'book.xlsx'"),
    ("book.csv", "email,city\na@b.c,Lyon\n", "no name and no number column"),
    ("book.csv", "", "'book.csv' holds no contacts"),
    ("book.txt", "\n\n", "'book.txt' holds no contacts"),
])
def test_unreadable_files_are_refused(account, unchanged, tmp_path, name, content, fragment):
    path = write(tmp_path, name, content)
    with unchanged():
        refused(account("contacts", "import", path), fragment)


def test_missing_file_is_refused(account, unchanged, tmp_path):
    with unchanged():
        refused(account("contacts", "import", str(tmp_path / "nope.csv")), "nope.csv")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL statements sent by every engine while the test runs (executemany counts once)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def test_large_import_is_bulk_and_fast(account, tmp_path, statements):
    rows = "\n".join(f"Contact {i},+336{i:08d};+331{i:08d},Company {i % 7},{i}" for i in range(3000))
    path = write(tmp_path, "big.csv", "name,number,company,ref\n" + rows + "\n")
    statements.clear()
    started = time.perf_counter()
    report = ok(account("contacts", "import", path, "--json")).json()
    elapsed = time.perf_counter() - started
    assert report["imported_count"] == 3000
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(statements) < 40, f"{len(statements)} statements for 3000 contacts"
    assert len(inserts) < 20
    assert elapsed < 15
    assert search(account, "+3360000299") == [f"Contact {i}" for i in range(2990, 3000)]
    assert len(contacts(account)) == 3000
