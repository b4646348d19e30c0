"""Asterisk / FreePBX call-detail records (issue 5, item 5): `calls import FILE --format asterisk-csv`.

Master.csv has no header line and this column order: accountcode, src, dst, dcontext,
clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
disposition, amaflags, uniqueid, userfield (a header line naming them is accepted).

Each line becomes one call record (and one ring attempt when an agent is known):

- direction: OUT when `src` is one of the account's numbers or a user's SIP username
  (the extension), IN otherwise; a line whose `dst` is internal too is an internal
  call between two extensions and is skipped (counted, not imported).
- numbers: E.164 through services/phones with the account's country; an empty or
  withheld caller is "anonymous"; an inbound `dst` that is no number (FreePBX's "s")
  is kept as written.
- times: start/answer/end are the PBX's wall-clock time in `--timezone` (default the
  account's); wait = answer - start (the whole duration when unanswered); talk = billsec.
- disposition: ANSWERED -> answered; NO ANSWER, BUSY, FAILED, CONGESTION -> missed, with
  the agent's ring outcome NO_ANSWER, REJECTED, SIP_PHONE_ERROR (outbound: OUT).
- agent: the user whose SIP username is the peer of `dstchannel` (inbound) or `channel`
  (outbound), e.g. SIP/201-0000001a or PJSIP/201-00000001 -> "201"; else the user the
  dialled number is assigned to.
- uniqueid -> call_id "asterisk:<uniqueid>": engine ids never look like that, and a call
  already imported is skipped, so importing the same file twice imports nothing twice.
  Lines sharing a uniqueid (a queue or ring group dialling several agents) are one call
  with one ring attempt per line: answered if one was (the others' NO_ANSWER becomes
  CALL_ANSWERED), from the first start to the last end.

The file is read as a stream and written in batches with SQLAlchemy Core in one
transaction: all or nothing unless `skip_invalid`; every bad line is reported.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberFormat
from sqlalchemy import Connection, select

from ringtui.errors import BulkInvalid, Invalid, PermissionDenied
from ringtui.models import CallRecord, PhoneNumber, User
from ringtui.services.access import is_admin
from ringtui.services.base import Operation, audit
from ringtui.services.phones import parse
from ringtui.services.plans import Feature, require_feature
from ringtui.services.rollups import rebuild_hours
from ringtui.vocab import CallKind, CallType, Direction, Outcome

FORMATS = ("asterisk-csv",)
COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
           "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
           "uniqueid", "userfield")
REQUIRED = COLUMNS.index("uniqueid") + 1  # userfield may be left out (cdr_csv loguserfield=no)
CALL_ID_PREFIX = "asterisk:"
BATCH = 5000
ANONYMOUS = "anonymous"
_WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable"})
_UNIQUEID_MAX = 64 - len(CALL_ID_PREFIX)  # call_id is VARCHAR(64)
_PARSED_MAX = 500_000  # numbers kept parsed
_COMPLETE_EVERY = 100  # lines between looks for complete calls: a call waits WINDOW lines anyway
_TEXT_MAX = 32

# disposition -> (call type, outcome of the agent's ring attempt on an inbound call)
DISPOSITIONS: dict[str, tuple[CallType, Outcome]] = {
    "ANSWERED": (CallType.ANSWERED, Outcome.ANSWERED),
    "NO ANSWER": (CallType.MISSED, Outcome.NO_ANSWER),
    "BUSY": (CallType.MISSED, Outcome.REJECTED),
    "FAILED": (CallType.MISSED, Outcome.SIP_PHONE_ERROR),
    "CONGESTION": (CallType.MISSED, Outcome.SIP_PHONE_ERROR),
}


@dataclass(frozen=True)
class _Directory:
    """The account's side of a call, read once for the whole file."""

    country: str
    clock: _Clock
    numbers: dict[str, tuple[int | None, int | None]]  # E.164 -> (user id, IVR id)
    extensions: dict[str, int]  # SIP username (lower case) -> user id
    user_numbers: dict[int, str]  # user id -> the number the user calls out with
    parsed: dict[str, tuple[str, str | None] | None] = field(default_factory=dict)

    def number(self, raw: str) -> tuple[str, str | None] | None:
        """(E.164, ISO country) of a number in national or international form; None if none.

        Customers call again and again: each number is parsed once for the whole file
        (phonenumbers takes some 50 us a number)."""
        try:
            return self.parsed[raw]
        except KeyError:
            pass
        if len(self.parsed) >= _PARSED_MAX:
            self.parsed.clear()
        try:
            number = parse(raw, self.country)
        except Invalid:
            self.parsed[raw] = None
            return None
        found = (phonenumbers.format_number(number, PhoneNumberFormat.E164),
                 phonenumbers.region_code_for_number(number))
        self.parsed[raw] = self.parsed[found[0]] = found
        return found


