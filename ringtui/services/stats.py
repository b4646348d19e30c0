"""Call statistics (S1, S2, S5): each indicator defined once, as an SQL aggregate.

The definitions follow the live KPIs (A1, ringtui.engine.kpis) so that a figure
is the same wherever it is shown: service level = answered inbound / inbound;
average wait over answered inbound calls; maximum wait over all inbound calls;
time before abandon over inbound calls not answered; talk IN over answered
inbound calls; talk OUT over outbound calls. A missed call is an inbound call
that ended without being answered (missed, voicemail or no key pressed).
Calls still in progress are not counted until they end.

At scale the same indicators come from hourly roll-ups (ringtui.services.rollups) whenever every
filter can be answered from them; `source="raw"` forces the query over call_record (the tests
compare both ways on every indicator), `source="rollup"` refuses filters the roll-ups cannot answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.functions import FunctionElement

from ringtui.errors import Invalid
from ringtui.models import (
    CallRecord,
    CallTag,
    GroupMember,
    Ivr,
    RingAttempt,
    SnoozePeriod,
    SurveyAnswer,
    Tag,
    User,
)
from ringtui.models.types import UTCDateTime
from ringtui.services import rollups
from ringtui.services.access import Area, require_area, scope_ids
from ringtui.services.base import Operation
from ringtui.services.filters import (
    FilterOptions,
    Period,
    account_zone,
    call_conditions,
    group_members,
    hour_windows,
    ivr_ids,
    parse_hours,
    parse_period,
    seconds_between,
    transferred,
    unusable_options,
    user_ids,
    with_saved_filter,
)
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import CallType, Direction, Outcome, ScopeKind

# ---------------------------------------------------------------- which calls


def ended() -> ColumnElement[bool]:
    return CallRecord.ended_at.is_not(None)


def inbound() -> ColumnElement[bool]:
    return CallRecord.direction == Direction.IN


def outbound() -> ColumnElement[bool]:
    return CallRecord.direction == Direction.OUT


def answered_inbound() -> ColumnElement[bool]:
    return and_(inbound(), CallRecord.type == CallType.ANSWERED)


def _constant(value: str) -> ColumnElement[str]:
    """A vocabulary value written into the SQL text rather than bound: a partial index whose WHERE
    names it (such as missed inbound calls by IVR) can then serve the query on SQLite too."""
    return literal_column(f"'{value}'", String())


def missed_inbound() -> ColumnElement[bool]:
    """An inbound call that ended unanswered: the missed-call worklist (L4) is made of these."""
    return and_(CallRecord.direction == _constant(Direction.IN), CallRecord.type.is_not(None),
                CallRecord.type != _constant(CallType.ANSWERED))


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
        later.direction == _constant(Direction.OUT), later.to_number == CallRecord.from_number,
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
_S2 = ("unprocessed_missed", "avg_callback_s")  # change after the call ends: always from call_record


def rollup_indicators(table: rollups.CallTable) -> dict[str, ColumnElement[Any]]:
    """The S1 indicators (all but _S2) from a call roll-up's counts, sums and maxima."""
    incoming, outgoing = table.direction == Direction.IN, table.direction == Direction.OUT
    took = and_(incoming, table.type == CallType.ANSWERED)
    lost = and_(incoming, table.type.is_not(None), table.type != CallType.ANSWERED)

    def calls(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, table.calls), else_=0))

    def mean(condition: ColumnElement[bool], total: Any) -> ColumnElement[Any]:
        return func.sum(case((condition, total))) / func.nullif(func.sum(case((condition, table.calls))), 0)

    def most(condition: ColumnElement[bool], maximum: Any) -> ColumnElement[Any]:
        return func.max(case((condition, maximum)))

    return {
        "total_calls": func.sum(table.calls), "inbound_calls": calls(incoming),
        "outbound_calls": calls(outgoing), "answered_calls": calls(took), "missed_calls": calls(lost),
        "service_level": cast(calls(took), Float) / func.nullif(calls(incoming), 0),
        "total_duration_s": func.sum(table.talk_sum), "avg_wait_s": mean(took, table.wait_sum),
        "max_wait_s": most(incoming, table.wait_max), "avg_abandon_s": mean(lost, table.wait_sum),
        "avg_talk_in_s": mean(took, table.talk_sum), "max_talk_in_s": most(took, table.talk_max),
        "avg_talk_out_s": mean(outgoing, table.talk_sum), "max_talk_out_s": most(outgoing, table.talk_max),
    }


Source = Literal["auto", "raw", "rollup"]


def _rollup_plan(op: Operation, options: FilterOptions | None, now: datetime | None,
                 source: Source) -> tuple[rollups.CallTable, list[ColumnElement[bool]]] | None:
    """The call roll-up to answer from, or None for raw SQL (see module docstring)."""
    plan = None if source == "raw" else rollups.call_rollup(op, options, now or datetime.now(UTC))
    return _required(plan, source)


def _required(plan: Any, source: Source) -> Any:
    if plan is None and source == "rollup":
        raise Invalid("the roll-ups cannot answer these filters (tags, country, group, user, number, "
                      "redirection, transfers other than all, scoped visibility, or hours not on the "
                      "hour): use the raw source")
    return plan


