"""The traffic simulator (E5) on a real CallCenter and a fake clock: every call ends once, the same
seed replays the same day, traffic follows the hours and days, people answer, miss, reject, snooze,
answer too late and rate calls, and agents work their shifts."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ringtui.engine.core import actions as act
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.center import CallCenter, Reaction
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.events import (
    AgentStateChanged,
    AttemptOutcomeChanged,
    CallEnded,
    CallStarted,
    CallSummary,
    Event,
)
from ringtui.engine.core.scenario import Scenario, Step
from ringtui.engine.simulator import Behaviour, Simulator
from ringtui.vocab import (
    AgentState,
    AnonymousPolicy,
    CallKind,
    CallType,
    Direction,
    EndedBy,
    Outcome,
    StepType,
    Strategy,
)

ZONE = "Europe/Paris"
LOCAL = ZoneInfo(ZONE)
MONDAY = datetime(2026, 3, 2, tzinfo=LOCAL)  # midnight, local time
TUESDAY = MONDAY + timedelta(days=1)
AGENTS = tuple(f"{name}@acme.test" for name in
               ("ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal", "ivy", "jon"))
IVR_LINE = "+33100000001"
DIRECT_LINE = "+33100000099"  # ann's own number
BLOCKED = "+33162000000"
SHIFT_JITTER = timedelta(minutes=10)  # agents connect and leave up to ten minutes after the hour


def scenario(anonymous: AnonymousPolicy = AnonymousPolicy.REJECT) -> Scenario:
    return Scenario(name="sales", numbers=(IVR_LINE,), anonymous=anonymous, steps=(
        Step(name="welcome", type=StepType.ANNOUNCE, text="Welcome to Acme."),
        Step(name="menu", type=StepType.MENU, text="Sales 1, support 2, message 3.",
             choices={"1": "sales", "2": "support", "3": "messages"}, timeout_s=8, default="support"),
        Step(name="sales", type=StepType.RING, agents=AGENTS[:4], strategy=Strategy.RING_ALL, ring_s=15),
        Step(name="support", type=StepType.QUEUE, agents=AGENTS, strategy=Strategy.LONGEST_IDLE,
             ring_s=15, max_wait_s=180, exit="messages"),
        Step(name="messages", type=StepType.VOICEMAIL, text="Leave a message."),
        Step(name="rating", type=StepType.SURVEY, text="Rate us from 1 to 5.", category="satisfaction"),
    ))


@dataclass
class Run:
    center: CallCenter
    simulator: Simulator
    clock: FakeClock
    events: list[Event]
    actions: list[act.Action]

    def of(self, kind: type) -> list:
        return [item for item in (*self.events, *self.actions) if isinstance(item, kind)]

    def started(self) -> list[CallStarted]:
        return self.of(CallStarted)

    def summaries(self) -> list[CallSummary]:
        return [event.call for event in self.of(CallEnded)]

    def hang_ups(self) -> dict[str, list[act.HangUp]]:
        by_call: dict[str, list[act.HangUp]] = {}
        for hang_up in self.of(act.HangUp):
            by_call.setdefault(hang_up.call_id, []).append(hang_up)
        return by_call

    def finish(self, end: datetime) -> None:
        """Traffic up to `end`, then no new calls and two hours for the last ones to end."""
        self.simulator.run_until(end)
        self.simulator.stop_calls()
        self.simulator.run_until(end + timedelta(hours=2))


def start_simulation(seed: int, start: datetime = MONDAY, *,
                     anonymous: AnonymousPolicy = AnonymousPolicy.REJECT,
                     behaviour: Behaviour | None = None) -> Run:
    clock = FakeClock(start)
    center = CallCenter(clock, time_zone=ZONE, rng=random.Random(seed))
    center.load_agents([AgentConfig(email=email, name=email.split("@")[0]) for email in AGENTS])
    center.load_scenarios([scenario(anonymous)])
    center.load_direct_lines({DIRECT_LINE: AGENTS[0]})
    center.set_blacklist({BLOCKED})
    events: list[Event] = []
    actions: list[act.Action] = []

    def sink(reaction: Reaction) -> None:
        events.extend(reaction.events)
        actions.extend(reaction.actions)

    simulator = Simulator(center, random.Random(seed), inbound_numbers=[IVR_LINE],
                          direct_numbers=[DIRECT_LINE], agents=AGENTS, time_zone=ZONE,
                          blocked_numbers=[BLOCKED], behaviour=behaviour, sink=sink)
    return Run(center, simulator, clock, events, actions)


def simulate(seed: int, start: datetime, days: int, **options) -> Run:
    run = start_simulation(seed, start, **options)
    run.finish(start + timedelta(days=days))
    return run


@pytest.fixture(scope="module")
def weekday() -> Run:
    """One Tuesday."""
    return simulate(11, TUESDAY, 1)


@pytest.fixture(scope="module")
def week() -> Run:
    """Monday to Sunday."""
    return simulate(12, MONDAY, 7)


def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL)


def outcomes(run: Run) -> Counter[Outcome]:
    """Every ring attempt's final outcome, late answers (TOOLATE after the call ended) included."""
    final = {(call.call_id, attempt.agent, attempt.started_at): attempt.outcome
             for call in run.summaries() for attempt in call.attempts}
    for late in run.of(AttemptOutcomeChanged):
        final[(late.call_id, late.agent, late.started_at)] = late.outcome
    return Counter(final.values())


