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
  is kept as written; the customer's geographic area code (`phones.area_of`: "+33 1"; none for a
  mobile) goes with the call, as its country does.
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
  CALL_ANSWERED), from the first start to the last end. They must lie within WINDOW lines
  of the call's first line (Asterisk writes a call's lines as its legs end).

How (1M lines in seconds): the file is read in chunks of whole records into polars frames
(services/cdr_reader) and the rules above run on whole columns; each distinct number is
parsed once (`phonenumbers`). A line the column rules cannot vouch for (a time not in
Asterisk's YYYY-MM-DD HH:MM:SS, a number that is none, any bad value) goes through
`_call`, the same rules line by line, which names its problem. Calls are written chunk by
chunk (SQLite executemany, PostgreSQL COPY) in one transaction: all or nothing unless
`skip_invalid`; every bad line is reported.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Full, Queue
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberFormat
from sqlalchemy import select

from ringtui.errors import BulkInvalid, Invalid, PermissionDenied
from ringtui.models import PhoneNumber, User
from ringtui.services.access import is_admin
from ringtui.services.base import Operation, audit
from ringtui.services.phones import area_of_number, parse
from ringtui.services.plans import Feature, require_feature
from ringtui.services.rollups import NewCalls, rebuild_hours
from ringtui.vocab import CallKind, CallType, Direction, Outcome

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("asterisk-csv",)
COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)
REQUIRED = COLUMNS.index("uniqueid") + 1  # userfield may be left out (cdr_csv loguserfield=no)
CALL_ID_PREFIX = "asterisk:"
BATCH_BYTES = 8 << 20  # a chunk of the file read and written at once: some 32,000 lines
WINDOW = 1000  # lines after a call's first line in which more lines of it may come
ANONYMOUS = "anonymous"
_WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable"})
_UNIQUEID_MAX = 64 - len(CALL_ID_PREFIX)  # call_id is VARCHAR(64)
_PARSED_MAX = 500_000  # numbers kept parsed
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
    parsed: dict[str, tuple[str, str | None, str | None] | None] = field(default_factory=dict)
    looked_up: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def number(self, raw: str) -> tuple[str, str | None, str | None] | None:
        """(E.164, ISO country, area code) of a number in national or international form; None if none.

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
        found = (
            phonenumbers.format_number(number, PhoneNumberFormat.E164),
            phonenumbers.region_code_for_number(number),
            area_of_number(number),
        )
        self.parsed[raw] = self.parsed[found[0]] = found
        return found

    def look_up(self, value: str) -> tuple[Any, ...]:
        """What the column rules need of a src or dst value (stripped), in _LOOKUP's order."""
        found = self.looked_up.get(value)
        if found is None:
            if len(self.looked_up) >= _PARSED_MAX:
                self.looked_up.clear()
            internal, user_id = _internal(value, self)
            number = self.number(value) if value else None
            e164, country, area = number or (None, None, None)
            owner, ivr_id = self.numbers.get(e164, (None, None)) if e164 else (None, None)
            found = self.looked_up[value] = (
                value,
                internal,
                user_id,
                e164,
                country,
                area,
                owner,
                ivr_id,
                value.lower() in _WITHHELD,
            )
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
        return {
            "file": self.file,
            "format": FORMATS[0],
            "timezone": self.timezone,
            "lines": self.lines,
            "imported": self.imported,
            "already_imported": self.already_imported,
            "internal_skipped": self.internal_skipped,
            "invalid": [list(p) for p in sorted(self.invalid)],
        }

    def refused(self, skip_invalid: bool) -> bool:
        """Whether the import will be refused (then nothing more is written, lines are still checked)."""
        return bool(self.invalid) and not skip_invalid


class _BadLine(Exception):
    pass


class _Internal(Exception):
    pass


