"""S6 redirection: a call of an IVR remembers the step that handled it last, in its record."""

from __future__ import annotations

from sqlmodel import Session, select

from ringtui.db import engine_for
from ringtui.engine.core.clock import FakeClock
from ringtui.engine.recorder import record_all
from ringtui.models import CallRecord
from tests.conftest import ok
from tests.engine.core.conftest import ANN, BOB, MONDAY_9, Harness, ivr, make_center, step

TWO_STEPS = ivr(
    step("sales", "ring", agents=(ANN,), ring_s=15),
    step("messages", "voicemail"),
    step("rating", "survey", text="Rate us"),
)


def two_step_center() -> Harness:
    return make_center(FakeClock(MONDAY_9), agents=(ANN, BOB), scenarios=[TWO_STEPS])


def test_an_answered_call_was_handled_by_the_ring_step_even_after_its_survey():
    center = two_step_center()
    call, _ = center.call()
    center.talk(call, ANN, seconds=30)
    center.wait(11)  # the survey goes unanswered
    assert center.summary(call).ivr_step == "sales"


def test_a_call_nobody_answers_was_handled_by_the_voicemail_it_went_on_to():
    center = two_step_center()
    call, _ = center.call()
    center.wait(20)  # sales rings out, the caller is in the voicemail
    center.caller_hung_up(call)
    assert center.summary(call).ivr_step == "messages"


def test_a_caller_hanging_up_while_it_rings_leaves_the_ring_step_as_redirection():
    center = two_step_center()
    call, _ = center.call()
    center.wait(5)
    center.caller_hung_up(call)
    assert center.summary(call).ivr_step == "sales"


def test_a_direct_line_call_has_no_redirection():
    center = two_step_center()
    center.load_direct_lines({"+33100000099": BOB})
    call, _ = center.call(to_number="+33100000099")
    center.talk(call, BOB)
    assert center.summary(call).ivr_step is None


def test_the_recorder_writes_the_step_into_the_call_record(account, db_url):
    ok(account("ivr", "create", "sales"))
    center = two_step_center()
    answered, _ = center.call(call_id="answered")
    center.talk(answered, ANN, seconds=30)
    center.wait(11)
    missed, _ = center.call(call_id="missed")
    center.wait(20)
    center.caller_hung_up(missed)
    database = engine_for(db_url)
    record_all(database, center.events)
    with Session(database) as db:
        steps = dict(db.exec(select(CallRecord.call_id, CallRecord.ivr_step)).all())
    assert steps == {"answered": "sales", "missed": "messages"}
