"""Property-style replay: random traffic, random agent behaviour, random clock; every call ends exactly once.

Also the refusals of bad input: unknown calls and agents raise the core's own errors,
digits where no menu listens are ignored with a reason.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.errors import AgentUnavailable, CoreError, DuplicateCall, UnknownAgent, UnknownCall
from ringtui.engine.core.events import AttemptOutcomeChanged, CallAnswered, CallEnded, CallStarted
from ringtui.vocab import AnonymousPolicy, CallType, Direction, Outcome, SkipCondition, Strategy

from .conftest import ANN, BOB, CALLER, CID, ivr, make_center, step

DAN, EVE = "dan@acme.test", "eve@acme.test"
AGENTS = [
    AgentConfig(email=ANN, groups=("sales",), after_call_work_s=5),
    AgentConfig(email=BOB, groups=("sales",), max_channels=2, call_waiting=True),
    AgentConfig(email=CID, groups=("support",), weight=3),
    AgentConfig.of(DAN, groups=("support",), schedule={"mon": [["09:00", "09:04"]]}),
    AgentConfig(email=EVE, groups=("sales", "support"), ring_s=8),
]
SCENARIOS = [
    ivr(step("hello", "announce", text="hello"),
        step("menu", "menu", choices={"1": "sales", "2": "support"}, timeout_s=6, default="support"),
        step("sales", "queue", groups=("sales",), strategy=Strategy.LONGEST_IDLE, ring_s=12, max_wait_s=90,
             exit="vm"),
        step("support", "ring", groups=("support",), strategy=Strategy.ROUND_ROBIN, ring_s=10,
             skip_if=frozenset({SkipCondition.SNOOZE, SkipCondition.OFFLINE})),
        step("vm", "voicemail"),
        step("rate", "survey", text="rate us"),
        number="+33100000001", vip_numbers=frozenset({"+33600000001"}), record=True),
    ivr(step("q", "queue", agents=(ANN, BOB, CID, DAN, EVE), strategy=Strategy.WEIGHTED_RANDOM, ring_s=9,
             max_wait_s=40),
        step("fw", "forward", number="+34911000000"),
        name="support", number="+33100000002", anonymous=AnonymousPolicy.REJECT),
    ivr(step("all", "ring", agents=(ANN, BOB, CID), ring_s=15), step("q", "queue", agents=(EVE,),
        strategy=Strategy.FEWEST_CALLS, max_wait_s=30), name="hotline", number="+33100000003"),
]
NUMBERS = ["+33100000001", "+33100000002", "+33100000003", "+33140000001", "+33140000002"]
CALLERS = ["+33600000001", "+33611111111", "+33622222222", "anonymous", "+33666666666"]
EMAILS = [ANN, BOB, CID, DAN, EVE]


def replay(seed: int, steps: int = 400):
    rng = random.Random(seed)
    from ringtui.engine.core.clock import FakeClock

    from .conftest import MONDAY_9
    clock = FakeClock(MONDAY_9)
    center = make_center(clock, agents=AGENTS, scenarios=SCENARIOS, seed=seed, auto_snooze_after=3)
    center.load_direct_lines({"+33140000001": CID, "+33140000002": EVE})
    center.set_blacklist({"+33666666666"})
    started: list[str] = []
    for index in range(steps):
        live = list(center.center.calls)
        call = rng.choice(live) if live and rng.random() < 0.9 else rng.choice(started or ["nobody"])
        ringing = [a.agent for a in center.center.calls[call].live_attempts()] if call in live else []
        email = rng.choice(ringing) if ringing and rng.random() < 0.7 else rng.choice(EMAILS)
        roll = rng.random()
        try:
            if roll < 0.18:
                call_id = f"c{index}"
                started.append(call_id)
                center.call_arrived(call_id, rng.choice(CALLERS), rng.choice(NUMBERS))
            elif roll < 0.22:
                call_id = f"o{index}"
                started.append(call_id)
                center.outbound_call(call_id, email, rng.choice(CALLERS))
            elif roll < 0.27:
                center.outbound_answered(call)
            elif roll < 0.37:
                center.dtmf(call, rng.choice("123459*"))
            elif roll < 0.50:
                center.agent_answered(call, email)
            elif roll < 0.55:
                center.agent_rejected(call, email)
            elif roll < 0.57:
                center.agent_ring_failed(call, email, "500")
            elif roll < 0.64:
                center.agent_hung_up(call, center.center.calls[call].agent or email)
            elif roll < 0.70:
                center.caller_hung_up(call)
            elif roll < 0.73:
                center.snooze(email, "break")
            elif roll < 0.77:
                center.unsnooze(email)
            elif roll < 0.79:
                center.agent_disconnected(email)
            elif roll < 0.83:
                center.agent_connected(email, rng.choice(["sip", "web", "ios"]))
            elif roll < 0.85:
                center.take_waiting_call(call, email)
            elif roll < 0.86:
                center.whisper(call, "boss@acme.test")
            elif roll < 0.87:
                kept = [a for a in AGENTS if rng.random() < 0.8]
                center.load_agents(kept)
            elif roll < 0.88:
                center.load_agents(AGENTS)
            else:
                clock.advance(rng.choice([0.5, 1, 3, 8, 15, 40]))
                center.advance()
        except (UnknownCall, UnknownAgent, AgentUnavailable, KeyError):
            pass  # a random pick of an ended call or an agent dropped from the configuration
        for agent in center.center.agents.values():
            assert len(agent.ringing) <= agent.config.max_channels  # (an agent may dial out whatever rings)
            assert agent.ringing <= set(center.center.calls) and agent.in_calls <= set(center.center.calls)
    center.load_agents(AGENTS)
    for call in list(center.center.calls):
        center.caller_hung_up(call)
    clock.advance(1000)
    center.advance()
    return center, started


@pytest.mark.parametrize("seed", range(25))
def test_every_call_starts_once_and_ends_once_with_every_attempt_closed(seed):
    center, started = replay(seed)
    starts = Counter(e.call_id for e in center.events if isinstance(e, CallStarted))
    ends = Counter(e.call.call_id for e in center.events if isinstance(e, CallEnded))
    assert starts == ends
    assert set(starts) <= set(started) and all(count == 1 for count in starts.values())
    assert len(starts) > 20
    assert center.center.calls == {} and len(center.center.waiting) == 0
    for agent in center.center.agents.values():
        assert agent.ringing == set() and agent.in_calls == set(), agent.email
    answers = Counter(e.call_id for e in center.events if isinstance(e, CallAnswered))
    for event in center.events:
        if not isinstance(event, CallEnded):
            continue
        summary = event.call
        assert all(a.outcome in set(Outcome) and a.ended_at >= a.started_at for a in summary.attempts)
        answered = [a for a in summary.attempts if a.outcome == Outcome.ANSWERED]
        assert len(answered) <= 1
        assert (summary.type == CallType.ANSWERED) == (summary.answered_at is not None)
        assert answers[summary.call_id] == (1 if summary.answered_at else 0)
        if summary.direction == Direction.OUT:
            assert [a.outcome for a in summary.attempts] == [Outcome.OUT]
        elif summary.agent is not None:
            assert answered and answered[0].agent == summary.agent
        if any(a.outcome == Outcome.CALL_ANSWERED for a in summary.attempts):
            assert answered


def test_the_replays_reach_every_outcome_and_call_type():
    outcomes, types = set(), set()
    for seed in range(25):
        center, _ = replay(seed)
        for event in center.events:
            if isinstance(event, CallEnded):
                outcomes |= {a.outcome for a in event.call.attempts}
                types.add(event.call.type)
            if isinstance(event, AttemptOutcomeChanged):
                outcomes.add(event.outcome)
    assert types == set(CallType)
    assert outcomes == set(Outcome)


# ------------------------------------------------------------------ bad input


def test_unknown_call_raises_unknown_call_naming_it(clock):
    center = make_center(clock, scenarios=SCENARIOS[2:])
    for poke in (lambda: center.dtmf("nope", "1"), lambda: center.caller_hung_up("nope"),
                 lambda: center.agent_answered("nope", ANN), lambda: center.agent_rejected("nope", ANN),
                 lambda: center.whisper("nope", ANN)):
        with pytest.raises(UnknownCall, match="'nope'"):
            poke()


def test_unknown_agent_raises_unknown_agent_naming_them(clock):
    center = make_center(clock, scenarios=SCENARIOS[2:])
    call, _ = center.call(to_number="+33100000003")
    for poke in (lambda: center.agent_answered(call, "who@acme.test"),
                 lambda: center.snooze("who@acme.test", "x"),
                 lambda: center.agent_connected("who@acme.test", "sip"),
                 lambda: center.outbound_call("o1", "who@acme.test", CALLER)):
        with pytest.raises(UnknownAgent, match=r"who@acme\.test"):
            poke()
    assert isinstance(UnknownAgent("x"), CoreError)


def test_a_digit_outside_a_menu_is_ignored_with_the_reason(clock):
    center = make_center(clock, scenarios=SCENARIOS[2:])
    call, _ = center.call(to_number="+33100000003")
    before = center.center.snapshot()
    ignored = center.dtmf(call, "5")
    assert "'5'" in ignored.ignored and "'all'" in ignored.ignored and "not in a menu" in ignored.ignored
    assert ignored.actions == [] and ignored.events == []
    assert center.center.snapshot() == before


def test_the_same_call_id_twice_is_refused(clock):
    center = make_center(clock, scenarios=SCENARIOS[2:])
    center.call(to_number="+33100000003", call_id="dup")
    with pytest.raises(DuplicateCall, match="'dup'"):
        center.call(to_number="+33100000003", call_id="dup")


def test_actions_of_due_timers_are_not_lost_when_an_input_is_refused(clock):
    center = make_center(clock, scenarios=SCENARIOS[2:])
    center.call(to_number="+33100000003")
    clock.advance(15)
    with pytest.raises(UnknownCall):
        center.caller_hung_up("nope")  # the ring timed out meanwhile: its actions wait for the next input
    assert [type(a).__name__ for a in center.advance().actions].count("CancelRing") == 3


def test_taking_a_call_needs_a_free_agent(clock):
    center = make_center(clock, scenarios=SCENARIOS[2:])
    call, _ = center.call(to_number="+33100000003")
    center.wait(15)  # the ring step is over: the call waits for eve, who is not an agent here
    center.snooze(ANN, "lunch")
    with pytest.raises(AgentUnavailable, match="snooze"):
        center.take_waiting_call(call, ANN)
    assert center.center.calls[call].phase == "queued"
