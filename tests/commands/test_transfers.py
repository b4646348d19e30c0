"""Transfers (S6 "how transfers are counted"): `--transfers all|exclude|only` on the FILTERS commands,
the `transferred` column of `calls list` and `export calls`, and `calls show` listing the hand-ons.

The history of tests/commands/test_calls.py with call_transfer rows written directly:
  c1  Support, answered by ana: ana -> bob (blind) at 08:31, bob answered         transferred once
  c3  Sales, answered by bob:  bob -> ana (attended) at 12:01, answered,
                               then ana -> +33140000000 (blind) at 12:02:30, answered   twice
  c4  outbound by ana:         ana -> +33155555555 (blind) at 09:10:30, not answered  to a number
The other calls (c0 c2 c5 c6) were never transferred.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord, CallTransfer, User
from ringtui.services import stats
from ringtui.services.base import operation
from ringtui.services.filters import FilterOptions
from tests.commands import test_calls as base
from tests.commands import test_export  # noqa: F401  (registers the export command)
from tests.commands.test_calls import ANA, BOB, NOV_2, SUP, listed, names
from tests.commands.test_stats_families import C7
from tests.conftest import ok, refused

base.register_commands()
history = base.history

EXTERNAL, UNANSWERED_NUMBER = "+33140000000", "+33155555555"
# (call, seconds after its start, kind, by, to agent, to number, answered)
TRANSFERS = [
    ("c1", 60, "blind", ANA, BOB, None, True),
    ("c3", 60, "attended", BOB, ANA, None, True),
    ("c3", 150, "blind", ANA, None, EXTERNAL, True),
    ("c4", 30, "blind", ANA, None, UNANSWERED_NUMBER, False),
]
TRANSFERRED = {"c1", "c3", "c4"}


def add_transfers(db_url: str, transfers=TRANSFERS) -> None:
    record = CallRecord.__table__
    with engine_for(db_url).begin() as connection:
        starts = {call_id: (id_, started) for call_id, id_, started in connection.execute(
            select(record.c.call_id, record.c.id, record.c.started_at))}
        users = dict(connection.execute(select(User.__table__.c.email, User.__table__.c.id)).all())
        connection.execute(insert(CallTransfer.__table__), [
            {"call_record_id": starts[call][0], "transferred_at": starts[call][1] + timedelta(seconds=after),
             "kind": kind, "by_user_id": users[by], "to_user_id": users.get(to_user),
             "to_number": to_number, "answered": answered}
            for call, after, kind, by, to_user, to_number, answered in transfers])


@pytest.fixture
def transfers(history, db_url):
    """The account, the history and its transfers: (cli, {call_id: record id}, db_url)."""
    cli, ids = history
    add_transfers(db_url)
    return cli, ids, db_url


def stats_calls(cli, *args: str) -> dict:
    return ok(cli("stats", "calls", *args, "--json")).json()


def board(cli, *args: str) -> dict[str, dict]:
    rows = ok(cli("stats", "leaderboard", *args, "--json")).json()
    return {row["agent"]: row for row in rows}


# ---------------------------------------------------------------- --transfers


def test_stats_calls_counts_only_or_without_the_transferred_calls(transfers):
    cli, _, _ = transfers
    only = stats_calls(cli, "--period", NOV_2, "--transfers", "only")  # c1 c3 c4
    assert only == {
        "total_calls": 3, "inbound_calls": 2, "outbound_calls": 1, "answered_calls": 2, "missed_calls": 0,
        "service_level": 1.0, "total_duration_s": 360.0,  # 100 + 200 + 60
        "avg_wait_s": 15.0, "max_wait_s": 20.0, "avg_abandon_s": None,  # waits 20 and 10
        "avg_talk_in_s": 150.0, "max_talk_in_s": 200.0, "avg_talk_out_s": 60.0, "max_talk_out_s": 60.0,
        "unprocessed_missed": 0, "avg_callback_s": None,
    }
    excluded = stats_calls(cli, "--period", NOV_2, "--transfers", "exclude")  # c0 c2 c5
    assert excluded == {
        "total_calls": 3, "inbound_calls": 3, "outbound_calls": 0, "answered_calls": 1, "missed_calls": 2,
        "service_level": 0.3333, "total_duration_s": 50.0,
        "avg_wait_s": 5.0, "max_wait_s": 40.0, "avg_abandon_s": 35.0,  # c2 40 s, c5 30 s
        "avg_talk_in_s": 50.0, "max_talk_in_s": 50.0, "avg_talk_out_s": None, "max_talk_out_s": None,
        "unprocessed_missed": 2, "avg_callback_s": 560.0,
    }
    everything = stats_calls(cli, "--period", NOV_2)
    assert stats_calls(cli, "--period", NOV_2, "--transfers", "all") == everything
    assert everything["total_calls"] == only["total_calls"] + excluded["total_calls"]
    # a call transferred twice is one call
    assert stats_calls(cli, "--ivr", "Sales", "--transfers", "only")["total_calls"] == 1


def test_calls_list_and_missed_list_follow_the_transfers_filter(transfers):
    cli, ids, _ = transfers
    assert names(listed(cli, "--transfers", "only"), ids) == ["c3", "c4", "c1"]
    assert names(listed(cli, "--transfers", "exclude"), ids) == ["c6", "c5", "c2", "c0"]
    assert names(listed(cli, "--transfers", "ALL"), ids) == names(listed(cli), ids)
    missed = ok(cli("missed", "list", "--transfers", "exclude", "--json")).json()
    assert names(missed, ids) == ["c5", "c2"]
    assert ok(cli("missed", "list", "--transfers", "only", "--json")).json() == []


def test_leaderboard_follows_the_transfers_filter(transfers):
    cli, _, _ = transfers
    only = board(cli, "--transfers", "only")  # ring attempts of c1 c3 c4
    ana, bob = only[ANA], only[BOB]
    assert (ana["answered"], ana["incall"], ana["out"], ana["talk_s"]) == (1, 1, 1, 160.0)
    assert (bob["answered"], bob["call_answered"], bob["talk_s"]) == (1, 1, 200.0)
    excluded = board(cli, "--transfers", "exclude")  # c0 c2 c5 c6
    assert (excluded[ANA]["answered"], excluded[ANA]["no_answer"], excluded[ANA]["talk_s"]) == (1, 1, 50.0)
    assert (excluded[BOB]["rejected"], excluded[BOB]["snooze"], excluded[BOB]["out"],
            excluded[BOB]["answered"]) == (1, 1, 1, 0)
    assert board(cli, "--transfers", "all") == board(cli)


def test_export_follows_the_transfers_filter(transfers):
    cli, ids, _ = transfers
    rows = ok(cli("export", "calls", "--transfers", "only", "--format", "json")).json()
    assert names(rows, ids) == ["c3", "c4", "c1"]
    assert all(row["transferred"] for row in rows)
    text = ok(cli("export", "calls", "--transfers", "exclude")).stdout
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert header[-1] == "transferred"
    assert [line[-1] for line in lines] == ["no"] * 4


def test_other_statistics_take_the_transfers_filter(transfers):
    cli, _, _ = transfers
    history = ok(cli("stats", "history", "--interval", "day", "--transfers", "only", "--json")).json()
    assert sum(point["value"] for point in history["points"]) == 3
    heatmap = ok(cli("stats", "heatmap", "--transfers", "exclude", "--json")).json()
    assert sum(cell["value"] for cell in heatmap["cells"]) == 4
    geo = ok(cli("stats", "geo", "--transfers", "only", "--json")).json()
    assert {row["country"]: row["calls"] for row in geo["countries"]} == {"FR": 2, "ES": 1}
    tags = ok(cli("stats", "tags", "--transfers", "only", "--json")).json()
    assert {row["tag"] for row in tags} == {"Sale", "Urgent"}


def test_a_saved_filter_keeps_the_transfers_choice(transfers):
    cli, ids, _ = transfers
    saved = ok(cli("filters", "save", "handed-on", "--transfers", "only", "--json")).json()
    assert saved["options"] == {"transfers": "only"}
    assert names(listed(cli, "--filter", "handed-on"), ids) == ["c3", "c4", "c1"]
    assert names(listed(cli, "--filter", "handed-on", "--transfers", "all"), ids) == names(listed(cli), ids)
    refused(cli("stats", "sms", "--filter", "handed-on"), "--transfers")


def test_a_bad_transfers_value_is_refused_naming_it(transfers):
    cli, _, _ = transfers
    for command in (("stats", "calls"), ("calls", "list"), ("stats", "leaderboard"), ("export", "calls"),
                    ("filters", "save", "nope")):
        result = cli(*command, "--transfers", "sometimes")
        assert result.exit_code == 2, command
        assert "sometimes" in result.stderr and "only" in result.stderr
    assert "nope" not in ok(cli("filters", "list")).stdout


def test_the_supervisor_sees_only_granted_transferred_calls(transfers):
    cli, ids, _ = transfers
    assert names(listed(cli, "--transfers", "only", as_user=SUP), ids) == ["c3"]


# ---------------------------------------------------------------- roll-ups and raw SQL


def figures(db_url: str, source: str, **options: str):
    with operation(Settings(database_url=db_url)) as op:
        return (stats.call_stats(op, FilterOptions(**options), source=source),
                stats.leaderboard(op, FilterOptions(**options), source=source),
                stats.call_heatmap(op, None, FilterOptions(**options), source=source))


def test_transfers_all_is_answered_from_the_roll_ups_with_the_raw_figures(transfers):
    _, _, db_url = transfers
    raw = figures(db_url, "raw", transfers="all", period=NOV_2)
    assert figures(db_url, "rollup", transfers="all", period=NOV_2) == raw
    assert figures(db_url, "auto", period=NOV_2) == raw


def test_excluding_or_keeping_only_transfers_is_answered_raw(transfers):
    _, _, db_url = transfers
    for counted in ("only", "exclude"):
        assert figures(db_url, "auto", transfers=counted) == figures(db_url, "raw", transfers=counted)
        with pytest.raises(Exception, match="transfers other than all"):
            figures(db_url, "rollup", transfers=counted)


# ---------------------------------------------------------------- calls list, calls show


def test_calls_list_marks_the_transferred_calls(transfers):
    cli, ids, _ = transfers
    rows = listed(cli)
    assert {name: row["transferred"] for name, row in zip(names(rows, ids), rows, strict=True)} == {
        name: name in TRANSFERRED for name in ("c0", "c1", "c2", "c3", "c4", "c5", "c6")}
    table = list(csv.DictReader(io.StringIO(ok(cli("calls", "list", "--csv")).stdout)))
    assert [row["transferred"] for row in table] == ["no", "no", "yes", "yes", "no", "yes", "no"]


def test_calls_show_lists_each_transfer_in_order(transfers):
    cli, ids, _ = transfers
    shown = ok(cli("calls", "show", str(ids["c3"]), "--json")).json()
    assert shown["transferred"] is True
    assert shown["transfers"] == [
        {"at": "2026-11-02T12:01:00Z", "kind": "attended", "by": BOB, "to": ANA, "answered": True},
        {"at": "2026-11-02T12:02:30Z", "kind": "blind", "by": ANA, "to": EXTERNAL, "answered": True},
    ]
    c4 = ok(cli("calls", "show", str(ids["c4"]), "--json")).json()["transfers"]
    assert c4 == [{"at": "2026-11-02T09:10:30Z", "kind": "blind", "by": ANA, "to": UNANSWERED_NUMBER,
                   "answered": False}]
    untouched = ok(cli("calls", "show", str(ids["c0"]), "--json")).json()
    assert (untouched["transferred"], untouched["transfers"]) == (False, [])
    text = ok(cli("calls", "show", str(ids["c3"]))).stdout
    assert "Transfers" in text and "attended" in text and EXTERNAL in text
    assert "Transfers" not in ok(cli("calls", "show", str(ids["c0"]))).stdout


# ---------------------------------------------------------------- S13 callers


def test_callers_count_transferred_calls_and_the_share_of_received_ones(transfers):
    cli, _, db_url = transfers
    record_all(engine_for(db_url), [C7])  # +33612345678 again, inbound, answered by bob ...
    add_transfers(db_url, [("c7", 20, "blind", BOB, ANA, None, False)])  # ... who handed it on
    rows = {row["number"]: row for row in ok(cli("stats", "callers", "--json")).json()}
    figures = {number: (row["calls"], row["received"], row["transferred"], row["transfer_ratio"])
               for number, row in rows.items()}
    assert figures == {
        "+33612345678": (3, 2, 2, 0.5),    # c2 in, c4 out (transferred), c7 in (transferred): 1 of 2 received
        "+34612345678": (1, 1, 1, 1.0),    # c1
        "+33611111111": (1, 1, 1, 1.0),    # c3, transferred twice: one call
        "+33622222222": (1, 1, 0, 0.0),    # c0
        "+4915112345678": (1, 1, 0, 0.0),  # c5
        "+33699999999": (1, 0, 0, None),   # c6 outbound only: nothing received
    }
    only = {row["number"]: row["transferred"] for row in ok(cli(
        "stats", "callers", "--transfers", "only", "--json")).json()}
    assert only == {"+33612345678": 2, "+34612345678": 1, "+33611111111": 1}
    header = ok(cli("stats", "callers", "--csv")).stdout.splitlines()[0]
    assert ",received,transferred,transfer_ratio," in header
    assert "transferred" in ok(cli("stats", "callers")).stdout