_COUNTS = {"total_calls", "inbound_calls", "outbound_calls", "answered_calls", "missed_calls",
           "unprocessed_missed"}


def _round(value: Any, digits: int) -> float:
    """A sum of seconds rounded for display. Float sums depend on the order of their terms (the
    roll-ups add hour rows, the recorder adds batches, raw SQL adds calls): snapped to the
    microsecond first, the same total rounds the same way whichever order it was added in."""
    return round(round(float(value), 6), digits)


def _figure(name: str, value: Any) -> Any:
    if name in _COUNTS:
        return int(value or 0)
    if name == "total_duration_s":
        return _round(value or 0, 1)
    if value is None:
        return None
    return _round(value, 4 if name == "service_level" else 1)


def _require_statistics(op: Operation) -> None:
    require_feature(op.account, Feature.STATISTICS)
    require_area(op, Area.STATISTICS)


@cache
def _raw_columns() -> tuple[ColumnElement[Any], ...]:
    """Every indicator over call_record, labelled: built once per process (building the expressions
    costs more than running the query over a month of one IVR)."""
    return tuple(indicator().label(name) for name, indicator in CALL_INDICATORS.items())


@cache
def _rollup_columns(table: rollups.CallTable) -> tuple[ColumnElement[Any], ...]:
    return tuple(value.label(name) for name, value in rollup_indicators(table).items())


@cache
def _s2_columns() -> tuple[ColumnElement[Any], ...]:
    return tuple(CALL_INDICATORS[name]().label(name) for name in _S2)


def call_stats(op: Operation, options: FilterOptions | None = None, *,
               now: datetime | None = None, source: Source = "auto") -> dict[str, Any]:
    """S1 and S2 over the filtered calls in one statement: one query over call_record, or S1 from a
    roll-up beside S2 over the missed calls only."""
    _require_statistics(op)
    conditions = call_conditions(op, options, now=now)
    plan = _rollup_plan(op, options, now, source)
    if plan is None:
        query = select(*_raw_columns()).where(ended(), *conditions)
    else:
        table, rollup_conditions = plan
        s1 = select(*_rollup_columns(table)).where(*rollup_conditions).subquery("s1")
        s2 = select(*_s2_columns()).where(ended(), missed_inbound(), *conditions).subquery("s2")
        query = select(s1, s2).select_from(s1.join(s2, true()))
    row = op.session.execute(query).one()._mapping
    return {name: _figure(name, row[name]) for name in CALL_INDICATORS}


def service_level_within(op: Operation, threshold_s: float, options: FilterOptions | None = None, *,
                         now: datetime | None = None) -> dict[str, Any]:
    """Service level within a threshold as Wazo reports it: inbound calls answered after waiting at
    most `threshold_s` seconds, over every inbound call (abandoned ones included, like service_level;
    Asterisk's queue `servicelevelperf` divides by answered calls instead). Raw SQL: the roll-ups
    keep no distribution of waits."""
    _require_statistics(op)
    if not 0 < threshold_s <= MAX_THRESHOLD_S:
        raise Invalid(f"threshold {threshold_s:g} s is out of range: give 1..{MAX_THRESHOLD_S} seconds")
    within = _count(and_(answered_inbound(), CallRecord.wait_s <= threshold_s))
    ratio = cast(within, Float) / func.nullif(inbound_calls(), 0)
    value = op.session.execute(select(ratio).where(ended(), *call_conditions(op, options, now=now))).scalar()
    return {"service_level_threshold_s": threshold_s,
            "service_level_within": None if value is None else round(float(value), 4)}


MAX_THRESHOLD_S = 3600


# ---------------------------------------------------------------- S6 one IVR shown

NOT_ANSWERED_OUTCOMES = tuple(o for o in Outcome if o not in (Outcome.ANSWERED, Outcome.OUT))


def single_ivr_figures(op: Operation, options: FilterOptions | None = None, *,
                       now: datetime | None = None) -> dict[str, Any]:
    """S6, when the filters show a single IVR: the maximum time before abandon and why its missed
    inbound calls were not answered (ring attempts per S5 outcome, and calls that rang no agent).
    Empty when no IVR or several (--ivr A --ivr B) are chosen."""
    options = with_saved_filter(op, options or FilterOptions())
    if not options.ivr or len(ivr_ids(op, options.ivr)) != 1:
        return {}
    conditions = [ended(), missed_inbound(), *call_conditions(op, options, now=now)]
    max_abandon = op.session.execute(select(func.max(CallRecord.wait_s)).where(*conditions)).scalar()
    counts = dict(op.session.execute(
        select(RingAttempt.outcome, func.count())
        .join(CallRecord, CallRecord.id == RingAttempt.call_record_id)
        .where(*conditions, RingAttempt.outcome.in_(NOT_ANSWERED_OUTCOMES))
        .group_by(RingAttempt.outcome)).all())
    unrung = op.session.execute(select(func.count(CallRecord.id)).where(
        *conditions, ~exists().where(RingAttempt.call_record_id == CallRecord.id))).scalar()
    reasons = {outcome.value.lower(): int(counts.get(outcome, 0)) for outcome in NOT_ANSWERED_OUTCOMES}
    return {"max_abandon_s": None if max_abandon is None else _round(max_abandon, 1),
            "not_answered": {**reasons, "no_agent_rung": int(unrung or 0)}}


