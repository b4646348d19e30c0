"""`ringtui stats calls` and `stats leaderboard` against figures computed by hand from the
history of tests/commands/test_calls.py (see its docstring)."""

from __future__ import annotations

import pytest

from ringtui.db import engine_for
from ringtui.engine.core.events import CallStarted
from ringtui.engine.recorder import record_all
from ringtui.vocab import CallKind, Direction
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, BOB, NOV_2, SUP
from tests.conftest import ok, refused

base.register_commands()
history = base.history

CALLS_FIELDS = ["total_calls", "inbound_calls", "outbound_calls", "answered_calls", "missed_calls",
                "service_level", "total_duration_s", "avg_wait_s", "max_wait_s", "avg_abandon_s",
                "avg_talk_in_s", "max_talk_in_s", "avg_talk_out_s", "max_talk_out_s", "unprocessed_missed",
                "avg_callback_s"]
LEADERBOARD_FIELDS = {"agent", "out", "answered", "toolate", "call_answered", "no_answer", "rejected",
                      "incall", "snooze", "planning", "notconnected", "sip_phone_error", "talk_s"}
ZERO = dict.fromkeys(LEADERBOARD_FIELDS - {"agent", "talk_s"}, 0)


def stats(cli, *args: str, as_user: str | None = None) -> dict:
    return ok(cli("stats", "calls", *args, "--json", as_user=as_user)).json()


def test_one_day_figures_by_hand(history):
    cli, _ = history
    figures = stats(cli, "--period", NOV_2)
    assert list(figures) == CALLS_FIELDS
    assert figures == {
        "total_calls": 6,                       # c0 c1 c2 c3 c4 c5
        "inbound_calls": 5, "outbound_calls": 1,
        "answered_calls": 3,                    # c0 c1 c3
        "missed_calls": 2,                      # c2 missed, c5 voicemail
        "service_level": 0.6,
        "total_duration_s": 410.0,              # 50 + 100 + 200 + 60
        "avg_wait_s": 11.7,                     # (5 + 20 + 10) / 3
        "max_wait_s": 40.0,
        "avg_abandon_s": 35.0,                  # (40 + 30) / 2
        "avg_talk_in_s": 116.7,                 # (50 + 100 + 200) / 3
        "max_talk_in_s": 200.0,
        "avg_talk_out_s": 60.0, "max_talk_out_s": 60.0,
        "unprocessed_missed": 2,
        "avg_callback_s": 560.0,                # c2 ended 09:00:40, ana called back 09:10:00; c5 never
    }


def test_all_history_and_empty_selection(history):
    cli, _ = history
    everything = stats(cli)
    assert (everything["total_calls"], everything["outbound_calls"]) == (7, 2)
    assert everything["avg_talk_out_s"] == 30.0  # (60 + 0) / 2: talk OUT averages every outbound call
    empty = stats(cli, "--period", "2026-01-01..2026-01-31")
    assert empty["total_calls"] == 0 and empty["total_duration_s"] == 0.0
    assert all(empty[name] is None
               for name in ("service_level", "avg_wait_s", "max_wait_s", "avg_callback_s"))


def test_only_missed_calls(history):
    cli, _ = history
    figures = stats(cli, "--period", NOV_2, "--type", "missed")
    assert (figures["total_calls"], figures["missed_calls"], figures["service_level"]) == (1, 1, 0.0)
    assert (figures["avg_abandon_s"], figures["avg_wait_s"], figures["avg_callback_s"]) == (40.0, None, 560.0)


def test_filters_narrow_the_figures(history):
    cli, _ = history
    morning = stats(cli, "--period", NOV_2, "--hours", "09:00-12:00")  # c1 c2 c4
    assert (morning["total_calls"], morning["service_level"], morning["total_duration_s"]) == (3, 0.5, 160.0)
    sales = stats(cli, "--ivr", "Sales")  # c3 c5
    assert (sales["inbound_calls"], sales["answered_calls"], sales["avg_abandon_s"]) == (2, 1, 30.0)
    assert stats(cli, "--tag", "Sale")["total_calls"] == 1
    assert stats(cli, "--country", "FR", "--period", NOV_2)["total_calls"] == 4  # c0 c2 c3 c4
    assert stats(cli, "--direction", "out")["max_talk_out_s"] == 60.0
    assert stats(cli, "--scope", "direct", "--period", NOV_2)["total_calls"] == 2  # c0 c4


NOT_ANSWERED = dict.fromkeys(["toolate", "call_answered", "no_answer", "rejected", "incall", "snooze",
                              "planning", "notconnected", "sip_phone_error", "no_agent_rung"], 0)


def test_a_single_ivr_adds_why_calls_were_not_answered_and_the_longest_abandon(history):
    cli, _ = history
    support = stats(cli, "--ivr", "Support")  # c2 missed after 40 s: ana did not answer, bob rejected
    assert list(support) == [*CALLS_FIELDS, "max_abandon_s", "not_answered"]
    assert support["max_abandon_s"] == 40.0
    assert support["not_answered"] == NOT_ANSWERED | {"no_answer": 1, "rejected": 1}
    sales = stats(cli, "--ivr", "Sales")  # c5 to voicemail after 30 s, bob in snooze
    assert (sales["max_abandon_s"], sales["not_answered"]) == (30.0, NOT_ANSWERED | {"snooze": 1})
    answered_only = stats(cli, "--ivr", "Sales", "--type", "answered")
    assert (answered_only["max_abandon_s"], answered_only["not_answered"]) == (None, NOT_ANSWERED)
    ok(cli("filters", "save", "sales", "--ivr", "Sales"))
    assert stats(cli, "--filter", "sales")["not_answered"] == sales["not_answered"]
    assert "not answered" in ok(cli("stats", "calls", "--ivr", "Support")).stdout
    assert "max_abandon_s" not in stats(cli)  # several IVRs: the contract's keys only


