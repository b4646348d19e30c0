"""The recorder writes exactly one call record per call, with its attempts, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from ringtui.db import engine_for
from ringtui.engine.core.events import (
    AttemptSummary,
    CallAnswered,
    CallEnded,
    CallStarted,
    CallSummary,
    TransferSummary,
)
from ringtui.engine.recorder import Recorder, close_orphans
from ringtui.models import CallRecord, CallTag, RingAttempt, SurveyAnswer
from ringtui.vocab import CallKind, CallType, Direction, EndedBy, Outcome, TransferKind
from tests.conftest import ok

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CALLER = "+34612345678"
LINE = "+33144951479"


@pytest.fixture
def center(account, db_url):
    ok(account("ivr", "create", "Standard"))
    ok(account("tags", "add", "Sale"))
    for email in ("ana@acme.test", "bob@acme.test"):
        ok(account("users", "add", email))
    return engine_for(db_url)


def started(call_id: str, at: datetime = T0) -> CallStarted:
    return CallStarted(at=at, call_id=call_id, direction=Direction.IN, kind=CallKind.IVR,
                       from_number=CALLER, to_number=LINE, ivr="Standard")


def answered_summary(call_id: str) -> CallSummary:
    return CallSummary(
        call_id=call_id, direction=Direction.IN, kind=CallKind.IVR, from_number=CALLER, to_number=LINE,
        started_at=T0, ended_at=T0 + timedelta(seconds=95), type=CallType.ANSWERED,
        ended_by=EndedBy.CUSTOMER, ivr="Standard", agent="ana@acme.test",
        answered_at=T0 + timedelta(seconds=15), wait_s=15, talk_s=80,
        attempts=(
            AttemptSummary("bob@acme.test", T0 + timedelta(seconds=5), T0 + timedelta(seconds=15),
                           Outcome.CALL_ANSWERED),
            AttemptSummary("ana@acme.test", T0 + timedelta(seconds=5), T0 + timedelta(seconds=15),
                           Outcome.ANSWERED),
        ),
        survey_rating=4, survey_category="support", survey_question="How did we do?", tags=("Sale",),
    )


def records(engine) -> list[CallRecord]:
    with Session(engine) as db:
        return list(db.exec(select(CallRecord).order_by(CallRecord.id)))


def count(engine, model) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(model)).one()


def test_a_call_opens_then_closes_one_record_with_everything(center):
    recorder = Recorder(center)
    recorder.handle(started("c1"))
    assert recorder.flush() == 1
    [opened] = records(center)
    assert (opened.ended_at, opened.type, opened.caller_country) == (None, None, "ES")
    recorder.handle(CallAnswered(at=T0 + timedelta(seconds=15), call_id="c1", agent="ana@acme.test",
                                 wait_s=15))
    recorder.handle(CallEnded(at=T0 + timedelta(seconds=95), call=answered_summary("c1")))
    recorder.flush()
    [closed] = records(center)
    assert (closed.type, closed.wait_s, closed.talk_s, closed.ended_by) == ("answered", 15, 80, "customer")
    assert closed.answered_at == T0 + timedelta(seconds=15)
    assert closed.processed_at is None
    with Session(center) as db:
        outcomes = sorted(db.exec(select(RingAttempt.outcome)))
        assert outcomes == ["ANSWERED", "CALL_ANSWERED"]
        assert db.exec(select(SurveyAnswer.rating)).one() == 4
    assert count(center, CallTag) == 1


def test_a_call_that_ends_in_the_same_batch_it_starts_has_one_record(center):
    recorder = Recorder(center)
    recorder.handle(started("c2"))
    recorder.handle(CallEnded(at=T0, call=answered_summary("c2")))
    recorder.flush()
    assert [r.call_id for r in records(center)] == ["c2"]


def test_crash_recovery_closes_open_records_once(center):
    recorder = Recorder(center)
    recorder.handle(started("talking"))
    recorder.handle(started("waiting"))
    recorder.handle(CallAnswered(at=T0 + timedelta(seconds=10), call_id="talking", agent="ana@acme.test",
                                 wait_s=10))
    recorder.flush()
    # the engine dies here; a new one starts a minute later
    restart = T0 + timedelta(seconds=70)
    assert sorted(close_orphans(center, restart)) == ["talking", "waiting"]
    by_id = {r.call_id: r for r in records(center)}
    assert (by_id["talking"].type, by_id["talking"].talk_s) == ("answered", 60)
    assert (by_id["waiting"].type, by_id["waiting"].wait_s) == ("missed", 70)
    assert {r.ended_by for r in by_id.values()} == {"engine_restart"}
    assert close_orphans(center, restart + timedelta(hours=1)) == []
    assert count(center, CallRecord) == 2


def test_a_failing_batch_writes_nothing(center):
    recorder = Recorder(center)
    recorder.handle(started("dup"))
    recorder.flush()
    recorder.handle(started("fresh"))
    recorder.handle(started("dup"))  # the same call opened twice: the batch must not half-apply
    with pytest.raises(IntegrityError):
        recorder.flush()
    assert [r.call_id for r in records(center)] == ["dup"]


def test_a_late_answer_after_the_end_turns_the_attempt_into_toolate(center):
    from ringtui.engine.core.events import AttemptOutcomeChanged

    summary = answered_summary("c3")
    recorder = Recorder(center)
    recorder.handle(started("c3"))
    recorder.handle(CallEnded(at=summary.ended_at, call=summary))
    recorder.flush()
    bob = summary.attempts[0]
    recorder.handle(AttemptOutcomeChanged(at=summary.ended_at, call_id="c3", agent=bob.agent,
                                          started_at=bob.started_at, outcome=Outcome.TOOLATE))
    recorder.flush()
    with Session(center) as db:
        assert sorted(db.exec(select(RingAttempt.outcome))) == ["ANSWERED", "TOOLATE"]


def test_snooze_history_opens_and_closes_periods_once(center, account):
    from ringtui.engine.core.events import AgentStateChanged
    from ringtui.models import SnoozePeriod
    from ringtui.vocab import AgentState

    def state(minute: int, email: str, value: AgentState, reason: str | None = None) -> AgentStateChanged:
        return AgentStateChanged(at=T0 + timedelta(minutes=minute), email=email, state=value, reason=reason,
                                 since=T0 + timedelta(minutes=minute))

    ok(account("users", "snooze", "bob@acme.test", "--reason", "Meeting"))  # opened by the CLI
    recorder = Recorder(center)
    for event in (state(0, "ana@acme.test", AgentState.SNOOZE, "Lunch"),
                  state(1, "bob@acme.test", AgentState.SNOOZE, "Meeting"),
                  state(30, "ana@acme.test", AgentState.OFF),  # logged out while in snooze: still snoozing
                  state(45, "ana@acme.test", AgentState.FREE)):
        recorder.handle(event)
    recorder.flush()
    with Session(center) as db:
        periods = {(p.reason, p.ended_at is None) for p in db.exec(select(SnoozePeriod))}
        ana = db.exec(select(SnoozePeriod).where(SnoozePeriod.reason == "Lunch")).one()
    assert periods == {("Lunch", False), ("Meeting", True)}
    assert ana.ended_at - ana.started_at == timedelta(minutes=45)


def test_a_batch_mixing_calls_still_going_and_calls_over_writes_each_right(center):
    recorder = Recorder(center)
    recorder.handle(started("going"))
    recorder.handle(started("over"))
    recorder.handle(CallEnded(at=T0, call=answered_summary("over")))
    recorder.flush()
    by_id = {r.call_id: r for r in records(center)}
    assert (by_id["going"].type, by_id["going"].ended_at) == (None, None)
    assert (by_id["over"].type, by_id["over"].talk_s, by_id["over"].ended_by) == ("answered", 80, "customer")
    with Session(center) as db:
        attempts = db.exec(select(RingAttempt).where(RingAttempt.call_record_id == by_id["over"].id)).all()
        assert len(attempts) == 2


def test_a_transferred_call_lands_with_its_transfer_and_the_targets_attempt_in_one_record(center):
    """Ana answers, hands the call to Bob, Bob answers: one record (Ana's, the whole talk), Bob's ANSWERED
    attempt, one call_transfer row; the first answer stays the record's even when written mid-call."""
    import random

    from ringtui.engine.core.agents import AgentConfig
    from ringtui.engine.core.center import CallCenter
    from ringtui.engine.core.clock import FakeClock
    from ringtui.engine.core.scenario import Scenario, Step
    from ringtui.models import CallTransfer, User
    from ringtui.vocab import StepType

    clock = FakeClock(T0)
    core = CallCenter(clock, rng=random.Random(1))
    recorder = Recorder(center)
    for reaction in (
        core.load_agents([AgentConfig(email="ana@acme.test"), AgentConfig(email="bob@acme.test")]),
        core.load_scenarios([Scenario(name="Standard", numbers=(LINE,), steps=(
            Step(name="ring", type=StepType.RING, agents=("ana@acme.test",), ring_s=20),))]),
        core.agent_connected("ana@acme.test", "sip"), core.agent_connected("bob@acme.test", "sip"),
        core.call_arrived("t1", CALLER, LINE),
    ):
        for event in reaction.events:
            recorder.handle(event)

    def step(seconds: float, reaction_of) -> None:
        clock.advance(seconds)
        for event in reaction_of().events:
            recorder.handle(event)

    step(5, lambda: core.agent_answered("t1", "ana@acme.test"))
    step(40, lambda: core.transfer("t1", "ana@acme.test", "bob@acme.test"))
    step(3, lambda: core.agent_answered("t1", "bob@acme.test"))
    recorder.flush()  # mid-call: Bob's answer must not replace Ana's
    [going] = records(center)
    assert going.answered_at == T0 + timedelta(seconds=5)
    step(60, lambda: core.caller_hung_up("t1"))
    recorder.flush()
    [record] = records(center)
    with Session(center) as db:
        users = dict(db.exec(select(User.email, User.id)).all())
        [transfer] = db.exec(select(CallTransfer)).all()
        attempts = db.exec(select(RingAttempt.user_id, RingAttempt.outcome).where(
            RingAttempt.call_record_id == record.id).order_by(RingAttempt.id)).all()
    assert (record.type, record.user_id, record.wait_s, record.talk_s) == (
        "answered", users["ana@acme.test"], 5, 103)
    assert (transfer.call_record_id, transfer.kind, transfer.by_user_id, transfer.to_user_id,
            transfer.to_number, transfer.answered, transfer.transferred_at) == (
        record.id, "blind", users["ana@acme.test"], users["bob@acme.test"], None, True,
        T0 + timedelta(seconds=45))
    assert attempts == [(users["ana@acme.test"], "ANSWERED"), (users["bob@acme.test"], "ANSWERED")]


def test_an_agent_taking_their_transferred_call_back_counts_it_once_on_the_leaderboard(center):
    """Ana answers, hands the call to Bob who lets it ring, the recall rings Ana who takes it back:
    the leaderboard (roll-ups and raw alike) shows one answered call and one talk time for Ana,
    Bob's unanswered ring, and the record says the transfer was not answered."""
    import random

    from ringtui.config import Settings
    from ringtui.engine.core.agents import AgentConfig
    from ringtui.engine.core.center import CallCenter
    from ringtui.engine.core.clock import FakeClock
    from ringtui.engine.core.scenario import Scenario, Step
    from ringtui.models import CallTransfer
    from ringtui.services import stats
    from ringtui.services.base import operation
    from ringtui.services.filters import FilterOptions
    from ringtui.vocab import StepType

    clock = FakeClock(T0)
    core = CallCenter(clock, rng=random.Random(1))
    recorder = Recorder(center)

    def step(seconds: float, reaction_of) -> None:
        clock.advance(seconds)
        for event in reaction_of().events:
            recorder.handle(event)

    step(0, lambda: core.load_agents([AgentConfig(email="ana@acme.test"),
                                      AgentConfig(email="bob@acme.test", ring_s=15)]))
    step(0, lambda: core.load_scenarios([Scenario(name="Standard", numbers=(LINE,), steps=(
        Step(name="ring", type=StepType.RING, agents=("ana@acme.test",), ring_s=20),))]))
    step(0, lambda: core.agent_connected("ana@acme.test", "sip"))
    step(0, lambda: core.agent_connected("bob@acme.test", "sip"))
    step(0, lambda: core.call_arrived("r1", CALLER, LINE))
    step(5, lambda: core.agent_answered("r1", "ana@acme.test"))
    step(40, lambda: core.transfer("r1", "ana@acme.test", "bob@acme.test"))
    step(15, core.advance)  # Bob's 15 s are over: the recall rings Ana
    assert core.agents["ana@acme.test"].ringing == {"r1"}
    step(4, lambda: core.agent_answered("r1", "ana@acme.test"))
    step(60, lambda: core.caller_hung_up("r1"))
    recorder.flush()
    [record] = records(center)
    assert (record.type, record.talk_s) == ("answered", 119)
    with Session(center) as db:
        [transfer] = db.exec(select(CallTransfer)).all()
    assert transfer.answered is False
    settings = Settings(database_url=center.url.render_as_string(hide_password=False))
    day = FilterOptions(period="2026-11-02..2026-11-03")
    for source in ("rollup", "raw"):
        with operation(settings) as op:
            board = {row["agent"]: row for row in stats.leaderboard(
                op, day, now=T0 + timedelta(hours=3), source=source)}
        ana, bob = board["ana@acme.test"], board["bob@acme.test"]
        assert (ana["answered"], ana["no_answer"], ana["talk_s"]) == (1, 0, 119), source
        assert (bob["answered"], bob["no_answer"], bob["talk_s"]) == (0, 1, 0), source


def test_a_transfer_to_an_external_number_is_a_row_with_the_number(center):
    summary = CallSummary(
        call_id="x1", direction=Direction.IN, kind=CallKind.IVR, from_number=CALLER, to_number=LINE,
        started_at=T0, ended_at=T0 + timedelta(seconds=95), type=CallType.ANSWERED,
        ended_by=EndedBy.CUSTOMER, ivr="Standard", agent="ana@acme.test", answered_at=T0, talk_s=95,
        transfers=(TransferSummary(at=T0 + timedelta(seconds=30), by="ana@acme.test", kind=TransferKind.BLIND,
                                   to_number="+33698765432", answered=True),))
    recorder = Recorder(center)
    recorder.handle(CallEnded(at=summary.ended_at, call=summary))
    recorder.flush()
    from ringtui.models import CallTransfer

    with Session(center) as db:
        [row] = db.exec(select(CallTransfer)).all()
    assert (row.to_user_id, row.to_number, row.answered) == (None, "+33698765432", True)