def import_cdrs(
    op: Operation,
    file: Path,
    *,
    format: str = "asterisk-csv",
    timezone: str | None = None,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """Import a Master.csv: all or nothing unless `skip_invalid`; lines imported before are skipped."""
    require_feature(op.account, Feature.CALL_LOGS)
    if not is_admin(op.actor):
        raise PermissionDenied(
            f"{op.actor.email} has the {op.actor.role} role: only an admin or the "
            "super admin imports call history"
        )
    if format.strip().lower() not in FORMATS:
        raise Invalid(f"unknown CDR format {format!r}: give {', '.join(FORMATS)}")
    directory = _load_directory(op, _zone(timezone or op.account.timezone or "UTC"))
    summary = _Summary(file=str(file), timezone=directory.clock.zone.key)
    new_calls = NewCalls()
    with _bulk_load(op, file) as indexes:
        for calls, attempts in _one_ahead(_complete_calls(file, directory, summary)):
            if not summary.refused(skip_invalid):
                _write(op, calls, attempts, summary, new_calls, indexes)
        if summary.refused(skip_invalid):
            raise BulkInvalid(f"calls import of {file}", sorted(summary.invalid))
        if summary.lines == 0:
            raise Invalid(
                f"{file} holds no call-detail records: expected Master.csv lines ({','.join(COLUMNS)})"
            )
    if summary.imported:
        _after_import(op, new_calls, *_utc(summary.first, summary.last))
        audit(
            op,
            "calls.import",
            file.name,
            after={k: v for k, v in summary.as_dict().items() if k != "invalid"}
            | {"invalid_lines": sorted(line for line, _ in summary.invalid)},
        )
    return summary.as_dict()


def _complete_calls(
    file: Path, directory: _Directory, summary: _Summary
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """(calls, their ring attempts) chunk by chunk, bad and internal lines counted in `summary`."""
    from ringtui.services import cdr_reader  # polars: only on the import's path

    calls = _Calls(summary)
    for frame in cdr_reader.frames(file, BATCH_BYTES, list(COLUMNS), REQUIRED):
        summary.lines += frame.height
        calls.add(_checked(frame, directory, summary), last_line=int(frame["line"][-1]))
        if (ready := calls.take_ready()) is not None:
            yield ready
    calls.finish()
    if (ready := calls.take_ready()) is not None:
        yield ready


_END = object()


def _one_ahead(items: Iterator[Any]) -> Iterator[Any]:
    """`items`, the next one made in a thread while the caller takes this one: polars checks the
    next chunk (mostly without the GIL) while the database writes this one, on another core. The
    thread only reads the file and the directory; the caller alone uses the session."""
    handed: Queue[tuple[Any, BaseException | None]] = Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                handed.put((item, error), timeout=0.1)
                return True
            except Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # handed to the caller, raised there
            put(_END, error)

    thread = threading.Thread(target=make, name="cdr-import-reader", daemon=True)
    thread.start()
    try:
        while (got := handed.get())[0] is not _END:
            yield got[0]
        if got[1] is not None:
            raise got[1]
    finally:
        stop.set()
        thread.join()


def _utc(*times: datetime | None) -> tuple[datetime, ...]:
    return tuple(time.replace(tzinfo=UTC) for time in times if time is not None)


def _after_import(op: Operation, new_calls: NewCalls, first: datetime, last: datetime) -> None:
    """Bring the hourly roll-ups up to date for the calls imported, which started from `first` to `last`
    (aware UTC), in the import's transaction: on SQLite by adding the sums made from the frames as
    they were written (reading a million calls back to group them took a fifth of the import);
    PostgreSQL recomputes those hours in SQL."""
    if op.session.get_bind().dialect.name == "sqlite":
        new_calls.write(op.session.connection().connection.dbapi_connection)
    else:
        rebuild_hours(op.session.connection(), first, last)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown time zone {name!r}: give an IANA name such as Europe/Paris or UTC") from None


def _load_directory(op: Operation, zone: ZoneInfo) -> _Directory:
    numbers = {
        row.e164: (row.user_id, row.ivr_id)
        for row in op.session.execute(select(PhoneNumber.e164, PhoneNumber.user_id, PhoneNumber.ivr_id))
    }
    users = op.session.execute(select(User.id, User.sip_username, User.outgoing_number)).all()
    assigned = {user_id: e164 for e164, (user_id, _) in sorted(numbers.items()) if user_id is not None}
    return _Directory(
        country=op.account.country,
        clock=_Clock(zone),
        numbers=numbers,
        extensions={row.sip_username.lower(): row.id for row in users},
        user_numbers={
            row.id: row.outgoing_number or assigned.get(row.id)
            for row in users
            if row.outgoing_number or row.id in assigned
        },
    )


# ---------------------------------------------------------------- one line (the reference rules)


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
_DISPOSITIONS = {
    name: (call_type.value, outcome.value) for name, (call_type, outcome) in DISPOSITIONS.items()
}


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
        customer, country, area = _customer(dst if outbound else src, outbound, directory)
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
        "call_id": CALL_ID_PREFIX + uniqueid,
        "started_at": start,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "type": call_type,
        "caller_country": country,
        "caller_area": area,
        "wait_s": max(0.0, (answered_at - start).total_seconds()) if answered_at else float(duration),
        "talk_s": float(billsec) if answered else 0.0,
        "recorded": False,
        "vip": False,
        "flagged": False,
    }
    if outbound:
        agent = directory.extensions.get(_peer(cells[5])) or src_user
        own = directory.number(src)
        from_number = own[0] if own else directory.user_numbers.get(agent or 0) or src[:_TEXT_MAX]
        record |= {
            "direction": _OUT,
            "kind": _DIRECT,
            "from_number": from_number,
            "to_number": customer,
            "ivr_id": None,
        }
        outcome = _OUTCOME_OUT
    else:
        called = directory.number(dst)
        owner, ivr_id = directory.numbers.get(called[0], (None, None)) if called else (None, None)
        agent = directory.extensions.get(_peer(cells[6])) or owner
        record |= {
            "direction": _IN,
            "kind": _IVR if ivr_id is not None else _DIRECT,
            "from_number": customer,
            "to_number": called[0] if called else dst[:_TEXT_MAX],
            "ivr_id": ivr_id,
        }
    record["user_id"] = agent
    attempts = (
        []
        if agent is None
        else [
            {"user_id": agent, "started_at": start, "ended_at": answered_at or ended_at, "outcome": outcome}
        ]
    )
    return _Call(line, record, attempts)


def _customer(number: str, outbound: bool, directory: _Directory) -> tuple[str, str | None, str | None]:
    """The customer's side in E.164, its country and area code: the called number (outbound) or the caller."""
    if not outbound and number.lower() in _WITHHELD:
        return ANONYMOUS, None, None
    found = directory.number(number)
    if found is None:
        if outbound:
            raise _BadLine(f"dst {number!r} is not a phone number")
        raise _BadLine(f"src {number!r} is neither a phone number nor a user's SIP username (extension)")
    return found


def _merged(call: _Call, leg: _Call) -> _Call:
    """One call of two lines: answered if either leg was, by that leg's agent."""
    first, other = call.record, leg.record
    answered = first if first["type"] == CallType.ANSWERED else other
    start = min(first["started_at"], other["started_at"])
    record = first | {
        "started_at": start,
        "ended_at": max(first["ended_at"], other["ended_at"]),
        "type": answered["type"],
        "answered_at": answered["answered_at"],
        "talk_s": answered["talk_s"],
        "user_id": answered["user_id"] or first["user_id"] or other["user_id"],
        "wait_s": (
            (answered["answered_at"] - start).total_seconds()
            if answered["answered_at"]
            else max(first["wait_s"], other["wait_s"])
        ),
    }
    attempts = call.attempts + leg.attempts
    if record["type"] == CallType.ANSWERED:  # S5: rung, not answered, another agent did
        attempts = [
            a | {"outcome": Outcome.CALL_ANSWERED.value} if a["outcome"] == Outcome.NO_ANSWER else a
            for a in attempts
        ]
    return _Call(call.line, record, attempts)


# ---------------------------------------------------------------- whole columns


_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"  # Asterisk's; others go line by line
_SECONDS = r"^[0-9]{1,9}$"
_PEER_AT_START = "^" + _PEER.pattern
_SEPARATOR = "\x1f"
# what _Directory.look_up gives of a src or dst value
_LOOKUP = ("value", "internal", "user", "e164", "country", "area", "owner", "ivr", "withheld")
# the call_record columns the import writes (the flags recorded, vip and flagged are all false)
_RECORD_COLUMNS = (
    "call_id",
    "direction",
    "kind",
    "from_number",
    "to_number",
    "caller_country",
    "caller_area",
    "ivr_id",
    "user_id",
    "started_at",
    "answered_at",
    "ended_at",
    "type",
    "wait_s",
    "talk_s",
)
# a checked line, ready to be a call: the call_record columns, its ring attempt's, its line's text
_CHECKED = ("line", *_RECORD_COLUMNS, "outcome", "attempt_ended_at", "signature")


def _checked(frame: pl.DataFrame, directory: _Directory, summary: _Summary) -> pl.DataFrame:
    """The lines of a chunk that make calls, as _CHECKED columns; internal and bad lines counted in
    `summary`. The column rules settle the lines they can vouch for; `_call` the others."""
    import polars as pl

    lines = _with_rules(frame, directory)
    verdict = pl.col("verdict")
    summary.internal_skipped += int((lines["verdict"] == "internal").sum())
    vouched = lines.filter(verdict == "ok").select(_CHECKED)
    doubtful = lines.filter(verdict == "check")
    if doubtful.height == 0:
        return vouched
    return pl.concat([vouched, _line_by_line(doubtful, directory, summary)]).sort("line")


def _cell(index: int) -> pl.Expr:
    import polars as pl

    return pl.col(f"c{index}").str.strip_chars()


def _with_rules(frame: pl.DataFrame, directory: _Directory) -> pl.DataFrame:
    """The chunk with the rules' columns: `verdict` ok, internal or check (line by line)."""
    import polars as pl

    frame = frame.with_columns(src=_cell(1), dst=_cell(2))
    values = pl.concat([frame["src"], frame["dst"]]).unique().to_list()
    lookup = pl.DataFrame(
        [directory.look_up(value) for value in values],
        orient="row",
        schema={
            "value": pl.String,
            "internal": pl.Boolean,
            "user": pl.Int64,
            "e164": pl.String,
            "country": pl.String,
            "area": pl.String,
            "owner": pl.Int64,
            "ivr": pl.Int64,
            "withheld": pl.Boolean,
        },
    )
    for side in ("src", "dst"):
        frame = frame.join(
            lookup.rename(lambda name, side=side: f"{side}_{name}"),
            how="left",
            left_on=side,
            right_on=f"{side}_value",
            maintain_order="left",
        )
    zone = directory.clock.zone.key
    frame = frame.with_columns(
        start=_utc_column(9, zone),
        answer=_utc_column(10, zone),
        end=_utc_column(11, zone),
        duration=_seconds_column(12),
        billsec=_seconds_column(13),
        uniqueid=_cell(16),
        type=_disposition(0),
        in_outcome=_disposition(1),
        outbound=pl.col("src_internal"),
    )
    frame = frame.with_columns(verdict=_verdict(), signature=_signature())
    return frame.with_columns(**_record_columns(directory))


def _utc_column(index: int, zone: str) -> pl.Expr:
    """A time column in naive UTC; null when empty or not in Asterisk's form (or in a DST gap)."""
    import polars as pl

    text = _cell(index)
    local = pl.when(text.str.contains(_TIME)).then(
        text.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    )
    # ambiguous="earliest": an hour read twice at its first (summer) offset, as datetime's fold=0
    return (
        local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def _seconds_column(index: int) -> pl.Expr:
    import polars as pl

    text = _cell(index)
    return pl.when(text.str.contains(_SECONDS)).then(text.cast(pl.Int64, strict=False))


def _disposition(part: int) -> pl.Expr:
    import polars as pl

    mapping = {name: values[part] for name, values in _DISPOSITIONS.items()}
    return _cell(14).str.to_uppercase().replace_strict(mapping, default=None, return_dtype=pl.String)


def _verdict() -> pl.Expr:
    import polars as pl

    col = pl.col
    well_formed = (
        (col("fields") >= REQUIRED)
        & col("start").is_not_null()
        & ((_cell(10) == "") | col("answer").is_not_null())
        & ((_cell(11) == "") | col("end").is_not_null())
        & col("duration").is_not_null()
        & col("billsec").is_not_null()
        & col("type").is_not_null()
        & (col("uniqueid") != "")
        & (col("uniqueid").str.len_chars() <= _UNIQUEID_MAX)
    )
    internal = well_formed & col("outbound") & col("dst_internal")
    customer = (
        pl.when(col("outbound"))
        .then(col("dst_e164").is_not_null())
        .otherwise(col("src_withheld") | col("src_e164").is_not_null())
    )
    ok = well_formed & ~internal & customer & (col("answer").is_null() | (col("answer") >= col("start")))
    return pl.when(ok).then(pl.lit("ok")).when(internal).then(pl.lit("internal")).otherwise(pl.lit("check"))


def _signature() -> pl.Expr:
    """A line's text as the same-line check compares it (cells stripped)."""
    import polars as pl

    from ringtui.services.cdr_reader import CELLS, WIDTH

    count = pl.min_horizontal(pl.col("fields"), pl.lit(WIDTH)).cast(pl.String)
    return pl.concat_str([count, *(pl.col(name).str.strip_chars() for name in CELLS)], separator=_SEPARATOR)


def _record_columns(directory: _Directory) -> dict[str, pl.Expr]:
    import polars as pl

    col, out = pl.col, pl.col("outbound")
    answered = col("type") == _ANSWERED
    answered_at = pl.when(answered).then(pl.coalesce(col("answer"), col("start")))
    ended_at = pl.coalesce(col("end"), col("start") + pl.duration(seconds=col("duration")))
    agent = (
        pl.when(out)
        .then(pl.coalesce(_extension(5, directory), col("src_user")))
        .otherwise(pl.coalesce(_extension(6, directory), col("dst_owner")))
    )
    own_number = _mapped(agent, directory.user_numbers, pl.String)
    return {
        "call_id": pl.lit(CALL_ID_PREFIX) + col("uniqueid"),
        "direction": pl.when(out).then(pl.lit(_OUT)).otherwise(pl.lit(_IN)),
        "kind": pl.when(~out & col("dst_ivr").is_not_null()).then(pl.lit(_IVR)).otherwise(pl.lit(_DIRECT)),
        "from_number": pl.when(out)
        .then(pl.coalesce(col("src_e164"), own_number, col("src").str.slice(0, _TEXT_MAX)))
        .when(col("src_withheld"))
        .then(pl.lit(ANONYMOUS))
        .otherwise(col("src_e164")),
        "to_number": pl.when(out)
        .then(col("dst_e164"))
        .otherwise(pl.coalesce(col("dst_e164"), col("dst").str.slice(0, _TEXT_MAX))),
        "caller_country": _customer_column("country"),
        "caller_area": _customer_column("area"),
        "ivr_id": pl.when(~out).then(col("dst_ivr")),
        "user_id": agent,
        "started_at": col("start"),
        "answered_at": answered_at,
        "ended_at": ended_at,
        "wait_s": pl.when(answered)
        .then(((answered_at - col("start")).dt.total_microseconds() / 1e6).clip(lower_bound=0.0))
        .otherwise(col("duration").cast(pl.Float64)),
        "talk_s": pl.when(answered).then(col("billsec").cast(pl.Float64)).otherwise(pl.lit(0.0)),
        "outcome": pl.when(out).then(pl.lit(_OUTCOME_OUT)).otherwise(col("in_outcome")),
        "attempt_ended_at": pl.coalesce(answered_at, ended_at),
    }


def _customer_column(what: str) -> pl.Expr:
    """A look-up column (country, area) of the customer: dst outbound, src inbound (none if withheld)."""
    import polars as pl

    return (
        pl.when(pl.col("outbound"))
        .then(pl.col(f"dst_{what}"))
        .when(pl.col("src_withheld"))
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col(f"src_{what}"))
    )


def _extension(cell: int, directory: _Directory) -> pl.Expr:
    """The user whose SIP username is the peer of the channel in `cell` (see `_peer`)."""
    import polars as pl

    return _mapped(
        pl.col(f"c{cell}").str.extract(_PEER_AT_START, 1).str.to_lowercase(), directory.extensions, pl.Int64
    )


def _mapped(expr: pl.Expr, mapping: dict[Any, Any], dtype: Any) -> pl.Expr:
    import polars as pl

    if not mapping:
        return pl.lit(None, dtype)
    return expr.replace_strict(mapping, default=None, return_dtype=dtype)


def _line_by_line(doubtful: pl.DataFrame, directory: _Directory, summary: _Summary) -> pl.DataFrame:
    """The lines the column rules could not vouch for, through `_call`: bad ones reported."""
    import polars as pl

    from ringtui.services.cdr_reader import CELLS

    rows = []
    for line, fields, signature, *cells in doubtful.select("line", "fields", "signature", *CELLS).iter_rows():
        try:
            call = _call(line, cells[:fields], directory)
        except _Internal:
            summary.internal_skipped += 1
            continue
        except _BadLine as problem:
            summary.invalid.append((line, str(problem)))
            continue
        attempt = call.attempts[0] if call.attempts else {"outcome": None, "ended_at": None}
        rows.append(
            call.record
            | {
                "line": line,
                "outcome": attempt["outcome"],
                "attempt_ended_at": attempt["ended_at"],
                "signature": signature,
            }
        )
    return pl.DataFrame(rows, schema=_checked_schema())


def _checked_schema() -> dict[str, Any]:
    import polars as pl

    types = {
        "line": pl.Int64,
        "ivr_id": pl.Int64,
        "user_id": pl.Int64,
        "wait_s": pl.Float64,
        "talk_s": pl.Float64,
    } | dict.fromkeys(("started_at", "answered_at", "ended_at", "attempt_ended_at"), pl.Datetime("us"))
    return {name: types.get(name, pl.String) for name in _CHECKED}


# ---------------------------------------------------------------- lines of one call


class _Calls:
    """Checked lines merged into calls (same uniqueid: a queue or ring group dialling several agents),
    handed out once no later line can belong to them: WINDOW lines after their first line."""

    def __init__(self, summary: _Summary) -> None:
        self.summary = summary
        self.pending: pl.DataFrame | None = None  # lines of calls that may get more lines
        self.handed_out: pl.DataFrame | None = None  # (call_id, line): the first line of each call
        self.last_line: int | None = 0  # the last line read; None at the end of the file

    def add(self, lines: pl.DataFrame, *, last_line: int) -> None:
        import polars as pl

        lines = self._not_handed_out(lines)
        self.pending = lines if self.pending is None else pl.concat([self.pending, lines])
        self.last_line = last_line

    def finish(self) -> None:
        self.last_line = None

    def _not_handed_out(self, lines: pl.DataFrame) -> pl.DataFrame:
        """A line of a call already handed out is more than WINDOW lines after its first: a bad line."""
        import polars as pl

        if self.handed_out is None or lines.height == 0:
            return lines
        # only calls whose ids lie between the chunk's least and greatest can be among its own:
        # joining the chunk with every call handed out grew with the file (2.8 s of 1M lines)
        lowest, highest = pl.lit(lines["call_id"].min()), pl.lit(lines["call_id"].max())
        handed_out = self.handed_out.filter(pl.col("call_id").is_between(lowest, highest))
        late = lines.join(handed_out, on="call_id", suffix="_first")
        for call_id, line, first in late.select("call_id", "line", "line_first").iter_rows():
            self.summary.invalid.append((line, _too_late(call_id, first)))
        return lines.join(handed_out, on="call_id", how="anti", maintain_order="left")

    def take_ready(self) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        """(calls, their ring attempts) of the complete calls, in the order of their first lines."""
        import polars as pl

        if self.pending is None or self.pending.height == 0:
            return None
        pending = self.pending.with_columns(first=pl.col("line").min().over("call_id"))
        ready = pl.col("first") <= self.last_line - WINDOW if self.last_line is not None else pl.lit(True)
        done = pending.filter(ready)
        self.pending = pending.filter(~ready).drop("first")
        if done.height == 0:
            return None
        firsts = done.filter(pl.col("line") == pl.col("first")).select("call_id", "line")
        self.handed_out = firsts if self.handed_out is None else pl.concat([self.handed_out, firsts])
        several = pl.len().over("call_id") > 1
        single = done.filter(~several)
        calls, attempts = single.select(_CHECKED[:-3]), _attempts_of(single)
        if single.height < done.height:
            merged, merged_attempts = self._merge_legs(done.filter(several).sort("line"))
            calls = pl.concat([calls, merged]).sort("line")
            attempts = pl.concat([attempts, merged_attempts])
        return calls, attempts

    def _merge_legs(self, lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        import polars as pl

        calls: dict[str, tuple[_Call, list[tuple[int, str]]]] = {}
        for row in lines.iter_rows(named=True):
            leg = _Call(row["line"], {k: row[k] for k in _CHECKED[1:-3]}, _attempt_dicts(row))
            found = calls.get(row["call_id"])
            if found is None:
                calls[row["call_id"]] = (leg, [(leg.line, row["signature"])])
                continue
            call, texts = found
            problem = (
                _too_late(row["call_id"], call.line)
                if leg.line - call.line > WINDOW
                else next(
                    (_same_line(row["call_id"], line) for line, text in texts if text == row["signature"]),
                    None,
                )
            )
            if problem:
                self.summary.invalid.append((leg.line, problem))
                continue
            texts.append((leg.line, row["signature"]))
            calls[row["call_id"]] = (_merged(call, leg), texts)
        schema = _checked_schema()
        records = pl.DataFrame(
            [call.record | {"line": call.line} for call, _ in calls.values()],
            schema={name: schema[name] for name in _CHECKED[:-3]},
        )
        attempts = pl.DataFrame(
            [
                attempt | {"call_id": call.record["call_id"]}
                for call, _ in calls.values()
                for attempt in call.attempts
            ],
            schema=_attempt_schema(),
        )
        return records, attempts


def _too_late(call_id: str, first: int) -> str:
    return (
        f"uniqueid {call_id[len(CALL_ID_PREFIX) :]!r} repeats line {first}, more than {WINDOW} "
        "lines before: not the same call"
    )


def _same_line(call_id: str, line: int) -> str:
    return f"uniqueid {call_id[len(CALL_ID_PREFIX) :]!r}: the same line as line {line}"


def _attempt_dicts(row: dict[str, Any]) -> list[dict[str, Any]]:
    if row["user_id"] is None:
        return []
    return [
        {
            "user_id": row["user_id"],
            "started_at": row["started_at"],
            "ended_at": row["attempt_ended_at"],
            "outcome": row["outcome"],
        }
    ]


def _attempt_schema() -> dict[str, Any]:
    import polars as pl

    return {
        "call_id": pl.String,
        "user_id": pl.Int64,
        "started_at": pl.Datetime("us"),
        "ended_at": pl.Datetime("us"),
        "outcome": pl.String,
    }


def _attempts_of(lines: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    return lines.filter(pl.col("user_id").is_not_null()).select(
        "call_id", "user_id", "started_at", pl.col("attempt_ended_at").alias("ended_at"), "outcome"
    )


# ---------------------------------------------------------------- writing


# Rows go straight through the driver (SQLite executemany, PostgreSQL COPY) in the session's
# transaction, times rendered as text the database reads back exactly as SQLAlchemy writes them:
# SQLAlchemy's per-row parameter processing cost more than the insert itself.
_FLAGS = {"recorded": False, "vip": False, "flagged": False}  # the same for every imported call
_ATTEMPT_COLUMNS = ("call_record_id", "user_id", "started_at", "ended_at", "outcome")
_TIMES = ("started_at", "answered_at", "ended_at")
_BULK_CACHE_KIB = 64 * 1024  # SQLite page cache while importing: the indexes' pages stay in memory
_LINE_BYTES = 250  # a Master.csv line, about
_DROP_INDEXES_FROM = 100_000  # lines


@contextmanager
def _bulk_load(op: Operation, file: Path) -> Iterator[_Indexes | None]:
    """SQLite only: a larger page cache for the import's connection, and when the calls still to
    write are many beside the call history, its secondary indexes dropped (before the first new
    call is written: a re-import, or a Master.csv imported again with a day more, writes few or
    none and keeps them) and built again once at the end.

    Inserting a million rows keeps call_record's ten secondary indexes and ring_attempt's
    two in order row by row, half the import's time; one sort per index at the end is
    three times faster (keeping the indexes whose keys come in time order, and sorting only
    the others, was slower still). The drop and the creation are in the import's transaction:
    other connections keep seeing the indexes, and a refused import gives them back by rollback.
    The unique index on call_id stays, for the "already imported" look-ups. Measured without
    gain, so left out: PRAGMA threads (a sorter thread per index build), temp_store=MEMORY, a
    256 MB cache; synchronous stays NORMAL (OFF would risk the whole file on a power cut)."""
    if op.session.get_bind().dialect.name != "sqlite":
        yield None
        return
    raw = op.session.connection().connection.dbapi_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
    try:
        indexes = _Indexes(raw, file.stat().st_size // _LINE_BYTES if file.is_file() else 0)
        yield indexes
        for statement in indexes.recreate or []:
            raw.execute(statement)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")


class _Indexes:
    """The call tables' secondary indexes during a SQLite import: dropped or kept once, when the
    first new calls are about to be written."""

    def __init__(self, raw: Any, lines: int) -> None:
        self.raw = raw
        self.lines = lines  # in the file, about
        self.recreate: list[str] | None = None  # the statements creating the dropped ones; None: undecided

    def before_writing(self, line: int) -> None:
        """Called before new calls from `line` on are written: drop the indexes if the rest of the
        file is large."""
        if self.recreate is None:
            self.recreate = _dropped_indexes(self.raw, self.lines - line)


def _dropped_indexes(raw: Any, expected: int) -> list[str]:
    """Drop the bulk tables' secondary indexes if `expected` calls are many beside the table's;
    the statements that create them again."""
    existing = raw.execute("SELECT coalesce(max(id), 0) FROM call_record").fetchone()[0]
    if expected < _DROP_INDEXES_FROM or expected < existing // 2:
        return []
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('call_record', 'ring_attempt')"
    ).fetchall()
    if not raw.in_transaction:  # the driver begins one only before a write: the drop must be in it
        raw.execute("BEGIN")
    for name, _ in indexes:
        raw.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


def _write(
    op: Operation,
    calls: pl.DataFrame,
    attempts: pl.DataFrame,
    summary: _Summary,
    new_calls: NewCalls,
    indexes: _Indexes | None,
) -> None:
    import polars as pl

    known = _already_imported(op, calls["call_id"])
    if known.len():
        calls = calls.filter(~pl.col("call_id").is_in(known.implode()))
        attempts = attempts.filter(~pl.col("call_id").is_in(known.implode()))
        summary.already_imported += known.len()
    if calls.height == 0:
        return
    if indexes is not None:
        indexes.before_writing(int(calls["line"].min()))
    before = _rows(op, "SELECT coalesce(max(id), 0) FROM call_record", ())[0][0]
    _insert(op, "call_record", calls.select(_RECORD_COLUMNS), constants=_FLAGS)
    if attempts.height:
        ids = _record_ids(op, calls["call_id"], before)
        _insert(op, "ring_attempt", attempts.join(ids, on="call_id").select(_ATTEMPT_COLUMNS))
    new_calls.add(calls, attempts)
    summary.imported += calls.height
    first, last = calls["started_at"].min(), calls["started_at"].max()
    summary.first = first if summary.first is None else min(summary.first, first)
    summary.last = last if summary.last is None else max(summary.last, last)


def _record_ids(op: Operation, call_ids: pl.Series, before: int) -> pl.DataFrame:
    """(call_id, call_record_id) of the calls just inserted, in `call_ids`' order, the greatest id
    being `before` until then. Ids are handed out in insertion order: when the rows above `before`
    are exactly these, their ids are before+1, before+2...; else (a concurrent writer's rows among
    them) they are read back."""
    import polars as pl

    count, greatest = _rows(
        op, "SELECT count(*), coalesce(max(id), 0) FROM call_record WHERE id > ?", (before,)
    )[0]
    if (count, greatest) == (call_ids.len(), before + call_ids.len()):
        return (
            pl.DataFrame({"call_id": call_ids})
            .with_row_index("call_record_id", offset=before + 1)
            .select("call_id", pl.col("call_record_id").cast(pl.Int64))
        )
    rows = _rows(op, "SELECT call_id, id FROM call_record WHERE id > ?", (before,))
    return pl.DataFrame(rows, orient="row", schema={"call_id": pl.String, "call_record_id": pl.Int64})


def _already_imported(op: Operation, call_ids: pl.Series) -> pl.Series:
    """The call ids among `call_ids` already in call_record.

    SQLite first reads the ids between the chunk's least and greatest (call ids of a Master.csv
    grow with time, so that is mostly the chunk's own: none on a first import); a range crowded
    with other ids, and PostgreSQL (whose collation orders text otherwise), look the ids up one by
    one, passed as one parameter (a JSON array, an array)."""
    import polars as pl

    sqlite = op.session.get_bind().dialect.name == "sqlite"
    rows = None
    if sqlite:
        most = 2 * call_ids.len()
        rows = _rows(
            op,
            "SELECT call_id FROM call_record WHERE call_id BETWEEN ? AND ? LIMIT ?",
            (call_ids.min(), call_ids.max(), most + 1),
        )
        rows = rows if len(rows) <= most else None
    if rows is None:
        rows = (
            _rows(
                op,
                "SELECT call_id FROM call_record WHERE call_id IN (SELECT value FROM json_each(?))",
                (json.dumps(call_ids.to_list()),),
            )
            if sqlite
            else _rows(op, "SELECT call_id FROM call_record WHERE call_id = ANY(?)", (call_ids.to_list(),))
        )
    found = pl.Series([row[0] for row in rows], dtype=pl.String)
    return found.filter(found.is_in(call_ids.implode()))


def _rows(op: Operation, statement: str, parameters: tuple[Any, ...]) -> list[Any]:
    """A statement's rows through the session's DBAPI connection (in its transaction); `?` placeholders."""
    raw = op.session.connection().connection.dbapi_connection
    if op.session.get_bind().dialect.name == "postgresql":
        with raw.cursor() as cursor:
            cursor.execute(statement.replace("?", "%s"), parameters)
            return cursor.fetchall()
    return raw.execute(statement, parameters).fetchall()


def _insert(
    op: Operation, table_name: str, rows: pl.DataFrame, constants: dict[str, bool] | None = None
) -> None:
    """Insert the frame's columns (times naive UTC), and `constants` in every row, into the table, in
    the session's transaction."""
    import polars as pl

    raw = op.session.connection().connection.dbapi_connection
    postgres = op.session.get_bind().dialect.name == "postgresql"
    constants = constants or {}
    if postgres:
        rows = rows.with_columns(pl.lit(value).alias(name) for name, value in constants.items())
        constants = {}
    names = ", ".join([*rows.columns, *constants])
    # SQLAlchemy stores SQLite times as 'YYYY-MM-DD HH:MM:SS.ffffff' and compares them as text, so the
    # text must be that exactly; PostgreSQL reads the same text with its UTC offset.
    rows = rows.with_columns(
        pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S%.6f" + ("+00" if postgres else ""))
        for name in _TIMES
        if name in rows.columns
    )
    if postgres:  # COPY: the whole chunk as CSV text, no row through Python
        text = rows.write_csv(include_header=False, quote_style="non_numeric", null_value="")
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table_name} ({names}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(text)
        return
    cursor = raw.cursor()
    try:
        cursor.executemany(
            # constants as SQL literals: binding them row by row cost as much as a column of data
            f"INSERT INTO {table_name} ({names}) VALUES "
            f"({', '.join(['?'] * rows.width + [str(int(value)) for value in constants.values()])})",
            zip(*(column.to_list() for column in rows.iter_columns()), strict=True),
        )
    finally:
        cursor.close()