# ---------------------------------------------------------------- S5 leaderboard

LEADERBOARD_OUTCOMES = tuple(Outcome)


def _talk_time() -> ColumnElement[float]:
    """Talk time of the calls the agent answered or placed."""
    took = RingAttempt.outcome.in_([Outcome.ANSWERED, Outcome.OUT])
    return func.coalesce(func.sum(case((took, CallRecord.talk_s), else_=0.0)), 0.0)


def _rollup_leaderboard(rows: Any) -> Any:
    """The leaderboard from agent roll-up rows (rollups.agent_rollup)."""
    counts = [func.sum(rows.c[outcome.value.lower()]).label(outcome.value.lower())
              for outcome in LEADERBOARD_OUTCOMES]
    talk = func.coalesce(func.sum(rows.c.talk_s), 0.0).label("talk_s")
    return (select(User.email.label("agent"), *counts, talk)
            .select_from(rows)
            .join(User, User.id == rows.c.user_id)
            .group_by(User.email))


def leaderboard(op: Operation, options: FilterOptions | None = None, *,
                now: datetime | None = None, source: Source = "auto") -> list[dict[str, Any]]:
    """Per agent: how many ring attempts came to each S5 outcome, and talk time; one GROUP BY over
    ring attempts x calls, or over agent_hour when the filters allow."""
    _require_statistics(op)
    conditions = call_conditions(op, options, now=now)
    plan = None if source == "raw" else rollups.agent_rollup(op, options, now or datetime.now(UTC))
    counts = [_count(RingAttempt.outcome == outcome).label(outcome.value.lower())
              for outcome in LEADERBOARD_OUTCOMES]
    query = (select(User.email.label("agent"), *counts, _talk_time().label("talk_s"))
             .select_from(RingAttempt)
             .join(CallRecord, CallRecord.id == RingAttempt.call_record_id)
             .join(User, User.id == RingAttempt.user_id)
             .where(*conditions)
             .group_by(User.email))
    if _required(plan, source) is not None:
        query = _rollup_leaderboard(plan)
    rows = [dict(row._mapping) for row in op.session.execute(query)]
    for row in rows:
        row["talk_s"] = _round(row["talk_s"], 1)
    return sorted(rows, key=lambda row: (-row["answered"], -row["out"], row["agent"]))


# ---------------------------------------------------------------- S3 history, S4 heatmap
#
# Buckets are in the account's local time. The zone's UTC offset is looked up in
# Python (zoneinfo) for every stretch between two offset changes that the calls
# can touch, and applied in SQL as a CASE on started_at: exact across
# daylight-saving changes on SQLite and PostgreSQL alike, and nothing new stored.

TREND_INDICATORS = ("total_calls", "inbound_calls", "outbound_calls", "answered_calls", "missed_calls",
                    "service_level", "total_duration_s", "avg_wait_s", "max_wait_s", "avg_abandon_s",
                    "avg_talk_in_s", "max_talk_in_s", "avg_talk_out_s", "max_talk_out_s")
INTERVALS = ("hour", "day", "week", "month")
DEFAULT_INDICATOR = "total_calls"


class _moment(FunctionElement[datetime]):
    """A UTC time written into the SQL text, so that the same expression in SELECT and GROUP BY is
    identical for PostgreSQL (bound parameters would differ)."""

    inherit_cache = False  # the moment is not part of a cache key: never reuse another query's SQL

    def __init__(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)
        super().__init__()


@compiles(_moment)
def _moment_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"TIMESTAMPTZ '{element.moment.strftime('%Y-%m-%d %H:%M:%S')}+00'"


@compiles(_moment, "sqlite")
def _moment_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"'{element.moment.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


class _local(FunctionElement[datetime]):
    """started_at shifted by an offset in seconds: the naive local time."""

    inherit_cache = True


@compiles(_local)
def _local_pg(element: Any, compiler: Any, **kw: Any) -> str:
    moment, offset = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({moment} AT TIME ZONE 'UTC') + make_interval(secs => {offset}))"


@compiles(_local, "sqlite")
def _local_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    moment, offset = (compiler.process(c, **kw) for c in element.clauses)
    return f"datetime({moment}, ({offset}) || ' seconds')"


def _offset_s(zone: ZoneInfo, moment: datetime) -> int:
    return int((moment.astimezone(zone).utcoffset() or timedelta(0)).total_seconds())


def _offset_change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first second in (before, after] with the offset of `after` (bisection)."""
    target = _offset_s(zone, after)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if _offset_s(zone, middle) == target:
            after = middle
        else:
            before = middle
    return after.replace(microsecond=0)  # zones change on a whole second: the bisection's `after` is
    # within a second after it (an hour roll-up's row starts exactly on it)


def offset_stretches(zone: ZoneInfo, first: datetime,
                     last: datetime) -> tuple[int, list[tuple[datetime, int]]]:
    """The zone's offset at `first`, then each (UTC moment, new offset) change up to `last`."""
    day = first - timedelta(days=1)
    offset, changes = _offset_s(zone, day), []
    current = offset
    while day <= last + timedelta(days=1):
        following = day + timedelta(days=1)
        if _offset_s(zone, following) != current:
            current = _offset_s(zone, following)
            changes.append((_offset_change(zone, day, following), current))
        day = following
    return offset, changes


