"""`ringtui export calls` on PostgreSQL, where the server writes every cell and streams it with COPY,
gives byte for byte the file SQLite gives (where Python writes every cell) for the same history,
awkward values included: floats Python and PostgreSQL print differently by default, microseconds,
an anonymous caller, quotes and commas to escape, tags in mixed case, a call still ringing."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from ringtui.cli import app
from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord, CallTag, CallTransfer, Ivr, Tag
from tests.commands import test_export  # noqa: F401  (registers the export command)
from tests.commands.test_calls import HISTORY, SUP, build_center
from tests.conftest import Result, _truncate_postgres, ok

AWKWARD_IVR = 'Sales, "EU"'
FLOATS = {
    "c0": (0.1 + 0.2, 50.0),
    "c1": (1e-05, 123456789.0),
    "c2": (2.5e-07, 0.0),
    "c3": (1234567.125, 200.0),
}
MORE_TAGS = ("Zed", "apple", "Éclair")  # with Urgent: code-point order differs from a locale's


def run(url: str, *args: str, as_user: str | None = None) -> Result:
    prefix = ["--db", url] + (["--as", as_user] if as_user else [])
    result = CliRunner().invoke(app, [*prefix, *args], catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def awkward_history(url: str) -> None:
    """The history of test_calls.py, then values whose text differs between the two writers unless
    the export takes care."""
    for name in MORE_TAGS:
        ok(run(url, "tags", "add", name))
    record_all(engine_for(url), HISTORY)
    record, tag = CallRecord.__table__, Tag.__table__
    with engine_for(url).begin() as connection:
        ids = dict(connection.execute(select(record.c.call_id, record.c.id)).all())
        tags = dict(connection.execute(select(tag.c.name, tag.c.id)).all())
        for call_id, (wait, talk) in FLOATS.items():
            this = record.c.id == ids[call_id]
            connection.execute(update(record).where(this).values(wait_s=wait, talk_s=talk))
        started = connection.execute(select(record.c.started_at).where(record.c.id == ids["c1"])).scalar()
        connection.execute(
            update(record)
            .where(record.c.id == ids["c1"])
            .values(started_at=started.replace(microsecond=250_000))
        )
        connection.execute(update(record).where(record.c.id == ids["c5"]).values(from_number=""))
        connection.execute(update(record).where(record.c.id == ids["c2"]).values(processed_channel="sms"))
        connection.execute(
            insert(CallTag.__table__),
            [{"call_record_id": ids["c3"], "tag_id": tags[name]} for name in MORE_TAGS],
        )
        ivr = Ivr.__table__
        connection.execute(update(ivr).where(ivr.c.name == "Sales").values(name=AWKWARD_IVR))
        connection.execute(insert(CallTransfer.__table__), [  # c3 twice, c2 once
            {"call_record_id": ids[call], "transferred_at": started, "kind": "blind",
             "to_number": "+33140000000", "answered": False} for call in ("c3", "c3", "c2")])
        connection.execute(
            insert(record),
            [
                {  # ringing: no end, type, agent or ending yet
                    "call_id": "ringing",
                    "direction": "in",
                    "kind": "direct",
                    "from_number": "+33600000000",
                    "to_number": "+33144951479",
                    "caller_country": "FR",
                    "started_at": datetime(2026, 11, 3, 8, 0, 0, 1, tzinfo=UTC),
                    "wait_s": 0.0,
                    "talk_s": 0.0,
                    "recorded": False,
                    "vip": False,
                    "flagged": False,
                }
            ],
        )


@pytest.fixture
def both(tmp_path: Path, sqlite_template: Path, postgres_url: str) -> tuple[str, str]:
    """(SQLite URL, PostgreSQL URL), each holding the same awkward history."""
    path = tmp_path / "ringtui.db"
    shutil.copyfile(sqlite_template, path)
    _truncate_postgres(postgres_url)
    urls = (f"sqlite:///{path}", postgres_url)
    for url in urls:
        build_center(lambda *args, url=url: run(url, *args))
        awkward_history(url)
    return urls


@pytest.mark.parametrize("file_format", ["csv", "json"])
@pytest.mark.parametrize(
    "filters",
    [
        (),
        ("--ivr", AWKWARD_IVR),
        ("--hours", "09:00-13:00", "--tag", "Sale"),
        ("--type", "missed", "--direction", "in"),
        ("--transfers", "only"),
        ("--transfers", "exclude", "--hours", "08:00-23:00"),
    ],
)
def test_postgres_export_is_byte_for_byte_the_sqlite_export(both, file_format, filters):
    sqlite_url, postgres_url = both
    args = ("export", "calls", *filters, "--format", file_format)
    from_sqlite, from_postgres = ok(run(sqlite_url, *args)).stdout, ok(run(postgres_url, *args)).stdout
    assert from_postgres == from_sqlite
    assert "+33144951479" in from_sqlite  # (calls, not two empty exports)


def test_the_awkward_values_are_in_the_export(both):
    """Proof that the comparison above covers them."""
    sqlite_url, postgres_url = both
    text = ok(run(postgres_url, "export", "calls")).stdout
    for cell in (
        "0.30000000000000004",
        "1e-05",
        "123456789.0",
        "2.5e-07",
        "1234567.125",
        ".250000Z",
        '"Sales, ""EU"""',
        '"Urgent, Zed, apple, Éclair"',
        ",sms,yes\n",
        ",no\n",
        "T08:00:00.000001Z",
    ):
        assert cell in text, cell
    assert text == ok(run(sqlite_url, "export", "calls")).stdout


def test_a_supervisor_exports_the_same_calls_from_either_database(both, tmp_path):
    for file_format in ("csv", "json"):
        outs = [tmp_path / f"{name}.{file_format}" for name in ("sqlite", "postgres")]
        for url, out in zip(both, outs, strict=True):
            ok(run(url, "export", "calls", "--format", file_format, "--out", str(out), as_user=SUP))
        assert outs[0].read_bytes() == outs[1].read_bytes()
        assert AWKWARD_IVR.split(",")[0] in outs[0].read_text(encoding="utf-8")
