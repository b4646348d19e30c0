"""`ringtui export calls|contacts` through the CLI: same content as the list commands, files written whole,
and memory that does not grow with the size of the history."""

from __future__ import annotations

import csv
import gc
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from ringtui.cli import app
from ringtui.commands import export as export_command
from ringtui.db import engine_for
from ringtui.models import CallRecord
from tests.commands import test_calls
from tests.commands.test_calls import ANA, BOB, NOV_2, SUP, listed, names
from tests.conftest import ok, refused

CALL_COLUMNS = ["id", "started_at", "direction", "type", "from_number", "to_number", "ivr", "agent",
                "wait_s", "talk_s", "tags", "ended_by_customer", "processed_channel", "transferred"]
EVERY_CALL = "--limit", "100000"


def register_command() -> None:
    """Until the lead registers it in ringtui/cli.py, the sub-app is added to the root here."""
    if export_command.NAME not in {group.name for group in app.registered_groups}:
        app.add_typer(export_command.app, name=export_command.NAME, help=export_command.HELP)


register_command()


center = test_calls.history  # the account and the exact history of test_calls.py: (cli, {call_id: id})


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A folder of its own for exports (the SQLite test database lives in tmp_path)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def exported(cli, *args: str, as_user: str | None = None) -> list[dict]:
    return ok(cli("export", *args, "--format", "json", as_user=as_user)).json()


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# ---------------------------------------------------------------- calls


@pytest.mark.parametrize("filters", [(), ("--period", NOV_2), ("--type", "answered", "--direction", "in"),
                                     ("--ivr", "Sales"), ("--hours", "09:00-13:00", "--tag", "Sale")])
def test_json_export_equals_calls_list_for_the_same_filters(center, filters):
    cli, _ = center
    assert exported(cli, "calls", *filters) == listed(cli, *filters, *EVERY_CALL)


def test_export_is_not_limited_to_the_hundred_calls_of_calls_list(center):
    cli, ids = center
    rows = exported(cli, "calls")
    assert names(rows, ids) == ["c6", "c5", "c3", "c4", "c2", "c1", "c0"]
    assert rows[0]["started_at"] == "2026-11-02T23:30:00Z"


def test_csv_export_has_a_header_and_the_rows_of_calls_list_csv(center):
    cli, ids = center
    result = ok(cli("export", "calls", "--period", NOV_2))
    header, *rows = csv_rows(result.stdout)
    assert header == CALL_COLUMNS
    assert [int(row[0]) for row in rows] == [ids[c] for c in ("c5", "c3", "c4", "c2", "c1", "c0")]
    c1 = dict(zip(header, rows[4], strict=True))
    assert c1 == {"id": str(ids["c1"]), "started_at": "2026-11-02T08:30:00Z", "direction": "in",
                  "type": "answered", "from_number": "+34612345678", "to_number": "+33144951479",
                  "ivr": "Support", "agent": ANA, "wait_s": "20.0", "talk_s": "100.0", "tags": "Sale",
                  "ended_by_customer": "yes", "processed_channel": "", "transferred": "no"}
    listed_csv = csv_rows(ok(cli("calls", "list", "--period", NOV_2, "--csv")).stdout)
    shared = [CALL_COLUMNS.index(name) for name in listed_csv[0]]
    assert [[row[i] for i in shared] for row in rows] == listed_csv[1:]


def test_export_is_scoped_like_calls_list(center):
    cli, ids = center
    assert names(exported(cli, "calls", as_user=SUP), ids) == ["c5", "c3"]
    refused(cli("export", "calls", as_user=BOB), BOB, "logs")


def test_out_writes_the_file_and_says_so(center, out_dir):
    cli, _ = center
    target = out_dir / "calls.json"
    result = ok(cli("export", "calls", "--format", "json", "--out", str(target)))
    assert result.stdout == ""
    assert "Exported 7 calls as json" in result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == listed(cli, *EVERY_CALL)
    assert [p.name for p in out_dir.iterdir()] == ["calls.json"]


@pytest.mark.parametrize(("args", "fragment"), [
    (("calls", "--format", "xml"), "'xml'"),
    (("bogus",), "'bogus'"),
    (("sms", "--tag", "Sale"), "--tag"),
    (("meet", "--ivr", "Sales"), "--ivr"),
    (("calls", "--type", "dropped"), "'dropped'"),
    (("calls", "--period", "fortnight"), "'fortnight'"),
    (("contacts", "--period", "today"), "--period"),
])
def test_bad_kind_format_or_filter_is_refused_and_no_file_is_touched(center, unchanged, out_dir,
                                                                      args, fragment):
    cli, _ = center
    target = out_dir / "old.csv"
    target.write_text("the previous export\n", encoding="utf-8")
    with unchanged():
        refused(cli("export", *args, "--out", str(target)), fragment)
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in out_dir.iterdir()] == ["old.csv"]


def test_a_refused_plan_gate_writes_nothing(center, unchanged, tmp_path):
    cli, _ = center
    ok(cli("account", "plan", "smart"))
    target = tmp_path / "calls.csv"
    with unchanged():
        refused(cli("export", "calls", "--ivr", "Sales", "--out", str(target)), "per-IVR call filters")
    assert not target.exists()


def test_out_into_a_missing_folder_is_refused_naming_it(center, unchanged, tmp_path):
    cli, _ = center
    with unchanged():
        refused(cli("export", "calls", "--out", str(tmp_path / "nowhere" / "calls.csv")), "nowhere")


def test_out_onto_a_folder_is_refused_naming_it(center, unchanged, out_dir):
    cli, _ = center
    with unchanged():
        refused(cli("export", "calls", "--out", str(out_dir)), str(out_dir), "folder")
    assert list(out_dir.iterdir()) == []