# ---------------------------------------------------------------- every call ends, once


def test_every_call_started_ends_exactly_once(weekday: Run):
    started = Counter(event.call_id for event in weekday.started())
    ended = Counter(call.call_id for call in weekday.summaries())
    assert len(started) > 200, "a weekday brings a few hundred calls"
    assert set(started.values()) == {1}, "a call id started twice"
    assert ended == started
    inbound = [event for event in weekday.started() if event.direction == Direction.IN]
    assert weekday.simulator.calls_started == len(inbound)  # the rest are agents' callbacks


def test_no_call_is_left_once_calls_stop_and_two_hours_pass(weekday: Run):
    assert weekday.center.calls == {}
    snapshot = weekday.center.snapshot()
    assert (snapshot["calls"], snapshot["waiting"]) == ([], [])
    assert all(agent["state"] in ("off", "free", "out_of_schedule") for agent in snapshot["agents"])


def test_no_call_arrives_after_stop_calls():
    run = start_simulation(3, TUESDAY)
    run.simulator.run_until(TUESDAY + timedelta(hours=10))
    before = len(run.started())
    assert before > 20
    stopped_at = run.clock.now()
    run.simulator.stop_calls()
    run.simulator.run_until(TUESDAY + timedelta(hours=14))
    assert len(run.started()) == before
    assert run.center.calls == {}
    assert all(call.ended_at <= stopped_at + timedelta(hours=1) for call in run.summaries())


def test_calls_in_progress_when_calls_stop_go_on_to_their_end():
    run = start_simulation(4, TUESDAY)
    moment = TUESDAY + timedelta(hours=10)
    while not run.center.calls and moment < TUESDAY + timedelta(hours=12):
        moment += timedelta(minutes=1)
        run.simulator.run_until(moment)
    in_progress = set(run.center.calls)
    assert in_progress, "between ten and noon some calls are going on"
    run.simulator.stop_calls()
    run.simulator.run_until(moment + timedelta(hours=2))
    ended = {call.call_id: call for call in run.summaries()}
    assert in_progress <= set(ended)
    assert {ended[call_id].ended_by for call_id in in_progress} <= {EndedBy.CUSTOMER, EndedBy.AGENT,
                                                                    EndedBy.SYSTEM}


# ---------------------------------------------------------------- the same seed, the same day


def dicts(run: Run) -> list[dict]:
    return [event.to_dict() for event in run.events]


def test_the_same_seed_replays_the_same_events():
    first, second = simulate(7, TUESDAY, 1), simulate(7, TUESDAY, 1)
    assert len(first.events) > 1000
    assert dicts(first) == dicts(second)
    assert first.actions == second.actions


def test_another_seed_gives_another_day():
    assert dicts(simulate(7, TUESDAY, 1)) != dicts(simulate(8, TUESDAY, 1))


def test_running_in_small_steps_as_the_live_engine_does_keeps_every_call_whole():
    """The live engine calls run_until every few milliseconds: calls still start and end once each."""
    run = start_simulation(9, TUESDAY)
    for minutes in range(0, 24 * 60, 7):
        run.simulator.run_until(TUESDAY + timedelta(minutes=minutes))
    run.finish(TUESDAY + timedelta(days=1))
    started = Counter(event.call_id for event in run.started())
    assert len(started) > 200 and set(started.values()) == {1}
    assert Counter(call.call_id for call in run.summaries()) == started
    assert run.center.calls == {}


# ---------------------------------------------------------------- traffic follows hours and days


def test_mornings_bring_more_calls_than_nights(weekday: Run):
    hours = Counter(local(event.at).hour for event in weekday.started())
    morning = sum(hours[hour] for hour in range(9, 12))
    night = sum(hours[hour] for hour in range(0, 6))
    assert morning > 5 * max(night, 1), f"09-12: {morning} calls, 00-06: {night}"


def test_saturday_is_lighter_than_tuesday_and_sunday_the_lightest(week: Run):
    days = Counter(local(event.at).weekday() for event in week.started())
    monday, tuesday, saturday, sunday = days[0], days[1], days[5], days[6]
    assert tuesday > 2 * saturday, days
    assert saturday > sunday > 0, days
    assert sunday == min(days[day] for day in range(7)), days
    assert monday >= tuesday * 0.8, days


