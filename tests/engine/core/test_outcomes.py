"""S5: every ring attempt on an agent comes to exactly one outcome, and each outcome is reachable."""

from __future__ import annotations

from ringtui.engine.core.actions import CancelRing, ConnectAgent, Dial, HangUp
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.center import HUNT_REFUSALS_KEPT
from ringtui.engine.core.events import AttemptOutcomeChanged, CallAnswered
from ringtui.vocab import CallKind, CallType, Direction, EndedBy, Outcome, Strategy

from .conftest import ANN, BOB, CID, ivr, make_center, rung, step


def ring_then_voicemail(ring_s: float = 20, **ring: object):
    return ivr(step("ring", "ring", agents=(ANN, BOB), ring_s=ring_s, **ring),
               step("vm", "voicemail", text="leave a message"))


def test_answered_and_the_other_agent_rung_is_call_answered(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, arrived = center.call()
    assert rung(arrived) == [ANN, BOB]
    clock.advance(5)
    answered = center.agent_answered(call, ANN)
    assert answered.of(ConnectAgent) == [ConnectAgent(call, ANN)]
    assert answered.of(CancelRing) == [CancelRing(call, BOB)]
    assert answered.of(CallAnswered)[0].wait_s == 5
    clock.advance(60)
    center.agent_hung_up(call, ANN)
    summary = center.summary(call)
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED), (BOB, Outcome.CALL_ANSWERED)]
    assert (summary.type, summary.ended_by, summary.kind) == (CallType.ANSWERED, EndedBy.AGENT, CallKind.IVR)
    assert (summary.wait_s, summary.talk_s, summary.agent, summary.ivr) == (5, 60, ANN, "sales")


def test_a_ring_that_timed_out_is_call_answered_when_another_agent_answers_later(clock):
    scenario = ivr(step("queue", "queue", agents=(ANN, BOB), strategy=Strategy.LINEAR, ring_s=10))
    center = make_center(clock, scenarios=[scenario])
    call, arrived = center.call()
    assert rung(arrived) == [ANN]
    assert rung(center.wait(10)) == [BOB]
    center.agent_answered(call, BOB)
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.CALL_ANSWERED), (BOB, Outcome.ANSWERED)]
    assert center.summary(call).ended_by == EndedBy.CUSTOMER


def test_nobody_answers_is_no_answer_and_a_missed_call(clock):
    center = make_center(clock, scenarios=[ivr(step("ring", "ring", agents=(ANN, BOB), ring_s=20))])
    call, _ = center.call()
    ended = center.wait(20)
    assert ended.of(HangUp)[0].cause == 200
    summary = center.summary(call)
    assert center.outcomes(call) == [(ANN, Outcome.NO_ANSWER), (BOB, Outcome.NO_ANSWER)]
    assert (summary.type, summary.ended_by, summary.wait_s) == (CallType.MISSED, EndedBy.SYSTEM, 20)


def test_caller_hanging_up_while_agents_ring_is_no_answer(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    clock.advance(7)
    gone = center.caller_hung_up(call)
    assert {a.agent for a in gone.of(CancelRing)} == {ANN, BOB}
    assert center.outcomes(call) == [(ANN, Outcome.NO_ANSWER), (BOB, Outcome.NO_ANSWER)]
    assert (center.summary(call).type, center.summary(call).ended_by) == (CallType.MISSED, EndedBy.CUSTOMER)
    assert center.summary(call).wait_s == 7


def test_answering_after_the_ring_timed_out_is_toolate(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.wait(20)  # rings over, voicemail started
    late = center.agent_answered(call, ANN)
    assert "too late" in late.ignored and late.of(CancelRing) == [CancelRing(call, ANN)]
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.TOOLATE), (BOB, Outcome.NO_ANSWER)]
    assert center.summary(call).type == CallType.VOICEMAIL


def test_answering_after_another_agent_answered_is_toolate(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.agent_answered(call, ANN)
    center.agent_answered(call, BOB)
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED), (BOB, Outcome.TOOLATE)]