@dataclass
class _Call:
    line: int  # its first line
    record: dict[str, Any]  # times in naive UTC
    attempts: list[dict[str, Any]]


@dataclass
class _Summary:
    file: str
    timezone: str
    lines: int = 0
    imported: int = 0
    already_imported: int = 0
    internal_skipped: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    first: datetime | None = None  # the earliest start of a call written (naive UTC)
    last: datetime | None = None  # the latest

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "format": FORMATS[0], "timezone": self.timezone, "lines": self.lines,
                "imported": self.imported, "already_imported": self.already_imported,
                "internal_skipped": self.internal_skipped, "invalid": [list(p) for p in self.invalid]}


class _Assembler:
    """Lines of one call (same uniqueid: a queue or ring group dialling several agents) merged.

    Asterisk writes a call's lines as its legs end, so they come close together; a call
    is complete once WINDOW lines have followed its first line.
    """

    WINDOW = 1000

    def __init__(self, summary: _Summary) -> None:
        self.summary = summary
        self.pending: dict[str, _Call] = {}
        self.order: deque[str] = deque()  # pending call ids, oldest first (popping a dict's front is slow)
        self.first_line: dict[str, int] = {}
        self.cells: dict[str, list[tuple[int, list[str]]]] = {}  # the lines of each pending call

    def add(self, call: _Call, cells: list[str]) -> None:
        call_id = call.record["call_id"]
        pending = self.pending.get(call_id)
        if pending is None:
            first = self.first_line.setdefault(call_id, call.line)
            if first != call.line:
                problem = (f"uniqueid {cells[16].strip()!r} repeats line {first}, more than {self.WINDOW} "
                           "lines before: not the same call")
                self.summary.invalid.append((call.line, problem))
                return
            self.pending[call_id], self.cells[call_id] = call, [(call.line, cells)]
            self.order.append(call_id)
            return
        signature = _signature(cells)  # only for a call's second line on: most calls have one
        for line, other in self.cells[call_id]:
            if _signature(other) == signature:
                self.summary.invalid.append((call.line, f"uniqueid {cells[16].strip()!r}: the same line as "
                                             f"line {line}"))
                return
        self.cells[call_id].append((call.line, cells))
        self.pending[call_id] = _merged(pending, call)

    def complete(self, line: int | None) -> list[_Call]:
        """The calls no later line can belong to (all of them at the end of the file)."""
        done = []
        while self.order:
            call_id = self.order[0]
            if line is not None and self.pending[call_id].line > line - self.WINDOW:
                break
            self.order.popleft()
            done.append(self.pending.pop(call_id))
            del self.cells[call_id]
        return done


def _signature(cells: list[str]) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in cells)


def _merged(call: _Call, leg: _Call) -> _Call:
    """One call of two lines: answered if either leg was, by that leg's agent."""
    first, other = call.record, leg.record
    answered = first if first["type"] == CallType.ANSWERED else other
    start = min(first["started_at"], other["started_at"])
    record = first | {
        "started_at": start, "ended_at": max(first["ended_at"], other["ended_at"]),
        "type": answered["type"], "answered_at": answered["answered_at"], "talk_s": answered["talk_s"],
        "user_id": answered["user_id"] or first["user_id"] or other["user_id"],
        "wait_s": ((answered["answered_at"] - start).total_seconds() if answered["answered_at"]
                   else max(first["wait_s"], other["wait_s"])),
    }
    attempts = call.attempts + leg.attempts
    if record["type"] == CallType.ANSWERED:  # S5: rung, not answered, another agent did
        attempts = [a | {"outcome": Outcome.CALL_ANSWERED.value} if a["outcome"] == Outcome.NO_ANSWER else a
                    for a in attempts]
    return _Call(call.line, record, attempts)