def test_more_calls_per_busy_hour_bring_more_calls():
    quiet = simulate(5, TUESDAY, 1, behaviour=Behaviour(calls_per_busy_hour=20))
    busy = simulate(5, TUESDAY, 1, behaviour=Behaviour(calls_per_busy_hour=80))
    assert len(busy.started()) > 2.5 * len(quiet.started())


# ---------------------------------------------------------------- what calls come to


def test_every_call_type_appears_over_a_week(week: Run):
    types = Counter(call.type for call in week.summaries())
    assert set(types) == set(CallType), types


def test_the_people_answer_miss_reject_snooze_and_answer_too_late(week: Run):
    seen = outcomes(week)
    for outcome in (Outcome.ANSWERED, Outcome.REJECTED, Outcome.SNOOZE, Outcome.NOTCONNECTED,
                    Outcome.TOOLATE):
        assert seen[outcome] > 0, f"no {outcome} in {seen}"
    assert seen[Outcome.NO_ANSWER] + seen[Outcome.CALL_ANSWERED] > 0, seen
    assert week.of(AttemptOutcomeChanged), "no agent answered after a call had ended"


def test_answered_calls_have_talk_and_others_none(week: Run):
    for call in week.summaries():
        assert call.wait_s >= 0, call
        if call.type == CallType.ANSWERED:
            assert call.talk_s > 0 and call.agent in AGENTS, call
            expected = Outcome.ANSWERED if call.direction == Direction.IN else Outcome.OUT
            answers = [a.outcome for a in call.attempts].count(expected)
            # a transfer's target who answered, and a transferrer who took the call back, answered too
            assert answers == 1 or (call.transfers and answers in (2, 3)), call
        else:
            assert call.talk_s == 0 and call.answered_at is None, call


def test_callers_reach_both_the_ivr_and_the_direct_line(week: Run):
    kinds = Counter((event.kind, event.to_number, event.agent) for event in week.started())
    assert kinds[(CallKind.IVR, IVR_LINE, None)] > kinds[(CallKind.DIRECT, DIRECT_LINE, AGENTS[0])] > 0, kinds


def test_callers_dial_again(week: Run):
    callers = Counter(event.from_number for event in week.started() if event.from_number != "anonymous")
    assert any(count > 1 for number, count in callers.items() if number != BLOCKED)


# ---------------------------------------------------------------- refused callers


def refused(run: Run, call_id: str) -> bool:
    return any(hang_up.cause == 603 for hang_up in run.hang_ups().get(call_id, []))


def test_anonymous_callers_are_refused_when_the_ivr_rejects_them(week: Run):
    anonymous = [e for e in week.started() if e.from_number == "anonymous" and e.to_number == IVR_LINE]
    assert len(anonymous) >= 3, "the simulator sends a few anonymous calls"
    summaries = {call.call_id: call for call in week.summaries()}
    for event in anonymous:
        call = summaries[event.call_id]
        assert refused(week, event.call_id), event
        assert (call.type, call.ended_by, call.attempts) == (CallType.MISSED, EndedBy.SYSTEM, ()), call


def test_anonymous_callers_get_through_when_the_ivr_allows_them():
    run = simulate(12, MONDAY, 7, anonymous=AnonymousPolicy.ALLOW)
    anonymous = [e.call_id for e in run.started() if e.from_number == "anonymous"]
    assert len(anonymous) >= 3
    assert not any(refused(run, call_id) for call_id in anonymous)


def test_blacklisted_callers_are_refused(week: Run):
    blocked = [event.call_id for event in week.started() if event.from_number == BLOCKED]
    assert len(blocked) >= 3, "the simulator sends a few calls from the blocked number"
    assert all(refused(week, call_id) for call_id in blocked)
    reasons = {hang_up.reason for call_id in blocked for hang_up in week.hang_ups()[call_id]}
    assert reasons == {f"{BLOCKED} is blacklisted"}


def test_nobody_else_is_refused(week: Run):
    """Anonymous calls to the direct line are put through: only the IVR rejects them."""
    others = [event for event in week.started() if event.from_number != BLOCKED
              and not (event.from_number == "anonymous" and event.to_number == IVR_LINE)]
    assert any(event.from_number == "anonymous" for event in others)
    assert not any(refused(week, event.call_id) for event in others)


# ---------------------------------------------------------------- agents' shifts


def connected_moments(run: Run) -> list[tuple[str, datetime]]:
    return [(event.email, local(event.at)) for event in run.of(AgentStateChanged)
            if event.state != AgentState.OFF]


