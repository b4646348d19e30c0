"""The scenario interpreter: menus, queues, voicemail, forward, survey, hours, skip-if, the edge rules."""

from __future__ import annotations

from datetime import UTC, datetime

from ringtui.engine.core.actions import (
    CollectDigits,
    ConnectAgent,
    ForwardTo,
    HangUp,
    HoldMusic,
    Play,
    Record,
    RingAgent,
    StartVoicemail,
)
from ringtui.engine.core.agents import AgentConfig
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.core.events import CallEnded, CallStarted, CallWaiting
from ringtui.vocab import AnonymousPolicy, CallKind, CallType, EndedBy, Outcome, SkipCondition, Strategy

from .conftest import ANN, BOB, CALLER, CID, IVR_NUMBER, ivr, make_center, rung, step

MENU = ivr(
    step("welcome", "announce", text="Welcome to Acme"),
    step("menu", "menu", text="1 sales, 2 support", choices={"1": "sales", "2": "support"}, timeout_s=5,
         default="operator"),
    step("sales", "ring", agents=(ANN,), ring_s=15),
    step("support", "ring", agents=(BOB,), ring_s=15),
    step("operator", "ring", agents=(CID,), ring_s=15),
)


def test_announce_then_menu_choice_goes_to_the_chosen_step(clock):
    center = make_center(clock, scenarios=[MENU])
    call, arrived = center.call()
    assert [p.text for p in arrived.of(Play)] == ["Welcome to Acme", "1 sales, 2 support"]
    assert arrived.of(CollectDigits) == [CollectDigits(call, 5)]
    assert rung(arrived) == []
    assert rung(center.dtmf(call, "2")) == [BOB]


def test_menu_timeout_goes_to_the_default_step(clock):
    center = make_center(clock, scenarios=[MENU])
    _call, _ = center.call()
    assert rung(center.wait(4.9)) == []
    assert rung(center.wait(0.1)) == [CID]


def test_menu_timeout_without_default_goes_to_the_next_step(clock):
    scenario = ivr(step("menu", "menu", choices={"1": "vm"}, timeout_s=5),
                   step("ring", "ring", agents=(ANN,)), step("vm", "voicemail"))
    center = make_center(clock, scenarios=[scenario])
    center.call()
    assert rung(center.wait(5)) == [ANN]


def test_caller_leaving_a_menu_without_a_key_is_no_key(clock):
    center = make_center(clock, scenarios=[MENU])
    call, _ = center.call()
    clock.advance(3)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert (summary.type, summary.ended_by, summary.wait_s) == (CallType.NO_KEY, EndedBy.CUSTOMER, 3)


def test_a_wrong_key_is_ignored_with_the_choices_and_is_not_no_key(clock):
    center = make_center(clock, scenarios=[MENU])
    call, _ = center.call()
    wrong = center.dtmf(call, "9")
    assert "'9'" in wrong.ignored and "1, 2" in wrong.ignored
    center.caller_hung_up(call)
    assert center.summary(call).type == CallType.MISSED


def queue(**settings):
    fields = {"agents": (ANN,), "ring_s": 10, "max_wait_s": 60, "exit": "vm"} | settings
    return ivr(step("queue", "queue", **fields), step("after", "announce", text="sorry"),
               step("vm", "voicemail", text="leave a message"))


def test_queue_waits_while_agents_are_busy_and_rings_when_one_is_free(clock):
    center = make_center(clock, scenarios=[queue()])
    first, _ = center.call()
    center.agent_answered(first, ANN)
    second, arrived = center.call()
    assert arrived.of(HoldMusic) == [HoldMusic(second)]
    assert arrived.of(CallWaiting)[0].position == 1
    assert [w["call_id"] for w in center.center.snapshot()["waiting"]] == [second]
    clock.advance(30)
    freed = center.agent_hung_up(first, ANN)
    assert rung(freed) == [ANN]
    center.agent_answered(second, ANN)
    assert center.center.snapshot()["waiting"] == []
    center.caller_hung_up(second)
    assert center.summary(second).wait_s == 30