def _local_started_at(op: Operation, zone: ZoneInfo, column: Any = None) -> tuple[Any, Any]:
    """(naive local time, offset in seconds) as SQL expressions on `column` (call_record.started_at)."""
    column = CallRecord.started_at if column is None else column
    first, last = op.session.execute(select(func.min(column), func.max(column))).one()
    now = datetime.now(UTC)
    initial, changes = offset_stretches(zone, first or now, last or now)
    seconds = [initial, *(change[1] for change in changes)]
    offsets = [literal_column(str(value), Integer()) for value in seconds]
    offset: Any = offsets[0]
    if changes:
        whens = [(column < _moment(moment), before)
                 for (moment, _), before in zip(changes, offsets[:-1], strict=True)]
        offset = case(*whens, else_=offsets[-1])
    return _local(column, offset), offset


def _indicator(name: str | None) -> str:
    chosen = (name or DEFAULT_INDICATOR).strip().lower()
    if chosen not in TREND_INDICATORS:
        raise Invalid(f"unknown indicator {name!r}: give one of {', '.join(TREND_INDICATORS)}")
    return chosen


def _interval(name: str) -> str:
    chosen = name.strip().lower()
    if chosen not in INTERVALS:
        raise Invalid(f"unknown interval {name!r}: give {', '.join(INTERVALS)}")
    return chosen


def _bucket_start(text: str, offset_s: int | None, zone: ZoneInfo) -> str:
    """A local bucket start as an ISO UTC time: an hour by its own offset, longer buckets by the zone's."""
    local = datetime.fromisoformat(text)
    if offset_s is not None:
        moment = local.replace(tzinfo=UTC) - timedelta(seconds=offset_s)
    else:
        moment = local.replace(tzinfo=zone).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _trend_source(op: Operation, name: str, options: FilterOptions | None, now: datetime | None,
                  source: Source) -> tuple[Any, Any, list[ColumnElement[bool]]]:
    """(time column, indicator, conditions) for S3 and S4: over a roll-up or over call_record."""
    conditions = [ended(), *call_conditions(op, options, now=now)]
    plan = _rollup_plan(op, options, now, source)
    if plan is None:
        return CallRecord.started_at, CALL_INDICATORS[name](), conditions
    table, rollup_conditions = plan
    return table.hour, rollup_indicators(table)[name], rollup_conditions


def call_history(op: Operation, interval: str, indicator: str | None = None,
                 options: FilterOptions | None = None, *, now: datetime | None = None,
                 source: Source = "auto") -> dict[str, Any]:
    """S3: one indicator per local hour, day, week (from Monday) or month; empty buckets are left out."""
    _require_statistics(op)
    name, interval = _indicator(indicator), _interval(interval)
    column, value, conditions = _trend_source(op, name, options, now, source)
    buckets = time_buckets(op, column, value, conditions, interval)
    points = [{"start": start, "value": _figure(name, value)} for start, value in buckets]
    return {"indicator": name, "interval": interval, "points": points}


def call_heatmap(op: Operation, indicator: str | None = None, options: FilterOptions | None = None, *,
                 now: datetime | None = None, source: Source = "auto") -> dict[str, Any]:
    """S4: one indicator per local weekday (Monday = 0) and hour; all 168 cells, empty ones 0 or null."""
    _require_statistics(op)
    name = _indicator(indicator)
    values = weekday_hour_values(op, *_trend_source(op, name, options, now, source))
    cells = [{"weekday": day, "hour": h, "value": _figure(name, values.get((day, h)))}
             for day in range(7) for h in range(24)]
    return {"indicator": name, "cells": cells}


# SQLite spends most of a year-long history or heatmap in its date functions: datetime() then
# strftime() per row and per term. Hours, days, weeks and the weekday x hour cell are whole
# numbers of local seconds since 1970-01-01 (a Thursday), so there they are integer arithmetic on
# one strftime('%s') per row (several times faster); PostgreSQL keeps date_trunc and EXTRACT.
_EPOCH = datetime(1970, 1, 1)


class _local_unit(FunctionElement[Any]):
    """The local hour, day or ISO week (numbers on SQLite, bucket text elsewhere), a month
    (bucket text), or the weekday x hour cell ("cell": Monday 00:00 = 0 .. Sunday 23:00 = 167)."""

    inherit_cache = False  # the unit is not part of a cache key: never reuse another query's SQL

    def __init__(self, column: Any, offset: Any, local: Any, unit: str) -> None:
        self.unit = unit
        super().__init__(column, offset, local)