def test_agents_are_connected_only_in_shift_hours(week: Run):
    moments = connected_moments(week)
    assert moments
    for email, moment in moments:
        last = {5: time(13, 0)}.get(moment.weekday(), time(19, 0))
        latest = (datetime.combine(moment.date(), last) + SHIFT_JITTER).time()
        assert moment.weekday() != 6, f"{email} connected on Sunday {moment}"
        assert time(8, 0) <= moment.time() <= latest, f"{email} connected at {moment}"


def test_every_agent_works_each_weekday_and_a_few_on_saturday_morning(week: Run):
    by_day: dict[int, set[str]] = {}
    for email, moment in connected_moments(week):
        by_day.setdefault(moment.weekday(), set()).add(email)
    for day in range(5):
        assert by_day.get(day) == set(AGENTS), f"day {day}: {by_day.get(day)}"
    assert 0 < len(by_day.get(5, ())) < len(AGENTS), by_day.get(5)


def test_nobody_is_connected_at_three_in_the_morning_on_a_weekday():
    run = start_simulation(6, MONDAY)
    run.simulator.run_until(TUESDAY + timedelta(hours=3))
    agents = run.center.snapshot()["agents"]
    assert [(a["email"], a["state"], a["interface"]) for a in agents] == [(e, "off", None) for e in AGENTS]
    run.simulator.run_until(TUESDAY + timedelta(hours=10))
    working = [a for a in run.center.snapshot()["agents"] if a["state"] != "off"]
    assert len(working) == len(AGENTS), "at ten every agent is at work"


def test_agents_at_work_when_the_simulation_starts_are_connected_at_once():
    run = start_simulation(6, TUESDAY + timedelta(hours=10, minutes=30))
    run.simulator.run_until(TUESDAY + timedelta(hours=10, minutes=31))
    assert all(agent["interface"] for agent in run.center.snapshot()["agents"])


def test_agents_take_breaks(week: Run):
    changes = week.of(AgentStateChanged)
    snoozes = Counter(event.reason for event in changes if event.state == AgentState.SNOOZE)
    assert set(snoozes) <= {"Lunch", "Break", "Meeting", "Training"}
    assert len(snoozes) >= 2, snoozes


# ---------------------------------------------------------------- surveys


def test_survey_ratings_are_one_to_five(week: Run):
    ratings = Counter(call.survey_rating for call in week.summaries() if call.survey_rating is not None)
    assert set(ratings) <= {1, 2, 3, 4, 5}, ratings
    assert len(ratings) >= 3 and sum(ratings.values()) > 20, ratings


def test_only_answered_ivr_calls_are_rated(week: Run):
    rated = [call for call in week.summaries() if call.survey_rating is not None]
    assert all(call.type == CallType.ANSWERED and call.kind == CallKind.IVR for call in rated)
    assert {call.survey_category for call in rated} == {"satisfaction"}



def test_a_few_answered_calls_are_transferred_the_same_way_for_the_same_seed(week: Run):
    transferred = [call for call in week.summaries() if call.transfers]
    answered = [call for call in week.summaries() if call.type == CallType.ANSWERED
                and call.direction == Direction.IN]
    assert 0.01 < len(transferred) / len(answered) < 0.08
    assert {t.answered for call in transferred for t in call.transfers} == {True, False}
    for call in transferred:
        [transfer] = call.transfers
        assert transfer.by in AGENTS and transfer.to_agent in AGENTS and transfer.to_agent != transfer.by
        assert call.agent == transfer.by  # the record's agent is the one who answered first
    again = simulate(12, MONDAY, 7)
    assert [c.transfers for c in again.summaries() if c.transfers] == [c.transfers for c in transferred]


def test_a_call_the_feed_transfers_to_a_number_is_answered_there_and_ends_once():
    """The live demo's x to an external number: the simulated number answers at once (no telephony
    to wait for), the caller talks to it and hangs up; the transfer is recorded answered."""
    run = start_simulation(4, TUESDAY)
    moment, connected = TUESDAY + timedelta(hours=10), None
    while connected is None and moment < TUESDAY + timedelta(hours=12):
        moment += timedelta(minutes=1)
        run.simulator.run_until(moment)
        connected = next((call for call in run.center.calls.values() if call.agent is not None
                          and call.direction == Direction.IN), None)
    assert connected is not None, "between ten and noon an agent is on a call"
    handed = run.center.transfer(connected.call_id, connected.agent, "+33698765432")
    for action in handed.actions:
        run.simulator.respond(action)
    run.simulator.run_until(moment + timedelta(hours=2))
    [summary] = [call for call in run.summaries() if call.call_id == connected.call_id]
    assert [(t.to_number, t.answered) for t in summary.transfers] == [("+33698765432", True)]
    assert summary.forwarded_to == "+33698765432" and summary.type == CallType.ANSWERED