def test_queue_max_wait_goes_to_the_exit_step(clock):
    center = make_center(clock, scenarios=[queue()])
    center.snooze(ANN, "meeting")
    call, _ = center.call()
    assert center.wait(59).of(StartVoicemail) == []
    out = center.wait(1)
    assert out.of(StartVoicemail) == [StartVoicemail(call, None)]
    assert [p.text for p in out.of(Play)] == ["leave a message"]  # the exit, not the next step
    center.caller_hung_up(call)
    assert center.summary(call).type == CallType.VOICEMAIL
    assert center.outcomes(call) == [(ANN, Outcome.SNOOZE)]


def test_queue_max_wait_without_exit_goes_to_the_next_step(clock):
    center = make_center(clock, scenarios=[queue(exit=None)])
    center.snooze(ANN, "meeting")
    center.call()
    assert [p.text for p in center.wait(60).of(Play)] == ["sorry", "leave a message"]


def test_vip_callers_wait_first_then_arrival_order(clock):
    scenario = queue(max_wait_s=600)
    scenario = type(scenario)(**{**scenario.__dict__, "vip_numbers": frozenset({"+33699000000"})})
    center = make_center(clock, scenarios=[scenario])
    busy, _ = center.call()
    center.agent_answered(busy, ANN)
    regular_1, _ = center.call("+33611000001")
    regular_2, _ = center.call("+33611000002")
    vip, arrived = center.call("+33699000000")
    assert arrived.of(CallWaiting)[0].position == 1 and arrived.of(CallStarted)[0].vip
    assert [w["call_id"] for w in center.center.snapshot()["waiting"]] == [vip, regular_1, regular_2]
    order = []
    for _ in range(3):
        freed = center.agent_hung_up(order[-1] if order else busy, ANN)
        (next_call,) = [action.call_id for action in freed.actions if type(action).__name__ == "RingAgent"]
        order.append(next_call)
        center.agent_answered(next_call, ANN)
    assert order == [vip, regular_1, regular_2]


def test_voicemail_is_a_message_left_when_the_caller_hangs_up_after_it_started(clock):
    center = make_center(clock, scenarios=[ivr(step("vm", "voicemail", text="speak", mailbox=ANN))])
    call, arrived = center.call()
    assert arrived.of(StartVoicemail) == [StartVoicemail(call, ANN)]
    clock.advance(20)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert (summary.type, summary.ended_by) == (CallType.VOICEMAIL, EndedBy.CUSTOMER)


def test_forward_counts_as_answered_by_the_external_number(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,), ring_s=10),
                   step("fw", "forward", number="+34911000000"))
    center = make_center(clock, scenarios=[scenario])
    call, _ = center.call()
    assert center.wait(10).of(ForwardTo) == [ForwardTo(call, "+34911000000")]
    clock.advance(50)
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert (summary.type, summary.forwarded_to, summary.wait_s, summary.talk_s) == (
        CallType.ANSWERED, "+34911000000", 10, 50)
    assert center.outcomes(call) == [(ANN, Outcome.NO_ANSWER)]


def test_survey_after_the_agent_hangs_up_records_the_rating(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,)), step("vm", "voicemail"),
                   step("rate", "survey", text="Rate us from 1 to 5", category="support"))
    center = make_center(clock, scenarios=[scenario])
    call, _ = center.call()
    after = center.talk(call, ANN, 45)
    assert [p.text for p in after.of(Play)] == ["Rate us from 1 to 5"] and after.of(HangUp) == []
    assert center.state(ANN) == "free"  # the agent is free while the caller rates
    assert "press 1 to 5" in center.dtmf(call, "7").ignored
    center.dtmf(call, "4")
    summary = center.summary(call)
    assert (summary.survey_rating, summary.survey_category, summary.survey_question) == (
        4, "support", "Rate us from 1 to 5")
    assert (summary.type, summary.ended_by, summary.talk_s) == (CallType.ANSWERED, EndedBy.AGENT, 45)


