"""Exports (issue 5): call, SMS and Meet logs and contacts streamed to CSV or a JSON array, in constant
memory.

Rows are read with `yield_per` (a server-side cursor on PostgreSQL) in batches, and each batch is
written before the next is read, so a year of calls costs no more memory than a thousand. A file is
written next to its destination and renamed into place only once complete.

Calls on PostgreSQL skip the driver's per-row work: the server writes every cell as the SQLite path
writes it (`_pg_call_cells`) and streams the lines with COPY (SELECT ...) TO STDOUT, CSV as CSV,
JSON one object a line; Python only copies the text through.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by

from ringtui.errors import Invalid
from ringtui.formats import cell, jsonable
from ringtui.models import CallRecord, CallTag, Contact, ContactNumber, Ivr, Tag, User
from ringtui.services import meetings, messages
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation
from ringtui.services.calls import LIST_FIELDS, call_values, require_call_logs, tags_of
from ringtui.services.filters import FilterOptions, call_conditions, transferred
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import EndedBy

KINDS = ("calls", "sms", "meet", "contacts")
FORMATS = ("csv", "json")
BATCH = 250
_CALL_COLUMNS = ("id", "started_at", "direction", "type", "from_number", "to_number", "ivr_id", "user_id",
                 "wait_s", "talk_s", "ended_by", "processed_channel")
_PLAIN = frozenset({str, int, float, type(None)})  # written by the csv module as `cell` writes them
CONTACT_FIELDS = ("id", "name", "company", "numbers", "fields", "created_at")

Row = dict[str, Any]


# ---------------------------------------------------------------- choosing


def _choice(value: str, what: str, accepted: tuple[str, ...]) -> str:
    clean = value.strip().lower()
    if clean not in accepted:
        raise Invalid(f"unknown {what} {value!r}: give {', '.join(accepted)}")
    return clean


def _check_kind(kind: str, options: FilterOptions) -> str:
    clean = kind.strip().lower()
    if clean not in KINDS:
        raise Invalid(f"unknown export kind {kind!r}: give {', '.join(KINDS)}")
    if clean == "contacts" and options.given():
        given = ", ".join(f"--{name}" for name in options.given())
        raise Invalid(f"contacts take no call filters ({given}); export contacts without them")
    return clean


# ---------------------------------------------------------------- reading in batches


def _call_query(conditions: list[ColumnElement[bool]], dialect: str) -> Select[Any]:
    """As `calls.call_rows`, but plain rows of the columns `call_values` takes (ORM objects would
    cost several times the time and memory), the start time as UTC text (see `_iso`)."""
    columns = [CallRecord.__table__.c[name] for name in _CALL_COLUMNS]
    columns[1] = (func.to_char(func.timezone("UTC", CallRecord.started_at), "YYYY-MM-DD HH24:MI:SS.US")
                  if dialect == "postgresql" else type_coerce(CallRecord.started_at, String))
    return (select(*columns, transferred())
            .where(*conditions)
            .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
            .execution_options(yield_per=BATCH))


def _iso(stored: Any) -> str | None:
    """A stored time as `formats.jsonable` writes it (ISO-8601 UTC, Z, microseconds when not 0).

    SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC and PostgreSQL is asked for the same text:
    rewritten as text, a tenth of the cost of making a datetime of it first."""
    if not isinstance(stored, str):
        return jsonable(stored) if stored is not None else None
    fraction = stored[20:26]
    micro = "." + fraction.ljust(6, "0") if fraction.strip("0") else ""
    return f"{stored[:10]}T{stored[11:19]}{micro}Z"


def _call_batches(op: Operation, options: FilterOptions) -> Iterator[Iterator[Row]]:
    """The calls `calls list` would show for these filters, all of them, newest first.

    Checks and the query run now, so that a refusal comes before any file is opened. IVR
    names and agents' e-mails are read once (small tables) rather than joined to every row.
    """
    require_call_logs(op)
    dialect = op.session.get_bind().dialect.name
    result = op.session.execute(_call_query(call_conditions(op, options), dialect))
    ivrs = dict(op.session.execute(select(Ivr.id, Ivr.name)).all())
    agents = dict(op.session.execute(select(User.id, User.email)).all())

    def batches() -> Iterator[Iterator[Row]]:
        for batch in result.partitions():
            tags = tags_of(op, [row[0] for row in batch])
            yield (call_values(id_, _iso(started), direction, type_, from_number, to_number, ivrs.get(ivr_id),
                               agents.get(user_id), wait_s, talk_s, tags[id_], ended_by, channel, handed_on)
                   for (id_, started, direction, type_, from_number, to_number, ivr_id, user_id, wait_s,
                        talk_s, ended_by, channel, handed_on) in batch)

    return batches()


# ---------------------------------------------------------------- calls on PostgreSQL: COPY


def _pg_text(column: Any) -> ColumnElement[str]:
    """Text as the csv module writes it: NULL and '' both empty (COPY would quote '')."""
    return func.nullif(column, "")


def _pg_float(column: Any) -> ColumnElement[str]:
    """A float8 as Python's str() writes it: PostgreSQL's shortest round-trip digits (extra_float_digits
    1, the default, set for the transaction) are Python's, but a whole number gets Python's '.0'."""
    as_text = cast(column, String)
    whole = and_(column == func.trunc(column), func.abs(column) < 1e15)
    return case((whole, as_text.concat(".0")), else_=as_text)


def _pg_iso(column: Any) -> ColumnElement[str]:
    """A timestamptz as `_iso` writes it: ISO-8601 UTC with Z, microseconds when not 0."""
    utc = func.timezone("UTC", column)
    micro = type_coerce(func.to_char(utc, "US"), String)
    seconds = type_coerce(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS'), String)
    return seconds.concat(case((micro == "000000", ""), else_=literal(".").concat(micro))).concat("Z")


def _pg_tags(json: bool) -> Any:
    """The call's tag names in code-point order (SQLite's), joined as `cell` joins a list, or a JSON
    array; NULL without tags."""
    name = Tag.name.collate("C")
    if json:
        as_json = cast(func.to_json(Tag.name), String)
        joined = func.string_agg(as_json, aggregate_order_by(literal(", "), name))
        joined = literal("[").concat(joined).concat("]")
    else:
        joined = func.string_agg(Tag.name, aggregate_order_by(literal(", "), name))
    return (select(joined).select_from(CallTag).join(Tag, Tag.id == CallTag.tag_id)
            .where(CallTag.call_record_id == CallRecord.id).scalar_subquery())


def _pg_call_cells(json: bool) -> list[ColumnElement[str]]:
    """Each of LIST_FIELDS as the text the SQLite path writes for it: a CSV cell, or a JSON value."""
    record = CallRecord.__table__.c
    customer = record.ended_by == EndedBy.CUSTOMER.value
    if json:
        def text(column: Any) -> Any:
            return func.coalesce(cast(func.to_json(column), String), "null")

        def number(column: Any) -> Any:
            return func.coalesce(_pg_float(column), "null")

        return [cast(record.id, String), literal('"').concat(_pg_iso(record.started_at)).concat('"'),
                text(record.direction), text(record.type), text(record.from_number), text(record.to_number),
                text(Ivr.name), text(User.email), number(record.wait_s), number(record.talk_s),
                func.coalesce(_pg_tags(json=True), "[]"), case((customer, "true"), else_="false"),
                text(record.processed_channel), case((transferred(), "true"), else_="false")]
    return [cast(record.id, String), _pg_iso(record.started_at), _pg_text(record.direction),
            _pg_text(record.type), _pg_text(record.from_number), _pg_text(record.to_number),
            _pg_text(Ivr.name), _pg_text(User.email), _pg_float(record.wait_s), _pg_float(record.talk_s),
            _pg_text(_pg_tags(json=False)), case((customer, "yes"), else_="no"),
            _pg_text(record.processed_channel), case((transferred(), "yes"), else_="no")]


def _pg_json_line(cells: list[ColumnElement[str]]) -> ColumnElement[str]:
    """One JSON object as json.JSONEncoder(ensure_ascii=False) writes a call: '{"id": 1, ...}'."""
    line: Any = literal("{")
    for n, (name, value) in enumerate(zip(LIST_FIELDS, cells, strict=True)):
        line = line.concat(f'{", " if n else ""}"{name}": ').concat(value)
    return line.concat("}")


def _pg_call_copy(op: Operation, options: FilterOptions, file_format: str) -> Callable[[TextIO], int]:
    """A writer of the calls `_call_batches` would give, in `file_format`, by COPY. The checks and the
    conditions are worked out now, before any file is opened."""
    require_call_logs(op)
    cells = _pg_call_cells(json=file_format == "json")
    query = (select(*cells) if file_format == "csv" else select(_pg_json_line(cells)))
    query = (query.select_from(CallRecord)
             .outerjoin(Ivr, Ivr.id == CallRecord.ivr_id)
             .outerjoin(User, User.id == CallRecord.user_id)
             .where(*call_conditions(op, options))
             .order_by(CallRecord.started_at.desc(), CallRecord.id.desc()))
    dialect = op.session.get_bind().dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = {name: value.value if isinstance(value, Enum) else value
              for name, value in compiled.params.items()}
    # CSV as the csv module quotes; JSON lines as they are: quote and delimiter are control characters
    # to_json always escapes, so no line is ever quoted
    shape = "FORMAT csv" if file_format == "csv" else "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"
    statement = f"COPY ({compiled.string}) TO STDOUT ({shape})"

    def write(stream: TextIO) -> int:
        connection = op.session.connection().connection.driver_connection
        encoding = connection.info.encoding
        if file_format == "csv":
            csv.writer(stream, lineterminator="\n").writerow(LIST_FIELDS)
        else:
            stream.write("[")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL extra_float_digits = 1")
            cursor.execute("SET LOCAL jit = off")  # compiling this plan took longer than running it
            with cursor.copy(statement, params) as copy:
                # libpq hands over one whole row (its line) at a time
                if file_format == "csv":
                    for line in copy:
                        stream.write(bytes(line).decode(encoding))
                else:
                    for n, line in enumerate(copy):
                        stream.write(",\n" if n else "\n")
                        stream.write(bytes(line)[:-1].decode(encoding))
            count = cursor.rowcount
        if file_format == "json":
            stream.write("\n]\n" if count else "]\n")
        return count

    return write


def _batches_of(op: Operation, query: Select[Any], to_dict: Any) -> Iterator[Iterator[Row]]:
    result = op.session.execute(query.execution_options(yield_per=BATCH))
    return ((to_dict(row) for row in batch) for batch in result.partitions())


def _sms_batches(op: Operation, options: FilterOptions) -> Iterator[Iterator[Row]]:
    """The SMS `messages.list_sms` would give for these filters, all of them, newest first."""
    return _batches_of(op, messages.sms_rows(op, options), messages.sms_dict)


def _meeting_batches(op: Operation, options: FilterOptions) -> Iterator[Iterator[Row]]:
    """The meetings `meetings.list_meetings` would give for these filters, all of them, newest first."""
    return _batches_of(op, meetings.meeting_rows(op, options), meetings.meeting_dict)


def _contact_batches(op: Operation) -> Iterator[Iterator[Row]]:
    """The contacts `contacts list` would show, by name."""
    require_feature(op.account, Feature.CONTACTS)
    require_area(op, Area.CONTACTS)
    query = (select(Contact.id, Contact.name, Contact.company, Contact.custom, Contact.created_at)
             .order_by(func.lower(Contact.name), Contact.id).execution_options(yield_per=BATCH))
    result = op.session.execute(query)

    def batches() -> Iterator[Iterator[Row]]:
        for batch in result.partitions():
            numbers: dict[int, list[str]] = {row.id: [] for row in batch}
            found = (select(ContactNumber.contact_id, ContactNumber.e164)
                     .where(ContactNumber.contact_id.in_(list(numbers))).order_by(ContactNumber.id))
            for contact_id, e164 in op.session.execute(found):
                numbers[contact_id].append(e164)
            yield ({"id": row.id, "name": row.name, "company": row.company, "numbers": numbers[row.id],
                    "fields": dict(row.custom or {}), "created_at": row.created_at} for row in batch)

    return batches()


# ---------------------------------------------------------------- writing


def _write_csv(batches: Iterator[Iterator[Row]], columns: tuple[str, ...], stream: TextIO) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    values = itemgetter(*columns)
    count = 0
    for batch in batches:
        for row in batch:
            # most cells are text or numbers, which the csv module writes as `cell` would (str(),
            # '' for None); only times, lists and yes/no go through `cell`
            writer.writerow([v if type(v) in _PLAIN else _export_cell(v) for v in values(row)])
            count += 1
    return count


def _write_json(batches: Iterator[Iterator[Row]], stream: TextIO) -> int:
    """A JSON array, one element a line, written as the rows come."""
    encode = json.JSONEncoder(default=jsonable, ensure_ascii=False).encode  # one encoder for every row
    count = 0
    stream.write("[")
    for batch in batches:
        for row in batch:
            stream.write(",\n" if count else "\n")
            stream.write(encode(row))
            count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


@contextmanager
def _atomic_file(path: Path) -> Iterator[TextIO]:
    """A temporary file beside `path`, renamed onto it only if the block completes."""
    directory = path.parent
    if path.is_dir():
        raise Invalid(f"cannot write {str(path)!r}: it is a folder; give a file name such as calls.csv")
    if not directory.is_dir():
        raise Invalid(f"cannot write {str(path)!r}: the folder {str(directory)!r} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as error:
        raise Invalid(
            f"cannot write {str(path)!r}: {error.strerror}; give a file in a folder you can write to"
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export(op: Operation, kind: str, options: FilterOptions | None = None, *, file_format: str = "csv",
           out: Path | None = None, stdout: TextIO) -> dict[str, Any]:
    """Write every call (filtered and scoped as `calls list`), SMS, meeting or contact as CSV or JSON.

    To `out` atomically when given, else to `stdout`. Returns what was written.
    """
    options = options or FilterOptions()
    clean_kind = _check_kind(kind, options)
    clean_format = _choice(file_format, "export format", FORMATS)
    copied = None
    if clean_kind == "calls" and op.session.get_bind().dialect.name == "postgresql":
        copied = _pg_call_copy(op, options, clean_format)
    elif clean_kind == "calls":
        batches, columns = _call_batches(op, options), LIST_FIELDS
    elif clean_kind == "sms":
        batches, columns = _sms_batches(op, options), messages.SMS_FIELDS
    elif clean_kind == "meet":
        batches, columns = _meeting_batches(op, options), meetings.MEETING_FIELDS
    else:
        batches, columns = _contact_batches(op), CONTACT_FIELDS

    def write(stream: TextIO) -> int:
        if copied is not None:
            return copied(stream)
        if clean_format == "json":
            return _write_json(batches, stream)
        return _write_csv(batches, columns, stream)

    if out is None:
        count = write(stdout)
    else:
        with _atomic_file(Path(out)) as stream:
            count = write(stream)
    return {"kind": clean_kind, "format": clean_format, "rows": count,
            "out": str(out) if out is not None else None}


def _export_cell(value: Any) -> str:
    return cell(value, iso_times=True)  # as `--csv` of the list commands
