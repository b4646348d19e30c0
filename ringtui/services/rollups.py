"""Hourly roll-ups of the call records: kept equal to call_record, and when statistics may use them.

Bulk paths (CDR import, `stats rebuild`) call `rebuild_hours`, which deletes the roll-up rows of a
span of UTC hours and recomputes them from call_record and ring_attempt with INSERT ... SELECT ...
GROUP BY, in the caller's transaction.

The live engine cannot afford that: a flush would rescan all the traffic already in its hour and
day. So the recorder, in the transaction that writes a batch, calls `add_calls` for the calls the
batch ENDED: their measures, aggregated in SQL, are upserted (INSERT ... ON CONFLICT on each
table's grouping key) adding counts and sums and keeping the greater maximum; a call ends once, and
a failed batch rolls back with its upserts, so nothing is counted twice. An attempt turned TOOLATE
after its call was recorded moves one count from its old outcome to the new in that agent's hour
and day (`shift_outcomes`, exact: counts are integers, and no maximum is involved). Orphans closed
at restart, rare, recompute the hours they started in (`refresh_calls`).

Statistics answer from the roll-ups only when every filter maps onto their dimensions and every
time boundary falls on a UTC hour: an account zone whose offset is not a whole number of hours
(India, Nepal, Lord Howe in summer), or hours such as 09:30-12:00, go to raw SQL.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ringtui.models import AgentDay, AgentHour, CallHour, CallRecord, IvrHour, RingAttempt
from ringtui.models.types import UTCDateTime
from ringtui.services.access import Area, require_area
from ringtui.services.areas import fill_caller_areas
from ringtui.services.base import Operation
from ringtui.services.filters import (
    FilterOptions,
    Period,
    account_zone,
    hour_windows,
    ivr_ids,
    parse_hours,
    parse_period,
    transfers_counted,
    visible_calls,
    with_saved_filter,
)
from ringtui.vocab import CallKind, Outcome, TransfersCounted

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
CALL_FILTERS = frozenset({"period", "hours", "scope", "ivr", "direction", "type", "saved"})
AGENT_FILTERS = frozenset({"period", "hours", "saved"})
CallTable = type[CallHour] | type[IvrHour]


class utc_trunc(FunctionElement[datetime]):
    """A time truncated to its UTC hour or day, in the column's own storage form."""

    type = UTCDateTime()
    inherit_cache = False  # the unit is not part of a cache key: never reuse another query's SQL

    def __init__(self, column: Any, unit: str) -> None:
        self.unit = unit
        super().__init__(column)