class _BadLine(Exception):
    pass


class _Internal(Exception):
    pass


def import_cdrs(op: Operation, file: Path, *, format: str = "asterisk-csv", timezone: str | None = None,
                skip_invalid: bool = False) -> dict[str, Any]:
    """Import a Master.csv: all or nothing unless `skip_invalid`; lines imported before are skipped."""
    require_feature(op.account, Feature.CALL_LOGS)
    if not is_admin(op.actor):
        raise PermissionDenied(f"{op.actor.email} has the {op.actor.role} role: only an admin or the "
                               "super admin imports call history")
    if format.strip().lower() not in FORMATS:
        raise Invalid(f"unknown CDR format {format!r}: give {', '.join(FORMATS)}")
    directory = _load_directory(op, _zone(timezone or op.account.timezone or "UTC"))
    summary = _Summary(file=str(file), timezone=directory.clock.zone.key)
    calls = _Assembler(summary)
    batch: list[_Call] = []
    with _bulk_load(op, file):
        for line, cells in _records(file):
            summary.lines += 1
            try:
                call = _call(line, cells, directory)
            except _Internal:
                summary.internal_skipped += 1
                continue
            except _BadLine as problem:
                summary.invalid.append((line, str(problem)))
                continue
            calls.add(call, cells)
            if summary.invalid and not skip_invalid:
                continue  # the import will be refused: keep checking lines, stop writing
            if summary.lines % _COMPLETE_EVERY == 0:
                batch.extend(calls.complete(line))
            if len(batch) >= BATCH:
                _write(op, batch, summary)
                batch = []
        batch.extend(calls.complete(None))
        if summary.invalid and not skip_invalid:
            raise BulkInvalid(f"calls import of {file}", summary.invalid)
        if summary.lines == 0:
            raise Invalid(f"{file} holds no call-detail records: expected Master.csv lines "
                          f"({','.join(COLUMNS)})")
        if batch:
            _write(op, batch, summary)
    if summary.imported:
        _after_import(op.session.connection(), *_utc(summary.first, summary.last))
        audit(op, "calls.import", file.name, after={
            k: v for k, v in summary.as_dict().items() if k != "invalid"}
            | {"invalid_lines": [line for line, _ in summary.invalid]})
    return summary.as_dict()


def _utc(*times: datetime | None) -> tuple[datetime, ...]:
    return tuple(time.replace(tzinfo=UTC) for time in times if time is not None)


def _after_import(connection: Connection, first: datetime, last: datetime) -> None:
    """Bring the hourly roll-ups up to date for the calls imported, which started from `first` to `last`
    (aware UTC), in the import's transaction (after the indexes are back)."""
    rebuild_hours(connection, first, last)


# ---------------------------------------------------------------- reading


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {name!r}: give an IANA name such as Europe/Paris or UTC") from None


