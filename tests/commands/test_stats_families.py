"""`ringtui stats tags|callers|geo` against figures computed by hand from the history of
tests/commands/test_calls.py (see its docstring), plus c7: Nov 2 14:00 UTC, inbound on Support from
+33612345678, answered by bob after 8 s, talk 40 s, tagged Urgent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from ringtui.db import engine_for
from ringtui.engine.recorder import record_all
from ringtui.models import SnoozePeriod, User
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


def test_tags_sorted_by_colour_put_one_colour_together(more):
    ok(more("tags", "add", "Billing", "--color", "#000000"))
    c1 = next(row["id"] for row in ok(more("calls", "list", "--tag", "Sale", "--json")).json())
    ok(more("calls", "tag", str(c1), "Billing"))
    assert [row["tag"] for row in as_json(more, "tags")] == ["Urgent", "Billing", "Sale"]
    by_colour = [(row["color"], row["tag"]) for row in as_json(more, "tags", "--sort", "color")]
    assert by_colour == [("#000000", "Billing"), ("#888888", "Sale"), ("#888888", "Urgent")]
    assert [row["tag"] for row in as_json(more, "tags", "--sort", "colour")] == ["Billing", "Sale", "Urgent"]


def test_tags_and_callers_take_the_tag_filter(more):
    """--tag is a FILTERS option of every stats command: here the query itself reads call_tag, so
    the filter's own call_tag must not be mistaken for it (it answered a database failure)."""
    assert as_json(more, "tags", "--tag", "Urgent") == [
        {"tag": "Urgent", "color": "#888888", "calls": 2, "talk_s": 240.0}]  # c3, c7
    ok(more("calls", "tag", str(next(row["id"] for row in ok(more(
        "calls", "list", "--tag", "Urgent", "--ivr", "Sales", "--json")).json())), "Sale"))  # c3
    assert [(r["tag"], r["calls"]) for r in as_json(more, "tags", "--tag", "urgent")] == [
        ("Urgent", 2), ("Sale", 1)]
    rows = as_json(more, "callers", "--tag", "Urgent")
    assert [(r["number"], r["calls"], r["top_tags"]) for r in rows] == [
        ("+33611111111", 1, ["Sale", "Urgent"]), ("+33612345678", 1, ["Urgent"])]


def test_tags_bad_sort_is_refused(more, unchanged):
    with unchanged():
        refused(more("stats", "tags", "--sort", "hue"), "'hue'", "calls, name, color")
        refused(more("stats", "tags", "--tag", "Nope"), "'Nope'")


# ---------------------------------------------------------------- S13 callers


def test_callers_per_customer_number_by_hand(history):
    cli, _ = history
    rows = as_json(cli, "callers")
    assert rows[0] == {"number": "+33612345678", "calls": 2, "answered": 1, "missed": 1,  # c2 in, c4 out
                       "talk_total_s": 60.0, "talk_min_s": 60.0, "talk_max_s": 60.0, "talk_avg_s": 60.0,
                       "received": 1, "transferred": 0, "transfer_ratio": 0.0,  # c2; no transfers
                       "top_agent": ANA, "top_tags": [],
                       "repeat_min_s": None, "repeat_max_s": None, "repeat_avg_s": None}  # one inbound
    assert [(r["number"], r["calls"], r["answered"], r["missed"], r["top_agent"]) for r in rows[1:]] == [
        ("+33611111111", 1, 1, 0, BOB), ("+33622222222", 1, 1, 0, ANA), ("+33699999999", 1, 0, 1, None),
        ("+34612345678", 1, 1, 0, ANA), ("+4915112345678", 1, 0, 1, None)]
    voicemail = rows[-1]
    assert (voicemail["talk_total_s"], voicemail["talk_avg_s"], voicemail["talk_max_s"]) == (0.0, None, None)


def test_callers_talk_min_max_avg_and_top_agent(more):
    top = as_json(more, "callers", "--limit", "1")
    assert top == [{"number": "+33612345678", "calls": 3, "answered": 2, "missed": 1,  # c2 c4 c7
                    "talk_total_s": 100.0, "talk_min_s": 40.0, "talk_max_s": 60.0, "talk_avg_s": 50.0,
                    "received": 2, "transferred": 0, "transfer_ratio": 0.0,
                    "top_agent": ANA,  # ana took c4, bob c7: a tie goes to the first e-mail
                    "top_tags": ["Urgent"],  # c7; repeats: c2 09:00 then c7 14:00
                    "repeat_min_s": 18000.0, "repeat_max_s": 18000.0, "repeat_avg_s": 18000.0}]
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
    assert lines[0].endswith(",top_agent,top_tags,repeat_min_s,repeat_max_s,repeat_avg_s")
    assert lines[1].endswith(f",{ANA},Urgent,18000.0,18000.0,18000.0")


