"""Call statistics (S1, S2, S5): each indicator defined once, as an SQL aggregate.

The definitions follow the live KPIs (A1, ringtui.engine.kpis) so that a figure
is the same wherever it is shown: service level = answered inbound / inbound;
average wait over answered inbound calls; maximum wait over all inbound calls;
time before abandon over inbound calls not answered; talk IN over answered
inbound calls; talk OUT over outbound calls. A missed call is an inbound call
that ended without being answered (missed, voicemail or no key pressed).
Calls still in progress are not counted until they end.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, select
from sqlalchemy.orm import aliased

from ringtui.models import CallRecord, RingAttempt, User
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation
from ringtui.services.filters import FilterOptions, call_conditions, seconds_between
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import CallType, Direction, Outcome

# ---------------------------------------------------------------- which calls


def ended() -> ColumnElement[bool]:
    return CallRecord.ended_at.is_not(None)


def inbound() -> ColumnElement[bool]:
    return CallRecord.direction == Direction.IN


def outbound() -> ColumnElement[bool]:
    return CallRecord.direction == Direction.OUT


def answered_inbound() -> ColumnElement[bool]:
    return and_(inbound(), CallRecord.type == CallType.ANSWERED)


def missed_inbound() -> ColumnElement[bool]:
    """An inbound call that ended unanswered: the missed-call worklist (L4) is made of these."""
    return and_(inbound(), CallRecord.type.is_not(None), CallRecord.type != CallType.ANSWERED)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def _of(condition: ColumnElement[bool], column: Any) -> Any:
    return case((condition, column))


# ---------------------------------------------------------------- S1, S2 indicators


def total_calls() -> ColumnElement[int]:
    return func.count(CallRecord.id)


def inbound_calls() -> ColumnElement[int]:
    return _count(inbound())


def outbound_calls() -> ColumnElement[int]:
    return _count(outbound())


def answered_calls() -> ColumnElement[int]:
    return _count(answered_inbound())


def missed_calls() -> ColumnElement[int]:
    return _count(missed_inbound())


def service_level() -> ColumnElement[float]:
    """Answered inbound / inbound, 0..1 (None without inbound calls)."""
    return cast(answered_calls(), Float) / func.nullif(inbound_calls(), 0)


def total_duration_s() -> ColumnElement[float]:
    """Conversation time of every call, in and out."""
    return func.sum(CallRecord.talk_s)


def avg_wait_s() -> ColumnElement[float]:
    return func.avg(_of(answered_inbound(), CallRecord.wait_s))


def max_wait_s() -> ColumnElement[float]:
    return func.max(_of(inbound(), CallRecord.wait_s))


def avg_abandon_s() -> ColumnElement[float]:
    return func.avg(_of(missed_inbound(), CallRecord.wait_s))


def avg_talk_in_s() -> ColumnElement[float]:
    return func.avg(_of(answered_inbound(), CallRecord.talk_s))


def max_talk_in_s() -> ColumnElement[float]:
    return func.max(_of(answered_inbound(), CallRecord.talk_s))


def avg_talk_out_s() -> ColumnElement[float]:
    return func.avg(_of(outbound(), CallRecord.talk_s))


def max_talk_out_s() -> ColumnElement[float]:
    return func.max(_of(outbound(), CallRecord.talk_s))


def unprocessed_missed() -> ColumnElement[int]:
    return _count(and_(missed_inbound(), CallRecord.processed_at.is_(None)))


def callback_delay_s() -> ColumnElement[float]:
    """Seconds from the end of a missed inbound call to the next outbound call to that number."""
    later = aliased(CallRecord)
    callback_at = select(func.min(later.started_at)).where(
        later.direction == Direction.OUT, later.to_number == CallRecord.from_number,
        later.started_at >= CallRecord.ended_at).correlate(CallRecord).scalar_subquery()
    return seconds_between(CallRecord.ended_at, callback_at)


def avg_callback_s() -> ColumnElement[float]:
    """Average callback delay over the missed inbound calls that were called back."""
    return func.avg(_of(missed_inbound(), callback_delay_s()))


CALL_INDICATORS = {
    "total_calls": total_calls, "inbound_calls": inbound_calls, "outbound_calls": outbound_calls,
    "answered_calls": answered_calls, "missed_calls": missed_calls, "service_level": service_level,
    "total_duration_s": total_duration_s, "avg_wait_s": avg_wait_s, "max_wait_s": max_wait_s,
    "avg_abandon_s": avg_abandon_s, "avg_talk_in_s": avg_talk_in_s, "max_talk_in_s": max_talk_in_s,
    "avg_talk_out_s": avg_talk_out_s, "max_talk_out_s": max_talk_out_s,
    "unprocessed_missed": unprocessed_missed, "avg_callback_s": avg_callback_s,
}
_COUNTS = {"total_calls", "inbound_calls", "outbound_calls", "answered_calls", "missed_calls",
           "unprocessed_missed"}


def _figure(name: str, value: Any) -> Any:
    if name in _COUNTS:
        return int(value or 0)
    if name == "total_duration_s":
        return round(float(value or 0), 1)
    if value is None:
        return None
    return round(float(value), 4 if name == "service_level" else 1)


def _require_statistics(op: Operation) -> None:
    require_feature(op.account, Feature.STATISTICS)
    require_area(op, Area.STATISTICS)


def call_stats(op: Operation, options: FilterOptions | None = None, *,
               now: datetime | None = None) -> dict[str, Any]:
    """S1 and S2 over the filtered calls, in one query."""
    _require_statistics(op)
    conditions = call_conditions(op, options, now=now)
    query = select(*(indicator().label(name) for name, indicator in CALL_INDICATORS.items())).where(
        ended(), *conditions)
    row = op.session.execute(query).one()._mapping
    return {name: _figure(name, row[name]) for name in CALL_INDICATORS}


# ---------------------------------------------------------------- S5 leaderboard

LEADERBOARD_OUTCOMES = tuple(Outcome)


def _talk_time() -> ColumnElement[float]:
    """Talk time of the calls the agent answered or placed."""
    took = RingAttempt.outcome.in_([Outcome.ANSWERED, Outcome.OUT])
    return func.coalesce(func.sum(case((took, CallRecord.talk_s), else_=0.0)), 0.0)


def leaderboard(op: Operation, options: FilterOptions | None = None, *,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """Per agent: how many ring attempts came to each S5 outcome, and talk time; one GROUP BY."""
    _require_statistics(op)
    conditions = call_conditions(op, options, now=now)
    counts = [_count(RingAttempt.outcome == outcome).label(outcome.value.lower())
              for outcome in LEADERBOARD_OUTCOMES]
    query = (select(User.email.label("agent"), *counts, _talk_time().label("talk_s"))
             .select_from(RingAttempt)
             .join(CallRecord, CallRecord.id == RingAttempt.call_record_id)
             .join(User, User.id == RingAttempt.user_id)
             .where(*conditions)
             .group_by(User.email))
    rows = [dict(row._mapping) for row in op.session.execute(query)]
    for row in rows:
        row["talk_s"] = round(float(row["talk_s"]), 1)
    return sorted(rows, key=lambda row: (-row["answered"], -row["out"], row["agent"]))