def test_answering_after_the_caller_left_is_toolate_reported_to_the_recorder(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.caller_hung_up(call)
    late = center.agent_answered(call, BOB)
    changed = late.of(AttemptOutcomeChanged)
    assert [(c.call_id, c.agent, c.outcome) for c in changed] == [(call, BOB, Outcome.TOOLATE)]
    assert "is over" in late.ignored


def test_rejected(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.agent_rejected(call, ANN)
    center.agent_rejected(call, BOB)  # both refused: on to voicemail at once
    assert center.center.calls[call].phase == "voicemail"
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.REJECTED), (BOB, Outcome.REJECTED)]
    assert center.summary(call).type == CallType.VOICEMAIL


def test_incall_agent_is_not_rung_and_gets_an_incall_attempt(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    first, _ = center.call()
    center.agent_answered(first, ANN)
    second, arrived = center.call()
    assert rung(arrived) == [BOB]
    center.caller_hung_up(second)
    assert center.outcomes(second) == [(ANN, Outcome.INCALL), (BOB, Outcome.NO_ANSWER)]


def test_snooze_planning_and_notconnected_agents_are_not_rung(clock):
    agents = [AgentConfig(email=ANN), AgentConfig.of(BOB, schedule={"mon": [["14:00", "18:00"]]}),
              AgentConfig(email=CID)]
    scenario = ivr(step("ring", "ring", agents=(ANN, BOB, CID), ring_s=20))
    center = make_center(clock, agents=agents, scenarios=[scenario], connect=False)
    center.agent_connected(ANN, "web")
    center.agent_connected(BOB, "ios")
    center.snooze(ANN, "lunch")
    call, arrived = center.call()
    assert rung(arrived) == [] and arrived.of(HangUp)[0].call_id == call
    assert center.outcomes(call) == [
        (ANN, Outcome.SNOOZE), (BOB, Outcome.PLANNING), (CID, Outcome.NOTCONNECTED)]


def test_phone_error_is_sip_phone_error(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.agent_ring_failed(call, ANN, "488 not acceptable")
    center.agent_answered(call, BOB)
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.SIP_PHONE_ERROR), (BOB, Outcome.ANSWERED)]


def test_agent_disconnecting_while_rung_is_notconnected(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.agent_disconnected(ANN)
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.NOTCONNECTED), (BOB, Outcome.NO_ANSWER)]


def test_outbound_call_is_an_out_attempt(clock):
    center = make_center(clock)
    dialed = center.outbound_call("o1", ANN, "+33699999999")
    assert dialed.of(Dial) == [Dial("o1", ANN, "+33699999999")]
    assert center.state(ANN) == "in_call"
    clock.advance(4)
    center.outbound_answered("o1")
    clock.advance(30)
    center.agent_hung_up("o1", ANN)
    summary = center.summary("o1")
    assert center.outcomes("o1") == [(ANN, Outcome.OUT)]
    assert (summary.direction, summary.type, summary.wait_s, summary.talk_s) == (
        Direction.OUT, CallType.ANSWERED, 4, 30)
    assert center.state(ANN) == "free"


def test_outbound_call_not_answered_is_missed_and_still_out(clock):
    center = make_center(clock)
    center.outbound_call("o1", ANN, "+33699999999")
    clock.advance(25)
    center.agent_hung_up("o1", ANN)
    assert center.outcomes("o1") == [(ANN, Outcome.OUT)]
    assert center.summary("o1").type == CallType.MISSED


def test_an_outbound_call_over_the_agents_channels_is_refused_486_and_recorded(clock):
    center = make_center(clock, agents=[AgentConfig(email=ANN, max_channels=1)])
    center.outbound_call("o1", ANN, "+33699999999")
    refused = center.outbound_call("o2", ANN, "+33699999998")
    assert refused.of(Dial) == [] and [h.cause for h in refused.of(HangUp)] == [486]
    assert "max_channels=1" in refused.of(HangUp)[0].reason
    assert center.outcomes("o2") == [(ANN, Outcome.OUT)]
    summary = center.summary("o2")
    assert (summary.direction, summary.type, summary.ended_by) == (
        Direction.OUT, CallType.MISSED, EndedBy.SYSTEM)
    assert center.state(ANN) == "in_call" and "o1" in center.center.calls


