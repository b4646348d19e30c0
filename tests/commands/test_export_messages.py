"""`ringtui export sms|meet`: every SMS or meeting the acting user may see, filtered, as CSV or JSON,
streamed (memory does not grow with the log) and written atomically (dataset of test_stats_messages)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from ringtui.db import engine_for
from ringtui.models import SmsMessage
from tests.commands import test_export
from tests.commands.test_calls import ADMIN, ANA, NOV_2, SUP
from tests.commands.test_export import peak_of
from tests.commands.test_stats_messages import messages  # noqa: F401 - the fixture
from tests.conftest import ok, refused

test_export.register_command()
SMS_COLUMNS = ["id", "sent_at", "direction", "customer_number", "account_number", "agent", "ivr",
               "campaign_id", "text", "unicode", "fragments", "price", "status"]
MEETING_COLUMNS = ["id", "started_at", "ended_at", "tool", "agent", "title", "duration_s", "participants"]


def exported(cli, *args: str, as_user: str | None = None) -> list[dict]:
    return ok(cli("export", *args, "--format", "json", as_user=as_user)).json()


def test_sms_json_export_newest_first_with_every_field(messages):  # noqa: F811
    rows = exported(messages, "sms")
    assert len(rows) == 8 and all(list(row) == SMS_COLUMNS for row in rows)
    assert [row["sent_at"] for row in rows[:2]] == ["2026-11-03T10:00:00Z", "2026-11-02T14:00:00Z"]
    s4 = next(row for row in rows if row["fragments"] == 2)
    assert {k: s4[k] for k in ("direction", "customer_number", "agent", "ivr", "unicode", "price",
                               "status")} == {
        "direction": "out", "customer_number": "+34612345678", "agent": "bob@acme.test", "ivr": "Support",
        "unicode": False, "price": 0.1, "status": "delivered"}
    assert next(row for row in rows if row["customer_number"] == "+34612345678")["fragments"] == 2
    assert sum(row["unicode"] for row in rows) == 1
    assert [row["campaign_id"] for row in rows if row["campaign_id"]] == [1]


def test_sms_export_filters_and_csv(messages):  # noqa: F811
    assert len(exported(messages, "sms", "--period", NOV_2)) == 7
    assert [row["customer_number"] for row in exported(messages, "sms", "--ivr", "Sales")] == [
        "+4915112345678"]
    header, *rows = list(csv.reader(io.StringIO(ok(messages("export", "sms", "--direction", "in")).stdout)))
    assert header == SMS_COLUMNS and len(rows) == 4
    assert rows[-1][1:4] == ["2026-11-02T08:00:00Z", "in", "+33612345678"] and rows[-1][9] == "no"


def test_sms_export_is_scoped(messages):  # noqa: F811
    assert [row["ivr"] for row in exported(messages, "sms", as_user=SUP)] == ["Sales"]
    ok(messages("users", "role", ANA, "admin"))
    ok(messages("users", "perms", ANA, "own_logs_only=true"))
    assert {row["agent"] for row in exported(messages, "sms", as_user=ANA)} == {ANA}
    assert len(exported(messages, "sms", as_user=ANA)) == 3


def test_meet_export(messages, tmp_path):  # noqa: F811
    target = tmp_path / "meetings.json"
    result = ok(messages("export", "meet", "--format", "json", "--out", str(target)))
    assert "Exported 4 meet as json" in result.stderr
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert [list(row) for row in rows] == [MEETING_COLUMNS] * 4
    assert [(r["tool"], r["duration_s"], r["participants"]) for r in rows] == [
        ("ringover", None, 5), ("zoom", 900.0, 3), ("teams", 3600.0, 2), ("zoom", 1800.0, 4)]
    header, *lines = list(csv.reader(io.StringIO(ok(messages("export", "meet", "--user", ANA)).stdout)))
    assert header == MEETING_COLUMNS and [line[3] for line in lines] == ["zoom", "zoom"]


def test_refusals_write_nothing(messages, unchanged, tmp_path: Path):  # noqa: F811
    target = tmp_path / "old.csv"
    target.write_text("before\n", encoding="utf-8")
    with unchanged():
        refused(messages("export", "sms", "--type", "missed", "--out", str(target)), "--type")
        refused(messages("export", "meet", "--direction", "in", "--out", str(target)), "--direction")
        refused(messages("export", "sms", "--scope", "custom", "--out", str(target)), "scope 'custom'")
        refused(messages("export", "sms", "--out", str(target), as_user=ANA), ANA, "logs")
    ok(messages("account", "plan", "smart"))
    with unchanged():
        refused(messages("export", "sms", "--out", str(target)), "SMS logs", "business or advanced")
        refused(messages("export", "meet", "--out", str(target)), "Meet logs", "business or advanced")
    assert target.read_text(encoding="utf-8") == "before\n"


MANY = 20_000


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_sms_export_memory_does_not_grow_with_the_log(account, db_url, tmp_path, file_format):
    start = datetime(2026, 11, 2, tzinfo=UTC)
    rows = [{"direction": "in", "customer_number": f"+336{n:08d}", "account_number": "+33144951479",
             "sent_at": start + timedelta(seconds=n), "text": "Bonjour, merci de me rappeler " * 3,
             "unicode": False, "fragments": 1, "price": 0, "status": "received"} for n in range(MANY)]
    with engine_for(db_url).begin() as connection:
        connection.execute(insert(SmsMessage.__table__), rows)
    small, big = tmp_path / f"one.{file_format}", tmp_path / f"all.{file_format}"
    last = "--period", "2026-11-02..2026-11-02", "--hours", "06:33-06:34"  # Paris: the last 20
    baseline = peak_of(lambda: account("export", "sms", *last, "--format", file_format, "--out", str(small)))
    peak = peak_of(lambda: account("export", "sms", "--format", file_format, "--out", str(big)))
    size = big.stat().st_size
    assert size > 20 * small.stat().st_size
    assert peak - baseline < size / 2, f"peak {peak} (20 SMS: {baseline}) for {size} bytes ({ADMIN})"
