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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberFormat
from sqlalchemy import select

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
BATCH = 2000
ANONYMOUS = "anonymous"
_WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable"})
_CALL_ID_MAX = 64
_TEXT_MAX = 32
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-fA-F]+$")

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
    zone: ZoneInfo
    numbers: dict[str, tuple[int | None, int | None]]  # E.164 -> (user id, IVR id)
    extensions: dict[str, int]  # SIP username (lower case) -> user id
    user_numbers: dict[int, str]  # user id -> the number the user calls out with


@dataclass
class _Call:
    line: int  # its first line
    record: dict[str, Any]
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
    span: list[datetime] = field(default_factory=list)  # first and last start imported: roll-ups

    def imported_from(self, starts: list[datetime]) -> None:
        self.span = [min(self.span + starts), max(self.span + starts)]

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
        self.first_line: dict[str, int] = {}
        self.lines: dict[str, dict[tuple[str, ...], int]] = {}

    def add(self, call: _Call, cells: list[str]) -> None:
        call_id, uniqueid = call.record["call_id"], cells[16].strip()
        first = self.first_line.setdefault(call_id, call.line)
        same = self.lines.setdefault(call_id, {}) if call_id in self.pending or first == call.line else None
        if same is None:
            self.summary.invalid.append((call.line, f"uniqueid {uniqueid!r} repeats line {first}, more than "
                                         f"{self.WINDOW} lines before: not the same call"))
            return
        signature = tuple(cell.strip() for cell in cells)
        if signature in same:
            self.summary.invalid.append((call.line, f"uniqueid {uniqueid!r}: the same line as line "
                                         f"{same[signature]}"))
            return
        same[signature] = call.line
        if call_id in self.pending:
            self.pending[call_id] = _merged(self.pending[call_id], call)
        else:
            self.pending[call_id] = call

    def complete(self, line: int | None) -> list[_Call]:
        """The calls no later line can belong to (all of them at the end of the file)."""
        done = []
        while self.pending:
            call_id, call = next(iter(self.pending.items()))
            if line is not None and call.line > line - self.WINDOW:
                break
            done.append(self.pending.pop(call_id))
            self.lines.pop(call_id, None)
        return done


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
    summary = _Summary(file=str(file), timezone=directory.zone.key)
    calls = _Assembler(summary)
    batch: list[_Call] = []
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
        complete = calls.complete(line)
        if summary.invalid and not skip_invalid:
            continue  # the import will be refused: keep checking lines, stop writing
        batch.extend(complete)
        if len(batch) >= BATCH:
            _write(op, batch, summary)
            batch = []
    batch.extend(calls.complete(None))
    if summary.invalid and not skip_invalid:
        raise BulkInvalid(f"calls import of {file}", summary.invalid)
    if summary.lines == 0:
        raise Invalid(f"{file} holds no call-detail records: expected Master.csv lines "
                      f"({','.join(COLUMNS)})")
    if batch and not (summary.invalid and not skip_invalid):
        _write(op, batch, summary)
    if summary.imported:
        rebuild_hours(op, *summary.span)
        audit(op, "calls.import", file.name, after={
            k: v for k, v in summary.as_dict().items() if k != "invalid"}
            | {"invalid_lines": [line for line, _ in summary.invalid]})
    return summary.as_dict()


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
                if not any(cell.strip() for cell in cells):
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
        country=op.account.country, zone=zone, numbers=numbers,
        extensions={row.sip_username.lower(): row.id for row in users},
        user_numbers={row.id: row.outgoing_number or assigned.get(row.id) for row in users
                      if row.outgoing_number or row.id in assigned})


# ---------------------------------------------------------------- one line


_NUMBERS: dict[tuple[str, str], tuple[str, str | None] | None] = {}
_NUMBERS_MAX = 500_000


def _number(raw: str, country: str) -> tuple[str, str | None] | None:
    """(E.164, ISO country) of a number typed in national or international form; None if none.

    Customers call again and again: each number is parsed once, under the form typed and
    under its E.164 form."""
    key = (raw, country)
    if key in _NUMBERS:
        return _NUMBERS[key]
    if len(_NUMBERS) >= _NUMBERS_MAX:
        _NUMBERS.clear()
    try:
        number = parse(raw, country)
    except Invalid:
        _NUMBERS[key] = None
        return None
    found = (phonenumbers.format_number(number, PhoneNumberFormat.E164),
             phonenumbers.region_code_for_number(number))
    _NUMBERS[key] = _NUMBERS[(found[0], country)] = found
    return found