def test_callers_repeat_intervals_leave_anonymous_callers_out(more, db_url):
    record_all(engine_for(db_url), [
        base.call(f"anon{i}", base.at(3, 9 + i), base.IN, base.DIRECT, "anonymous", type_=base.MISSED, wait=5)
        for i in range(3)])
    anonymous = next(r for r in as_json(more, "callers") if r["number"] == "anonymous")
    assert (anonymous["calls"], anonymous["repeat_min_s"], anonymous["repeat_avg_s"]) == (3, None, None)


def test_callers_bad_limit_is_refused(more, unchanged):
    with unchanged():
        refused(more("stats", "callers", "--limit", "0"), "limit 0", "1..1000")
        refused(more("stats", "callers", "--period", "someday"), "'someday'")


# ---------------------------------------------------------------- S14 geography


def test_geo_top_countries_and_busiest_zone(history):
    cli, _ = history
    figures = as_json(cli, "geo")
    assert figures == {"countries": [
        # c0 c2 c3 c4 c6; answered c0 c3 c4; from FR c0 c2 c3, to FR c4 c6
        {"country": "FR", "calls": 5, "answered": 3, "inbound": 3, "outbound": 2},
        {"country": "DE", "calls": 1, "answered": 0, "inbound": 1, "outbound": 0},  # c5
        {"country": "ES", "calls": 1, "answered": 1, "inbound": 1, "outbound": 0},  # c1
    ], "busiest": "FR", "areas": [], "busiest_area": None}  # every customer on a mobile: no area code
    assert as_json(cli, "geo", "--ivr", "Support") == {"countries": [
        {"country": "ES", "calls": 1, "answered": 1, "inbound": 1, "outbound": 0},
        {"country": "FR", "calls": 1, "answered": 0, "inbound": 1, "outbound": 0}], "busiest": "ES",
        "areas": [], "busiest_area": None}
    assert as_json(cli, "geo", "--period", "2026-01-01..2026-01-31") == {
        "countries": [], "busiest": None, "areas": [], "busiest_area": None}
    human = ok(cli("stats", "geo")).stdout
    assert "Busiest zone: FR" in human
    assert ok(cli("stats", "geo", "--csv")).stdout.splitlines()[:2] == [
        "country,calls,answered,inbound,outbound", "FR,5,3,3,2"]


@pytest.mark.parametrize("command", ["tags", "callers", "geo", "surveys"])
def test_families_need_the_plan_and_the_statistics_area(history, unchanged, command):
    cli, _ = history
    with unchanged():
        refused(cli("stats", command, "--country", "XX"), "'XX'")
        refused(cli("stats", command, as_user=ANA), ANA, "statistics")
    ok(cli("account", "plan", "smart"))
    with unchanged():
        refused(cli("stats", command), "statistics needs the business or advanced plan")


# ---------------------------------------------------------------- S11 surveys


def surveyed(call_id: str, hour: int, ivr: str, agent: str, category: str, rating: int):
    event = base.call(call_id, base.at(2, hour), Direction.IN, CallKind.IVR, "+33600000001",
                      type_=CallType.ANSWERED, ivr=ivr, agent=agent, wait=5, talk=30,
                      attempts=((agent, Outcome.ANSWERED),))
    return replace(event, call=replace(event.call, survey_rating=rating, survey_category=category,
                                       survey_question="How was it?"))


@pytest.fixture
def surveys(history, db_url):
    cli, _ = history
    record_all(engine_for(db_url), [surveyed("s1", 15, "Support", ANA, "welcome", 4),
                                    surveyed("s2", 16, "Support", BOB, "welcome", 2),
                                    surveyed("s3", 17, "Sales", BOB, "resolution", 5)])
    return cli


