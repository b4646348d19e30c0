"""`ringtui calls import FILE --format asterisk-csv`: Asterisk/FreePBX Master.csv into call records.

The account (FR, Europe/Paris: UTC+1 in November) has an IVR Support on +33144951479,
ana (SIP username "ana") on her direct line +33980000001, and 201@acme.test whose SIP
username is the extension "201".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN, ok, refused

ANA, EXT = "ana@acme.test", "201@acme.test"
IVR_LINE, ANA_LINE = "+33144951479", "+33980000001"

HEADER = ("accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,"
          "duration,billsec,disposition,amaflags,uniqueid,userfield")
# 1 inbound to the IVR's number, answered by ana after 12 s, talk 120 s
ANSWERED_IN = ('"","0612345678","+33144951479","from-trunk","""Jean"" <0612345678>","SIP/trunk-00000001",'
               '"SIP/ana-00000002","Dial","SIP/ana,20","2026-11-02 10:00:00","2026-11-02 10:00:12",'
               '"2026-11-02 10:02:12",132,120,"ANSWERED","DOCUMENTATION","1762074000.1",""')
# 2 inbound from Spain in international 00 form to ana's line, not answered in 25 s
MISSED_IN = ('"","0034612345678","0980000001","from-trunk","","SIP/trunk-00000003","SIP/ana-00000004",'
             '"Dial","SIP/ana,20","2026-11-02 11:00:00","","2026-11-02 11:00:25",25,0,"NO ANSWER",'
             '"DOCUMENTATION","1762077600.3",""')
# 3 outbound by extension 201, answered after 5 s, talk 60 s
ANSWERED_OUT = ('"","201","0612345678","from-internal","""Bea"" <201>","PJSIP/201-00000005",'
                '"SIP/trunk-00000006","Dial","SIP/trunk/0612345678","2026-11-02 12:00:00",'
                '"2026-11-02 12:00:05","2026-11-02 12:01:05",65,60,"ANSWERED","DOCUMENTATION",'
                '"1762081200.5",""')
# 4 extension to extension: internal, skipped
INTERNAL = ('"","201","ana","from-internal","","PJSIP/201-00000007","SIP/ana-00000008","Dial","SIP/ana",'
            '"2026-11-02 12:30:00","2026-11-02 12:30:05","2026-11-02 12:31:05",65,60,"ANSWERED",'
            '"DOCUMENTATION","1762083000.7",""')
# 5 withheld caller, busy agent on the IVR's number
BUSY_IN = ('"","anonymous","+33144951479","from-trunk","","SIP/trunk-00000009","SIP/ana-0000000a","Dial",'
           '"SIP/ana","2026-11-02 13:00:00","","2026-11-02 13:00:03",3,0,"BUSY","DOCUMENTATION",'
           '"1762084800.9",""')
GOOD = [ANSWERED_IN, MISSED_IN, ANSWERED_OUT, INTERNAL, BUSY_IN]


@pytest.fixture
def pbx(advanced_account):
    cli = advanced_account
    ok(cli("ivr", "create", "Support"))
    ok(cli("numbers", "add", IVR_LINE, "--address", "1 rue de Rivoli, Paris"))
    ok(cli("numbers", "assign", IVR_LINE, "--ivr", "Support"))
    ok(cli("numbers", "add", ANA_LINE))
    ok(cli("users", "add", ANA, "--number", ANA_LINE))
    ok(cli("users", "add", EXT))
    return cli


