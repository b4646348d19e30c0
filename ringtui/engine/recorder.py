"""The recorder: call records written from the core's events (E3).

A record opens when a call starts and closes when it ends, with its ring
attempts, survey answer and tags, in the same transaction. Writes are batched:
`handle()` only queues, `flush()` writes everything queued in one transaction,
opens before closes. At engine start `close_orphans()` closes the records a
crash left open, as ended by an engine restart, so nothing is lost and nothing
is counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlmodel import Session

from ringtui.engine.core.events import (
    AttemptOutcomeChanged,
    CallAnswered,
    CallEnded,
    CallStarted,
    CallSummary,
    Event,
)
from ringtui.models import CallRecord, CallTag, Ivr, RingAttempt, SurveyAnswer, Tag, User
from ringtui.services.phones import country_of
from ringtui.vocab import CallType, Direction, EndedBy

_RECORDS = CallRecord.__table__
_ATTEMPTS = RingAttempt.__table__
_CLOSE = update(_RECORDS).where(_RECORDS.c.id == bindparam("record_id")).values(
    {name: bindparam(name) for name in (
        "answered_at", "ended_at", "type", "wait_s", "talk_s", "ended_by", "recorded", "user_id")})
_LATE = update(_ATTEMPTS).where(
    _ATTEMPTS.c.call_record_id == select(_RECORDS.c.id).where(
        _RECORDS.c.call_id == bindparam("late_call")).scalar_subquery(),
    _ATTEMPTS.c.user_id == bindparam("late_user"),
    _ATTEMPTS.c.started_at == bindparam("late_start"),
).values(outcome=bindparam("late_outcome"))
_ANSWER = update(_RECORDS).where(_RECORDS.c.call_id == bindparam("answered_call")).values(
    answered_at=bindparam("answered_at"), user_id=bindparam("user_id"))


@dataclass(frozen=True)
class Batch:
    opened: list[CallStarted]
    answered: list[CallAnswered]
    closed: list[CallEnded]
    late: list[AttemptOutcomeChanged]

    @property
    def size(self) -> int:
        return len(self.opened) + len(self.answered) + len(self.closed) + len(self.late)


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._opened: list[CallStarted] = []
        self._answered: list[CallAnswered] = []
        self._closed: list[CallEnded] = []
        self._late: list[AttemptOutcomeChanged] = []
        self._users: dict[str, int] = {}
        self._ivrs: dict[str, int] = {}
        self._tags: dict[str, int] = {}

    # ------------------------------------------------------------ queueing

    def handle(self, event: Event) -> None:
        """Queue what the event means for the records; other events are ignored."""
        if isinstance(event, CallStarted):
            self._opened.append(event)
        elif isinstance(event, CallAnswered):
            self._answered.append(event)
        elif isinstance(event, CallEnded):
            self._closed.append(event)
        elif isinstance(event, AttemptOutcomeChanged):
            self._late.append(event)

    @property
    def pending(self) -> int:
        return len(self._opened) + len(self._answered) + len(self._closed) + len(self._late)

    # ------------------------------------------------------------ writing

    def take(self) -> Batch:
        """Everything queued so far, leaving the queue empty (in the event loop's thread)."""
        batch = Batch(self._opened, self._answered, self._closed, self._late)
        self._opened, self._answered, self._closed, self._late = [], [], [], []
        return batch

    def write(self, batch: Batch) -> int:
        """Write a batch in one transaction, opens before answers before closes (any thread)."""
        if not batch.size:
            return 0
        with Session(self._engine) as db, db.begin():
            self._refresh_names(db)
            if batch.opened:
                db.execute(insert(_RECORDS), [self._open_row(event) for event in batch.opened])
            if batch.answered:  # so that a crash before the end still knows the call was answered
                db.execute(_ANSWER, [{"answered_call": event.call_id, "answered_at": event.at,
                                      "user_id": self._users.get(event.agent)} for event in batch.answered])
            if batch.closed:
                self._write_closes(db, [event.call for event in batch.closed])
            if batch.late:  # an agent picked up after the call was over: TOOLATE (S5)
                db.execute(_LATE, [{"late_call": e.call_id, "late_user": self._users.get(e.agent),
                                    "late_start": e.started_at, "late_outcome": e.outcome}
                                   for e in batch.late])
        return batch.size

    def flush(self) -> int:
        """Write everything queued, now, in one transaction; returns how many events."""
        return self.write(self.take())

    def _refresh_names(self, db: Session) -> None:
        self._users = dict(db.execute(select(User.email, User.id)).all())
        self._ivrs = dict(db.execute(select(Ivr.name, Ivr.id)).all())
        self._tags = dict(db.execute(select(Tag.name, Tag.id)).all())

    def _open_row(self, event: CallStarted) -> dict[str, Any]:
        return {
            "call_id": event.call_id, "direction": event.direction, "kind": event.kind,
            "from_number": event.from_number, "to_number": event.to_number,
            "caller_country": _caller_country(event.direction, event.from_number, event.to_number),
            "ivr_id": self._ivrs.get(event.ivr or ""), "user_id": self._users.get(event.agent or ""),
            "started_at": event.at, "vip": event.vip,
            "wait_s": 0.0, "talk_s": 0.0, "recorded": False, "flagged": False,
        }

    def _write_closes(self, db: Session, calls: list[CallSummary]) -> None:
        ids = dict(db.execute(select(CallRecord.call_id, CallRecord.id).where(
            CallRecord.call_id.in_([call.call_id for call in calls]))).all())
        missing = [call for call in calls if call.call_id not in ids]
        if missing:  # a call that ended before its open was written (or was never opened)
            db.execute(insert(_RECORDS), [self._open_row(_started_from(call)) for call in missing])
            ids.update(db.execute(select(CallRecord.call_id, CallRecord.id).where(
                CallRecord.call_id.in_([call.call_id for call in missing]))).all())
        db.execute(_CLOSE, [self._close_row(ids[call.call_id], call) for call in calls])
        attempts = [self._attempt_row(ids[call.call_id], attempt)
                    for call in calls for attempt in call.attempts]
        if attempts:
            db.execute(insert(_ATTEMPTS), attempts)
        surveys = [self._survey_row(ids[call.call_id], call) for call in calls
                   if call.survey_rating is not None]
        if surveys:
            db.execute(insert(SurveyAnswer.__table__), surveys)
        tags = [{"call_record_id": ids[call.call_id], "tag_id": self._tags[name]}
                for call in calls for name in dict.fromkeys(call.tags) if name in self._tags]
        if tags:
            db.execute(insert(CallTag.__table__), tags)

    def _close_row(self, record_id: int, call: CallSummary) -> dict[str, Any]:
        return {
            "record_id": record_id, "answered_at": call.answered_at, "ended_at": call.ended_at,
            "type": call.type, "wait_s": round(call.wait_s, 3), "talk_s": round(call.talk_s, 3),
            "ended_by": call.ended_by, "recorded": call.recorded,
            "user_id": self._users.get(call.agent or ""),
        }

    def _attempt_row(self, record_id: int, attempt: Any) -> dict[str, Any]:
        return {"call_record_id": record_id, "user_id": self._users.get(attempt.agent),
                "started_at": attempt.started_at, "ended_at": attempt.ended_at,
                "outcome": attempt.outcome}

    def _survey_row(self, record_id: int, call: CallSummary) -> dict[str, Any]:
        return {"call_record_id": record_id, "ivr_id": self._ivrs.get(call.ivr or ""),
                "user_id": self._users.get(call.agent or ""), "category": call.survey_category,
                "question": call.survey_question, "rating": call.survey_rating,
                "answered_at": call.ended_at}


def _caller_country(direction: str, from_number: str, to_number: str) -> str | None:
    customer = from_number if direction == Direction.IN else to_number
    return country_of(customer) if customer.startswith("+") else None


def _started_from(call: CallSummary) -> CallStarted:
    return CallStarted(at=call.started_at, call_id=call.call_id, direction=call.direction, kind=call.kind,
                       from_number=call.from_number, to_number=call.to_number, ivr=call.ivr,
                       agent=call.agent, vip=call.vip)


def close_orphans(engine: Engine, now: datetime) -> list[str]:
    """Close the records a crashed engine left open; returns their call ids.

    A record that had been answered counts as answered, with its talk time up to
    now; any other as missed. Either way it is marked as ended by an engine restart.
    """
    with Session(engine) as db, db.begin():
        orphans = db.execute(select(CallRecord).where(CallRecord.ended_at.is_(None))).scalars().all()
        for record in orphans:
            record.ended_at = now
            record.ended_by = EndedBy.ENGINE_RESTART
            if record.answered_at is not None:
                record.type = CallType.ANSWERED
                record.talk_s = max(0.0, (now - record.answered_at).total_seconds())
            else:
                record.type = CallType.MISSED
                record.wait_s = max(0.0, (now - record.started_at).total_seconds())
        return [record.call_id for record in orphans]


def record_all(engine: Engine, events: Iterable[Event]) -> int:
    """Write a batch of events at once (the simulator's history, tests)."""
    recorder = Recorder(engine)
    for event in events:
        recorder.handle(event)
    return recorder.flush()
