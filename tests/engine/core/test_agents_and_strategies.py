"""Agents' states (after-call work, channels, call waiting, auto-snooze) and the selection strategies."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ringtui.engine.core.actions import HangUp
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.events import AgentStateChanged
from ringtui.engine.core.hours import is_within, week_hours
from ringtui.vocab import AgentState, Outcome, Strategy

from .conftest import ANN, BOB, CID, MONDAY_9, ivr, make_center, rung, step

EVE_ = "eve@acme.test"

# ------------------------------------------------------------------ clock and hours


def test_fake_clock_moves_only_forward_and_only_when_told():
    clock = FakeClock(MONDAY_9)
    assert clock.now() == MONDAY_9
    assert clock.advance(90) == datetime(2026, 1, 5, 9, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(MONDAY_9)
    with pytest.raises(ValueError, match="no time zone"):
        FakeClock(datetime(2026, 1, 5, 9, 0))


def test_week_hours_in_a_time_zone_end_excluded():
    from zoneinfo import ZoneInfo
    hours = week_hours({"mon": [["09:00", "18:00"]]})
    paris = ZoneInfo("Europe/Paris")
    assert is_within(hours, datetime(2026, 1, 5, 8, 0, tzinfo=UTC), paris)  # 09:00 Paris
    assert not is_within(hours, datetime(2026, 1, 5, 17, 0, tzinfo=UTC), paris)  # 18:00 Paris
    assert not is_within(hours, datetime(2026, 1, 6, 10, 0, tzinfo=UTC), paris)  # Tuesday: absent = closed
    with pytest.raises(ValueError, match="'funday'"):
        week_hours({"funday": [["09:00", "18:00"]]})
    with pytest.raises(ValueError, match="18:00-09:00"):
        week_hours({"mon": [["18:00", "09:00"]]})


# ------------------------------------------------------------------ agent states


def states(center, email):
    return [e.state for e in center.events if isinstance(e, AgentStateChanged) and e.email == email]


def test_each_change_of_state_is_announced_once(clock):
    center = make_center(clock, agents=[AgentConfig(email=ANN, after_call_work_s=30)],
                         scenarios=[ivr(step("ring", "ring", agents=(ANN,)))])
    call, _ = center.call()
    center.talk(call, ANN, 60)
    assert center.state(ANN) == "after_call_work"
    clock.advance(29)
    center.advance()
    assert center.state(ANN) == "after_call_work"
    clock.advance(1)
    center.advance()
    center.snooze(ANN, "coffee")
    center.unsnooze(ANN)
    center.agent_disconnected(ANN)
    assert states(center, ANN) == [AgentState.OFF, AgentState.FREE, AgentState.RINGING, AgentState.IN_CALL,
                                   AgentState.AFTER_CALL_WORK, AgentState.FREE, AgentState.SNOOZE,
                                   AgentState.FREE, AgentState.OFF]
    snooze = [e for e in center.events if isinstance(e, AgentStateChanged) and e.state == AgentState.SNOOZE]
    assert (snooze[0].reason, snooze[0].interface) == ("coffee", "sip")


def test_after_call_work_keeps_the_agent_from_new_calls_until_it_ends(clock):
    agents = [AgentConfig(email=ANN, after_call_work_s=30)]
    center = make_center(clock, agents=agents, scenarios=[ivr(step("q", "queue", agents=(ANN,)))])
    first, _ = center.call()
    center.talk(first, ANN)
    second, arrived = center.call()
    assert rung(arrived) == []
    assert rung(center.wait(30)) == [ANN]  # the end of after-call work rings the waiting call
    center.agent_answered(second, ANN)
    center.caller_hung_up(second)
    assert center.outcomes(second) == [(ANN, Outcome.INCALL), (ANN, Outcome.ANSWERED)]


@pytest.mark.parametrize(("channels", "call_waiting", "second_rings"), [
    (2, True, True), (2, False, False), (1, True, False)])
def test_max_channels_and_call_waiting(clock, channels, call_waiting, second_rings):
    agents = [AgentConfig(email=ANN, max_channels=channels, call_waiting=call_waiting)]
    center = make_center(clock, agents=agents, scenarios=[ivr(step("ring", "ring", agents=(ANN,)))])
    first, _ = center.call()
    center.agent_answered(first, ANN)
    second, arrived = center.call()
    assert (rung(arrived) == [ANN]) is second_rings
    if second_rings:
        center.agent_answered(second, ANN)
        assert len(center.center.agents[ANN].in_calls) == 2
        assert center.state(ANN) == "in_call"
    else:
        assert center.outcomes(second) == [(ANN, Outcome.INCALL)]


def test_auto_snooze_after_n_unanswered_rings(clock):
    center = make_center(clock, scenarios=[ivr(step("ring", "ring", agents=(ANN,), ring_s=10))],
                         auto_snooze_after=2)
    center.call()
    center.wait(10)
    assert center.state(ANN) == "free"
    second, _ = center.call()
    center.agent_rejected(second, ANN)  # a rejection counts as unanswered too
    assert center.state(ANN) == "snooze"
    assert center.center.snapshot()["agents"][0]["reason"] == "auto: 2 unanswered rings"
    third, _ = center.call()
    assert center.outcomes(third) == [(ANN, Outcome.SNOOZE)]


def test_an_answer_resets_the_unanswered_count_and_zero_turns_auto_snooze_off(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,), ring_s=10))
    center = make_center(clock, scenarios=[scenario], auto_snooze_after=2)
    center.call()
    center.wait(10)
    answered, _ = center.call()
    center.talk(answered, ANN)
    center.call()
    center.wait(10)
    assert center.state(ANN) == "free"
    never = make_center(clock, scenarios=[scenario], auto_snooze_after=0)
    for _ in range(5):
        never.call()
        never.wait(10)
    assert never.state(ANN) == "free"


def test_replacing_the_configuration_keeps_calls_in_progress(clock):
    center = make_center(clock, scenarios=[ivr(step("q", "queue", agents=(ANN, BOB)))])
    talking, _ = center.call()
    center.agent_answered(talking, ANN)
    center.load_agents([AgentConfig(email=BOB), AgentConfig(email=CID)])  # ann leaves the configuration
    center.load_scenarios([])
    assert ANN in center.center.agents and center.center.agents[ANN].retired
    clock.advance(30)
    center.agent_hung_up(talking, ANN)
    assert ANN not in center.center.agents
    assert center.summary(talking).talk_s == 30
    _, unknown = center.call()
    assert unknown.ignored  # the IVR's number is gone with it


def test_a_snooze_from_the_configuration_is_kept(clock):
    center = make_center(clock, agents=[AgentConfig(email=ANN, snooze_reason="holiday")])
    assert center.state(ANN) == "snooze"
    center.load_agents([AgentConfig(email=ANN, snooze_reason="holiday", ring_s=30)])
    assert center.state(ANN) == "snooze"


# ------------------------------------------------------------------ strategies


def first_rung(center) -> str:
    """The one agent a new call rings; they take it and hang up after a minute."""
    call, arrived = center.call()
    (agent,) = rung(arrived)
    center.talk(call, agent, 60)
    return agent


def strategy_center(clock, strategy, agents=(ANN, BOB, CID), **fields):
    scenario = ivr(step("ring", "ring", agents=agents, strategy=strategy, ring_s=10, **fields))
    return make_center(clock, scenarios=[scenario])


def test_ring_all_rings_everyone(clock):
    center = strategy_center(clock, Strategy.RING_ALL)
    assert rung(center.call()[1]) == [ANN, BOB, CID]


def test_linear_rings_in_the_steps_order_then_the_groups_members_one_at_a_time(clock):
    agents = [AgentConfig(email=ANN), AgentConfig(email=BOB, groups=("sales",)),
              AgentConfig(email=CID, groups=("sales",)),
              AgentConfig(email="dan@acme.test", groups=("sales",))]
    scenario = ivr(step("ring", "ring", agents=(CID, ANN), groups=("sales",), strategy=Strategy.LINEAR,
                        ring_s=10))
    center = make_center(clock, agents=agents, scenarios=[scenario])
    call, arrived = center.call()
    order = rung(arrived)
    for _ in range(3):
        order += rung(center.wait(10))
    assert order == [CID, ANN, BOB, "dan@acme.test"]
    center.wait(10)
    assert [agent for agent, _ in center.outcomes(call)] == order


def test_round_robin_remembers_across_calls(clock):
    center = strategy_center(clock, Strategy.ROUND_ROBIN)
    assert [first_rung(center) for _ in range(4)] == [ANN, BOB, CID, ANN]


def test_round_robin_memory_is_per_step(clock):
    one = ivr(step("ring", "ring", agents=(ANN, BOB), strategy=Strategy.ROUND_ROBIN))
    two = ivr(step("ring", "ring", agents=(ANN, BOB), strategy=Strategy.ROUND_ROBIN), name="support",
              number="+33100000002")
    center = make_center(clock, scenarios=[one, two])
    assert first_rung(center) == ANN
    _call, arrived = center.call(to_number="+33100000002")
    assert rung(arrived) == [ANN]


def test_longest_idle_picks_the_agent_whose_last_call_ended_longest_ago(clock):
    center = counters_center(clock, Strategy.LONGEST_IDLE)
    for agent in (CID, ANN, BOB):  # last calls end: cid's, then ann's, then bob's
        play_calls(center, {agent: [60]})
        clock.advance(5)
    assert [first_rung(center) for _ in range(3)] == [CID, ANN, BOB]


def test_longest_idle_prefers_an_agent_who_never_had_a_call(clock):
    center = strategy_center(clock, Strategy.LONGEST_IDLE)
    assert first_rung(center) == ANN  # all never called: step order
    assert first_rung(center) == BOB


def play_calls(center, per_agent: dict[str, list[float]]):
    """Give each agent calls of these talk times today (directly, through a linear ring step)."""
    for agent, talks in per_agent.items():
        for talk in talks:
            call, _ = center.call(to_number="+33100000009")
            for other in (ANN, BOB, CID):
                if other == agent:
                    break
                center.agent_rejected(call, other)
            center.talk(call, agent, talk)


def counters_center(clock, strategy):
    feeder = ivr(step("ring", "ring", agents=(ANN, BOB, CID), strategy=Strategy.LINEAR), name="feeder",
                 number="+33100000009")
    scenario = ivr(step("ring", "ring", agents=(ANN, BOB, CID), strategy=strategy))
    return make_center(clock, scenarios=[feeder, scenario])


def test_fewest_calls_today(clock):
    center = counters_center(clock, Strategy.FEWEST_CALLS)
    play_calls(center, {ANN: [10, 10], BOB: [500], CID: [5, 5, 5]})
    assert rung(center.call()[1]) == [BOB]


def test_least_talk_time_today(clock):
    center = counters_center(clock, Strategy.LEAST_TALK_TIME)
    play_calls(center, {ANN: [10, 10], BOB: [500], CID: [5, 5, 5]})
    assert rung(center.call()[1]) == [CID]


def test_counters_restart_each_day_in_the_account_time_zone(clock):
    center = counters_center(clock, Strategy.FEWEST_CALLS)
    play_calls(center, {ANN: [10], BOB: [10, 10], CID: [10]})
    clock.set(datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
    play_calls(center, {CID: [10]})
    assert center.center.agents[CID].calls_today == 1 and center.center.agents[ANN].calls_today == 1
    assert rung(center.call()[1]) == [ANN]  # ann's count is yesterday's: 1, same as cid, first in line


def test_random_is_deterministic_with_a_seed_and_reaches_everyone(clock):
    picks = []
    for _ in range(2):
        center = make_center(FakeClock(MONDAY_9), seed=42, scenarios=[
            ivr(step("ring", "ring", agents=(ANN, BOB, CID), strategy=Strategy.RANDOM))])
        picks.append([first_rung(center) for _ in range(30)])
    assert picks[0] == picks[1]
    assert set(picks[0]) == {ANN, BOB, CID}
    expected = random.Random(42).sample([ANN, BOB, CID], 3)[0]
    assert picks[0][0] == expected


def test_weighted_random_follows_the_weights(clock):
    center = make_center(clock, seed=3, scenarios=[ivr(step(
        "ring", "ring", agents=(ANN, BOB, CID), strategy=Strategy.WEIGHTED_RANDOM,
        weights={ANN: 1, BOB: 0, CID: 9}))])
    counts = Counter(first_rung(center) for _ in range(300))
    assert counts[BOB] == 0
    assert counts[CID] > 4 * counts[ANN] > 0


def test_weighted_random_uses_the_agents_weight_when_the_step_gives_none(clock):
    agents = [AgentConfig(email=ANN, weight=0), AgentConfig(email=BOB, weight=5)]
    center = make_center(clock, agents=agents, scenarios=[ivr(step(
        "ring", "ring", agents=(ANN, BOB), strategy=Strategy.WEIGHTED_RANDOM))])
    assert {first_rung(center) for _ in range(20)} == {BOB}


def test_a_queue_tries_every_agent_before_ringing_one_again(clock):
    scenario = ivr(step("q", "queue", agents=(ANN, BOB), strategy=Strategy.LINEAR, ring_s=10))
    center = make_center(clock, scenarios=[scenario])
    _, arrived = center.call()
    order = rung(arrived)
    for _ in range(3):
        order += rung(center.wait(10))
    assert order == [ANN, BOB, ANN, BOB]


def test_longest_idle_in_a_queue_goes_to_the_longest_idle_free_agent(clock):
    scenario = ivr(step("q", "queue", agents=(ANN, BOB, CID), strategy=Strategy.LONGEST_IDLE))
    center = make_center(clock, scenarios=[scenario])
    calls = [center.call()[0] for _ in range(3)]
    assert [c.agent for c in center.actions if type(c).__name__ == "RingAgent"] == [ANN, BOB, CID]
    for call, agent in zip(calls, (ANN, BOB, CID), strict=True):
        center.agent_answered(call, agent)
    clock.advance(10)
    center.agent_hung_up(calls[1], BOB)
    clock.advance(10)
    center.agent_hung_up(calls[2], CID)
    clock.advance(10)
    center.agent_hung_up(calls[0], ANN)
    assert rung(center.call()[1]) == [BOB]


def test_an_agent_removed_while_ringing_leaves_when_the_ring_ends(clock):
    center = make_center(clock, scenarios=[ivr(step("ring", "ring", agents=(ANN, BOB), ring_s=10))])
    call, _ = center.call()
    center.load_agents([AgentConfig(email=BOB)])
    assert center.center.agents[ANN].retired
    center.wait(10)
    assert ANN not in center.center.agents
    assert center.outcomes(call) == [(ANN, Outcome.NO_ANSWER), (BOB, Outcome.NO_ANSWER)]


def test_reconfigure_replaces_everything_at_once(clock):
    center = make_center(clock)
    center.reconfigure(agents=[AgentConfig(email=ANN), AgentConfig(email=EVE_)],
                       scenarios=[ivr(step("ring", "ring", agents=(EVE_,)))],
                       direct_lines={"+33140000001": ANN}, blacklist={"+33666666666"},
                       time_zone="Europe/Paris")
    assert set(center.center.agents) == {ANN, EVE_} and str(center.center.zone) == "Europe/Paris"
    center.agent_connected(EVE_, "android")
    assert rung(center.call()[1]) == [EVE_]
    assert rung(center.call(to_number="+33140000001")[1]) == [ANN]
    assert center.call("+33666666666")[1].of(HangUp)[0].cause == 603


def test_idle_index_drops_stale_entries():
    from ringtui.engine.core.agents import Agent
    from ringtui.engine.core.strategies import IdleIndex
    index, agent = IdleIndex(), Agent(config=AgentConfig(email=ANN), order=0)
    for second in range(1000):
        agent.last_call_end = MONDAY_9 + timedelta(seconds=second)
        index.offer(agent)
    assert len(index._heap) <= 4 + 64
    assert index.longest_idle(lambda email: True) == ANN
    index.forget(ANN)
    assert index.longest_idle(lambda email: True) is None


def test_the_snapshot_is_json_ready(clock):
    import json
    center = make_center(clock, scenarios=[ivr(step("q", "queue", agents=(ANN,)))])
    center.snooze(ANN, "lunch")
    center.call()
    snapshot = json.loads(json.dumps(center.center.snapshot()))
    assert snapshot["agents"][0]["since"] == "2026-01-05T09:00:00Z"
    assert snapshot["calls"][0]["direction"] == "in"