@compiles(_local_unit)
def _local_unit_pg(element: Any, compiler: Any, **kw: Any) -> str:
    local = compiler.process(list(element.clauses)[2], **kw)
    if element.unit == "cell":
        return (f"((CAST(EXTRACT(ISODOW FROM {local}) AS INTEGER) - 1) * 24 "
                f"+ CAST(EXTRACT(HOUR FROM {local}) AS INTEGER))")
    return f"to_char(date_trunc('{element.unit}', {local}), 'YYYY-MM-DD HH24:MI:SS')"


_SQLITE_UNITS = {"hour": "({s} / 3600)", "day": "({s} / 86400)", "week": "(({s} / 86400 + 3) / 7)",
                 "cell": "(({s} / 3600 + 72) % 168)"}


@compiles(_local_unit, "sqlite")
def _local_unit_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    column, offset, local = (compiler.process(c, **kw) for c in element.clauses)
    if element.unit == "month":
        return f"strftime('%Y-%m-01 00:00:00', {local})"
    seconds = f"(CAST(strftime('%s', {column}) AS INTEGER) + {offset})"
    return _SQLITE_UNITS[element.unit].format(s=seconds)


def _bucket_text(value: Any, interval: str) -> str:
    """A bucket as 'YYYY-MM-DD HH:MM:SS' local text, from either form of _local_unit."""
    if isinstance(value, str):
        return value
    number = int(value)
    if interval == "hour":
        start = _EPOCH + timedelta(hours=number)
    else:  # a day, or the Monday of a week (week 0 began on Monday 1969-12-29)
        start = _EPOCH + timedelta(days=number if interval == "day" else 7 * number - 3)
    return start.strftime("%Y-%m-%d %H:%M:%S")


def time_buckets(op: Operation, column: Any, value: Any, conditions: list[ColumnElement[bool]],
                 interval: str) -> list[tuple[str, Any]]:
    """S3 for any table (calls, SMS, messages): (ISO UTC start, raw `value`) per local bucket of
    `column`, oldest first."""
    interval = _interval(interval)
    zone = account_zone(op)
    local, offset = _local_started_at(op, zone, column)
    keys = [_local_unit(column, offset, local, interval).label("bucket")]
    groups = list(keys)
    if interval == "hour":  # the repeated hour of an autumn change is two buckets, told apart by offset
        keys.append(offset.label("offset"))
        if not isinstance(offset, ColumnClause):  # a lone constant would be a column number to SQLite
            groups.append(offset)
    query = select(*keys, value.label("value")).where(*conditions).group_by(*groups).order_by(*groups)
    points = [(_bucket_start(_bucket_text(row.bucket, interval), int(row.offset) if interval == "hour"
                             else None, zone), row.value) for row in op.session.execute(query)]
    return sorted(points, key=lambda point: point[0])


def weekday_hour_values(op: Operation, column: Any, value: Any,
                        conditions: list[ColumnElement[bool]]) -> dict[tuple[int, int], Any]:
    """S4 for any table: raw `value` per (local weekday Monday=0, hour) of `column`, non-empty cells."""
    local, offset = _local_started_at(op, account_zone(op), column)
    cell = _local_unit(column, offset, local, "cell").label("cell")
    query = select(cell, value.label("value")).where(*conditions).group_by(cell)
    return {divmod(int(row.cell), 24): row.value for row in op.session.execute(query)}


# ---------------------------------------------------------------- S10 tags, S13 callers, S14 geography

TAG_SORTS = ("calls", "name", "color")
MAX_CALLERS = 1000
TOP_COUNTRIES = 10
TOP_AREAS = 10


def _seconds(value: Any) -> float | None:
    return None if value is None else _round(value, 1)


def tag_stats(op: Operation, options: FilterOptions | None = None, sort: str = "calls", *,
              now: datetime | None = None) -> list[dict[str, Any]]:
    """S10: per tag, the ended calls that carry it and their total talk time."""
    _require_statistics(op)
    order = {"colour": "color"}.get(sort.strip().lower(), sort.strip().lower())
    if order not in TAG_SORTS:
        raise Invalid(f"unknown sort {sort!r}: give {', '.join(TAG_SORTS)}")
    conditions = call_conditions(op, options, now=now)
    query = (select(Tag.name.label("tag"), Tag.color.label("color"), total_calls().label("calls"),
                    func.coalesce(total_duration_s(), 0.0).label("talk_s"))
             .select_from(CallTag)
             .join(Tag, Tag.id == CallTag.tag_id)
             .join(CallRecord, CallRecord.id == CallTag.call_record_id)
             .where(ended(), *conditions)
             .group_by(Tag.name, Tag.color))
    rows = [{**row._mapping, "talk_s": _round(row.talk_s, 1)} for row in op.session.execute(query)]
    if order == "name":
        return sorted(rows, key=lambda row: row["tag"].lower())
    if order == "color":  # S10: tags of one colour side by side
        return sorted(rows, key=lambda row: ((row["color"] or "").lower(), row["tag"].lower()))
    return sorted(rows, key=lambda row: (-row["calls"], row["tag"].lower()))


def _customer() -> ColumnElement[str]:
    """The customer's number: the caller inbound, the called number outbound."""
    return case((inbound(), CallRecord.from_number), else_=CallRecord.to_number)


