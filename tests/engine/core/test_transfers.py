"""S6: an agent connected to a call hands it on (blind transfer) to another agent or an external number."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ringtui.engine.core.actions import (
    CancelRing,
    ConnectAgent,
    ForwardTo,
    HangUp,
    HoldMusic,
    ReleaseAgent,
    StartVoicemail,
    TransferOut,
)
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.center import EXTERNAL_RING_S
from ringtui.engine.core.errors import TransferRefused, UnknownAgent
from ringtui.engine.core.events import CallAnswered, CallEnded, CallTransferred
from ringtui.engine.core.events import TransferSummary as T
from ringtui.vocab import CallType, EndedBy, Outcome, TransferKind

from .conftest import ANN, BOB, CID, MONDAY_9, ivr, make_center, rung, step

BLIND = TransferKind.BLIND


def ann_then_voicemail():
    return ivr(step("ring", "ring", agents=(ANN,), ring_s=20),
               step("vm", "voicemail", text="leave a message"))


def answered_by_ann(clock, agents=(ANN, BOB, CID), **settings):
    center = make_center(clock, agents=agents, scenarios=[ann_then_voicemail()], **settings)
    call, _ = center.call()
    clock.advance(5)
    center.agent_answered(call, ANN)
    clock.advance(30)
    return center, call


def at(seconds: float) -> datetime:
    return MONDAY_9 + timedelta(seconds=seconds)


def test_transfer_to_a_free_agent_rings_them_frees_the_transferrer_and_connects_the_target(clock):
    center, call = answered_by_ann(clock)
    handed = center.transfer(call, ANN, BOB)
    assert handed.of(ReleaseAgent) == [ReleaseAgent(call, ANN)]
    assert handed.of(HoldMusic) == [HoldMusic(call)]
    assert rung(handed) == [BOB]
    assert handed.of(CallTransferred)[0].to_agent == BOB and handed.of(CallTransferred)[0].by == ANN
    assert (center.state(ANN), center.state(BOB)) == ("free", "ringing")
    assert center.center.snapshot()["calls"][0]["state"] == "transferring"
    clock.advance(4)
    taken = center.agent_answered(call, BOB)
    assert taken.of(ConnectAgent) == [ConnectAgent(call, BOB)]
    assert taken.of(CallAnswered)[0].transferred
    assert center.center.snapshot()["calls"][0]["agent"] == BOB
    clock.advance(60)
    center.agent_hung_up(call, BOB)
    summary = center.summary(call)
    # the record's user is the agent who answered first; its talk time the customer's whole connection
    assert (summary.type, summary.agent, summary.last_agent, summary.ended_by) == (
        CallType.ANSWERED, ANN, BOB, EndedBy.AGENT)
    assert (summary.answered_at, summary.wait_s, summary.talk_s) == (at(5), 5, 94)
    assert summary.transfers == (T(at=at(35), by=ANN, kind=BLIND, to_agent=BOB, answered=True),)
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED), (BOB, Outcome.ANSWERED)]
    assert center.state(BOB) == "free"


def test_transferrer_goes_into_after_call_work_and_the_target_is_rung_for_their_own_ring_time(clock):
    agents = [AgentConfig(email=ANN, after_call_work_s=30), AgentConfig(email=BOB, ring_s=12), CID]
    center, call = answered_by_ann(clock, agents=agents)
    center.transfer(call, ANN, BOB)
    assert center.state(ANN) == "after_call_work"
    assert rung(center.wait(11.9)) == [] and center.state(BOB) == "ringing"
    center.wait(0.1)  # BOB's 12 s are over
    assert center.state(BOB) == "free"


def test_target_not_answering_recalls_the_transferrer_who_takes_the_call_back(clock):
    center, call = answered_by_ann(clock, agents=[ANN, AgentConfig(email=BOB, ring_s=15), CID])
    center.transfer(call, ANN, BOB)
    back = center.wait(15)
    assert back.of(CancelRing) == [CancelRing(call, BOB)] and rung(back) == [ANN]
    center.agent_answered(call, ANN)
    clock.advance(10)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert summary.transfers[0].answered is False
    assert (summary.agent, summary.last_agent, summary.talk_s) == (ANN, ANN, 55)
    # taking their own call back is no second answer: ANN's first attempt counts the call
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED), (BOB, Outcome.NO_ANSWER)]


def test_target_refusing_then_recall_unanswered_goes_on_to_the_voicemail(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, BOB)
    clock.advance(3)
    back = center.agent_rejected(call, BOB)
    assert rung(back) == [ANN]
    voicemail = center.wait(20)  # ANN's 20 s recall runs out
    assert voicemail.of(StartVoicemail) == [StartVoicemail(call, None)]
    clock.advance(30)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert (summary.type, summary.agent, summary.talk_s) == (CallType.ANSWERED, ANN, 53)
    assert summary.transfers[0].answered is False
    assert center.outcomes(call) == [
        (ANN, Outcome.ANSWERED), (BOB, Outcome.REJECTED), (ANN, Outcome.NO_ANSWER)]


@pytest.mark.parametrize(("make_busy", "outcome"), [
    (lambda center: center.snooze(BOB, "Lunch"), Outcome.SNOOZE),
    (lambda center: center.agent_disconnected(BOB), Outcome.NOTCONNECTED),
])
def test_transfer_to_an_agent_who_cannot_be_rung_recalls_the_transferrer_at_once(clock, make_busy, outcome):
    center, call = answered_by_ann(clock)
    make_busy(center)
    handed = center.transfer(call, ANN, BOB)
    assert rung(handed) == [ANN]
    center.agent_answered(call, ANN)
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED), (BOB, outcome)]


def test_transfer_to_an_agent_in_a_call_rings_them_only_with_call_waiting(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN, BOB), ring_s=20))
    other = ivr(step("ring", "ring", agents=(BOB,), ring_s=20), name="other", number="+33100000002")
    center = make_center(clock, agents=[ANN, AgentConfig(email=BOB, max_channels=2, call_waiting=True)],
                         scenarios=[scenario, other])
    busy, _ = center.call(to_number="+33100000002")
    center.agent_answered(busy, BOB)
    call, _ = center.call()
    center.agent_answered(call, ANN)
    assert rung(center.transfer(call, ANN, BOB)) == [BOB]  # call waiting: the second channel rings

    center2 = make_center(clock, agents=[ANN, BOB], scenarios=[scenario, other])
    busy, _ = center2.call(to_number="+33100000002")
    center2.agent_answered(busy, BOB)
    call, _ = center2.call()
    center2.agent_answered(call, ANN)
    assert rung(center2.transfer(call, ANN, BOB)) == [ANN]
    center2.caller_hung_up(call)
    assert (BOB, Outcome.INCALL) in center2.outcomes(call)


def test_transferrer_who_went_away_means_the_scenario_goes_on_after_the_target_did_not_answer(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, BOB)
    center.agent_disconnected(ANN)
    clock.advance(2)
    on = center.agent_rejected(call, BOB)
    assert on.of(StartVoicemail) == [StartVoicemail(call, None)]
    center.caller_hung_up(call)
    assert center.outcomes(call)[-1] == (ANN, Outcome.NOTCONNECTED)


def test_caller_hanging_up_during_the_transfer_ends_the_call_unanswered_transfer(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, BOB)
    clock.advance(5)
    gone = center.caller_hung_up(call)
    assert gone.of(CancelRing) == [CancelRing(call, BOB)]
    summary = center.summary(call)
    assert (summary.ended_by, summary.transfers[0].answered, summary.talk_s) == (EndedBy.CUSTOMER, False, 35)
    assert center.outcomes(call)[-1] == (BOB, Outcome.NO_ANSWER)
    assert (center.state(ANN), center.state(BOB)) == ("free", "free")


def test_transferred_call_can_be_transferred_again(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, BOB)
    center.agent_answered(call, BOB)
    assert rung(center.transfer(call, BOB, CID)) == [CID]
    center.agent_answered(call, CID)
    center.agent_hung_up(call, CID)
    transfers = center.summary(call).transfers
    assert [(t.by, t.to_agent, t.answered) for t in transfers] == [(ANN, BOB, True), (BOB, CID, True)]
    assert center.summary(call).agent == ANN


EXTERNAL = "+33698765432"


def test_transfer_to_an_external_number_dials_it_and_connects_the_caller_when_it_answers(clock):
    center, call = answered_by_ann(clock)
    handed = center.transfer(call, ANN, EXTERNAL)
    assert handed.of(TransferOut) == [TransferOut(call, EXTERNAL, EXTERNAL_RING_S)]
    assert handed.of(HoldMusic) == [HoldMusic(call)] and handed.of(ForwardTo) == []
    assert center.state(ANN) == "free"
    assert center.center.snapshot()["calls"][0]["state"] == "transferring"
    clock.advance(8)
    taken = center.external_answered(call)
    assert taken.of(CallAnswered)[0].transferred and taken.of(CallAnswered)[0].agent == EXTERNAL
    assert center.center.snapshot()["calls"][0]["state"] == "forwarded"
    clock.advance(100)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert summary.transfers == (T(at=at(35), by=ANN, kind=BLIND, to_number=EXTERNAL, answered=True),)
    assert (summary.agent, summary.talk_s, summary.forwarded_to) == (ANN, 138, EXTERNAL)
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED)]


def test_external_number_failing_recalls_the_transferrer_and_the_transfer_stays_unanswered(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, EXTERNAL)
    clock.advance(4)
    back = center.external_failed(call, "486 Busy Here")
    assert rung(back) == [ANN] and center.state(ANN) == "ringing"
    center.agent_answered(call, ANN)
    clock.advance(10)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert summary.transfers == (T(at=at(35), by=ANN, kind=BLIND, to_number=EXTERNAL, answered=False),)
    assert (summary.agent, summary.last_agent, summary.forwarded_to) == (ANN, ANN, None)
    assert center.outcomes(call) == [(ANN, Outcome.ANSWERED)]


def test_external_failure_with_the_recall_unanswered_goes_on_to_the_voicemail(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, EXTERNAL)
    center.external_failed(call, "no answer")
    voicemail = center.wait(20)
    assert voicemail.of(StartVoicemail) == [StartVoicemail(call, None)]
    center.caller_hung_up(call)
    assert center.summary(call).transfers[0].answered is False


def test_caller_hanging_up_while_the_external_number_rings_ends_the_call_unanswered_transfer(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, EXTERNAL)
    clock.advance(5)
    assert center.caller_hung_up(call).of(CallEnded)
    summary = center.summary(call)
    assert summary.transfers[0].answered is False and summary.ended_by == EndedBy.CUSTOMER
    assert summary.talk_s == 35
    assert center.state(ANN) == "free"


def test_external_outcome_for_a_call_not_transferring_to_a_number_is_refused(clock):
    center, call = answered_by_ann(clock)
    with pytest.raises(TransferRefused, match="no transfer to an external number is ringing"):
        center.external_answered(call)
    center.transfer(call, ANN, BOB)
    with pytest.raises(TransferRefused, match="the call is transferring"):
        center.external_failed(call, "busy")
    assert center.state(BOB) == "ringing"


def test_outbound_call_can_be_transferred(clock):
    center = make_center(clock)
    center.outbound_call("o1", ANN, "+33612345678", "+33100000001")
    center.outbound_answered("o1")
    assert rung(center.transfer("o1", ANN, BOB)) == [BOB]
    center.agent_answered("o1", BOB)
    center.caller_hung_up("o1")
    assert center.summary("o1").transfers[0].answered


def refused(center, call, email, target) -> str:
    with pytest.raises((TransferRefused, UnknownAgent)) as error:
        center.transfer(call, email, target)
    return str(error.value)


def test_refusals_name_the_call_the_target_and_why_and_change_nothing(clock):
    center, call = answered_by_ann(clock)
    center.center.set_blacklist({"+33699999999"})
    assert "agent bob@acme.test is not connected to it (it is with ann@acme.test)" in refused(
        center, call, BOB, CID)
    assert "unknown agent 'zoe@acme.test'" in refused(center, call, ANN, "zoe@acme.test")
    assert "cannot transfer a call to themselves" in refused(center, call, ANN, ANN)
    assert "'0612345678': not an agent's e-mail nor a number in E.164 form" in refused(
        center, call, ANN, "0612345678")
    assert "+33699999999 is blacklisted" in refused(center, call, ANN, "+33699999999")
    assert center.center.snapshot()["calls"][0]["state"] == "connected"
    assert center.state(ANN) == "in_call"
    center.agent_hung_up(call, ANN)
    assert center.summary(call).transfers == ()


def test_a_call_still_ringing_cannot_be_transferred(clock):
    center = make_center(clock, scenarios=[ann_then_voicemail()])
    call, _ = center.call()
    assert "it is ringing" in refused(center, call, ANN, BOB)


def test_target_answering_after_their_ring_is_toolate_while_the_recall_rings(clock):
    center, call = answered_by_ann(clock)
    center.transfer(call, ANN, BOB)
    center.wait(20)
    late = center.agent_answered(call, BOB)
    assert "too late" in late.ignored
    center.agent_answered(call, ANN)
    center.agent_hung_up(call, ANN)
    assert (BOB, Outcome.TOOLATE) in center.outcomes(call)
    assert not [a for a in center.actions if isinstance(a, HangUp) and a.cause != 200]


def test_the_tuis_live_state_shows_the_transfer_then_the_new_agent(clock):
    from ringtui.screens.feed import LiveState

    state = LiveState()
    center, call = answered_by_ann(clock)
    state.apply_many(event.to_dict() for event in center.events)
    assert state.calls[call]["agent"] == ANN
    state.apply_many(event.to_dict() for event in center.transfer(call, ANN, BOB).events)
    assert (state.calls[call]["state"], state.calls[call]["agent"]) == ("transferring", None)
    state.apply_many(event.to_dict() for event in center.agent_answered(call, BOB).events)
    assert (state.calls[call]["state"], state.calls[call]["agent"]) == ("connected", BOB)
