"""Campaign recipient lists (K1-K3): a .csv or .txt file, or numbers typed on the command line.

Every number is normalised to E.164 with the campaign's country; a number seen
again is a duplicate (counted, kept once); a number that is not valid is reported
with its line; numbers on the company's outbound blacklist are left out and
counted. Sized for 100,000 numbers in a few seconds: the blacklist is read once
and each distinct typed form is parsed once.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumber
from sqlalchemy import func, insert
from sqlmodel import select

from ringtui.errors import BulkInvalid, Invalid
from ringtui.models import AuditEntry, CampaignRecipient, GroupMember, User, UserGroup
from ringtui.services.base import Operation
from ringtui.services.blacklist import PREFIX_MARK, load_snapshot
from ringtui.services.phones import check_country, to_e164
from ringtui.services.validation import read_text_file
from ringtui.vocab import Addon, Direction

LABEL_KINDS = ("name", "company", "address")
CUSTOM = "custom:"
PHONE_HEADERS = ("phone", "number", "phone_number", "telephone", "mobile", "tel", "numero", "número",
                 "teléfono", "telefono")
# K2 call lists: the base number of contacts a call campaign may hold (our choice: the guide
# names no figure), raised by the call-campaign extension add-on by 1,000 per user it covers (M2).
CALL_CAMPAIGN_BASE_CONTACTS = 1000
EXTENSION_CONTACTS_PER_USER = 1000
_SEPARATORS = re.compile(r"[,;\t]")
_LETTER = re.compile(r"[^\W\d_]")
_DIALING_MARKS = re.compile(r"[\s.()\-/]")


@dataclass(frozen=True)
class Entry:
    """One number as typed, where it was, and the other cells of its line."""

    line: int
    raw: str
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipient:
    line: int
    number: str
    columns: dict[str, str]


@dataclass
class RecipientList:
    recipients: list[Recipient]
    duplicates: int
    invalid: list[tuple[int, str]]
    blacklisted: int
    source: str

    def summary(self) -> dict[str, Any]:
        return {"recipients": len(self.recipients), "duplicates": self.duplicates,
                "invalid": len(self.invalid), "blacklisted": self.blacklisted,
                "invalid_lines": [[line, message] for line, message in self.invalid]}


# ---------------------------------------------------------------- column naming


def parse_column_labels(specs: Sequence[str]) -> dict[str, str]:
    """`--column COL=name|company|address|custom:LABEL` options as {column: label}."""
    labels: dict[str, str] = {}
    for spec in specs:
        column, equals, label = spec.partition("=")
        column, label = column.strip(), label.strip()
        kind = label.lower()
        if not equals or not column:
            raise Invalid(f"--column {spec!r}: expected COL=name|company|address|custom:LABEL")
        if kind.startswith(CUSTOM):
            custom = label[len(CUSTOM):].strip()
            if not custom:
                raise Invalid(f"--column {spec!r}: custom:LABEL needs a label, e.g. {column}=custom:Plan")
            label = custom
        elif kind in LABEL_KINDS:
            label = kind
        else:
            raise Invalid(f"--column {spec!r}: unknown kind {label!r}; kinds: name, company, address, "
                          "custom:LABEL")
        if column.lower() in (c.lower() for c in labels):
            raise Invalid(f"--column {column!r} is named twice")
        labels[column] = label
    return labels


# ---------------------------------------------------------------- reading


def _typed_entries(typed: str) -> Iterator[Entry]:
    """`--to`: comma-separated or one per line; each number is numbered in the order given."""
    pieces = (piece.strip() for line in typed.splitlines() for piece in _SEPARATORS.split(line))
    for index, piece in enumerate((p for p in pieces if p), start=1):
        yield Entry(index, piece)


def _text_entries(text: str) -> Iterator[Entry]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for piece in _SEPARATORS.split(line):
            if piece.strip():
                yield Entry(number, piece.strip())


def _dialect(file: Path, sample: str) -> Any:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        class Fallback(csv.excel):
            delimiter = max(",;\t", key=first.count) if first else ","
        return Fallback


def _has_header(row: list[str]) -> bool:
    return any(_LETTER.search(cell) for cell in row)


def _column_index(file: Path, header: list[str], wanted: str, option: str) -> int:
    names = [cell.strip().lower() for cell in header]
    if wanted.strip().lower() in names:
        return names.index(wanted.strip().lower())
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(header):
        return int(wanted) - 1
    shown = ", ".join(repr(cell.strip()) for cell in header) or "none"
    raise Invalid(f"{option} {wanted!r} is not a column of {file}; its columns: {shown} "
                  "(or give a column number from 1)")


def _csv_entries(file: Path, text: str, phone_column: str | None, labels: dict[str, str]) -> Iterator[Entry]:
    reader = csv.reader(io.StringIO(text), _dialect(file, text[:8192]))
    rows = ((reader.line_num, row) for row in reader)
    first = next(rows, None)
    if first is None:
        raise Invalid(f"{file} is empty: give one number per line, or a header line and one contact per line")
    header = first[1] if _has_header(first[1]) else [str(i) for i in range(1, len(first[1]) + 1)]
    if phone_column is not None:
        phone = _column_index(file, header, phone_column, "--phone-column")
    else:
        names = [cell.strip().lower() for cell in header]
        phone = next((names.index(name) for name in PHONE_HEADERS if name in names), 0)
    named = {_column_index(file, header, column, "--column"): label for column, label in labels.items()}
    if phone in named:
        raise Invalid(f"--column {header[phone].strip()!r} is the phone column; name the other columns")
    kept = named or {i: header[i].strip() for i in range(len(header)) if i != phone and header[i].strip()}
    data = rows if header is first[1] else _chain(first, rows)
    for line, row in data:
        if not any(cell.strip() for cell in row):
            continue
        raw = row[phone].strip() if phone < len(row) else ""
        columns = {label: row[i].strip() for i, label in kept.items() if i < len(row) and row[i].strip()}
        yield Entry(line, raw, columns)


Row = tuple[int, list[str]]


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def read_entries(file: Path | None, typed: str | None, *, phone_column: str | None = None,
                 labels: dict[str, str] | None = None) -> tuple[list[Entry], str]:
    """The numbers of a list and where they came from; a file or typed numbers, not both."""
    if (file is None) == (typed is None):
        raise Invalid("give the recipients as a file (--recipients FILE / --file FILE) or typed "
                      "(--to N,N...), one of the two")
    labels = labels or {}
    if typed is not None:
        if phone_column or labels:
            raise Invalid("--phone-column and --column name the columns of a CSV file, not of --to numbers")
        entries = list(_typed_entries(typed))
        source = "--to"
    else:
        assert file is not None
        text = read_text_file(file, save_as="UTF-8 text", fallback_encoding="cp1252")
        try:
            if file.suffix.lower() == ".csv":
                entries = list(_csv_entries(file, text, phone_column, labels))
            elif file.suffix.lower() == ".txt":
                if phone_column or labels:
                    raise Invalid(f"{file} is a .txt list of numbers: --phone-column and --column apply to "
                                  ".csv files")
                entries = list(_text_entries(text))
            else:
                kind = file.suffix or "no extension"
                raise Invalid(f"{file}: recipient lists are .csv or .txt files, not {kind!r}")
        except csv.Error as error:
            raise Invalid(f"{file}: not readable as CSV ({error})") from None
        source = str(file)
    if not entries:
        raise Invalid(f"{source} holds no number: give one number per line, or comma-separated")
    return entries, source


# ---------------------------------------------------------------- checking


class ListInvalid(BulkInvalid):
    """BulkInvalid whose message names the first SHOWN bad lines: a 100,000-number list with
    thousands of bad lines stays readable; the count is the true one."""

    SHOWN = 50

    def __init__(self, what: str, problems: list[tuple[int, str]]) -> None:
        super().__init__(what, problems[:self.SHOWN])
        self.problems = problems
        hidden = len(problems) - self.SHOWN
        if hidden > 0:
            shown = str(self).replace(f"{self.SHOWN} bad line(s)", f"{len(problems)} bad line(s)", 1)
            self.args = (f"{shown}\n  ... and {hidden} more bad line(s)",)


class _Normaliser:
    """`phones.to_e164` for a whole list, fast: a number typed in the common shapes (+CC..., 00CC...,
    or national with the country's plain trunk prefix) is split into calling code and national
    number without phonenumbers' full parser, then validated by phonenumbers; anything else, and
    every number found invalid, goes through `to_e164` itself, so the result and the error
    message are the same (tests/services/test_campaign_recipients.py compares them)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.calling_code = phonenumbers.country_code_for_region(region)
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = metadata.national_prefix if metadata else None
        plain = metadata is not None and metadata.national_prefix_transform_rule is None and (
            metadata.national_prefix_for_parsing == prefix)
        self.trunk_prefix = prefix if plain else None
        self.no_trunk_prefix = plain and prefix is None

    def _split(self, raw: str) -> PhoneNumber | None:
        digits = _DIALING_MARKS.sub("", raw)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        if digits.startswith("+"):
            digits = digits[1:]
            if not digits.isdigit():
                return None
            for size in (1, 2, 3):
                if int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                    return _number(int(digits[:size]), digits[size:])
            return None
        if not digits.isdigit():
            return None
        if self.trunk_prefix and digits.startswith(self.trunk_prefix):
            return _number(self.calling_code, digits[len(self.trunk_prefix):])
        return _number(self.calling_code, digits) if self.no_trunk_prefix else None

    def __call__(self, raw: str) -> str:
        number = self._split(raw)
        if number is not None and phonenumbers.is_valid_number(number):
            return f"+{number.country_code}{number.national_number}"
        return to_e164(raw, self.region)


def _number(calling_code: int, national: str) -> PhoneNumber | None:
    # a national number starting with 0 (Italian style) keeps it: leave it to the full parser
    if not national or national.startswith("0") or len(national) > 17:
        return None
    return PhoneNumber(country_code=calling_code, national_number=int(national))


def _out_blacklist(op: Operation) -> Callable[[str], bool]:
    """The company-wide OUT entries (numbers and prefixes) as one set and a few prefixes:
    the same rule as blacklist.is_blocked, without a query or 24 set lookups per number."""
    out = (Direction.OUT.value, Direction.BOTH.value)
    entries = [number for number, way, owner in load_snapshot(op.session).entries
               if owner is None and way in out]
    numbers = {number for number in entries if not number.endswith(PREFIX_MARK)}
    prefixes = tuple(number[:-1] for number in entries if number.endswith(PREFIX_MARK))
    return lambda e164: e164 in numbers or (bool(prefixes) and e164.startswith(prefixes))


def check_list(op: Operation, entries: list[Entry], source: str, country: str) -> RecipientList:
    """Normalise, de-duplicate, validate and filter the blacklist, without a query per number."""
    normalise = _Normaliser(check_country(country))
    blocked = _out_blacklist(op)
    parsed: dict[str, str | Invalid] = {}
    seen: set[str] = set()
    recipients: list[Recipient] = []
    invalid: list[tuple[int, str]] = []
    duplicates = blacklisted = 0
    for entry in entries:
        result = parsed.get(entry.raw)
        if result is None:
            try:
                result = normalise(entry.raw)
            except Invalid as error:
                result = error
            parsed[entry.raw] = result
        if isinstance(result, Invalid):
            invalid.append((entry.line, str(result) if entry.raw else "no phone number on this line"))
        elif result in seen:
            duplicates += 1
        else:
            seen.add(result)
            if blocked(result):
                blacklisted += 1
            else:
                recipients.append(Recipient(entry.line, result, entry.columns))
    return RecipientList(recipients, duplicates, invalid, blacklisted, source)


def load_list(op: Operation, *, file: Path | None, typed: str | None, country: str, skip_invalid: bool,
              phone_column: str | None = None, column_specs: Sequence[str] = ()) -> RecipientList:
    """Read and check a list; all or nothing unless `skip_invalid` (CLI.md, bulk writes)."""
    labels = parse_column_labels(column_specs)
    entries, source = read_entries(file, typed, phone_column=phone_column, labels=labels)
    checked = check_list(op, entries, source, country)
    if checked.invalid and not skip_invalid:
        raise ListInvalid(f"recipient list {source}", checked.invalid)
    if not checked.recipients:
        left = (f"{checked.blacklisted} blacklisted, {checked.duplicates} duplicate(s), "
                f"{len(checked.invalid)} invalid")
        raise Invalid(f"recipient list {source} leaves no number to contact ({left})")
    return checked


_RECIPIENT_COLUMNS = ("campaign_id", "position", "number", "columns", "status", "attempts", "detail")


def store_recipients(op: Operation, campaign_id: int, checked: RecipientList) -> None:
    """The list's recipients in line order, PENDING, in bulk: COPY on PostgreSQL (executemany
    there is a round trip per row), a core executemany on SQLite; in the session's transaction."""
    if op.session.get_bind().dialect.name == "postgresql":
        raw = op.session.connection().connection.dbapi_connection
        names = ", ".join(_RECIPIENT_COLUMNS)
        with raw.cursor() as cursor, cursor.copy(f"COPY campaign_recipient ({names}) FROM STDIN") as copy:
            for position, r in enumerate(checked.recipients, start=1):
                copy.write_row((campaign_id, position, r.number, json.dumps(r.columns), "pending", 0, ""))
        return
    rows = [{"campaign_id": campaign_id, "position": position, "number": r.number, "columns": r.columns,
             "status": "pending", "attempts": 0, "detail": ""}
            for position, r in enumerate(checked.recipients, start=1)]
    for start in range(0, len(rows), 5000):
        op.session.execute(insert(CampaignRecipient.__table__), rows[start:start + 5000])


# ---------------------------------------------------------------- sample files

SAMPLES = {"calls": "campaign-calls-sample.csv", "sms": "campaign-sms-sample.txt"}


def sample_list(kind: str) -> str:
    """The sample list of `ringtui campaign sample calls|sms`."""
    from importlib.resources import files

    name = SAMPLES.get(kind.strip().lower())
    if name is None:
        raise Invalid(f"no sample for {kind!r}; samples: {', '.join(SAMPLES)}")
    return (files("ringtui") / "data" / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- limit (K2, M2)


def _extension_users(op: Operation) -> int:
    """How many users the call-campaign extension covers: the user or group it was bought for
    (kept in its audit entry), or every user when bought for the whole account."""
    entry = op.session.exec(select(AuditEntry).where(
        AuditEntry.action == "addon.activate", AuditEntry.target == Addon.CALL_CAMPAIGN_EXTENSION.value)
        .order_by(AuditEntry.id.desc())).first()
    target = (entry.after or {}).get("target") if entry else None
    if target and target.get("kind") == "user":
        return 1
    if target and target.get("kind") == "group":
        return op.session.exec(select(func.count(GroupMember.user_id)).join(
            UserGroup, UserGroup.id == GroupMember.group_id).where(UserGroup.name == target["name"])).one()
    return op.session.exec(select(func.count(User.id))).one()


def call_contact_limit(op: Operation) -> int:
    limit = CALL_CAMPAIGN_BASE_CONTACTS
    if Addon.CALL_CAMPAIGN_EXTENSION.value in op.account.addons:
        limit += EXTENSION_CONTACTS_PER_USER * _extension_users(op)
    return limit


def require_within_limit(op: Operation, checked: RecipientList) -> None:
    limit = call_contact_limit(op)
    if len(checked.recipients) > limit:
        extension = Addon.CALL_CAMPAIGN_EXTENSION.value
        more = ("" if extension in op.account.addons else
                f"; the {extension} add-on adds {EXTENSION_CONTACTS_PER_USER:,} per user "
                f"(`ringtui addons activate {extension}`)")
        raise Invalid(f"{checked.source} holds {len(checked.recipients):,} numbers to call; a call campaign "
                      f"holds at most {limit:,}{more}")
