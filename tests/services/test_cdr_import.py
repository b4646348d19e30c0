"""The Asterisk CDR reader: channel names, and batches written across a file longer than one batch."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ringtui.db import engine_for
from ringtui.services import cdr_import
from ringtui.services.cdr_import import _peer
from tests.commands.test_calls_import import ANSWERED_IN, master, pbx  # noqa: F401  (fixture)
from tests.conftest import ok, refused


@pytest.mark.parametrize(
    ("channel", "peer"),
    [
        ("SIP/201-0000001a", "201"),
        ("PJSIP/ana-00000001", "ana"),
        ("IAX2/office-1234", "office"),
        ("Local/201@from-queue-00000012;1", "201"),
        ("SIP/trunk-provider-0000abcd", "trunk-provider"),
        ("", ""),
        ("garbage", ""),
    ],
)
def test_the_peer_of_a_channel_is_its_endpoint_name(channel, peer):
    assert _peer(channel) == peer


def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of about two lines, calls handed out three lines after their first: many batches."""
    monkeypatch.setattr(cdr_import, "BATCH_BYTES", 2 * len(ANSWERED_IN))
    monkeypatch.setattr(cdr_import, "WINDOW", 3)


def test_a_file_longer_than_a_batch_is_written_batch_by_batch(pbx, tmp_path, monkeypatch):  # noqa: F811
    small_chunks(monkeypatch)
    lines = [ANSWERED_IN.replace("1762074000.1", f"1762074000.{n}") for n in range(1, 9)]
    path = master(tmp_path, *lines)
    ok(pbx("calls", "import", path, "--format", "asterisk-csv"))
    lines.append(ANSWERED_IN.replace("1762074000.1", "1762074000.99"))
    summary = ok(pbx("calls", "import", master(tmp_path, *lines), "--json")).json()
    assert (summary["imported"], summary["already_imported"]) == (1, 8)
    assert len(ok(pbx("calls", "list", "--json")).json()) == 9


def test_a_bad_line_after_batches_were_written_rolls_them_back(pbx, tmp_path, monkeypatch, unchanged):  # noqa: F811
    small_chunks(monkeypatch)
    lines = [ANSWERED_IN.replace("1762074000.1", f"1762074000.{n}") for n in range(1, 9)]
    lines.append(ANSWERED_IN.replace("1762074000.1", "1762074000.9").replace('"ANSWERED"', '"LOST"'))
    with unchanged():
        refused(pbx("calls", "import", master(tmp_path, *lines)), "line 9: unknown disposition 'LOST'")


def test_times_around_clock_changes_are_read_in_the_pbx_zone(pbx, tmp_path):  # noqa: F811
    """Europe/Paris: 2026-03-29 02:00 -> 03:00 (UTC+1 -> +2), 2026-10-25 03:00 -> 02:00 (+2 -> +1);
    an hour read twice is taken at its first (summer) offset, as datetime's fold=0."""
    starts = {
        "1": "2026-03-29 01:30:00",
        "2": "2026-03-29 03:30:00",
        "3": "2026-10-25 01:59:00",
        "4": "2026-10-25 02:30:00",
        "5": "2026-10-25 03:00:00",
    }
    lines = [
        ANSWERED_IN.replace("1762074000.1", f"1762074000.{n}")
        .replace("2026-11-02 10:00:00", start)
        .replace("2026-11-02 10:00:12", "")
        .replace("2026-11-02 10:02:12", "")
        for n, start in starts.items()
    ]
    ok(pbx("calls", "import", master(tmp_path, *lines)))
    assert sorted(call["started_at"] for call in ok(pbx("calls", "list", "--json")).json()) == [
        "2026-03-29T00:30:00Z",
        "2026-03-29T01:30:00Z",
        "2026-10-24T23:59:00Z",
        "2026-10-25T00:30:00Z",
        "2026-10-25T02:00:00Z",
    ]


def sqlite_indexes(db_url: str) -> set[str]:
    with engine_for(db_url).connect() as connection:
        return set(
            connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name IN ('call_record', 'ring_attempt')"
                )
            ).scalars()
        )


def test_a_large_file_rebuilds_the_indexes_it_dropped_and_a_refused_one_keeps_them(
    pbx,  # noqa: F811
    tmp_path,
    monkeypatch,
    db_url,
    unchanged,
):
    """SQLite drops the call tables' secondary indexes for a file large beside the history (here:
    any) and creates them again; PostgreSQL keeps them throughout."""
    monkeypatch.setattr(cdr_import, "_DROP_INDEXES_FROM", 1)
    monkeypatch.setattr(cdr_import, "_LINE_BYTES", 1)
    sqlite = db_url.startswith("sqlite")
    before = sqlite_indexes(db_url) if sqlite else set()
    lines = [ANSWERED_IN.replace("1762074000.1", f"1762074000.{n}") for n in range(1, 6)]
    with unchanged():
        refused(pbx("calls", "import", master(tmp_path, *lines, "garbage")), "line 6")
    assert not sqlite or sqlite_indexes(db_url) == before
    summary = ok(pbx("calls", "import", master(tmp_path, *lines), "--json")).json()
    assert summary["imported"] == 5
    assert not sqlite or sqlite_indexes(db_url) == before
    assert len(ok(pbx("calls", "list", "--json", "--ivr", "Support")).json()) == 5