@compiles(utc_trunc)
def _utc_trunc_pg(element: Any, compiler: Any, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"(date_trunc('{element.unit}', {moment} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


_SQLITE_TRUNC = {"hour": "%Y-%m-%d %H:00:00.000000", "day": "%Y-%m-%d 00:00:00.000000"}


@compiles(utc_trunc, "sqlite")
def _utc_trunc_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"strftime('{_SQLITE_TRUNC[element.unit]}', {compiler.process(element.clauses, **kw)})"


def hour_of(column: Any) -> utc_trunc:
    return utc_trunc(column, "hour")


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    return floor_hour(moment).replace(hour=0)


def ceil_day(moment: datetime) -> datetime:
    day = floor_day(moment)
    return day if day == moment else day + DAY


# ---------------------------------------------------------------- keeping them equal to call_record


def _executor(target: Any) -> Any:
    """A Session or Connection to run statements on, from an Operation, a Session or a Connection."""
    return target.session if isinstance(target, Operation) else target


def _span(column: Any, first: datetime | None, last: datetime | None,
          unit: timedelta = HOUR) -> list[ColumnElement[bool]]:
    """`column` within the hours (or UTC days) from first's to last's, both included; no bound
    when None."""
    floor = floor_hour if unit == HOUR else floor_day
    conditions = []
    if first is not None:
        conditions.append(column >= floor(first))
    if last is not None:
        conditions.append(column < floor(last) + unit)
    return conditions


def _call_measures(*keys: Any) -> Any:
    hour = hour_of(CallRecord.started_at)
    return select(hour, *keys, CallRecord.direction, CallRecord.kind, CallRecord.type, func.count(),
                  func.sum(CallRecord.wait_s), func.max(CallRecord.wait_s), func.sum(CallRecord.talk_s),
                  func.max(CallRecord.talk_s)).group_by(
        hour, *keys, CallRecord.direction, CallRecord.kind, CallRecord.type)


_MEASURES = ["direction", "kind", "type", "calls", "wait_sum", "wait_max", "talk_sum", "talk_max"]
_AGENT_MEASURES = [*(outcome.value.lower() for outcome in Outcome), "talk_s"]


def _agent_measures(unit: str = "hour") -> Any:
    hour = utc_trunc(CallRecord.started_at, unit)
    counts = [func.count(case((RingAttempt.outcome == outcome, 1))) for outcome in Outcome]
    took = RingAttempt.outcome.in_([Outcome.ANSWERED, Outcome.OUT])
    talk = func.sum(case((took, CallRecord.talk_s), else_=0.0))
    return (select(hour, RingAttempt.user_id, *counts, talk)
            .join(CallRecord, CallRecord.id == RingAttempt.call_record_id)
            .where(RingAttempt.user_id.is_not(None))
            .group_by(hour, RingAttempt.user_id))


def rebuild_hours(target: Any, first: datetime | None, last: datetime | None) -> dict[str, int]:
    """Recompute every roll-up row of the UTC hours from `first`'s to `last`'s (None: unbounded on
    that side), in the caller's transaction; `target` is an Operation, a Session or a Connection.
    Returns the rows written per table."""
    db = _executor(target)
    started = _span(CallRecord.started_at, first, last)
    statements = {
        "call_hour": (CallHour, insert(CallHour.__table__).from_select(
            ["hour", *_MEASURES], _call_measures().where(CallRecord.ended_at.is_not(None), *started))),
        "ivr_hour": (IvrHour, insert(IvrHour.__table__).from_select(
            ["hour", "ivr_id", *_MEASURES], _call_measures(CallRecord.ivr_id).where(
                CallRecord.ended_at.is_not(None), CallRecord.ivr_id.is_not(None), *started))),
        "agent_hour": (AgentHour, insert(AgentHour.__table__).from_select(
            ["hour", "user_id", *_AGENT_MEASURES], _agent_measures().where(*started))),
    }
    day = utc_trunc(AgentHour.hour, "day")
    sums = [func.sum(getattr(AgentHour, name)) for name in _AGENT_MEASURES]
    days = insert(AgentDay.__table__).from_select(["day", "user_id", *_AGENT_MEASURES], select(
        day, AgentHour.user_id, *sums).where(*_span(AgentHour.hour, first, last, DAY)).group_by(
        day, AgentHour.user_id))
    written = {}
    for name, (table, statement) in (*statements.items(), ("agent_day", (AgentDay, days))):
        span = _span(table.day, first, last, DAY) if table is AgentDay else _span(table.hour, first, last)
        db.execute(delete(table.__table__).where(*span))
        db.execute(statement)  # (its rowcount is -1 through psycopg: counted below)
        written[name] = db.execute(select(func.count()).select_from(table).where(*span)).scalar_one()
    return written


def rebuild(op: Operation, period: str | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """`stats rebuild`: recompute the roll-ups of a period of the account's days, or of everything,
    and fill the customers' area codes (S14) its records lack, in the operation's transaction (all
    or nothing). Admins and technical users."""
    require_area(op, Area.CONFIGURATION)
    first = last = None
    if period:
        bounds = parse_period(period, account_zone(op), now or datetime.now(UTC))
        first, last = bounds.start, bounds.end - timedelta(microseconds=1)
    written = rebuild_hours(op, first, last)
    areas = fill_caller_areas(op, first, last)
    return {"period": period or "all", "first_hour": _iso(first and floor_hour(first)),
            "last_hour": _iso(last and floor_hour(last)), **written, "caller_areas_filled": areas}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_CHUNK = 5000  # call ids per IN list: below every backend's parameter limit


def _chunks(call_ids: Collection[str]) -> list[list[str]]:
    ids = list(call_ids)
    return [ids[n:n + _CHUNK] for n in range(0, len(ids), _CHUNK)]


def _upsert(db: Any, table: Any, keys: list[str], columns: list[str], rows: Any) -> None:
    """INSERT `rows` (a SELECT giving `columns`, or a list of dicts; one row per key) into `table`,
    adding counts and sums to the row already there for the same `keys`, keeping the greater maximum."""
    dialect = db.get_bind().dialect.name if hasattr(db, "get_bind") else db.dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table.__table__)
    statement = statement.values(rows) if isinstance(rows, list) else statement.from_select(columns, rows)
    new, old = statement.excluded, table.__table__.c
    db.execute(statement.on_conflict_do_update(index_elements=keys, set_={
        name: case((new[name] > old[name], new[name]), else_=old[name]) if name.endswith("_max")
        else old[name] + new[name] for name in columns if name not in keys}))


_CALL_KEYS = ["hour", "direction", "kind", "type"]


def add_calls(db: Any, call_ids: Collection[str]) -> None:
    """Add the calls just ended (by call id, each ended once, in this transaction) to the roll-ups:
    the recorder's live path, whose work grows with the batch, not with the hour or the day.

    A NULL type (never written by the engine) does not match ON CONFLICT and gets a row of its
    own: the readers sum the rows, so the figures stay right."""
    for ids in _chunks(call_ids):
        ended = [CallRecord.call_id.in_(ids), CallRecord.ended_at.is_not(None)]
        _upsert(db, CallHour, _CALL_KEYS, ["hour", *_MEASURES], _call_measures().where(*ended))
        _upsert(db, IvrHour, ["ivr_id", *_CALL_KEYS], ["hour", "ivr_id", *_MEASURES],
                _call_measures(CallRecord.ivr_id).where(*ended, CallRecord.ivr_id.is_not(None)))
        mine = CallRecord.call_id.in_(ids)
        _upsert(db, AgentHour, ["hour", "user_id"], ["hour", "user_id", *_AGENT_MEASURES],
                _agent_measures().where(mine))
        _upsert(db, AgentDay, ["day", "user_id"], ["day", "user_id", *_AGENT_MEASURES],
                _agent_measures("day").where(mine))


class NewCalls:
    """The roll-up rows of calls a bulk import writes, summed from its frames as it writes them
    (polars; `add_calls` is the same sum in SQL for the recorder's batches): one GROUP BY per
    chunk in memory instead of reading the calls back. Each call must be new (not in call_record
    before the import) and ended. The measures are those of `_call_measures` and `_agent_measures`;
    a test holds both equal."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Any]] = {"call_hour": [], "ivr_hour": [], "agent_hour": []}

    def add(self, calls: Any, attempts: Any) -> None:
        """`calls`: started_at (naive UTC), call_id, direction, kind, type, ivr_id, wait_s, talk_s;
        `attempts`: call_id, user_id, outcome."""
        import polars as pl

        col = pl.col
        calls = calls.with_columns(hour=col("started_at").dt.truncate("1h"))
        measures = [pl.len().alias("calls"), col("wait_s").sum().alias("wait_sum"),
                    col("wait_s").max().alias("wait_max"), col("talk_s").sum().alias("talk_sum"),
                    col("talk_s").max().alias("talk_max")]
        self.parts["call_hour"].append(calls.group_by(_CALL_KEYS).agg(measures))
        self.parts["ivr_hour"].append(
            calls.filter(col("ivr_id").is_not_null()).group_by("ivr_id", *_CALL_KEYS).agg(measures))
        took = col("outcome").is_in([Outcome.ANSWERED.value, Outcome.OUT.value])
        self.parts["agent_hour"].append(
            attempts.filter(col("user_id").is_not_null())
            .join(calls.select("call_id", "hour", "talk_s"), on="call_id")
            .group_by("hour", "user_id")
            .agg(*((col("outcome") == outcome.value).sum().cast(pl.Int64).alias(outcome.value.lower())
                   for outcome in Outcome),
                 pl.when(took).then(col("talk_s")).otherwise(0.0).sum().alias("talk_s")))

    def write(self, raw: Any) -> None:
        """Add the sums to the roll-up tables (ON CONFLICT: added to an hour's row already there),
        through a SQLite DBAPI connection, in its transaction."""
        import polars as pl

        col = pl.col
        tables = {}
        for name, keys in (("call_hour", _CALL_KEYS), ("ivr_hour", ["ivr_id", *_CALL_KEYS])):
            if self.parts[name]:
                tables[name] = (keys, pl.concat(self.parts[name]).group_by(keys).agg(
                    col("calls").sum(), col("wait_sum").sum(), col("wait_max").max(),
                    col("talk_sum").sum(), col("talk_max").max()))
        if self.parts["agent_hour"]:
            hours = pl.concat(self.parts["agent_hour"]).group_by("hour", "user_id").agg(
                col(_AGENT_MEASURES).sum())
            tables["agent_hour"] = (["hour", "user_id"], hours)
            tables["agent_day"] = (["day", "user_id"], hours.group_by(
                day=col("hour").dt.truncate("1d"), user_id=col("user_id")).agg(col(_AGENT_MEASURES).sum()))
        for name, (keys, rows) in tables.items():
            _add_rows(raw, name, keys, rows)


def _add_rows(raw: Any, table: str, keys: list[str], rows: Any) -> None:
    """Upsert a frame's rows through SQLite's DBAPI (times as text, as SQLAlchemy stores them)."""
    import polars as pl

    # in key order: the unique key's index is then filled left to right, not at random places
    # (agent_hour's 375,000 rows of 1M calls: 3.6 s in polars' group order)
    rows = rows.sort(keys).with_columns(
        pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S%.6f") for name in ("hour", "day") if name in rows.columns)
    names = rows.columns
    added = ", ".join(
        f"{name} = CASE WHEN excluded.{name} > {table}.{name} THEN excluded.{name} ELSE {table}.{name} END"
        if name.endswith("_max") else f"{name} = {table}.{name} + excluded.{name}"
        for name in names if name not in keys)
    raw.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}",
        zip(*(column.to_list() for column in rows.iter_columns()), strict=True))


Late = tuple[str, int | None, datetime, str]  # call id, user id, attempt start, new outcome


def shift_outcomes(db: Any, changes: Collection[Late]) -> None:
    """Move attempts of calls already recorded from their outcome to a new one (a late pick-up:
    TOOLATE) in agent_hour and agent_day: one count off the old outcome, one onto the new, and the
    call's talk time off or onto the agent when answering changes. Call it BEFORE the attempts are
    updated: it reads their old outcomes. Work per change, not per hour or day of traffic."""
    attempts = _attempts(db, {(call_id, user_id, started) for call_id, user_id, started, _ in changes
                              if user_id is not None})
    hours: dict[tuple[datetime, int], dict[str, Any]] = {}
    for call_id, user_id, started, new in changes:
        for attempt in attempts.get((call_id, user_id, started), []):
            old, talk, hour = attempt
            if old != new:
                row = hours.setdefault((hour, user_id), dict.fromkeys(_AGENT_MEASURES, 0))
                row[old.lower()] -= 1
                row[new.lower()] += 1
                row["talk_s"] += talk * (_took(new) - _took(old))
                attempt[0] = new  # a second change of this attempt in the batch starts from here
    days: dict[tuple[datetime, int], dict[str, Any]] = {}
    for (hour, user_id), row in hours.items():
        day = days.setdefault((floor_day(hour), user_id), dict.fromkeys(_AGENT_MEASURES, 0))
        for name, value in row.items():
            day[name] += value
    for table, key, rows in ((AgentHour, "hour", hours), (AgentDay, "day", days)):
        if rows:
            _upsert(db, table, [key, "user_id"], [key, "user_id", *_AGENT_MEASURES],
                    [{key: moment, "user_id": user_id, **row} for (moment, user_id), row in rows.items()])


def _attempts(db: Any, wanted: set[tuple[str, int, datetime]]) -> dict[tuple, list[list[Any]]]:
    """[outcome, call's talk time, call's hour] of the attempts by (call id, user id, start)."""
    attempts: dict[tuple, list[list[Any]]] = {}
    for ids in _chunks({call_id for call_id, _, _ in wanted}):
        for call_id, user_id, started, outcome, talk, hour in db.execute(select(
                CallRecord.call_id, RingAttempt.user_id, RingAttempt.started_at, RingAttempt.outcome,
                CallRecord.talk_s, hour_of(CallRecord.started_at)).join(
                RingAttempt, RingAttempt.call_record_id == CallRecord.id).where(CallRecord.call_id.in_(ids))):
            if (call_id, user_id, started) in wanted:  # (the update moves every attempt that matches)
                attempts.setdefault((call_id, user_id, started), []).append([outcome, talk, hour])
    return attempts


def _took(outcome: str) -> int:
    """1 when the attempt's agent had the call (its talk time counts for them)."""
    return int(outcome in (Outcome.ANSWERED, Outcome.OUT))


def refresh_calls(db: Any, call_ids: Collection[str]) -> None:
    """Recompute the hours the given calls (by call id) started in, each on its own: orphans closed
    at restart, rare enough for an exact recompute."""
    hours = {hour for ids in _chunks(call_ids) for hour in db.execute(
        select(hour_of(CallRecord.started_at)).where(CallRecord.call_id.in_(ids)).distinct()).scalars()}
    for hour in sorted(hours):
        rebuild_hours(db, hour, hour)


# ---------------------------------------------------------------- when statistics may use them


def _on_the_hour(moment: datetime) -> bool:
    return moment == floor_hour(moment)


def _whole_hour_offsets(op: Operation, column: Any, windows: list[Period]) -> bool:
    """Whether the account zone's offset is a whole number of hours over the windows, or over the
    rows of `column` without any."""
    from ringtui.services.stats import offset_stretches  # stats builds on this module

    if windows:
        first, last = min(w.start for w in windows), max(w.end for w in windows)
    else:
        first, last = op.session.execute(select(func.min(column), func.max(column))).one()
    if first is None:
        return True
    initial, changes = offset_stretches(account_zone(op), first, last)
    return all(offset % 3600 == 0 for offset in (initial, *(change for _, change in changes)))


def _time_conditions(op: Operation, options: FilterOptions, column: Any,
                     now: datetime) -> list[ColumnElement[bool]] | None:
    """The period and hours as conditions on a roll-up's hour column; None when a boundary is
    not on a UTC hour (the roll-ups cannot answer)."""
    zone = account_zone(op)
    period = parse_period(options.period, zone, now) if options.period else None
    windows = [] if period is None else [period]
    if options.hours:
        if period is None:  # hours over all the history: the first and last hours bound the days
            first, last = op.session.execute(select(func.min(column), func.max(column))).one()
            if first is None:
                return [false()]
            period = Period(first, last + HOUR)
        windows = hour_windows(period, parse_hours(options.hours), zone)
    if not all(_on_the_hour(moment) for window in windows for moment in (window.start, window.end)):
        return None
    if not _whole_hour_offsets(op, column, windows):
        return None
    if not options.hours:
        return [and_(column >= w.start, column < w.end) for w in windows]
    return [or_(*(and_(column >= w.start, column < w.end) for w in windows))] if windows else [false()]


def _answerable(op: Operation, options: FilterOptions, allowed: frozenset[str]) -> bool:
    """Every filter given maps onto the roll-up and the acting user sees every call. The roll-ups
    keep no transfers, so only `--transfers all` (every call, as without it) is answered."""
    given = set(options.given())
    if transfers_counted(options) == TransfersCounted.ALL:
        given.discard("transfers")
    return given <= allowed and not visible_calls(op)


def call_rollup(op: Operation, options: FilterOptions | None,
                now: datetime) -> tuple[CallTable, list[ColumnElement[bool]]] | None:
    """The call roll-up and its conditions for these filters, or None when raw SQL must answer.
    Call after filters.call_conditions, which has checked the filters and the user's rights."""
    options = with_saved_filter(op, options or FilterOptions())
    if not _answerable(op, options, CALL_FILTERS):
        return None
    table: CallTable = IvrHour if options.ivr else CallHour
    conditions = _time_conditions(op, options, table.hour, now)
    if conditions is None:
        return None
    if options.ivr:  # one IVR or several: a call has one IVR, so their hours add up
        conditions.append(IvrHour.ivr_id.in_(ivr_ids(op, options.ivr)))
    scope = (options.scope or "all").strip().lower()
    if scope in ("ivrs", "direct"):
        conditions.append(table.kind == (CallKind.IVR if scope == "ivrs" else CallKind.DIRECT))
    if options.direction:
        conditions.append(table.direction == options.direction.strip().lower())
    if options.type:  # one type or several, comma-joined (checked by filters.call_conditions)
        conditions.append(table.type.in_([t.strip().lower() for t in options.type.split(",") if t.strip()]))
    return table, conditions


def _agent_rows(table: type[AgentHour] | type[AgentDay], conditions: list[ColumnElement[bool]]) -> Any:
    return select(table.user_id, *(getattr(table, name) for name in _AGENT_MEASURES)).where(*conditions)


def agent_rollup(op: Operation, options: FilterOptions | None, now: datetime) -> Subquery | None:
    """The agent roll-up rows for these filters (user_id and the measures of _AGENT_MEASURES), or
    None when raw SQL must answer: whole UTC days from agent_day, the hours around them from
    agent_hour."""
    options = with_saved_filter(op, options or FilterOptions())
    if not _answerable(op, options, AGENT_FILTERS):
        return None
    conditions = _time_conditions(op, options, AgentHour.hour, now)
    if conditions is None:
        return None
    if options.hours:
        return _agent_rows(AgentHour, conditions).subquery()
    if not options.period:
        return _agent_rows(AgentDay, []).subquery()
    period = parse_period(options.period, account_zone(op), now)
    first_day, last_day = ceil_day(period.start), floor_day(period.end)
    if first_day >= last_day:
        return _agent_rows(AgentHour, conditions).subquery()
    hour = AgentHour.hour
    edges = or_(and_(hour >= period.start, hour < first_day), and_(hour >= last_day, hour < period.end))
    return union_all(_agent_rows(AgentHour, [edges]), _agent_rows(
        AgentDay, [AgentDay.day >= first_day, AgentDay.day < last_day])).subquery()