def master(tmp_path: Path, *lines: str, name: str = "Master.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def calls_by_start(cli) -> dict[str, dict]:
    return {c["started_at"]: c for c in ok(cli("calls", "list", "--json")).json()}


def test_a_master_csv_becomes_call_records_with_agents_outcomes_and_local_times(pbx, tmp_path):
    summary = ok(pbx("calls", "import", master(tmp_path, *GOOD), "--format", "asterisk-csv", "--json")).json()
    assert summary == {"file": str(tmp_path / "Master.csv"), "format": "asterisk-csv",
                       "timezone": "Europe/Paris", "lines": 5, "imported": 4, "already_imported": 0,
                       "internal_skipped": 1, "invalid": []}
    calls = calls_by_start(pbx)
    assert set(calls) == {"2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z",
                          "2026-11-02T12:00:00Z"}  # 10:00 Paris = 09:00 UTC
    ivr_call = calls["2026-11-02T09:00:00Z"]
    assert {k: ivr_call[k] for k in ("direction", "type", "from_number", "to_number", "ivr", "agent",
                                     "wait_s", "talk_s")} == {
        "direction": "in", "type": "answered", "from_number": "+33612345678", "to_number": IVR_LINE,
        "ivr": "Support", "agent": ANA, "wait_s": 12.0, "talk_s": 120.0}
    missed = calls["2026-11-02T10:00:00Z"]
    assert [missed[k] for k in ("type", "from_number", "to_number", "agent", "wait_s")] == [
        "missed", "+34612345678", ANA_LINE, ANA, 25.0]
    out = calls["2026-11-02T11:00:00Z"]
    assert (out["direction"], out["to_number"], out["agent"], out["talk_s"]) == (
        "out", "+33612345678", EXT, 60.0)
    busy = calls["2026-11-02T12:00:00Z"]
    assert (busy["from_number"], busy["type"], busy["ivr"]) == ("anonymous", "missed", "Support")
    attempts = ok(pbx("calls", "show", str(busy["id"]), "--json")).json()["attempts"]
    assert [(a["agent"], a["outcome"]) for a in attempts] == [(ANA, "REJECTED")]
    board = {row["agent"]: row for row in ok(pbx("stats", "leaderboard", "--json")).json()}
    assert (board[ANA]["answered"], board[ANA]["no_answer"], board[ANA]["rejected"]) == (1, 1, 1)
    assert board[EXT]["out"] == 1
    countries = ok(pbx("stats", "geo", "--json")).json()["countries"]
    assert {c["country"]: c["calls"] for c in countries} == {"FR": 2, "ES": 1, None: 1}  # None: anonymous
    figures = ok(pbx("stats", "calls", "--json")).json()
    assert (figures["inbound_calls"], figures["answered_calls"], figures["max_wait_s"]) == (3, 1, 25.0)


def test_importing_the_same_file_twice_imports_nothing_twice(pbx, tmp_path):
    path = master(tmp_path, *GOOD)
    ok(pbx("calls", "import", path, "--format", "asterisk-csv"))
    again = ok(pbx("calls", "import", path, "--format", "asterisk-csv"))
    assert "Nothing new" in again.stderr and "4 already imported" in again.stderr
    summary = ok(pbx("calls", "import", path, "--format", "asterisk-csv", "--json")).json()
    assert (summary["imported"], summary["already_imported"]) == (0, 4)
    assert len(ok(pbx("calls", "list", "--json")).json()) == 4


def test_a_header_line_is_accepted_and_the_pbx_time_zone_can_be_given(pbx, tmp_path):
    path = master(tmp_path, HEADER, ANSWERED_IN)
    summary = ok(pbx("calls", "import", path, "--format", "asterisk-csv", "--timezone", "America/New_York",
                     "--json")).json()
    assert (summary["lines"], summary["imported"], summary["timezone"]) == (1, 1, "America/New_York")
    assert list(calls_by_start(pbx)) == ["2026-11-02T15:00:00Z"]  # 10:00 EST


def bad_lines(tmp_path: Path) -> str:
    return master(
        tmp_path,
        ANSWERED_IN,
        ANSWERED_IN.replace("1762074000.1", "1762074000.2").replace('"ANSWERED"', '"HUNG UP"'),   # 2
        MISSED_IN.replace("2026-11-02 11:00:00", "yesterday"),                                     # 3
        '"","0612345678","+33144951479"',                                                          # 4
        ANSWERED_OUT.replace('"0612345678"', '"12"'),                                              # 5
        ANSWERED_IN,                                                                               # 6
        BUSY_IN.replace(",3,0,", ",three,0,"),                                                    # 7
    )


def test_every_bad_line_is_reported_with_its_number_and_nothing_is_imported(pbx, tmp_path, unchanged):
    path = bad_lines(tmp_path)
    with unchanged():
        result = refused(pbx("calls", "import", path, "--format", "asterisk-csv"),
                         "6 bad line(s), nothing was imported", "--skip-invalid")
    for fragment in ("line 2: unknown disposition 'HUNG UP'", "line 3: start 'yesterday' is not a time",
                     "line 4: 3 fields", "line 5: dst '12' is not a phone number",
                     "line 6: uniqueid '1762074000.1': the same line as line 1",
                     "line 7: duration 'three' is not a whole number"):
        assert fragment in result.stderr, result.stderr


def test_skip_invalid_imports_the_good_lines_and_reports_the_others(pbx, tmp_path):
    summary = ok(pbx("calls", "import", bad_lines(tmp_path), "--format", "asterisk-csv", "--skip-invalid",
                     "--json")).json()
    assert summary["imported"] == 1
    assert [line for line, _ in summary["invalid"]] == [2, 3, 4, 5, 6, 7]
    assert len(ok(pbx("calls", "list", "--json")).json()) == 1


@pytest.mark.parametrize(("args", "fragment"), [
    (["--format", "cisco"], "unknown CDR format 'cisco'"),
    (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
])
def test_bad_options_are_refused_naming_the_value(pbx, tmp_path, unchanged, args, fragment):
    with unchanged():
        refused(pbx("calls", "import", master(tmp_path, *GOOD), *args), fragment)


def test_a_missing_or_empty_file_is_refused(pbx, tmp_path, unchanged):
    with unchanged():
        refused(pbx("calls", "import", str(tmp_path / "nope.csv")), "no such file")
        refused(pbx("calls", "import", master(tmp_path, "", "")), "holds no call-detail records")


def test_only_an_admin_imports_call_history(pbx, tmp_path, unchanged):
    with unchanged():
        refused(pbx("calls", "import", master(tmp_path, *GOOD), as_user=ANA), ANA, "only an admin")
    ok(pbx("calls", "import", master(tmp_path, *GOOD), as_user=ADMIN))


def test_the_lines_of_one_queue_call_are_one_call_with_a_ring_attempt_each(pbx, tmp_path):
    """Asterisk writes a line per agent a queue rang, all with the caller channel's uniqueid."""
    rang_ana = ('"","0612345678","+33144951479","ext-queues","","SIP/trunk-00000001","SIP/ana-00000002",'
                '"Queue","400","2026-11-02 10:00:00","","2026-11-02 10:00:15",15,0,"NO ANSWER",'
                '"DOCUMENTATION","1762074000.7",""')
    answered_201 = ('"","0612345678","+33144951479","ext-queues","","SIP/trunk-00000001","SIP/201-00000003",'
                    '"Queue","400","2026-11-02 10:00:00","2026-11-02 10:00:20","2026-11-02 10:03:20",200,180,'
                    '"ANSWERED","DOCUMENTATION","1762074000.7",""')
    path = master(tmp_path, rang_ana, ANSWERED_OUT, answered_201)
    summary = ok(pbx("calls", "import", path, "--json")).json()
    assert (summary["lines"], summary["imported"]) == (3, 2)
    queued = calls_by_start(pbx)["2026-11-02T09:00:00Z"]
    assert [queued[k] for k in ("type", "agent", "wait_s", "talk_s", "ivr")] == [
        "answered", EXT, 20.0, 180.0, "Support"]
    attempts = ok(pbx("calls", "show", str(queued["id"]), "--json")).json()["attempts"]
    assert sorted((a["agent"], a["outcome"]) for a in attempts) == [(EXT, "ANSWERED"), (ANA, "CALL_ANSWERED")]