def test_surveys_per_ivr_and_category_and_per_agent(surveys):
    assert as_json(surveys, "surveys") == [
        {"ivr": "Sales", "category": "resolution", "answers": 1, "avg_rating": 5.0},
        {"ivr": "Support", "category": "welcome", "answers": 2, "avg_rating": 3.0},  # (4 + 2) / 2
    ]
    assert as_json(surveys, "surveys", "--by", "agent") == [
        {"agent": ANA, "answers": 1, "avg_rating": 4.0},
        {"agent": BOB, "answers": 2, "avg_rating": 3.5},  # (2 + 5) / 2
    ]
    assert as_json(surveys, "surveys", "--ivr", "Sales", "--by", "agent") == [
        {"agent": BOB, "answers": 1, "avg_rating": 5.0}]
    assert [row["ivr"] for row in as_json(surveys, "surveys", as_user=SUP)] == ["Sales"]
    assert as_json(surveys, "surveys", "--period", "2026-01-01..2026-01-31") == []
    assert "welcome" in ok(surveys("stats", "surveys")).stdout
    lines = ok(surveys("stats", "surveys", "--by", "agent", "--csv")).stdout.splitlines()
    assert lines[0] == "agent,answers,avg_rating" and len(lines) == 3


def test_surveys_history_of_average_ratings(surveys):
    def history(*args: str) -> list[tuple[str, float]]:
        figures = as_json(surveys, "history", "--channel", "surveys", *args)
        return [(point["start"], point["value"]) for point in figures["points"]]

    assert history("--interval", "day") == [("2026-11-01T23:00:00Z", 3.67)]  # Nov 2 in Paris: (4+2+5)/3
    assert history("--interval", "hour") == [
        ("2026-11-02T15:00:00Z", 4.0), ("2026-11-02T16:00:00Z", 2.0), ("2026-11-02T17:00:00Z", 5.0)]
    assert history("--interval", "day", "--ivr", "Support") == [("2026-11-01T23:00:00Z", 3.0)]
    assert history("--interval", "day", "--indicator", "answers") == [("2026-11-01T23:00:00Z", 3)]
    assert history("--interval", "day", "--period", "2026-01-01..2026-01-31") == []
    refused(surveys("stats", "history", "--interval", "day", "--channel", "surveys", "--indicator", "nps"),
            "'nps'", "avg_rating, answers")


def test_surveys_bad_grouping_is_refused(surveys, unchanged):
    with unchanged():
        refused(surveys("stats", "surveys", "--by", "colour"), "'colour'", "ivr or agent")
        refused(surveys("stats", "surveys", "--ivr", "Nowhere"), "Nowhere")


# ---------------------------------------------------------------- S12 snooze


@pytest.fixture
def snoozes(history, db_url):
    """ana: lunch Nov 1 22:30-Nov 2 00:00 UTC and Nov 2 11:00-12:00, lunch Oct 30 10:00-10:10;
    bob: break from Nov 2 22:00 UTC still open, meeting Nov 3 10:00-10:30.
    Nov 2 in Paris is Nov 1 23:00 .. Nov 2 23:00 UTC."""
    cli, _ = history
    with Session(engine_for(db_url)) as db:
        users = dict(db.exec(select(User.email, User.id)).all())
        at = base.at
        db.add_all([
            SnoozePeriod(user_id=users[ANA], reason="lunch", started_at=at(1, 22, 30), ended_at=at(2, 0)),
            SnoozePeriod(user_id=users[ANA], reason="lunch", started_at=at(2, 11), ended_at=at(2, 12)),
            SnoozePeriod(user_id=users[ANA], reason="lunch", started_at=at(30, 10, month=10),
                         ended_at=at(30, 10, 10, month=10)),
            SnoozePeriod(user_id=users[BOB], reason="break", started_at=at(2, 22)),
            SnoozePeriod(user_id=users[BOB], reason="meeting", started_at=at(3, 10), ended_at=at(3, 10, 30)),
        ])
        db.commit()
    return cli


def test_snooze_clipped_to_the_period(snoozes):
    assert as_json(snoozes, "snooze", "--period", NOV_2) == [
        {"agent": ANA, "reason": "lunch", "periods": 2, "snoozed_s": 7200.0},  # 23:00-00:00 + 11:00-12:00
        {"agent": BOB, "reason": "break", "periods": 1, "snoozed_s": 3600.0},  # 22:00-23:00, still open
    ]
    assert as_json(snoozes, "snooze", "--period", NOV_2, "--user", BOB) == [
        {"agent": BOB, "reason": "break", "periods": 1, "snoozed_s": 3600.0}]
    assert as_json(snoozes, "snooze", "--period", NOV_2, "--user", BOB, "--user", ANA) == as_json(
        snoozes, "snooze", "--period", NOV_2)
    ok(snoozes("groups", "create", "Front"))
    ok(snoozes("groups", "create", "Back"))
    ok(snoozes("groups", "add", "Front", ANA))
    ok(snoozes("groups", "add", "Back", BOB))
    assert [row["agent"] for row in as_json(snoozes, "snooze", "--period", NOV_2, "--group", "Back")] == [BOB]
    assert as_json(snoozes, "snooze", "--period", NOV_2, "--group", "Front,Back") == as_json(
        snoozes, "snooze", "--period", NOV_2)
    refused(snoozes("stats", "snooze", "--user", ANA, "--user", "nope@acme.test"), "'nope@acme.test'")
    assert as_json(snoozes, "snooze", as_user=SUP) == []  # granted an IVR, no group: no agents to see
    assert "lunch" in ok(snoozes("stats", "snooze")).stdout