def _e164(raw: str, country: str) -> str | None:
    number = _number(raw, country)
    return None if number is None else number[0]


def _country(customer: str, directory: _Directory) -> str | None:
    number = _number(customer, directory.country) if customer != ANONYMOUS else None
    return None if number is None else number[1]


def _time(cells: list[str], column: str, zone: ZoneInfo, *, required: bool) -> datetime | None:
    text = cells[COLUMNS.index(column)].strip()
    if not text:
        if required:
            raise _BadLine(f"{column} is empty: give YYYY-MM-DD HH:MM:SS")
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise _BadLine(f"{column} {text!r} is not a time: give YYYY-MM-DD HH:MM:SS") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(UTC)


def _seconds(cells: list[str], column: str) -> int:
    text = cells[COLUMNS.index(column)].strip()
    if not text.isdigit():
        raise _BadLine(f"{column} {text!r} is not a whole number of seconds")
    return int(text)


def _peer(channel: str) -> str:
    """The endpoint name of an Asterisk channel: SIP/201-0000001a, PJSIP/201-00000001 -> 201."""
    if "/" not in channel:
        return ""
    name = re.split(r"[@;]", channel.split("/", 1)[1], maxsplit=1)[0]
    return _CHANNEL_SUFFIX.sub("", name).lower()


def _internal(value: str, directory: _Directory) -> tuple[bool, int | None]:
    """Whether `value` is the account's (a user's extension or one of its numbers), and whose."""
    user_id = directory.extensions.get(value.lower())
    if user_id is not None:
        return True, user_id
    number = _e164(value, directory.country) if value else None
    if number is None or number not in directory.numbers:
        return False, None
    return True, directory.numbers[number][0]