def test_survey_not_answered_ends_the_call_without_a_rating(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,)), step("rate", "survey", text="Rate us"))
    center = make_center(clock, scenarios=[scenario])
    call, _ = center.call()
    center.talk(call, ANN)
    center.wait(10)
    assert center.summary(call).survey_rating is None


def test_no_survey_when_the_caller_hangs_up(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,)), step("rate", "survey", text="Rate us"))
    center = make_center(clock, scenarios=[scenario])
    call, _ = center.call()
    center.agent_answered(call, ANN)
    center.caller_hung_up(call)
    assert center.summary(call).ended_by == EndedBy.CUSTOMER


HOURS = {"mon": (("09:00", "18:00"),)}


def test_outside_opening_hours_the_closed_step_runs():
    clock = FakeClock(datetime(2026, 1, 5, 7, 59, tzinfo=UTC))  # 08:59 in Paris
    scenario = ivr(step("ring", "ring", agents=(ANN,)), step("closed", "announce", text="we are closed"),
                   opening_hours=HOURS, closed_step="closed")
    center = make_center(clock, scenarios=[scenario], time_zone="Europe/Paris")
    early, arrived = center.call()
    assert [p.text for p in arrived.of(Play)] == ["we are closed"] and rung(arrived) == []
    clock.set(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))  # 09:00 in Paris
    _, opened = center.call()
    assert rung(opened) == [ANN]
    assert center.summary(early).type == CallType.MISSED


def test_outside_opening_hours_without_closed_step_hangs_up(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,)), opening_hours=HOURS)
    center = make_center(clock, scenarios=[scenario])
    clock.set(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))  # a Saturday
    call, arrived = center.call()
    assert arrived.of(HangUp)[0].cause == 480 and rung(arrived) == []
    assert center.summary(call).ended_by == EndedBy.SYSTEM


def skip_scenario(condition: SkipCondition):
    return ivr(step("ring", "ring", agents=(ANN, BOB), skip_if=frozenset({condition})),
               step("vm", "voicemail", text="all busy"))


def test_skip_if_offline(clock):
    center = make_center(clock, scenarios=[skip_scenario(SkipCondition.OFFLINE)])
    center.agent_disconnected(ANN)
    _, one_online = center.call()
    assert rung(one_online) == [BOB]
    center.agent_disconnected(BOB)
    call, skipped = center.call()
    assert skipped.of(StartVoicemail) and rung(skipped) == []
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.NOTCONNECTED), (BOB, Outcome.NOTCONNECTED)]


def test_skip_if_snooze(clock):
    center = make_center(clock, scenarios=[skip_scenario(SkipCondition.SNOOZE)])
    center.snooze(ANN, "lunch")
    center.snooze(BOB, "training")
    call, skipped = center.call()
    assert skipped.of(StartVoicemail) and rung(skipped) == []
    center.caller_hung_up(call)
    assert center.outcomes(call) == [(ANN, Outcome.SNOOZE), (BOB, Outcome.SNOOZE)]


def test_skip_if_out_of_hours(clock):
    night = {"mon": [["20:00", "23:00"]]}
    agents = [AgentConfig.of(ANN, schedule=night), AgentConfig.of(BOB, schedule=night)]
    center = make_center(clock, agents=agents, scenarios=[skip_scenario(SkipCondition.OUT_OF_HOURS)])
    _, skipped = center.call()
    assert skipped.of(StartVoicemail)
    clock.set(datetime(2026, 1, 5, 20, 30, tzinfo=UTC))
    center.advance()
    _, on_duty = center.call()
    assert rung(on_duty) == [ANN, BOB]


def test_skip_if_in_call_even_when_the_agents_could_take_another(clock):
    agents = [AgentConfig(email=ANN, max_channels=2, call_waiting=True),
              AgentConfig(email=BOB, max_channels=2, call_waiting=True)]
    scenario = skip_scenario(SkipCondition.IN_CALL)
    plain = ivr(step("ring", "ring", agents=(ANN, BOB)), name="plain", number="+33100000002")
    center = make_center(clock, agents=agents, scenarios=[scenario, plain])
    a, _ = center.call(to_number="+33100000002")
    center.agent_answered(a, ANN)
    _, half = center.call()
    assert rung(half) == [ANN, BOB]  # ann still has a channel and call waiting
    center.agent_answered(half.of(CallStarted)[0].call_id, BOB)
    _, skipped = center.call()
    assert skipped.of(StartVoicemail) and rung(skipped) == []


