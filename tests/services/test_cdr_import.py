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


def numbered(line: str, n: int) -> str:
    return line.replace("1762074000.1", f"1762074000.{n}")


def test_bad_lines_are_reported_by_their_physical_line_across_chunks(pbx, tmp_path, monkeypatch, unchanged):  # noqa: F811
    """Blank lines and a caller name holding a line break count as lines, as a text editor shows them."""
    small_chunks(monkeypatch)
    two_lines = numbered(ANSWERED_IN, 3).replace('"""Jean"" <0612345678>"', '"Jean\nDupont"')
    lines = [
        numbered(ANSWERED_IN, 1),
        "",
        numbered(ANSWERED_IN, 2),
        two_lines,
        "   ",
        numbered(ANSWERED_IN, 4).replace('"ANSWERED"', '"LOST"'),  # line 7
        *(numbered(ANSWERED_IN, n) for n in range(5, 9)),
        numbered(ANSWERED_IN, 9).replace(",132,120,", ",132,two,"),
    ]  # line 12
    with unchanged():
        result = refused(
            pbx("calls", "import", master(tmp_path, *lines)), "2 bad line(s), nothing was imported"
        )
    assert "line 7: unknown disposition 'LOST'" in result.stderr
    assert "line 12: billsec 'two' is not a whole number of seconds" in result.stderr
    summary = ok(pbx("calls", "import", master(tmp_path, *lines), "--skip-invalid", "--json")).json()
    assert [line for line, _ in summary["invalid"]] == [7, 12]
    assert (summary["lines"], summary["imported"]) == (9, 7)


def test_odd_but_valid_asterisk_values_import(pbx, tmp_path):  # noqa: F811
    """Unquoted and empty cells, no userfield column, a comma in a quoted caller name, CRLF line
    ends, ISO times with a T, seconds fractions or an offset, lower-case dispositions."""
    bare = (  # 17 cells, nothing quoted, answer empty
        ",0612345678,+33144951479,from-trunk,Jean,SIP/trunk-1,SIP/ana-2,Dial,,2026-11-02 10:00:00,,"
        "2026-11-02 10:00:30,30,0,NO ANSWER,3,1762074000.5"
    )
    lines = [
        numbered(ANSWERED_IN, 1).replace('"""Jean"" <0612345678>"', '"Dupont, Jean <0612345678>"'),
        bare,
        numbered(ANSWERED_IN, 2)
        .replace('"2026-11-02 10:00:00"', '"2026-11-02T11:00:00"')
        .replace('"2026-11-02 10:00:12"', '"2026-11-02 11:00:12.500000"')
        .replace('"2026-11-02 10:02:12"', '""'),
        numbered(ANSWERED_IN, 3)
        .replace('"2026-11-02 10:00:00"', '"2026-11-02 12:00:00+00:00"')
        .replace('"2026-11-02 10:00:12"', '""')
        .replace('"2026-11-02 10:02:12"', '""')
        .replace('"ANSWERED"', '" answered "'),
    ]
    path = tmp_path / "Master.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    summary = ok(pbx("calls", "import", str(path), "--json")).json()
    assert (summary["lines"], summary["imported"], summary["invalid"]) == (4, 4, [])
    by_start = sorted(ok(pbx("calls", "list", "--json")).json(), key=lambda c: (c["started_at"], c["type"]))
    assert [(c["started_at"], c["type"], c["wait_s"]) for c in by_start] == [
        ("2026-11-02T09:00:00Z", "answered", 12.0),  # the caller name with a comma
        ("2026-11-02T09:00:00Z", "missed", 30.0),  # the bare line
        ("2026-11-02T10:00:00Z", "answered", 12.5),  # T, fraction; no end: start + duration
        ("2026-11-02T12:00:00Z", "answered", 0.0),  # UTC offset given; no answer time: answered at start
    ]


def test_column_rules_and_line_rules_give_the_same_calls(pbx, tmp_path, monkeypatch):  # noqa: F811
    """The per-line rules (which take the lines the column rules cannot vouch for) give the same calls."""
    import polars as pl

    from tests.commands.test_calls_import import GOOD

    ok(pbx("calls", "import", master(tmp_path, *GOOD)))
    monkeypatch.setattr(cdr_import, "_verdict", lambda: pl.lit("check"))
    again = [line.replace('","17620', '","x17620') for line in GOOD]  # other uniqueids
    ok(pbx("calls", "import", master(tmp_path, *again, name="again.csv")))

    def shown(call: dict) -> dict:
        attempts = ok(pbx("calls", "show", str(call["id"]), "--json")).json()["attempts"]
        return {k: v for k, v in call.items() if k != "id"} | {
            "attempts": [(a["agent"], a["outcome"]) for a in attempts]
        }

    calls = ok(pbx("calls", "list", "--json")).json()  # newest first: line by line, then columns
    assert len(calls) == 8
    assert [shown(c) for c in calls[0::2]] == [shown(c) for c in calls[1::2]]