def test_an_outbound_call_refused_by_the_dialling_rules_is_recorded(clock):
    center = make_center(clock)
    refused = center.outbound_call("o1", ANN, "+34612345678", refused="off-plan")
    assert refused.of(Dial) == [] and refused.of(HangUp) == [HangUp("o1", 403, "off-plan")]
    assert center.outcomes("o1") == [(ANN, Outcome.OUT)] and center.state(ANN) == "free"


def test_every_attempt_has_exactly_one_outcome_and_an_end(clock):
    center = make_center(clock, scenarios=[ring_then_voicemail()])
    call, _ = center.call()
    center.wait(20)
    center.caller_hung_up(call)
    for attempt in center.summary(call).attempts:
        assert attempt.outcome in set(Outcome) and attempt.ended_at >= attempt.started_at


def test_a_hunt_records_refusals_only_for_the_agents_it_passed_over(clock):
    """150 agents, most of them on a call: a longest-idle call rings a free one and does not
    record an INCALL attempt for every busy agent of the group (S5: the agents it would have rung)."""
    emails = [f"agent{i:03d}@acme.test" for i in range(150)]
    agents = [AgentConfig(email=email, groups=("Sales",)) for email in emails]
    scenario = ivr(step("ring", "ring", groups=("Sales",), strategy=Strategy.LONGEST_IDLE, ring_s=20),
                   step("vm", "voicemail", text="leave a message"))
    center = make_center(clock, agents=agents, scenarios=[scenario])
    for _ in range(140):
        busy, arrived = center.call()
        assert len(rung(arrived)) == 1
        center.agent_answered(busy, rung(arrived)[0])
    call, arrived = center.call()
    assert len(rung(arrived)) == 1 and rung(arrived)[0] in emails[140:]
    center.talk(call, rung(arrived)[0])
    assert center.outcomes(call) == [(rung(arrived)[0], Outcome.ANSWERED)]


def test_a_linear_hunt_records_the_busy_agents_ahead_of_the_one_rung(clock):
    center = make_center(clock, agents=[AgentConfig(email=e) for e in (ANN, BOB, CID)],
                         scenarios=[ivr(step("ring", "ring", agents=(ANN, BOB, CID),
                                             strategy=Strategy.LINEAR))])
    first, _ = center.call()
    center.agent_answered(first, ANN)
    second, arrived = center.call()
    assert rung(arrived) == [BOB]
    center.talk(second, BOB)
    assert center.outcomes(second) == [(ANN, Outcome.INCALL), (BOB, Outcome.ANSWERED)]


def test_a_hunt_through_a_large_busy_group_keeps_a_bounded_number_of_refusals(clock):
    """Every one of 150 agents on a call: a new call walks the whole group (nobody can take it, on to
    voicemail) but keeps the INCALL attempts of the first agents it reached only."""
    emails = [f"agent{i:03d}@acme.test" for i in range(150)]
    scenario = ivr(step("ring", "ring", groups=("Sales",), strategy=Strategy.LINEAR, ring_s=20),
                   step("vm", "voicemail", text="leave a message"))
    center = make_center(clock, agents=[AgentConfig(email=e, groups=("Sales",), max_channels=1)
                                        for e in emails], scenarios=[scenario])
    for _ in emails:
        busy, arrived = center.call()
        center.agent_answered(busy, rung(arrived)[0])
    call, arrived = center.call()
    assert rung(arrived) == [] and center.center.calls[call].phase == "voicemail"
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(email, Outcome.INCALL) for email in emails[:HUNT_REFUSALS_KEPT]]
