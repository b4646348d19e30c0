"""Recipient lists of `campaign sms create`: files and typed numbers, every edge case of an import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from ringtui import db as ringtui_db
from ringtui.models import CampaignRecipient
from tests.conftest import ok, refused

BASE = ("campaign", "sms", "create", "Promo", "--sender", "Acme", "--country", "FR", "--message", "Hello")


@pytest.fixture
def sms(account):
    """A business account whose super admin may send SMS campaigns."""
    ok(account("campaign", "sms", "request-access"))
    ok(account("campaign", "sms", "approve", "boss@acme.test"))
    return account


@pytest.fixture
def write(tmp_path: Path):
    def make(name: str, content: str | bytes) -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    return make


def numbers_of(db_url: str) -> list[tuple]:
    with Session(ringtui_db.engine_for(db_url)) as db:
        return [tuple(row) for row in db.exec(select(
            CampaignRecipient.position, CampaignRecipient.number, CampaignRecipient.columns)
            .order_by(CampaignRecipient.position))]


def test_csv_with_bom_semicolons_national_numbers_and_named_columns(sms, write, db_url):
    path = write("list.csv", "\ufeffNom;Téléphone;Société;Ville\nAna;06 12 34 56 78;Acme;Paris\n"
                 "Bruno;+34 612 345 678;Globex;Madrid\n")
    result = ok(sms(*BASE, "--recipients", path, "--phone-column", "Téléphone", "--column", "Nom=name",
                    "--column", "Société=company", "--column", "Ville=custom:City", "--json")).json()
    counts = (result["recipients"], result["duplicates"], result["invalid"], result["blacklisted"])
    assert counts == (2, 0, 0, 0)
    assert numbers_of(db_url) == [
        (1, "+33612345678", {"name": "Ana", "company": "Acme", "City": "Paris"}),
        (2, "+34612345678", {"name": "Bruno", "company": "Globex", "City": "Madrid"})]


def test_csv_phone_column_found_by_its_usual_name_and_other_columns_kept(sms, write, db_url):
    path = write("list.csv", "name,phone\nAna,0612345678\n")
    ok(sms(*BASE, "--recipients", path))
    assert numbers_of(db_url) == [(1, "+33612345678", {"name": "Ana"})]


def test_duplicates_are_counted_and_kept_once(sms, write, db_url):
    path = write("list.txt", "0612345678\n+33 6 12 34 56 78\n0033612345678, 0698765432\n")
    result = ok(sms(*BASE, "--recipients", path, "--json")).json()
    assert (result["recipients"], result["duplicates"]) == (2, 2)
    assert [n for _, n, _ in numbers_of(db_url)] == ["+33612345678", "+33698765432"]


def test_invalid_numbers_refuse_the_whole_list_with_their_line_numbers(sms, write, unchanged):
    path = write("list.txt", "0612345678\n12\n# a comment\n\n+99 123\n0698765432\n")
    with unchanged():
        result = refused(sms(*BASE, "--recipients", path), "2 bad line(s)", "line 2:", "'12'", "line 5:",
                         "'+99 123'", "--skip-invalid")
    assert "line 1:" not in result.stderr


def test_a_list_with_many_bad_lines_names_the_first_fifty(sms, write, unchanged):
    path = write("list.txt", "0612345678\n" + "12\n" * 60)
    with unchanged():
        result = refused(sms(*BASE, "--recipients", path), "60 bad line(s)", "line 51:",
                         "and 10 more bad line(s)")
    assert "line 52:" not in result.stderr


def test_skip_invalid_imports_the_good_lines_and_reports_the_rest(sms, write, db_url):
    path = write("list.txt", "0612345678\n12\n0698765432\n")
    result = ok(sms(*BASE, "--recipients", path, "--skip-invalid", "--json")).json()
    assert (result["recipients"], result["invalid"]) == (2, 1)
    assert result["invalid_lines"][0][0] == 2 and "'12'" in result["invalid_lines"][0][1]


def test_company_out_blacklist_is_left_out_and_counted(sms, db_url):
    ok(sms("blacklist", "add", "0698765432", "--direction", "out"))
    ok(sms("blacklist", "add", "+4474*", "--direction", "both"))
    ok(sms("blacklist", "add", "0611111111", "--direction", "in"))  # inbound only: still texted
    ok(sms("users", "add", "ana@acme.test"))
    ok(sms("blacklist", "add", "0622222222", "--direction", "out", "--user", "ana@acme.test"))  # not company
    result = ok(sms(*BASE, "--to", "0612345678,0698765432,+447400123456,0611111111,0622222222",
                    "--json")).json()
    assert (result["recipients"], result["blacklisted"]) == (3, 2)
    assert [n for _, n, _ in numbers_of(db_url)] == ["+33612345678", "+33611111111", "+33622222222"]


def test_typed_numbers_one_per_line_or_comma_separated(sms, db_url):
    ok(sms(*BASE, "--to", "0612345678\n0698765432;+34612345678"))
    assert len(numbers_of(db_url)) == 3


def test_cp1252_file_from_a_windows_spreadsheet_is_read(sms, write, db_url):
    path = write("list.csv", "name;phone\nChloé;0612345678\n".encode("cp1252"))
    ok(sms(*BASE, "--recipients", path))
    assert numbers_of(db_url)[0][2] == {"name": "Chloé"}


@pytest.mark.parametrize(("args", "fragments"), [
    (("--column", "Nom=title"), ("'Nom=title'", "name, company, address, custom:LABEL")),
    (("--phone-column", "Mobile"), ("'Mobile'", "its columns", "'phone'")),
    (("--column", "Other=name"), ("'Other'",)),
    (("--column", "phone=name"), ("phone column",)),
    (("--column", "name=custom:"), ("custom:LABEL needs a label",)),
])
def test_bad_column_options_are_refused(sms, write, unchanged, args, fragments):
    path = write("list.csv", "name,phone\nAna,0612345678\n")
    with unchanged():
        refused(sms(*BASE, "--recipients", path, *args), *fragments)


def test_bad_sources_are_refused(sms, write, unchanged, tmp_path):
    with unchanged():
        refused(sms(*BASE), "--to")
        both = ("--to", "0612345678", "--recipients", write("a.txt", "0612345678\n"))
        refused(sms(*BASE, *both), "one of the two")
        refused(sms(*BASE, "--recipients", write("list.xlsx", "x")), ".xlsx", ".csv or .txt")
        refused(sms(*BASE, "--recipients", str(tmp_path / "missing.csv")), "missing.csv", "no such file")
        refused(sms(*BASE, "--recipients", write("empty.txt", "\n\n")), "holds no number")
        refused(sms(*BASE, "--to", "0612345678", "--phone-column", "phone"), "CSV file")
        refused(sms(*BASE, "--recipients", write("l.txt", "0612345678\n"), "--column", "a=name"), ".txt list")


def test_a_list_of_only_blacklisted_numbers_is_refused(sms, unchanged):
    ok(sms("blacklist", "add", "0698765432", "--direction", "out"))
    with unchanged():
        refused(sms(*BASE, "--to", "0698765432"), "leaves no number", "1 blacklisted")


def test_sample_files(account, tmp_path):
    calls = ok(account("campaign", "sample", "calls")).stdout
    assert calls.splitlines()[0] == "phone,name,company,address,plan"
    sms_sample = ok(account("campaign", "sample", "sms")).stdout
    assert "+33612345678" in sms_sample
    refused(account("campaign", "sample", "fax"), "'fax'", "calls, sms")


def test_the_sms_sample_imports_as_is(sms, tmp_path):
    path = tmp_path / "sample.txt"
    path.write_text(ok(sms("campaign", "sample", "sms")).stdout)
    assert ok(sms(*BASE, "--recipients", str(path), "--json")).json()["recipients"] == 4