def test_lines_of_one_call_merge_across_chunks_within_the_window(pbx, tmp_path, monkeypatch):  # noqa: F811
    small_chunks(monkeypatch)
    rang_ana = numbered(ANSWERED_IN, 7).replace('"ANSWERED"', '"NO ANSWER"').replace(",132,120,", ",15,0,")
    answered_201 = numbered(ANSWERED_IN, 7).replace("SIP/ana-00000002", "SIP/201-00000003")
    others = [numbered(ANSWERED_IN, n) for n in (20, 21)]
    summary = ok(pbx("calls", "import", master(tmp_path, rang_ana, *others, answered_201), "--json")).json()
    assert (summary["lines"], summary["imported"], summary["invalid"]) == (4, 3, [])
    queued = [c for c in ok(pbx("calls", "list", "--json")).json() if c["agent"] == "201@acme.test"]
    attempts = ok(pbx("calls", "show", str(queued[0]["id"]), "--json")).json()["attempts"]
    assert sorted(a["outcome"] for a in attempts) == ["ANSWERED", "CALL_ANSWERED"]
    late = [
        numbered(ANSWERED_IN, 30),
        *(numbered(ANSWERED_IN, n) for n in range(31, 35)),
        numbered(ANSWERED_IN, 30).replace("SIP/ana-00000002", "SIP/201-00000003"),
    ]
    summary = ok(pbx("calls", "import", master(tmp_path, *late), "--skip-invalid", "--json")).json()
    assert summary["invalid"] == [
        [6, "uniqueid '1762074000.30' repeats line 1, more than 3 lines before: not the same call"]
    ]


def areas(db_url: str) -> dict[str, tuple[str | None, str | None]]:
    with engine_for(db_url).connect() as connection:
        rows = connection.execute(text("SELECT call_id, caller_country, caller_area FROM call_record"))
        return {call_id.split(".")[-1]: (country, area) for call_id, country, area in rows}


@pytest.mark.parametrize("rules", ["columns", "lines"])
def test_the_customer_s_area_code_is_kept_with_the_call(pbx, tmp_path, monkeypatch, db_url, rules):  # noqa: F811
    """Inbound: the caller's area; outbound: the called number's; a mobile, a withheld caller: none."""
    import polars as pl

    from tests.commands.test_calls_import import ANSWERED_OUT, BUSY_IN

    if rules == "lines":  # every line through the per-line rules
        monkeypatch.setattr(cdr_import, "_verdict", lambda: pl.lit("check"))
    paris_in = numbered(ANSWERED_IN, 1).replace('"0612345678"', '"0144556677"')
    mobile_in = numbered(ANSWERED_IN, 2)
    lyon_out = ANSWERED_OUT.replace('"0612345678"', '"+33478000000"')
    ok(pbx("calls", "import", master(tmp_path, paris_in, mobile_in, lyon_out, BUSY_IN)))
    assert areas(db_url) == {
        "1": ("FR", "+33 1"),
        "2": ("FR", None),
        "5": ("FR", "+33 4"),
        "9": (None, None),
    }


def test_a_bad_line_deep_in_a_large_file_leaves_nothing_and_the_indexes_in_place(
    pbx,  # noqa: F811
    tmp_path,
    monkeypatch,
    db_url,
    unchanged,
):
    """Indexes dropped (SQLite), many batches written, the roll-up sums gathered: the last line is
    bad, and the database is as before, roll-ups and indexes included."""
    small_chunks(monkeypatch)
    monkeypatch.setattr(cdr_import, "_DROP_INDEXES_FROM", 1)
    monkeypatch.setattr(cdr_import, "_LINE_BYTES", 1)
    sqlite = db_url.startswith("sqlite")
    before = sqlite_indexes(db_url) if sqlite else set()
    lines = [numbered(ANSWERED_IN, n) for n in range(1, 40)]
    bad = numbered(ANSWERED_IN, 40).replace("2026-11-02 10:00:12", "2026-11-02 09:59:00")
    with unchanged():
        refused(pbx("calls", "import", master(tmp_path, *lines, bad)), "line 40: answer '2026-11-02 09:59")
    assert not sqlite or sqlite_indexes(db_url) == before
    assert "ix_call_record_ivr_started" in before or not sqlite


def test_a_file_imported_again_with_a_few_new_lines_keeps_the_indexes(pbx, tmp_path, monkeypatch, db_url):  # noqa: F811
    """The indexes are dropped for a large number of calls still to write, decided at the first new
    call: not for a re-import, nor for the same Master.csv a few calls longer."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its indexes throughout")
    small_chunks(monkeypatch)
    monkeypatch.setattr(cdr_import, "_DROP_INDEXES_FROM", 5)
    monkeypatch.setattr(cdr_import, "_LINE_BYTES", len(ANSWERED_IN) + 1)
    dropped: list[int] = []
    drop = cdr_import._dropped_indexes
    monkeypatch.setattr(cdr_import, "_dropped_indexes", lambda raw, expected: dropped.extend(
        [len(found := drop(raw, expected))]) or found)
    before = sqlite_indexes(db_url)
    lines = [numbered(ANSWERED_IN, n) for n in range(1, 13)]
    ok(pbx("calls", "import", master(tmp_path, *lines)))
    assert dropped == [len(before) - 1]  # all but the unique index on call_id
    summary = ok(pbx("calls", "import", master(tmp_path, *lines), "--json")).json()
    assert (summary["already_imported"], dropped) == (12, [len(before) - 1])  # not asked again
    longer = [*lines, numbered(ANSWERED_IN, 13), numbered(ANSWERED_IN, 14)]
    summary = ok(pbx("calls", "import", master(tmp_path, *longer), "--json")).json()
    assert (summary["imported"], dropped[1:]) == (2, [0])  # 2 calls still to write: kept
    assert sqlite_indexes(db_url) == before