def _answered() -> ColumnElement[bool]:
    return CallRecord.type == CallType.ANSWERED


def _top_agents(op: Operation, conditions: list[ColumnElement[bool]], numbers: list[str]) -> dict[str, str]:
    """Per customer number, the agent who answered most of its calls (ties: first e-mail)."""
    if not numbers:
        return {}
    customer = _customer().label("customer")
    query = (select(customer, User.email.label("agent"), func.count(CallRecord.id).label("calls"))
             .join(User, User.id == CallRecord.user_id)
             .where(ended(), _answered(), _customer().in_(numbers), *conditions)
             .group_by(customer, User.email)
             .order_by(customer, func.count(CallRecord.id).desc(), User.email))
    top: dict[str, str] = {}
    for row in op.session.execute(query):
        top.setdefault(row.customer, row.agent)
    return top


TOP_TAGS = 3


def _top_tags(op: Operation, conditions: list[ColumnElement[bool]],
              numbers: list[str]) -> dict[str, list[str]]:
    """Per customer number, the tags most put on its calls (at most TOP_TAGS; ties by name)."""
    if not numbers:
        return {}
    customer = _customer().label("customer")
    uses = func.count(CallTag.call_record_id)
    query = (select(customer, Tag.name.label("tag"))
             .select_from(CallTag)
             .join(Tag, Tag.id == CallTag.tag_id)
             .join(CallRecord, CallRecord.id == CallTag.call_record_id)
             .where(ended(), _customer().in_(numbers), *conditions)
             .group_by(customer, Tag.name)
             .order_by(customer, uses.desc(), Tag.name))
    top: dict[str, list[str]] = {}
    for row in op.session.execute(query):
        tags = top.setdefault(row.customer, [])
        if len(tags) < TOP_TAGS:
            tags.append(row.tag)
    return top


def _repeat_intervals(op: Operation, conditions: list[ColumnElement[bool]],
                      numbers: list[str]) -> dict[str, tuple[Any, Any, Any]]:
    """Per customer number, the seconds between one inbound call and the next from that number
    (min, max, average): how soon customers call again. Anonymous callers are not one customer."""
    numbers = [number for number in numbers if number != ANONYMOUS]
    if not numbers:
        return {}
    previous = func.lag(CallRecord.started_at).over(
        partition_by=CallRecord.from_number, order_by=(CallRecord.started_at, CallRecord.id))
    calls = (select(CallRecord.from_number.label("customer"), CallRecord.started_at.label("started_at"),
                    previous.label("previous"))
             .where(ended(), inbound(), CallRecord.from_number.in_(numbers), *conditions)
             .subquery())
    gap = seconds_between(calls.c.previous, calls.c.started_at)
    query = (select(calls.c.customer, func.min(gap), func.max(gap), func.avg(gap))
             .where(calls.c.previous.is_not(None))
             .group_by(calls.c.customer))
    return {row[0]: tuple(row[1:]) for row in op.session.execute(query)}


def transfer_ratio() -> ColumnElement[float]:
    """S13 "ratio of received to transferred calls", as a share: of the calls received (inbound),
    those an agent handed on at least once, 0..1 (None without inbound calls)."""
    return cast(_count(and_(inbound(), transferred())), Float) / func.nullif(inbound_calls(), 0)


def caller_stats(op: Operation, options: FilterOptions | None = None, limit: int = 20, *,
                 now: datetime | None = None) -> list[dict[str, Any]]:
    """S13: per customer number, its calls, answered and missed, talk times, received (inbound) and
    transferred calls (handed on at least once, either direction) and transfer_ratio, the top agent,
    the top tags and the interval between its repeated (inbound) calls."""
    _require_statistics(op)
    if not 1 <= limit <= MAX_CALLERS:
        raise Invalid(f"limit {limit} is out of range: give 1..{MAX_CALLERS}")
    conditions = call_conditions(op, options, now=now)
    customer = _customer().label("number")
    query = (select(customer, total_calls().label("calls"), _count(_answered()).label("answered"),
                    _count(~_answered()).label("missed"),
                    func.coalesce(func.sum(CallRecord.talk_s), 0.0).label("talk_total_s"),
                    func.min(_of(_answered(), CallRecord.talk_s)).label("talk_min_s"),
                    func.max(_of(_answered(), CallRecord.talk_s)).label("talk_max_s"),
                    func.avg(_of(_answered(), CallRecord.talk_s)).label("talk_avg_s"),
                    inbound_calls().label("received"), _count(transferred()).label("transferred"),
                    transfer_ratio().label("transfer_ratio"))
             .where(ended(), *conditions)
             .group_by(customer)
             .order_by(total_calls().desc(), customer)
             .limit(limit))
    rows = [dict(row._mapping) for row in op.session.execute(query)]
    numbers = [row["number"] for row in rows]
    top = _top_agents(op, conditions, numbers)
    tags = _top_tags(op, conditions, numbers)
    repeats = _repeat_intervals(op, conditions, numbers)
    for row in rows:
        row["talk_total_s"] = _round(row["talk_total_s"], 1)
        for name in ("talk_min_s", "talk_max_s", "talk_avg_s"):
            row[name] = _seconds(row[name])
        ratio = row["transfer_ratio"]
        row["transfer_ratio"] = None if ratio is None else _round(ratio, 4)
        row["top_agent"] = top.get(row["number"])
        row["top_tags"] = tags.get(row["number"], [])
        gaps = repeats.get(row["number"], (None, None, None))
        row |= {name: _seconds(value) for name, value in zip(REPEAT_KEYS, gaps, strict=True)}
    return rows