def _call(line: int, cells: list[str], directory: _Directory) -> _Call:
    if len(cells) < REQUIRED:
        raise _BadLine(f"{len(cells)} fields; a Master.csv line has {len(COLUMNS)} ({', '.join(COLUMNS)})")
    problems: list[str] = []

    def check(parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except _BadLine as problem:
            problems.append(str(problem))
            return None

    src, dst = cells[1].strip(), cells[2].strip()
    start = check(_time, cells, "start", directory.zone, required=True)
    answer = check(_time, cells, "answer", directory.zone, required=False)
    end = check(_time, cells, "end", directory.zone, required=False)
    duration = check(_seconds, cells, "duration")
    billsec = check(_seconds, cells, "billsec")
    disposition = cells[14].strip().upper()
    if disposition not in DISPOSITIONS:
        problems.append(f"unknown disposition {cells[14].strip()!r}: give {', '.join(DISPOSITIONS)}")
    uniqueid = cells[16].strip()
    if not uniqueid:
        problems.append("uniqueid is empty")
    elif len(CALL_ID_PREFIX + uniqueid) > _CALL_ID_MAX:
        longest = _CALL_ID_MAX - len(CALL_ID_PREFIX)
        problems.append(f"uniqueid {uniqueid!r} is longer than {longest} characters")
    outbound, src_user = _internal(src, directory)
    if outbound and _internal(dst, directory)[0] and not problems:
        raise _Internal
    customer = check(_customer, src if not outbound else dst, outbound, directory)
    if start is not None and answer is not None and answer < start:
        problems.append(f"answer {cells[10].strip()!r} is before start {cells[9].strip()!r}")
    if problems:
        raise _BadLine("; ".join(problems))
    call = _Line(cells, start, answer, end, duration, billsec, disposition, uniqueid)
    if outbound:
        return _outbound(line, call, customer, src_user, directory)
    return _inbound(line, call, customer, directory)


def _customer(number: str, outbound: bool, directory: _Directory) -> str:
    """The customer's side in E.164: the called number (outbound) or the caller (inbound)."""
    if not outbound and number.lower() in _WITHHELD:
        return ANONYMOUS
    e164 = _e164(number, directory.country)
    if e164 is None:
        if outbound:
            raise _BadLine(f"dst {number!r} is not a phone number")
        raise _BadLine(f"src {number!r} is neither a phone number nor a user's SIP username (extension)")
    return e164


@dataclass(frozen=True)
class _Line:
    """A line's checked values."""

    cells: list[str]
    start: datetime
    answer: datetime | None
    end: datetime | None
    duration: int
    billsec: int
    disposition: str
    uniqueid: str


def _inbound(line: int, call: _Line, caller: str, directory: _Directory) -> _Call:
    dst = call.cells[2].strip()
    called = _e164(dst, directory.country)
    owner, ivr_id = directory.numbers.get(called or "", (None, None))
    agent = directory.extensions.get(_peer(call.cells[6])) or owner
    kind = CallKind.IVR if ivr_id is not None else CallKind.DIRECT
    return _record(line, call, Direction.IN, kind, caller, called or dst[:_TEXT_MAX],
                   _country(caller, directory), agent, ivr_id)


def _outbound(line: int, call: _Line, called: str, src_user: int | None, directory: _Directory) -> _Call:
    src = call.cells[1].strip()
    agent = directory.extensions.get(_peer(call.cells[5])) or src_user
    own = _e164(src, directory.country)
    from_number = own or directory.user_numbers.get(agent or 0) or src[:_TEXT_MAX]
    return _record(line, call, Direction.OUT, CallKind.DIRECT, from_number, called,
                   _country(called, directory), agent, None)


def _record(line: int, call: _Line, direction: Direction, kind: CallKind, from_number: str, to_number: str,
            customer_country: str | None, agent: int | None, ivr_id: int | None) -> _Call:
    call_type, inbound_outcome = DISPOSITIONS[call.disposition]
    answered = call_type == CallType.ANSWERED
    ended_at = call.end or call.start + timedelta(seconds=call.duration)
    answered_at = (call.answer or call.start) if answered else None
    wait = (answered_at - call.start).total_seconds() if answered_at else float(call.duration)
    record = {
        "call_id": CALL_ID_PREFIX + call.uniqueid, "direction": direction.value, "kind": kind.value,
        "from_number": from_number, "to_number": to_number,
        "caller_country": customer_country,
        "ivr_id": ivr_id, "user_id": agent, "started_at": call.start, "answered_at": answered_at,
        "ended_at": ended_at, "type": call_type.value, "wait_s": max(0.0, wait),
        "talk_s": float(call.billsec) if answered else 0.0,
        "recorded": False, "vip": False, "flagged": False,
    }
    attempts = []
    if agent is not None:
        outcome = Outcome.OUT if direction == Direction.OUT else inbound_outcome
        attempts.append({"user_id": agent, "started_at": call.start, "ended_at": answered_at or ended_at,
                         "outcome": outcome.value})
    return _Call(line, record, attempts)


# ---------------------------------------------------------------- writing


# Rows are written as tuples straight through the driver (SQLite executemany, PostgreSQL
# COPY) in the session's transaction, times already in the database's form: SQLAlchemy's
# per-row parameter processing cost more than the insert itself.
_RECORD_COLUMNS = ("call_id", "direction", "kind", "from_number", "to_number", "caller_country", "ivr_id",
                   "user_id", "started_at", "answered_at", "ended_at", "type", "wait_s", "talk_s",
                   "recorded", "vip", "flagged")
_ATTEMPT_COLUMNS = ("call_record_id", "user_id", "started_at", "ended_at", "outcome")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for SQLite DATETIME


def _sqlite_times(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its (UTC) times as SQLite stores them."""
    return row | {name: row[name].strftime(_SQLITE_TIME) for name in ("started_at", "answered_at", "ended_at")
                  if row.get(name) is not None}


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
    summary.imported_from([call.record["started_at"] for call in new])


def _insert(op: Operation, table_name: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    values, names = itemgetter(*columns), ", ".join(columns)
    raw = op.session.connection().connection.dbapi_connection  # the session's own transaction
    if op.session.get_bind().dialect.name == "postgresql":  # COPY: a round trip per batch, not per row
        with raw.cursor() as cursor, cursor.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values(row))
        return
    marks = ", ".join("?" * len(columns))
    cursor = raw.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table_name} ({names}) VALUES ({marks})",
                           [values(_sqlite_times(row)) for row in rows])
    finally:
        cursor.close()
