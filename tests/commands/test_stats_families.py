"""`ringtui stats tags|callers|geo` against figures computed by hand from the history of
tests/commands/test_calls.py (see its docstring), plus c7: Nov 2 14:00 UTC, inbound on Support from
+33612345678, answered by bob after 8 s, talk 40 s, tagged Urgent."""

from __future__ import annotations

import pytest

from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.vocab import CallKind, CallType, Direction, Outcome
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, BOB, NOV_2, SUP
from tests.conftest import ok, refused

base.register_commands()
history = base.history

C7 = base.call("c7", base.at(2, 14), Direction.IN, CallKind.IVR, "+33612345678", type_=CallType.ANSWERED,
               ivr="Support", agent=BOB, wait=8, talk=40, attempts=((BOB, Outcome.ANSWERED),),
               tags=("Urgent",))


@pytest.fixture
def more(history, db_url):
    cli, _ = history
    record_all(engine_for(db_url), [C7])
    return cli


def as_json(cli, *args: str, as_user: str | None = None):
    return ok(cli("stats", *args, "--json", as_user=as_user)).json()


# ---------------------------------------------------------------- S10 tags


def test_tags_count_calls_and_talk_time_most_used_first(more):
    assert as_json(more, "tags") == [
        {"tag": "Urgent", "color": "#888888", "calls": 2, "talk_s": 240.0},  # c3 200 + c7 40
        {"tag": "Sale", "color": "#888888", "calls": 1, "talk_s": 100.0},    # c1
    ]
    assert [row["tag"] for row in as_json(more, "tags", "--sort", "name")] == ["Sale", "Urgent"]
    sales = as_json(more, "tags", "--ivr", "Sales")  # c3 only
    assert sales == [{"tag": "Urgent", "color": "#888888", "calls": 1, "talk_s": 200.0}]
    assert as_json(more, "tags", "--period", "2026-01-01..2026-01-31") == []


def test_tags_on_one_day_tie_by_name(history):
    cli, _ = history
    rows = as_json(cli, "tags", "--period", NOV_2)
    assert [(r["tag"], r["calls"], r["talk_s"]) for r in rows] == [("Sale", 1, 100.0), ("Urgent", 1, 200.0)]


def test_tags_csv_and_table(more):
    lines = ok(more("stats", "tags", "--csv")).stdout.splitlines()
    assert lines[0] == "tag,color,calls,talk_s" and len(lines) == 3
    assert "Urgent" in ok(more("stats", "tags")).stdout


def test_tags_bad_sort_is_refused(more, unchanged):
    with unchanged():
        refused(more("stats", "tags", "--sort", "colour"), "'colour'", "calls or name")
        refused(more("stats", "tags", "--tag", "Nope"), "'Nope'")


# ---------------------------------------------------------------- S13 callers


def test_callers_per_customer_number_by_hand(history):
    cli, _ = history
    rows = as_json(cli, "callers")
    assert rows[0] == {"number": "+33612345678", "calls": 2, "answered": 1, "missed": 1,  # c2 in, c4 out
                       "talk_total_s": 60.0, "talk_min_s": 60.0, "talk_max_s": 60.0, "talk_avg_s": 60.0,
                       "top_agent": ANA}
    assert [(r["number"], r["calls"], r["answered"], r["missed"], r["top_agent"]) for r in rows[1:]] == [
        ("+33611111111", 1, 1, 0, BOB), ("+33622222222", 1, 1, 0, ANA), ("+33699999999", 1, 0, 1, None),
        ("+34612345678", 1, 1, 0, ANA), ("+4915112345678", 1, 0, 1, None)]
    voicemail = rows[-1]
    assert (voicemail["talk_total_s"], voicemail["talk_avg_s"], voicemail["talk_max_s"]) == (0.0, None, None)


def test_callers_talk_min_max_avg_and_top_agent(more):
    top = as_json(more, "callers", "--limit", "1")
    assert top == [{"number": "+33612345678", "calls": 3, "answered": 2, "missed": 1,  # c2 c4 c7
                    "talk_total_s": 100.0, "talk_min_s": 40.0, "talk_max_s": 60.0, "talk_avg_s": 50.0,
                    "top_agent": ANA}]  # ana took c4, bob c7: a tie goes to the first e-mail
    inbound = as_json(more, "callers", "--direction", "in", "--limit", "1")
    assert [(r["number"], r["calls"], r["answered"], r["top_agent"]) for r in inbound] == [
        ("+33612345678", 2, 1, BOB)]  # c2 missed, c7 bob

def test_callers_limit_filters_and_csv(more):
    assert len(as_json(more, "callers", "--limit", "2")) == 2
    assert [r["number"] for r in as_json(more, "callers", "--direction", "out")] == [
        "+33612345678", "+33699999999"]
    assert as_json(more, "callers", as_user=SUP)[0]["number"] in {"+33611111111", "+4915112345678"}
    lines = ok(more("stats", "callers", "--csv")).stdout.splitlines()
    assert lines[0].startswith("number,calls,answered,missed,talk_total_s") and len(lines) == 7


def test_callers_bad_limit_is_refused(more, unchanged):
    with unchanged():
        refused(more("stats", "callers", "--limit", "0"), "limit 0", "1..1000")
        refused(more("stats", "callers", "--period", "someday"), "'someday'")


# ---------------------------------------------------------------- S14 geography


def test_geo_top_countries_and_busiest_zone(history):
    cli, _ = history
    figures = as_json(cli, "geo")
    assert figures == {"countries": [
        {"country": "FR", "calls": 5, "answered": 3},  # c0 c2 c3 c4 c6; answered c0 c3 c4
        {"country": "DE", "calls": 1, "answered": 0},  # c5
        {"country": "ES", "calls": 1, "answered": 1},  # c1
    ], "busiest": "FR"}
    assert as_json(cli, "geo", "--ivr", "Support") == {"countries": [
        {"country": "ES", "calls": 1, "answered": 1}, {"country": "FR", "calls": 1, "answered": 0}],
        "busiest": "ES"}
    assert as_json(cli, "geo", "--period", "2026-01-01..2026-01-31") == {"countries": [], "busiest": None}
    human = ok(cli("stats", "geo")).stdout
    assert "Busiest zone: FR" in human
    assert ok(cli("stats", "geo", "--csv")).stdout.splitlines()[0] == "country,calls,answered"


@pytest.mark.parametrize("command", ["tags", "callers", "geo"])
def test_families_need_the_plan_and_the_statistics_area(history, unchanged, command):
    cli, _ = history
    with unchanged():
        refused(cli("stats", command, "--country", "XX"), "'XX'")
        refused(cli("stats", command, as_user=ANA), ANA, "statistics")
    ok(cli("account", "plan", "smart"))
    with unchanged():
        refused(cli("stats", command), "statistics needs the business or advanced plan")