def test_help_names_the_kinds_and_options(center):
    cli, _ = center
    shown = ok(cli("export", "--help")).stdout
    for text in ("calls|sms|meet|contacts", "--format", "--out", "--period", "--type"):
        assert text in shown


# ---------------------------------------------------------------- contacts


def test_contacts_export_equals_contacts_list(account, tmp_path):
    cli = account
    ok(cli("contacts", "add", "--name", "Zoé", "--number", "0612345678", "--number", "+4915112345678",
           "--company", "Acme", "--field", "vip=yes"))
    ok(cli("contacts", "add", "--name", "adam", "--number", "0611111111"))
    expected = ok(cli("contacts", "list", "--json")).json()
    assert exported(cli, "contacts") == expected
    assert [c["name"] for c in expected] == ["adam", "Zoé"]
    header, *rows = csv_rows(ok(cli("export", "contacts")).stdout)
    assert header == ["id", "name", "company", "numbers", "fields", "created_at"]
    assert rows[1][1:5] == ["Zoé", "Acme", "+33612345678, +4915112345678", "vip=yes"]
    assert rows[1][5] == expected[1]["created_at"]


def test_an_empty_export_is_an_empty_array_or_a_header(account):
    cli = account
    assert exported(cli, "contacts") == []
    assert ok(cli("export", "calls")).stdout == ",".join(CALL_COLUMNS) + "\n"


def test_contacts_export_needs_the_contacts_area(center, unchanged):
    cli, _ = center
    ok(cli("users", "perms", BOB, "contacts_tab=false"))
    refused(cli("contacts", "list", as_user=BOB), BOB)
    with unchanged():
        refused(cli("export", "contacts", as_user=BOB), BOB)


# ---------------------------------------------------------------- memory

MANY = 40_000


def insert_many_calls(db_url: str) -> None:
    """MANY answered calls a second apart from 2026-11-02 00:00 UTC (01:00 in Paris)."""
    start = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [{"call_id": f"bulk-{n}", "direction": "in", "kind": "direct", "from_number": f"+336{n:08d}",
             "to_number": "+33144951479", "caller_country": "FR", "started_at": start + timedelta(seconds=n),
             "ended_at": start + timedelta(seconds=n + 30), "type": "answered", "wait_s": 5.0,
             "talk_s": 25.0, "ended_by": "customer", "recorded": False, "vip": False, "flagged": False}
            for n in range(MANY)]
    with engine_for(db_url).begin() as connection:
        connection.execute(insert(CallRecord.__table__), rows)  # one executemany


def peak_of(run) -> int:
    gc.collect()  # garbage of earlier commands, freed or not, must not weigh on this one
    tracemalloc.start()
    try:
        ok(run())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_memory_does_not_grow_with_the_size_of_the_export(account, db_url, out_dir, file_format):
    """Exporting 40,000 calls costs about what exporting the first 20,000 does: the second half's
    rows are written as they come, not held. (Both are many batches: a command's fixed cost,
    some hundreds of KB with Typer's command tree, weighs alike on both.)"""
    cli = account
    insert_many_calls(db_url)
    half, whole = out_dir / f"half.{file_format}", out_dir / f"whole.{file_format}"
    first_half = "--period", "2026-11-02..2026-11-02", "--hours", "01:00-06:33"  # Paris: the first 19,980
    half_peak = peak_of(lambda: cli("export", "calls", *first_half, "--format", file_format,
                                    "--out", str(half)))
    whole_peak = peak_of(lambda: cli("export", "calls", "--format", file_format, "--out", str(whole)))
    if file_format == "json":
        counts = len(json.loads(half.read_text(encoding="utf-8"))), len(json.loads(whole.read_text()))
    else:
        counts = len(csv_rows(half.read_text(encoding="utf-8"))) - 1, len(csv_rows(whole.read_text())) - 1
    assert counts == (19_980, MANY)
    second_half = whole.stat().st_size - half.stat().st_size
    assert whole_peak - half_peak < second_half / 4, (
        f"peak {whole_peak} for {MANY} calls, {half_peak} for 19,980: the other half is {second_half} bytes")


def test_start_times_with_microseconds_are_exported_as_calls_list_shows_them(center, db_url):
    """The engine records times to the microsecond; the export writes them from the stored text."""
    cli, ids = center
    with engine_for(db_url).begin() as connection:
        record = CallRecord.__table__
        for call_id, microsecond in (("c1", 250_000), ("c2", 1)):
            this = record.c.id == ids[call_id]
            started = connection.execute(select(record.c.started_at).where(this)).scalar()
            connection.execute(update(record).where(this).values(started_at=started.replace(microsecond=microsecond)))
    starts = {row["id"]: row["started_at"] for row in exported(cli, "calls")}
    assert (starts[ids["c1"]], starts[ids["c2"]]) == ("2026-11-02T08:30:00.250000Z",
                                                      "2026-11-02T09:00:00.000001Z")
    assert starts == {row["id"]: row["started_at"] for row in listed(cli, *EVERY_CALL)}
    _, *rows = csv_rows(ok(cli("export", "calls")).stdout)
    assert {int(row[0]): row[1] for row in rows} == starts


def test_out_into_a_folder_that_cannot_be_written_is_refused(center, unchanged, out_dir, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    cli, _ = center
    monkeypatch.setattr("tempfile.mkstemp", read_only)  # a read-only folder, even when tests run as root
    target = out_dir / "calls.csv"
    with unchanged():
        refused(cli("export", "calls", "--out", str(target)), str(target), "Permission denied")
    assert list(out_dir.iterdir()) == []