def test_blacklisted_caller_is_refused_with_603_before_routing(clock):
    center = make_center(clock, scenarios=[MENU])
    center.set_blacklist({"+33666666666"})
    call, refused = center.call("+33666666666")
    assert refused.of(HangUp) == [HangUp(call, 603, "+33666666666 is blacklisted")]
    assert refused.of(Play) == [] and rung(refused) == []
    assert len(refused.of(CallStarted)) == 1 and len(refused.of(CallEnded)) == 1
    summary = center.summary(call)
    assert (summary.type, summary.ended_by, summary.attempts) == (CallType.MISSED, EndedBy.SYSTEM, ())


def test_anonymous_callers_refused_when_the_ivr_says_so(clock):
    refusing = ivr(step("ring", "ring", agents=(ANN,)), anonymous=AnonymousPolicy.REJECT)
    center = make_center(clock, scenarios=[refusing])
    _call, refused = center.call("anonymous")
    assert refused.of(HangUp)[0].cause == 603 and rung(refused) == []
    center.load_scenarios([ivr(step("ring", "ring", agents=(ANN,)))])
    _, allowed = center.call("anonymous")
    assert rung(allowed) == [ANN]


def test_direct_line_rings_the_user_for_their_ring_seconds_then_voicemail(clock):
    center = make_center(clock, agents=[AgentConfig(email=ANN, ring_s=15), AgentConfig(email=BOB)])
    center.load_direct_lines({"+33140000001": ANN})
    call, arrived = center.call(to_number="+33140000001")
    assert [(a.agent, a.ring_s) for a in arrived.actions if type(a).__name__ == "RingAgent"] == [(ANN, 15)]
    assert arrived.of(CallStarted)[0].kind == CallKind.DIRECT
    assert center.wait(15).of(StartVoicemail) == [StartVoicemail(call, ANN)]
    center.caller_hung_up(call)
    summary = center.summary(call)
    assert (summary.type, summary.kind, summary.ivr) == (CallType.VOICEMAIL, CallKind.DIRECT, None)
    assert center.outcomes(call) == [(ANN, Outcome.NO_ANSWER)]


def test_direct_line_caller_leaving_before_voicemail_is_missed(clock):
    center = make_center(clock)
    center.load_direct_lines({"+33140000001": ANN})
    call, _ = center.call(to_number="+33140000001")
    center.caller_hung_up(call)
    assert center.summary(call).type == CallType.MISSED


def test_direct_line_blacklist_of_the_user_only(clock):
    center = make_center(clock)
    center.load_direct_lines({"+33140000001": ANN, "+33140000002": BOB})
    center.set_blacklist(lambda number, direction, email: email == ANN and number == CALLER)
    _, to_ann = center.call(to_number="+33140000001")
    _, to_bob = center.call(to_number="+33140000002")
    assert to_ann.of(HangUp)[0].cause == 603
    assert rung(to_bob) == [BOB]


def test_recording_is_announced_started_and_stopped(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,)), record=True, announce_recording=True)
    center = make_center(clock, scenarios=[scenario])
    call, arrived = center.call()
    assert arrived.of(Play)
    assert center.agent_answered(call, ANN).of(Record) == [Record(call, True)]
    assert center.caller_hung_up(call).of(Record) == [Record(call, False)]
    assert center.summary(call).recorded


def test_unknown_number_is_refused_without_a_call_record(clock):
    center = make_center(clock, scenarios=[MENU])
    _, refused = center.call(to_number="+33199999999")
    assert refused.of(HangUp)[0].cause == 404 and refused.events == []
    assert "+33199999999" in refused.ignored