def _records(file: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank line, the optional header line left out."""
    try:
        handle = file.open(encoding="utf-8-sig", errors="replace", newline="")
    except FileNotFoundError:
        raise Invalid(f"cannot read {file}: no such file") from None
    except OSError as error:
        raise Invalid(f"cannot read {file}: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        last_line = 0
        try:
            for cells in reader:
                line, last_line = last_line + 1, reader.line_num
                if not "".join(cells).strip():
                    continue
                if line == 1 and [c.strip().lower() for c in cells[:REQUIRED]] == list(COLUMNS[:REQUIRED]):
                    continue
                yield line, cells
        except csv.Error as error:
            raise Invalid(f"{file} line {reader.line_num}: not readable as CSV ({error})") from None


def _load_directory(op: Operation, zone: ZoneInfo) -> _Directory:
    numbers = {row.e164: (row.user_id, row.ivr_id) for row in op.session.execute(
        select(PhoneNumber.e164, PhoneNumber.user_id, PhoneNumber.ivr_id))}
    users = op.session.execute(select(User.id, User.sip_username, User.outgoing_number)).all()
    assigned = {user_id: e164 for e164, (user_id, _) in sorted(numbers.items()) if user_id is not None}
    return _Directory(
        country=op.account.country, clock=_Clock(zone), numbers=numbers,
        extensions={row.sip_username.lower(): row.id for row in users},
        user_numbers={row.id: row.outgoing_number or assigned.get(row.id) for row in users
                      if row.outgoing_number or row.id in assigned})


# ---------------------------------------------------------------- one line


class _Clock:
    """PBX wall-clock text -> naive UTC datetime.

    The zone's offset is looked up once per minute of wall-clock time, not per value (a third
    of the import's time went to tz conversion); offsets change on whole minutes, so the
    result is what `replace(tzinfo=zone).astimezone(UTC)` gives.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.offsets: dict[str, timedelta] = {}

    def utc(self, text: str) -> datetime:
        local = datetime.fromisoformat(text)  # ValueError for the caller to report
        if local.tzinfo is not None:
            return local.astimezone(UTC).replace(tzinfo=None)
        minute = text[:16]
        offset = self.offsets.get(minute)
        if offset is None:
            offset = self.offsets[minute] = local.replace(tzinfo=self.zone).utcoffset() or timedelta(0)
        return local - offset


def _time(text: str, column: str, clock: _Clock, problems: list[str], *, required: bool) -> datetime | None:
    """The column's time in naive UTC; None when empty (a problem if required) or not a time."""
    if not text:
        if required:
            problems.append(f"{column} is empty: give YYYY-MM-DD HH:MM:SS")
        return None
    try:
        return clock.utc(text)
    except ValueError:
        problems.append(f"{column} {text!r} is not a time: give YYYY-MM-DD HH:MM:SS")
        return None


def _seconds(text: str, column: str, problems: list[str]) -> int:
    if not text.isdigit():
        problems.append(f"{column} {text!r} is not a whole number of seconds")
        return 0
    return int(text)


# technology/endpoint, then an optional -hex channel suffix, up to @context, ;leg or the end
_PEER = re.compile(r"[^/]*/([^@;]*?)(?:-[0-9a-fA-F]+)?(?:[@;]|$)")


def _peer(channel: str) -> str:
    """The endpoint name of an Asterisk channel: SIP/201-0000001a, PJSIP/201-00000001 -> 201."""
    match = _PEER.match(channel)
    return match.group(1).lower() if match else ""


def _internal(value: str, directory: _Directory) -> tuple[bool, int | None]:
    """Whether `value` is the account's (a user's extension or one of its numbers), and whose."""
    user_id = directory.extensions.get(value.lower())
    if user_id is not None:
        return True, user_id
    number = directory.number(value) if value else None
    if number is None or number[0] not in directory.numbers:
        return False, None
    return True, directory.numbers[number[0]][0]


# StrEnum members' values as plain strings: an enum attribute read costs a function call per line
_IN, _OUT, _IVR, _DIRECT = Direction.IN.value, Direction.OUT.value, CallKind.IVR.value, CallKind.DIRECT.value
_ANSWERED, _OUTCOME_OUT = CallType.ANSWERED.value, Outcome.OUT.value
_DISPOSITIONS = {name: (call_type.value, outcome.value)
                 for name, (call_type, outcome) in DISPOSITIONS.items()}


def _call(line: int, cells: list[str], directory: _Directory) -> _Call:
    if len(cells) < REQUIRED:
        raise _BadLine(f"{len(cells)} fields; a Master.csv line has {len(COLUMNS)} ({', '.join(COLUMNS)})")
    problems: list[str] = []
    src, dst = cells[1].strip(), cells[2].strip()
    clock = directory.clock
    start = _time(cells[9].strip(), "start", clock, problems, required=True)
    answer = _time(cells[10].strip(), "answer", clock, problems, required=False)
    end = _time(cells[11].strip(), "end", clock, problems, required=False)
    duration = _seconds(cells[12].strip(), "duration", problems)
    billsec = _seconds(cells[13].strip(), "billsec", problems)
    disposition = _DISPOSITIONS.get(cells[14].strip().upper())
    if disposition is None:
        problems.append(f"unknown disposition {cells[14].strip()!r}: give {', '.join(DISPOSITIONS)}")
    uniqueid = cells[16].strip()
    if not uniqueid:
        problems.append("uniqueid is empty")
    elif len(uniqueid) > _UNIQUEID_MAX:
        problems.append(f"uniqueid {uniqueid!r} is longer than {_UNIQUEID_MAX} characters")
    outbound, src_user = _internal(src, directory)
    if outbound and _internal(dst, directory)[0] and not problems:
        raise _Internal
    try:
        customer, country = _customer(dst if outbound else src, outbound, directory)
    except _BadLine as problem:
        problems.append(str(problem))
    if start is not None and answer is not None and answer < start:
        problems.append(f"answer {cells[10].strip()!r} is before start {cells[9].strip()!r}")
    if problems:
        raise _BadLine("; ".join(problems))
    assert start is not None and disposition is not None  # problems otherwise
    call_type, outcome = disposition
    answered = call_type == _ANSWERED
    ended_at = end or start + timedelta(seconds=duration)
    answered_at = (answer or start) if answered else None
    record = {
        "call_id": CALL_ID_PREFIX + uniqueid, "started_at": start, "answered_at": answered_at,
        "ended_at": ended_at, "type": call_type, "caller_country": country,
        "wait_s": max(0.0, (answered_at - start).total_seconds()) if answered_at else float(duration),
        "talk_s": float(billsec) if answered else 0.0, "recorded": False, "vip": False, "flagged": False,
    }
    if outbound:
        agent = directory.extensions.get(_peer(cells[5])) or src_user
        own = directory.number(src)
        from_number = own[0] if own else directory.user_numbers.get(agent or 0) or src[:_TEXT_MAX]
        record |= {"direction": _OUT, "kind": _DIRECT, "from_number": from_number, "to_number": customer,
                   "ivr_id": None}
        outcome = _OUTCOME_OUT
    else:
        called = directory.number(dst)
        owner, ivr_id = directory.numbers.get(called[0], (None, None)) if called else (None, None)
        agent = directory.extensions.get(_peer(cells[6])) or owner
        record |= {"direction": _IN, "kind": _IVR if ivr_id is not None else _DIRECT, "from_number": customer,
                   "to_number": called[0] if called else dst[:_TEXT_MAX], "ivr_id": ivr_id}
    record["user_id"] = agent
    attempts = [] if agent is None else [{"user_id": agent, "started_at": start,
                                          "ended_at": answered_at or ended_at, "outcome": outcome}]
    return _Call(line, record, attempts)


def _customer(number: str, outbound: bool, directory: _Directory) -> tuple[str, str | None]:
    """The customer's side in E.164 and its country: the called number (outbound) or the caller."""
    if not outbound and number.lower() in _WITHHELD:
        return ANONYMOUS, None
    found = directory.number(number)
    if found is None:
        if outbound:
            raise _BadLine(f"dst {number!r} is not a phone number")
        raise _BadLine(f"src {number!r} is neither a phone number nor a user's SIP username (extension)")
    return found


# ---------------------------------------------------------------- writing


# Rows go as tuples straight through the driver (SQLite executemany, PostgreSQL COPY) in the
# session's transaction, times rendered as text the database reads back exactly as SQLAlchemy
# writes them: SQLAlchemy's per-row parameter processing cost more than the insert itself.
_RECORD_COLUMNS = ("call_id", "direction", "kind", "from_number", "to_number", "caller_country", "ivr_id",
                   "user_id", "started_at", "answered_at", "ended_at", "type", "wait_s", "talk_s",
                   "recorded", "vip", "flagged")
_ATTEMPT_COLUMNS = ("call_record_id", "user_id", "started_at", "ended_at", "outcome")
_TIMES = frozenset({"started_at", "answered_at", "ended_at"})
_BULK_CACHE_KIB = 64 * 1024  # SQLite page cache while importing: the indexes' pages stay in memory
_LINE_BYTES = 250  # a Master.csv line, about
_DROP_INDEXES_FROM = 100_000  # lines


@contextmanager
def _bulk_load(op: Operation, file: Path) -> Iterator[None]:
    """SQLite only: a larger page cache for the import's connection, and for a file large
    beside the call history, its secondary indexes dropped and built again once at the end.

    Inserting a million rows keeps call_record's eight secondary indexes and ring_attempt's
    three in order row by row, half the import's time; one sort per index at the end is
    three times faster. The drop and the creation are in the import's transaction: other
    connections keep seeing the indexes, and a refused import gives them back by rollback.
    The unique index on call_id stays, for the "already imported" look-ups."""
    if op.session.get_bind().dialect.name != "sqlite":
        yield
        return
    raw = op.session.connection().connection.dbapi_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
    try:
        recreate = _dropped_indexes(raw, file)
        yield
        for statement in recreate:
            raw.execute(statement)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")


def _dropped_indexes(raw: Any, file: Path) -> list[str]:
    """Drop the bulk tables' secondary indexes if the file holds many calls beside the table's;
    the statements that create them again."""
    expected = file.stat().st_size // _LINE_BYTES if file.is_file() else 0
    existing = raw.execute("SELECT coalesce(max(id), 0) FROM call_record").fetchone()[0]
    if expected < _DROP_INDEXES_FROM or expected < existing // 2:
        return []
    indexes = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                          "AND tbl_name IN ('call_record', 'ring_attempt')").fetchall()
    if not raw.in_transaction:  # the driver begins one only before a write: the drop must be in it
        raw.execute("BEGIN")
    for name, _ in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