REPEAT_KEYS = ("repeat_min_s", "repeat_max_s", "repeat_avg_s")
ANONYMOUS = "anonymous"  # from_number of a call with the caller's number withheld


def geo_stats(op: Operation, options: FilterOptions | None = None, *,
              now: datetime | None = None) -> dict[str, Any]:
    """S14: the 10 customer countries with most calls (origin of inbound calls, destination of
    outbound ones, counted apart too), and the busiest of them; the same for area codes (`areas`,
    each with its `zone` name, and `busiest_area`)."""
    _require_statistics(op)
    conditions = call_conditions(op, options, now=now)
    country = CallRecord.caller_country.label("country")
    query = (select(country, total_calls().label("calls"), _count(_answered()).label("answered"),
                    inbound_calls().label("inbound"), outbound_calls().label("outbound"))
             .where(ended(), *conditions)
             .group_by(country)
             .order_by(total_calls().desc(), func.coalesce(CallRecord.caller_country, "~~"))
             .limit(TOP_COUNTRIES))
    countries = [dict(row._mapping) for row in op.session.execute(query)]
    busiest = countries[0]["country"] if countries else None
    areas = _top_areas(op, conditions)
    return {"countries": countries, "busiest": busiest, "areas": areas,
            "busiest_area": areas[0]["area"] if areas else None}


def _top_areas(op: Operation, conditions: list[ColumnElement[bool]]) -> list[dict[str, Any]]:
    """S14 by area code: the TOP_AREAS areas with most calls (customers on mobiles and
    non-geographic numbers have none), each named after one of its numbers."""
    area = CallRecord.caller_area.label("area")
    query = (select(area, func.min(_customer()).label("sample"), total_calls().label("calls"),
                    _count(_answered()).label("answered"), inbound_calls().label("inbound"),
                    outbound_calls().label("outbound"))
             .where(ended(), CallRecord.caller_area.is_not(None), *conditions)
             .group_by(area)
             .order_by(total_calls().desc(), area)
             .limit(TOP_AREAS))
    rows = [dict(row._mapping) for row in op.session.execute(query)]
    return [{"area": row["area"], "zone": zone_name(row.pop("sample")), **row} for row in rows]


def zone_name(number: str) -> str | None:
    """The place an area code stands for ("Paris", "New York, NY"), from phonenumbers' geocoder
    on one number of the area; None where it knows none."""
    import phonenumbers  # the geocoder's data loads on first use: only for `stats geo`
    from phonenumbers import geocoder

    try:
        name = geocoder.description_for_number(phonenumbers.parse(number, None), "en")
    except phonenumbers.NumberParseException:
        return None
    return name or None


# ---------------------------------------------------------------- S11 surveys, S12 snooze

SURVEY_GROUPINGS = ("ivr", "agent")


def _rating(value: Any) -> float | None:
    return None if value is None else _round(value, 2)


def survey_stats(op: Operation, options: FilterOptions | None = None, by: str = "ivr", *,
                 now: datetime | None = None) -> list[dict[str, Any]]:
    """S11: survey answers of the filtered calls per IVR and category, or per agent: count, average."""
    _require_statistics(op)
    grouping = by.strip().lower()
    if grouping not in SURVEY_GROUPINGS:
        raise Invalid(f"unknown grouping {by!r}: give {' or '.join(SURVEY_GROUPINGS)}")
    conditions = call_conditions(op, options, now=now)
    figures = (func.count(SurveyAnswer.id).label("answers"),
               func.avg(SurveyAnswer.rating).label("avg_rating"))
    if grouping == "ivr":
        keys: list[Any] = [Ivr.name.label("ivr"), SurveyAnswer.category.label("category")]
        joined = SurveyAnswer.ivr_id == Ivr.id
        owner: Any = Ivr
    else:
        keys, joined, owner = [User.email.label("agent")], SurveyAnswer.user_id == User.id, User
    query = (select(*keys, *figures).select_from(SurveyAnswer)
             .join(CallRecord, CallRecord.id == SurveyAnswer.call_record_id)
             .outerjoin(owner, joined)
             .where(*conditions)
             .group_by(*keys))
    rows = [{**row._mapping, "avg_rating": _rating(row.avg_rating)} for row in op.session.execute(query)]
    return sorted(rows, key=lambda row: tuple(str(row[key.name] or "~") for key in keys))


SURVEY_INDICATORS = ("avg_rating", "answers")


