"""The recorder: call records written from the core's events (E3).

A record opens when a call starts and closes when it ends, with its ring
attempts, transfers, survey answer and tags, in the same transaction.

After a transfer (S6) the record's user is the agent who answered first and its
talk time the customer's whole connection (the transfer's ring included); each
hand-on is a call_transfer row, the target's ring an ordinary ring attempt. Writes are batched:
`handle()` only queues, `flush()` writes everything queued in one transaction,
opens before closes. At engine start `close_orphans()` closes the records a
crash left open, as ended by an engine restart, so nothing is lost and nothing
is counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, column, insert, select, table, update
from sqlmodel import Session

from ringtui.engine.core.events import (
    AgentStateChanged,
    AttemptOutcomeChanged,
    CallAnswered,
    CallEnded,
    CallStarted,
    CallSummary,
    Event,
)
from ringtui.models import (
    CallRecord,
    CallTag,
    CallTransfer,
    Ivr,
    RingAttempt,
    SnoozePeriod,
    SurveyAnswer,
    Tag,
    User,
)
from ringtui.services.phones import area_of, country_of
from ringtui.services.rollups import add_calls, refresh_calls, shift_outcomes
from ringtui.vocab import AgentState, CallType, Direction, EndedBy

E = TypeVar("E", bound=Event)
_RECORDS = CallRecord.__table__
_ATTEMPTS = RingAttempt.__table__
# Ring attempts are most of the rows written: they go through an untyped table with their
# times already in the database's form, sparing a type conversion per value.
_ATTEMPT_COLUMNS = ("call_record_id", "user_id", "started_at", "ended_at", "outcome")
_ATTEMPT_ROWS = insert(table("ring_attempt", *(column(name) for name in _ATTEMPT_COLUMNS)))
_CLOSE = update(_RECORDS).where(_RECORDS.c.id == bindparam("record_id")).values(
    {name: bindparam(name) for name in (
        "answered_at", "ended_at", "type", "wait_s", "talk_s", "ended_by", "recorded", "user_id",
        "ivr_step")})
_LATE = update(_ATTEMPTS).where(
    _ATTEMPTS.c.call_record_id == select(_RECORDS.c.id).where(
        _RECORDS.c.call_id == bindparam("late_call")).scalar_subquery(),
    _ATTEMPTS.c.user_id == bindparam("late_user"),
    _ATTEMPTS.c.started_at == bindparam("late_start"),
).values(outcome=bindparam("late_outcome"))
_ANSWER = update(_RECORDS).where(_RECORDS.c.call_id == bindparam("answered_call")).values(
    answered_at=bindparam("answered_at"), user_id=bindparam("user_id"))


Batch = list[Event]


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: Batch = []
        self._users: dict[str, int] = {}
        self._ivrs: dict[str, int] = {}
        self._tags: dict[str, int] = {}

    # ------------------------------------------------------------ queueing

    def handle(self, event: Event) -> None:
        """Queue the events the records are made of; the others are not kept."""
        if isinstance(event, _RECORDED):
            self._queue.append(event)

    @property
    def pending(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------ writing

    def take(self) -> Batch:
        """Everything queued so far, leaving the queue empty (in the event loop's thread)."""
        batch, self._queue = self._queue, []
        return batch

    def write(self, batch: Batch) -> int:
        """Write a batch in one transaction, opens before answers before closes (any thread)."""
        if not batch:
            return 0
        with Session(self._engine) as db, db.begin():
            self._refresh_names(db)
            closed = [event.call for event in _of(batch, CallEnded)]
            ended = {call.call_id for call in closed}
            opened = {event.call_id: event for event in _of(batch, CallStarted)}
            # A call that starts and ends in the same batch is inserted once, complete.
            # (two statements: an executemany takes its columns from its first row)
            still_open = [self._open_row(event) for call_id, event in opened.items() if call_id not in ended]
            complete = [self._open_row(opened[call.call_id]) | self._close_fields(call)
                        for call in closed if call.call_id in opened]
            for rows in (still_open, complete):
                if rows:
                    db.execute(insert(_RECORDS), rows)
            answered = [event for event in _of(batch, CallAnswered)
                        if event.call_id not in ended and not event.transferred]
            if answered:  # so that a crash before the end still knows the call was answered
                db.execute(_ANSWER, [{"answered_call": event.call_id, "answered_at": event.at,
                                      "user_id": self._users.get(event.agent)} for event in answered])
            if closed:
                self._write_closes(db, closed, written=set(opened))
            late = _of(batch, AttemptOutcomeChanged)
            # attempts of calls recorded earlier move in the roll-ups (those of calls ended in this
            # batch are added below with their new outcome); before the update: it reads the old
            shift_outcomes(db, [(event.call_id, self._users.get(event.agent), event.started_at, event.outcome)
                                for event in late if event.call_id not in ended])
            if late:  # an agent picked up after the call was over: TOOLATE (S5)
                db.execute(_LATE, [{"late_call": e.call_id, "late_user": self._users.get(e.agent),
                                    "late_start": e.started_at, "late_outcome": e.outcome} for e in late])
            self._write_snoozes(db, _of(batch, AgentStateChanged))
            add_calls(db, ended)  # the roll-ups, after the late outcomes above, which they include
        return len(batch)

    def flush(self) -> int:
        """Write everything queued, now, in one transaction; returns how many events."""
        return self.write(self.take())

    def _write_snoozes(self, db: Session, changes: list[AgentStateChanged]) -> None:
        """Snooze history (S12): a period opens when an agent goes into snooze and closes when
        they are seen working again; a period opened by `users snooze` is not opened twice."""
        if not changes:
            return
        user_ids = {self._users[c.email] for c in changes if c.email in self._users}
        open_periods = {period.user_id: period for period in db.execute(select(SnoozePeriod).where(
            SnoozePeriod.ended_at.is_(None), SnoozePeriod.user_id.in_(user_ids))).scalars()}
        for change in changes:
            user_id = self._users.get(change.email)
            if user_id is None:
                continue
            period = open_periods.get(user_id)
            if change.state == AgentState.SNOOZE and period is None:
                open_periods[user_id] = period = SnoozePeriod(
                    user_id=user_id, reason=change.reason or "", started_at=change.since or change.at)
                db.add(period)
            elif change.state not in (AgentState.SNOOZE, AgentState.OFF) and period is not None:
                period.ended_at = change.at
                db.add(period)
                del open_periods[user_id]

    def _refresh_names(self, db: Session) -> None:
        self._users = dict(db.execute(select(User.email, User.id)).all())
        self._ivrs = dict(db.execute(select(Ivr.name, Ivr.id)).all())
        self._tags = dict(db.execute(select(Tag.name, Tag.id)).all())

    def _open_row(self, event: CallStarted) -> dict[str, Any]:
        return {
            "call_id": event.call_id, "direction": event.direction, "kind": event.kind,
            "from_number": event.from_number, "to_number": event.to_number,
            "caller_country": _caller_country(event.direction, event.from_number, event.to_number),
            "caller_area": _caller_area(event.direction, event.from_number, event.to_number),
            "ivr_id": self._ivrs.get(event.ivr or ""), "user_id": self._users.get(event.agent or ""),
            "started_at": event.at, "vip": event.vip,
            "wait_s": 0.0, "talk_s": 0.0, "recorded": False, "flagged": False,
        }

    def _write_closes(self, db: Session, calls: list[CallSummary], written: set[str]) -> None:
        """Close the records of `calls` (those in `written` were inserted closed) with their attempts."""
        ids = self._record_ids(db, [call.call_id for call in calls])
        missing = [call for call in calls if call.call_id not in ids]
        if missing:  # a call that ended before its open was written (or was never opened)
            db.execute(insert(_RECORDS), [self._open_row(_started_from(call)) for call in missing])
            ids.update(self._record_ids(db, [call.call_id for call in missing]))
        to_close = [call for call in calls if call.call_id not in written]
        if to_close:
            db.execute(_CLOSE, [{"record_id": ids[call.call_id]} | self._close_fields(call)
                                for call in to_close])
        time = _time_writer(db)
        attempts = [(ids[call.call_id], self._users.get(attempt.agent), time(attempt.started_at),
                     time(attempt.ended_at), attempt.outcome.value)
                    for call in calls for attempt in call.attempts]
        if attempts:
            db.execute(_ATTEMPT_ROWS, [dict(zip(_ATTEMPT_COLUMNS, row, strict=True)) for row in attempts])
        surveys = [self._survey_row(ids[call.call_id], call) for call in calls
                   if call.survey_rating is not None]
        if surveys:
            db.execute(insert(SurveyAnswer.__table__), surveys)
        tags = [{"call_record_id": ids[call.call_id], "tag_id": self._tags[name]}
                for call in calls for name in dict.fromkeys(call.tags) if name in self._tags]
        if tags:
            db.execute(insert(CallTag.__table__), tags)
        transfers = [{"call_record_id": ids[call.call_id], "transferred_at": transfer.at,
                      "kind": transfer.kind, "by_user_id": self._users.get(transfer.by),
                      "to_user_id": self._users.get(transfer.to_agent or ""),
                      "to_number": transfer.to_number, "answered": transfer.answered}
                     for call in calls for transfer in call.transfers]
        if transfers:
            db.execute(insert(CallTransfer.__table__), transfers)

    def _record_ids(self, db: Session, call_ids: list[str]) -> dict[str, int]:
        return dict(db.execute(select(CallRecord.call_id, CallRecord.id).where(
            CallRecord.call_id.in_(call_ids))).all())

    def _close_fields(self, call: CallSummary) -> dict[str, Any]:
        return {
            "answered_at": call.answered_at, "ended_at": call.ended_at,
            "type": call.type, "wait_s": round(call.wait_s, 3), "talk_s": round(call.talk_s, 3),
            "ended_by": call.ended_by, "recorded": call.recorded,
            "user_id": self._users.get(call.agent or ""), "ivr_step": call.ivr_step,
        }

    def _survey_row(self, record_id: int, call: CallSummary) -> dict[str, Any]:
        return {"call_record_id": record_id, "ivr_id": self._ivrs.get(call.ivr or ""),
                "user_id": self._users.get(call.agent or ""), "category": call.survey_category,
                "question": call.survey_question, "rating": call.survey_rating,
                "answered_at": call.ended_at}


_RECORDED = (CallStarted, CallAnswered, CallEnded, AttemptOutcomeChanged, AgentStateChanged)


def _of(batch: Batch, kind: type[E]) -> list[E]:
    return [event for event in batch if isinstance(event, kind)]


def _time_writer(db: Session) -> Callable[[datetime | None], Any]:
    """How UTCDateTime stores a time on this database: naive UTC text on SQLite, timestamptz elsewhere."""
    if db.get_bind().dialect.name != "sqlite":
        return lambda moment: moment
    return lambda moment: None if moment is None else moment.astimezone(UTC).strftime(_SQLITE_TIME)


_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for SQLite DATETIME


def _caller_country(direction: str, from_number: str, to_number: str) -> str | None:
    customer = from_number if direction == Direction.IN else to_number
    return country_of(customer) if customer.startswith("+") else None


def _caller_area(direction: str, from_number: str, to_number: str) -> str | None:
    customer = from_number if direction == Direction.IN else to_number
    return _area_of(customer) if customer.startswith("+") else None


_area_of = lru_cache(maxsize=65536)(area_of)  # customers call again: parse each number once (demo history)


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
        db.flush()
        refresh_calls(db, [record.call_id for record in orphans])
        return [record.call_id for record in orphans]


def record_all(engine: Engine, events: Iterable[Event]) -> int:
    """Write a batch of events at once (the simulator's history, tests)."""
    recorder = Recorder(engine)
    for event in events:
        recorder.handle(event)
    return recorder.flush()