def test_take_a_waiting_call_and_whisper(clock):
    center = make_center(clock, scenarios=[queue(agents=(ANN,), strategy=Strategy.LINEAR)])
    busy, _ = center.call()
    center.agent_answered(busy, ANN)
    waiting, _ = center.call()
    taken = center.take_waiting_call(waiting, CID)
    assert taken.of(ConnectAgent) == [ConnectAgent(waiting, CID)]
    whisper = center.whisper(waiting, BOB)
    assert [a.agent for a in whisper.actions] == [CID]
    center.caller_hung_up(waiting)
    assert center.outcomes(waiting) == [(ANN, Outcome.INCALL), (CID, Outcome.ANSWERED)]


def test_snapshot_lists_agents_waiting_calls_and_calls(clock):
    center = make_center(clock, scenarios=[queue()])
    center.snooze(BOB, "lunch")
    busy, _ = center.call()
    center.agent_answered(busy, ANN)
    waiting, _ = center.call()
    clock.advance(12)
    snapshot = center.center.snapshot()
    agents = {a["email"]: (a["state"], a["reason"], a["interface"]) for a in snapshot["agents"]}
    assert agents == {ANN: ("in_call", None, "sip"), BOB: ("snooze", "lunch", "sip"),
                      CID: ("free", None, "sip")}
    assert snapshot["waiting"] == [{"call_id": waiting, "from_number": CALLER, "ivr": "sales", "wait_s": 12.0,
                                    "vip": False}]
    calls = {c["call_id"]: (c["state"], c["agent"], c["duration_s"], c["to_number"])
             for c in snapshot["calls"]}
    assert calls == {busy: ("connected", ANN, 12.0, IVR_NUMBER), waiting: ("queued", None, 12.0, IVR_NUMBER)}


def test_the_waiting_list_is_announced_once_per_input_in_vip_then_arrival_order(clock):
    from ringtui.engine.core.events import WaitingListChanged
    scenario = queue(max_wait_s=600)
    scenario = type(scenario)(**{**scenario.__dict__, "vip_numbers": frozenset({"+33699000000"})})
    center = make_center(clock, scenarios=[scenario])
    busy, _ = center.call()
    center.agent_answered(busy, ANN)
    center.call("+33611000001")
    vip, arrived = center.call("+33699000000")
    (changed,) = arrived.of(WaitingListChanged)
    assert [(row["from_number"], row["vip"]) for row in changed.waiting] == [
        ("+33699000000", True), ("+33611000001", False)]
    freed = center.agent_hung_up(busy, ANN)
    assert freed.of(WaitingListChanged) == []  # ringing does not take a call off the list
    (ring,) = freed.of(RingAgent)
    assert ring.call_id == vip
    answered = center.agent_answered(vip, ANN)
    assert len(answered.of(WaitingListChanged)) == 1


def test_recording_policy_follows_the_agents_permission_and_share(clock):
    scenario = ivr(step("ring", "ring", agents=(ANN,)), record=True)
    never = AgentConfig(email=ANN, name="ann", record_conversations=False)
    center = make_center(clock, agents=[never], scenarios=[scenario])
    call, _ = center.call()
    assert center.agent_answered(call, ANN).of(Record) == []
    center.caller_hung_up(call)
    assert not center.summary(call).recorded

    half = AgentConfig(email=ANN, name="ann", recorded_percent=50)
    center = make_center(clock, agents=[half], scenarios=[scenario])
    recorded = 0
    for _ in range(200):
        call, _ = center.call()
        recorded += bool(center.agent_answered(call, ANN).of(Record))
        center.caller_hung_up(call)
        clock.advance(1)
    assert 60 < recorded < 140  # about half of 200, from the seeded draw


def test_direct_lines_are_recorded_when_the_agent_records_by_default(clock):
    always = AgentConfig(email=ANN, name="ann", record_by_default=True)
    center = make_center(clock, agents=[always, BOB])
    center.load_direct_lines({"+33123456789": ANN, "+33123456780": BOB})
    call, _ = center.call(to_number="+33123456789")
    assert center.agent_answered(call, ANN).of(Record) == [Record(call, True)]
    other, _ = center.call(to_number="+33123456780")
    assert center.agent_answered(other, BOB).of(Record) == []