def _write(op: Operation, batch: list[_Call], summary: _Summary) -> None:
    ids = [call.record["call_id"] for call in batch]
    known = set(op.session.execute(select(CallRecord.call_id).where(CallRecord.call_id.in_(ids))).scalars())
    new = [call for call in batch if call.record["call_id"] not in known]
    summary.already_imported += len(batch) - len(new)
    if not new:
        return
    _insert(op, "call_record", _RECORD_COLUMNS, [call.record for call in new])
    inserted = dict(op.session.execute(select(CallRecord.call_id, CallRecord.id).where(
        CallRecord.call_id.in_([call.record["call_id"] for call in new]))).all())
    attempts = [attempt | {"call_record_id": inserted[call.record["call_id"]]}
                for call in new for attempt in call.attempts]
    if attempts:
        _insert(op, "ring_attempt", _ATTEMPT_COLUMNS, attempts)
    summary.imported += len(new)
    first = min(call.record["started_at"] for call in new)
    last = max(call.record["started_at"] for call in new)
    summary.first = first if summary.first is None else min(summary.first, first)
    summary.last = last if summary.last is None else max(summary.last, last)


def _insert(op: Operation, table_name: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    raw = op.session.connection().connection.dbapi_connection  # the session's own transaction
    names = ", ".join(columns)
    if op.session.get_bind().dialect.name == "postgresql":  # COPY: a round trip per batch, not per row
        values = _row_values(columns, "+00")
        with raw.cursor() as cursor, cursor.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values(row))
        return
    values = _row_values(columns, "")
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table_name} ({names}) VALUES ({', '.join('?' * len(columns))})",
                           map(values, rows))
    finally:
        cursor.close()


def _row_values(columns: tuple[str, ...], zone_suffix: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row dict -> the tuple of its values in `columns` order, naive UTC times as text.

    SQLAlchemy stores SQLite times as 'YYYY-MM-DD HH:MM:SS.ffffff' and compares them as text,
    so the text must be that exactly; PostgreSQL reads the same text with its UTC offset."""
    get = itemgetter(*columns)
    times = [index for index, name in enumerate(columns) if name in _TIMES]

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        found = list(get(row))
        for index in times:
            if found[index] is not None:
                found[index] = found[index].isoformat(" ", "microseconds") + zone_suffix
        return tuple(found)

    return values