def test_service_level_within_a_threshold(history):
    cli, _ = history
    # Nov 2 inbound: c0 answered after 5 s, c3 after 10 s, c1 after 20 s, c2 missed, c5 voicemail
    within_10 = stats(cli, "--period", NOV_2, "--threshold", "10")
    assert (within_10["service_level_threshold_s"], within_10["service_level_within"]) == (10, 0.4)
    assert stats(cli, "--period", NOV_2, "--threshold", "20")["service_level_within"] == 0.6
    assert stats(cli, "--ivr", "Support", "--threshold", "30")["service_level_within"] == 0.5  # c1 of c1 c2
    assert stats(cli, "--direction", "out", "--threshold", "30")["service_level_within"] is None
    assert "service_level_within" not in stats(cli)
    refused(cli("stats", "calls", "--threshold", "0"), "threshold 0", "1..3600")
    assert cli("stats", "calls", "--threshold", "soon").exit_code == 2


def test_supervisor_figures_cover_granted_ivrs_only(history):
    cli, _ = history
    figures = stats(cli, as_user=SUP)
    assert (figures["total_calls"], figures["answered_calls"], figures["missed_calls"]) == (2, 1, 1)


def test_human_output_names_the_indicators(history):
    cli, _ = history
    assert "service level" in ok(cli("stats", "calls", "--period", NOV_2)).stdout


def test_leaderboard_counts_every_outcome_per_agent(history):
    cli, _ = history
    rows = ok(cli("stats", "leaderboard", "--period", NOV_2, "--json")).json()
    assert all(set(row) == LEADERBOARD_FIELDS for row in rows)
    assert rows == [
        {**ZERO, "agent": ANA, "answered": 2, "out": 1, "no_answer": 1, "incall": 1, "talk_s": 210.0},
        {**ZERO, "agent": BOB, "answered": 1, "call_answered": 1, "rejected": 1, "snooze": 1,
         "talk_s": 200.0},
    ]
    whole = {row["agent"]: row for row in ok(cli("stats", "leaderboard", "--json")).json()}
    assert whole[BOB]["out"] == 1 and whole[BOB]["talk_s"] == 200.0
    lines = ok(cli("stats", "leaderboard", "--csv")).stdout.splitlines()
    assert lines[0].startswith("agent,out,answered,toolate,call_answered") and len(lines) == 3


def test_leaderboard_for_a_supervisor_and_an_ivr(history):
    cli, _ = history
    rows = ok(cli("stats", "leaderboard", "--json", as_user=SUP)).json()
    assert [(r["agent"], r["answered"], r["incall"], r["snooze"]) for r in rows] == [
        (BOB, 1, 0, 1), (ANA, 0, 1, 0)]
    support = ok(cli("stats", "leaderboard", "--ivr", "Support", "--json")).json()
    assert [(r["agent"], r["answered"], r["no_answer"], r["rejected"]) for r in support] == [
        (ANA, 1, 1, 0), (BOB, 0, 0, 1)]


def test_leaderboard_for_two_ivrs_adds_up_both(history):
    cli, _ = history

    def board(*args: str) -> dict[str, dict]:
        rows = ok(cli("stats", "leaderboard", *args, "--json")).json()
        return {row["agent"]: row for row in rows}

    both, support, sales = board("--ivr", "Support", "--ivr", "Sales"), board("--ivr", "Support"), board(
        "--ivr", "Sales")
    assert both == board("--ivr", "Sales,Support")
    assert [(agent, row["answered"], row["no_answer"], row["incall"], row["rejected"], row["snooze"])
            for agent, row in both.items()] == [(ANA, 1, 1, 1, 0, 0), (BOB, 1, 0, 0, 1, 1)]
    for agent in (ANA, BOB):
        for key in ("answered", "call_answered", "no_answer", "rejected", "incall", "snooze", "talk_s"):
            assert both[agent][key] == support[agent][key] + sales[agent][key], (agent, key)


@pytest.mark.parametrize("command", ["calls", "leaderboard"])
def test_statistics_need_the_business_plan_and_the_statistics_area(history, command):
    cli, _ = history
    refused(cli("stats", command, "--period", "someday"), "'someday'")
    refused(cli("stats", command, as_user=ANA), ANA, "statistics")
    ok(cli("account", "plan", "smart"))
    refused(cli("stats", command), "statistics needs the business or advanced plan")


def test_a_call_in_progress_is_listed_but_not_counted_until_it_ends(history, db_url):
    cli, _ = history
    record_all(engine_for(db_url), [CallStarted(
        at=base.at(2, 15), call_id="live", direction=Direction.IN, kind=CallKind.IVR,
        from_number="+33655555555", to_number=base.LINE, ivr="Sales")])
    live = ok(cli("calls", "list", "--period", NOV_2, "--limit", "3", "--json")).json()
    assert [(row["started_at"], row["type"]) for row in live][1] == ("2026-11-02T15:00:00Z", None)
    figures = stats(cli, "--period", NOV_2)
    assert (figures["total_calls"], figures["inbound_calls"], figures["service_level"]) == (6, 5, 0.6)
    assert [row["id"] for row in ok(cli("missed", "list", "--json")).json()] != []
    assert all(row["type"] is not None for row in ok(cli("missed", "list", "--json")).json())
