"""S6 per-IVR refinement by redirection: `--redirection STEP` keeps the calls a step of the --ivr
IVR handled last (call_record.ivr_step, written by the recorder). Figures computed by hand from
the small history below; the roll-ups cannot answer it, so every statistic reads call_record."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from sqlmodel import Session, select

from ringtui.db import engine_for
from ringtui.engine.core.events import CallEnded
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord
from ringtui.vocab import Outcome
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, ANSWERED, BOB, IN, IVR, MISSED, VOICEMAIL, at, call
from tests.conftest import ok, refused

base.register_commands()

FRONT, MESSAGES, FRONT_ANSWERED = "front", "messages", (ANA, Outcome.ANSWERED)
FRONT_MISSED = (ANA, Outcome.NO_ANSWER)


def handled_by(event: CallEnded, step: str | None) -> CallEnded:
    return replace(event, call=replace(event.call, ivr_step=step))


HISTORY = [
    handled_by(
        call(
            "r1",
            at(2, 9),
            IN,
            IVR,
            "+33611111111",
            type_=ANSWERED,
            ivr="Support",
            agent=ANA,
            wait=10,
            talk=100,
            attempts=(FRONT_ANSWERED,),
        ),
        FRONT,
    ),
    handled_by(
        call(
            "r2",
            at(2, 10),
            IN,
            IVR,
            "+33622222222",
            type_=MISSED,
            ivr="Support",
            wait=30,
            attempts=(FRONT_MISSED,),
        ),
        FRONT,
    ),
    handled_by(
        call(
            "r3",
            at(2, 11),
            IN,
            IVR,
            "+33633333333",
            type_=VOICEMAIL,
            ivr="Support",
            wait=45,
            attempts=(FRONT_MISSED,),
        ),
        MESSAGES,
    ),
    handled_by(
        call(
            "r4",
            at(3, 9),
            IN,
            IVR,
            "+33644444444",
            type_=ANSWERED,
            ivr="Support",
            agent=ANA,
            wait=20,
            talk=50,
            attempts=(FRONT_ANSWERED,),
        ),
        FRONT,
    ),
    handled_by(
        call(
            "r5",
            at(2, 12),
            IN,
            IVR,
            "+33655555555",
            type_=ANSWERED,
            ivr="Sales",
            agent=BOB,
            wait=5,
            talk=60,
            attempts=((BOB, Outcome.ANSWERED),),
        ),
        "sales",
    ),
    # recorded before the engine knew steps, or imported from a CDR: no redirection
    call("r6", at(2, 13), IN, IVR, "+33666666666", type_=MISSED, ivr="Support", wait=12),
]


@pytest.fixture
def routed(cli, db_url):
    """Support: front (ring ana) then messages (voicemail); Sales: one ring step."""
    base.build_center(cli)
    ok(cli("ivr", "step", "add", "Support", "--type", "ring", "--name", FRONT, "--agent", ANA))
    ok(cli("ivr", "step", "add", "Support", "--type", "voicemail", "--name", MESSAGES))
    ok(cli("ivr", "step", "add", "Sales", "--type", "ring", "--name", "sales", "--agent", BOB))
    engine = engine_for(db_url)
    record_all(engine, HISTORY)
    with Session(engine) as db:
        ids = dict(db.exec(select(CallRecord.call_id, CallRecord.id)).all())
    return cli, {record_id: call_id for call_id, record_id in ids.items()}


def stats(cli, *args: str) -> dict:
    return ok(cli("stats", "calls", *args, "--json")).json()


def listed(cli, names: dict[int, str], *args: str) -> list[str]:
    return [names[row["id"]] for row in ok(cli("calls", "list", *args, "--json")).json()]


def test_stats_count_only_the_calls_the_step_handled_last(routed):
    cli, _ = routed
    front = stats(cli, "--ivr", "Support", "--redirection", FRONT)  # r1 r2 r4
    assert (front["total_calls"], front["answered_calls"], front["missed_calls"]) == (3, 2, 1)
    assert (front["total_duration_s"], front["avg_wait_s"], front["avg_abandon_s"]) == (150.0, 15.0, 30.0)
    assert (front["max_abandon_s"], front["not_answered"]["no_answer"]) == (30.0, 1)
    both = stats(cli, "--ivr", "Support", "--redirection", FRONT, "--redirection", MESSAGES)  # + r3
    assert (both["total_calls"], both["missed_calls"], both["avg_abandon_s"]) == (4, 2, 37.5)
    one_day = stats(cli, "--ivr", "Support", "--redirection", FRONT, "--period", "2026-11-02..2026-11-02")
    assert one_day["total_calls"] == 2  # r1 r2
    assert stats(cli, "--ivr", "Support")["total_calls"] == 5  # r6 has no step: only the IVR keeps it


def test_step_names_are_matched_whatever_their_case(routed):
    cli, _ = routed
    assert stats(cli, "--ivr", "Support", "--redirection", "FRONT")["total_calls"] == 3


def test_calls_list_export_and_leaderboard_are_refined_too(routed):
    cli, names = routed
    assert listed(cli, names, "--ivr", "Support", "--redirection", MESSAGES) == ["r3"]
    assert listed(cli, names, "--ivr", "Support", "--redirection", FRONT) == ["r4", "r2", "r1"]
    exported = ok(cli("export", "calls", "--ivr", "Support", "--redirection", MESSAGES)).stdout
    assert [row["id"] for row in csv.DictReader(io.StringIO(exported))] == [
        str(record_id) for record_id, name in names.items() if name == "r3"
    ]
    board = ok(cli("stats", "leaderboard", "--ivr", "Support", "--redirection", FRONT, "--json")).json()
    ana = next(row for row in board if row["agent"] == ANA)
    assert (ana["answered"], ana["no_answer"]) == (2, 1)
    history = ok(
        cli("stats", "history", "--interval", "day", "--ivr", "Support", "--redirection", FRONT, "--json")
    ).json()
    assert sum(point["value"] for point in history["points"]) == 3


def test_calls_show_names_the_step(routed):
    cli, names = routed
    by_name = {name: record_id for record_id, name in names.items()}
    assert ok(cli("calls", "show", str(by_name["r3"]), "--json")).json()["ivr_step"] == MESSAGES
    assert ok(cli("calls", "show", str(by_name["r6"]), "--json")).json()["ivr_step"] is None


def test_a_saved_filter_keeps_the_redirection(routed):
    cli, _ = routed
    ok(cli("filters", "save", "front-desk", "--ivr", "Support", "--redirection", FRONT))
    saved = next(f for f in ok(cli("filters", "list", "--json")).json() if f["name"] == "front-desk")
    assert saved["options"] == {"ivr": "Support", "redirection": FRONT}
    assert stats(cli, "--filter", "front-desk")["total_calls"] == 3


@pytest.mark.parametrize("command", [("calls", "list"), ("stats", "calls"), ("export", "calls")])
def test_an_unknown_step_is_refused_naming_it_and_the_ivr_steps(routed, unchanged, command):
    cli, _ = routed
    with unchanged():
        refused(
            cli(*command, "--ivr", "Support", "--redirection", "sales"),
            "'sales'",
            "Support",
            f"{FRONT}, {MESSAGES}",
        )


@pytest.mark.parametrize("command", [("calls", "list"), ("stats", "calls"), ("stats", "leaderboard")])
def test_a_redirection_without_an_ivr_is_refused(routed, unchanged, command):
    cli, _ = routed
    with unchanged():
        refused(cli(*command, "--redirection", FRONT), "'front'", "--ivr")
        refused(cli("filters", "save", "loose", "--redirection", FRONT), "--ivr")


def test_messages_statistics_refuse_a_saved_filter_with_a_redirection(routed):
    cli, _ = routed
    ok(cli("filters", "save", "front-desk", "--ivr", "Support", "--redirection", FRONT))
    refused(cli("stats", "sms", "--filter", "front-desk"), "--redirection", "apply to calls")