def survey_history(op: Operation, interval: str, indicator: str | None = None,
                   options: FilterOptions | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """S11: the average rating (or the number of answers) of surveys per local hour, day, week or
    month of the surveyed calls; a bucket without answers is left out."""
    _require_statistics(op)
    name = (indicator or SURVEY_INDICATORS[0]).strip().lower()
    if name not in SURVEY_INDICATORS:
        raise Invalid(f"unknown surveys indicator {indicator!r}: give one of {', '.join(SURVEY_INDICATORS)}")
    value = func.avg(SurveyAnswer.rating) if name == "avg_rating" else func.count(SurveyAnswer.id)
    conditions = [SurveyAnswer.call_record_id == CallRecord.id, *call_conditions(op, options, now=now)]
    points = time_buckets(op, CallRecord.started_at, value, conditions, interval)
    return {"indicator": name, "interval": interval.strip().lower(),
            "points": [{"start": start, "value": _rating(raw) if name == "avg_rating" else int(raw)}
                       for start, raw in points]}


def _moment_literal(moment: datetime) -> Any:
    return literal(moment, UTCDateTime())


SNOOZE_FILTERS = ("period", "hours", "group", "user", "saved")


def snooze_figures(op: Operation, options: FilterOptions, *,
                   now: datetime | None = None) -> list[dict[str, Any]]:
    """S12 with the FILTERS options (a saved filter included); options that mean nothing for
    snoozes (an IVR, a call type ...) are refused naming them rather than ignored."""
    given, options = options, with_saved_filter(op, options)
    unusable = unusable_options(given, options, SNOOZE_FILTERS)
    if unusable:
        flags, note = unusable
        raise Invalid(f"snooze statistics take no {flags} filter (they apply to calls); "
                      f"give --period, --hours, --group or --user{note}")
    return snooze_stats(op, options.period, options.group, options.user, hours=options.hours, now=now)


def _clip(start: Any, stop: Any, window: Period) -> tuple[Any, Any]:
    """The part of [start, stop) inside the window, as SQL expressions (empty when start >= stop)."""
    opens, closes = _moment_literal(window.start), _moment_literal(window.end)
    return (case((start < opens, opens), else_=start), case((stop > closes, closes), else_=stop))


def _balanced_sum(terms: list[Any]) -> Any:
    """a + b + ... nested as a balanced tree: a year of daily windows stays far below SQLite's
    expression depth limit (1000), which a left-deep sum would pass."""
    if not terms:
        return literal(0.0)
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return _balanced_sum(terms[:middle]) + _balanced_sum(terms[middle:])


def _snooze_windows(op: Operation, period: str | None, hours: str | None, now: datetime) -> list[Period]:
    """The UTC windows snoozes are counted in: the period (up to now), each day cut to the hours."""
    zone = account_zone(op)
    bounds = parse_period(period, zone, now) if period else None
    clock = parse_hours(hours) if hours else None
    if bounds is None:
        first = op.session.execute(select(func.min(SnoozePeriod.started_at))).scalar()
        bounds = Period(first or now, now)
    bounds = Period(bounds.start, min(bounds.end, now))
    if bounds.start >= bounds.end:
        return []
    return hour_windows(bounds, clock, zone) if clock else [bounds]


def snooze_stats(op: Operation, period: str | None = None, group: str | None = None,
                 user: str | None = None, *, hours: str | None = None,
                 now: datetime | None = None) -> list[dict[str, Any]]:
    """S12: per agent and reason, the snooze periods touching the period and the seconds snoozed
    within it (periods clipped to its bounds; a period still open counts up to now). With `hours`,
    only the part of each day within those hours counts, on every day of the period. `group` and
    `user` take one value or several, comma-joined (the agents of any of them)."""
    _require_statistics(op)
    now = now or datetime.now(UTC)
    windows = _snooze_windows(op, period, hours, now)
    stop = func.coalesce(SnoozePeriod.ended_at, _moment_literal(now))
    inside = [_clip(SnoozePeriod.started_at, stop, window) for window in windows]
    snoozed = _balanced_sum([case((opens < closes, seconds_between(opens, closes)), else_=0.0)
                             for opens, closes in inside])
    conditions: list[ColumnElement[bool]] = [or_(*(
        and_(SnoozePeriod.started_at < _moment_literal(w.end), stop > _moment_literal(w.start))
        for w in windows)) if windows else false()]
    if group:  # one group or several, comma-joined (as --group arrives)
        conditions.append(SnoozePeriod.user_id.in_(group_members(op, group)))
    if user:
        conditions.append(SnoozePeriod.user_id.in_(user_ids(op, user)))
    groups = scope_ids(op, ScopeKind.GROUP)
    if groups is not None:  # a supervisor sees the agents of the groups granted to them
        conditions.append(SnoozePeriod.user_id.in_(
            select(GroupMember.user_id).where(GroupMember.group_id.in_(groups))))
    keys = (User.email.label("agent"), SnoozePeriod.reason.label("reason"))
    query = (select(*keys, func.count(SnoozePeriod.id).label("periods"),
                    func.sum(snoozed).label("snoozed_s"))
             .join(User, User.id == SnoozePeriod.user_id)
             .where(*conditions)
             .group_by(*keys)
             .order_by(*keys))
    return [{**row._mapping, "snoozed_s": _round(row.snoozed_s or 0, 1)}
            for row in op.session.execute(query)]