def test_snooze_hours_count_only_those_hours_of_every_day(snoozes):
    # Nov 2 in Paris, 12:00-14:00 local = 11:00-13:00 UTC: only ana's second lunch
    assert as_json(snoozes, "snooze", "--period", NOV_2, "--hours", "12:00-14:00") == [
        {"agent": ANA, "reason": "lunch", "periods": 1, "snoozed_s": 3600.0}]
    # 23:00-01:00 local spans midnight: Nov 1 23:00-Nov 2 00:00 UTC and Nov 2 22:00-23:00 UTC
    assert as_json(snoozes, "snooze", "--period", NOV_2, "--hours", "23:00-01:00") == [
        {"agent": ANA, "reason": "lunch", "periods": 1, "snoozed_s": 3600.0},
        {"agent": BOB, "reason": "break", "periods": 1, "snoozed_s": 3600.0},
    ]
    # no period: every day of the history, 11:00-11:15 local = 10:00-10:15 UTC (CET)
    rows = {(r["agent"], r["reason"]): r for r in as_json(snoozes, "snooze", "--hours", "11:00-11:15")}
    assert rows[(ANA, "lunch")] == {"agent": ANA, "reason": "lunch", "periods": 1, "snoozed_s": 600.0}
    assert rows[(BOB, "meeting")] == {"agent": BOB, "reason": "meeting", "periods": 1, "snoozed_s": 900.0}
    refused(snoozes("stats", "snooze", "--hours", "9-12"), "'9-12'", "HH:MM-HH:MM")


def test_snooze_takes_a_saved_filter_and_refuses_call_only_options_in_it(snoozes, unchanged):
    ok(snoozes("filters", "save", "noon", "--period", NOV_2, "--hours", "12:00-14:00"))
    assert as_json(snoozes, "snooze", "--filter", "noon") == [
        {"agent": ANA, "reason": "lunch", "periods": 1, "snoozed_s": 3600.0}]
    assert as_json(snoozes, "snooze", "--filter", "noon", "--user", BOB) == []
    ok(snoozes("filters", "save", "sales-day", "--period", NOV_2, "--ivr", "Sales"))
    with unchanged():
        refused(snoozes("stats", "snooze", "--filter", "sales-day"), "--ivr",
                "--period, --hours, --group or --user", "saved filter 'sales-day' holds --ivr")


def test_an_open_snooze_counts_up_to_now(snoozes):
    before = datetime.now(UTC)
    rows = {(r["agent"], r["reason"]): r for r in as_json(snoozes, "snooze")}
    after = datetime.now(UTC)
    assert rows[(ANA, "lunch")] == {"agent": ANA, "reason": "lunch", "periods": 3, "snoozed_s": 9600.0}
    assert rows[(BOB, "meeting")]["snoozed_s"] == 1800.0
    opened = base.at(2, 22)
    low, high = (before - opened).total_seconds() - 1, (after - opened).total_seconds() + 1
    assert low <= rows[(BOB, "break")]["snoozed_s"] <= high
    lines = ok(snoozes("stats", "snooze", "--csv")).stdout.splitlines()
    assert lines[0] == "agent,reason,periods,snoozed_s" and len(lines) == 4


def test_snooze_bad_values_are_refused(snoozes, unchanged):
    with unchanged():
        refused(snoozes("stats", "snooze", "--period", "someday"), "'someday'")
        refused(snoozes("stats", "snooze", "--user", "nobody@acme.test"), "nobody@acme.test")
        refused(snoozes("stats", "snooze", "--group", "Night"), "'Night'")
        refused(snoozes("stats", "snooze", as_user=ANA), ANA, "statistics")
    ok(snoozes("account", "plan", "smart"))
    with unchanged():
        refused(snoozes("stats", "snooze"), "statistics needs the business or advanced plan")
