"""Contacts (T2): by hand, imported from .csv / .txt files in bulk, searched by name or number prefix."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert
from sqlmodel import select

from ringtui.errors import BulkInvalid, Invalid, NotFound
from ringtui.models import Contact, ContactImport, ContactNumber
from ringtui.models.types import utcnow
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.phones import check_country, national_prefix_to_e164, to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.services.validation import read_text_file

NAME_LENGTH = 200
FIELD_KEY_LENGTH = 60
DEFAULT_SEARCH_LIMIT = 50
NUMBER_SEPARATOR = ";"
NAME_COLUMNS = ("name", "full_name", "contact")
NUMBER_COLUMNS = ("number", "numbers", "phone", "phones", "phone_number", "telephone", "mobile")
COMPANY_COLUMNS = ("company", "organisation", "organization")
_LOOKS_LIKE_NUMBER = re.compile(r"^\+?[\d\s().-]+$")
_FILE_KINDS = (".csv", ".txt")


@dataclass
class ContactDraft:
    """A contact checked in Python, ready to be inserted."""

    name: str
    numbers: list[str]
    company: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def _require_contacts(op: Operation) -> None:
    require_feature(op.account, Feature.CONTACTS)
    require_area(op, Area.CONTACTS)


# ---------------------------------------------------------------- checking one contact


def _clean_numbers(raw_numbers: Iterable[str], country: str) -> list[str]:
    """E.164 forms, in order, without repeats; raises Invalid naming the first bad number."""
    return list(dict.fromkeys(to_e164(raw, country) for raw in raw_numbers if raw.strip()))


def _clean_text(raw: str | None, what: str, max_length: int = NAME_LENGTH) -> str:
    text = (raw or "").strip()
    if len(text) > max_length:
        raise Invalid(f"{what} {text[:40]!r}... is longer than {max_length} characters")
    return text


def check_contact(
    name: str | None, numbers: Iterable[str], country: str, *,
    company: str | None = None, fields: dict[str, str] | None = None,
) -> ContactDraft:
    clean_name = _clean_text(name, "name")
    clean_numbers = _clean_numbers(numbers, country)
    if not clean_name and not clean_numbers:
        raise Invalid("a contact needs a name or a number; this one has neither")
    return ContactDraft(name=clean_name, numbers=clean_numbers,
                        company=_clean_text(company, "company") or None, fields=dict(fields or {}))


def parse_fields(pairs: Sequence[str]) -> dict[str, str]:
    """KEY=VALUE custom fields, keys unique."""
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise Invalid(f"custom field {pair!r} is not KEY=VALUE")
        if len(key) > FIELD_KEY_LENGTH:
            raise Invalid(f"custom field name {key[:40]!r}... is longer than {FIELD_KEY_LENGTH} characters")
        if key in fields:
            raise Invalid(f"custom field {key!r} is given twice")
        fields[key] = value.strip()
    return fields


# ---------------------------------------------------------------- writing


def _insert_contacts(op: Operation, drafts: Sequence[ContactDraft], *, import_id: int | None,
                     created_at: datetime) -> list[int]:
    """Two bulk INSERTs (contacts, then their numbers), whatever the number of contacts."""
    if not drafts:
        return []
    contact_table = Contact.__table__
    rows = [{"name": d.name, "company": d.company, "custom": d.fields, "import_id": import_id,
             "created_at": created_at} for d in drafts]
    if len(rows) > 1 and op.session.get_bind().dialect.name == "sqlite":
        ids = _next_sqlite_ids(op, len(rows))
        for row, contact_id in zip(rows, ids, strict=True):
            row["id"] = contact_id
        op.session.execute(insert(contact_table), rows)
    else:
        statement = insert(contact_table).returning(contact_table.c.id, sort_by_parameter_order=True)
        ids = list(op.session.execute(statement, rows).scalars())
    numbers = [{"contact_id": contact_id, "e164": e164, "label": None}
               for contact_id, draft in zip(ids, drafts, strict=True) for e164 in draft.numbers]
    if numbers:
        op.session.execute(insert(ContactNumber.__table__), numbers)
    return ids


def _next_sqlite_ids(op: Operation, count: int) -> list[int]:
    """Ids for `count` new contacts on SQLite.

    SQLAlchemy can match RETURNING rows to their parameters in bulk on PostgreSQL only; on SQLite it
    falls back to one INSERT per row. An import has already written its ContactImport row, so this
    transaction holds SQLite's single write lock and nobody else can take these ids before commit
    (and were it not so, the primary key would refuse a clash rather than mix contacts up).
    """
    last = op.session.exec(select(func.coalesce(func.max(Contact.id), 0))).one()
    return list(range(last + 1, last + 1 + count))


def add_contact(
    op: Operation, *, name: str | None, numbers: Sequence[str], company: str | None = None,
    fields: Sequence[str] = (), country: str | None = None,
) -> dict[str, Any]:
    _require_contacts(op)
    region = check_country(country) if country else op.account.country
    draft = check_contact(name, numbers, region, company=company, fields=parse_fields(fields))
    [contact_id] = _insert_contacts(op, [draft], import_id=None, created_at=utcnow())
    result = show_contact(op, contact_id)
    audit(op, "contact.add", f"contact {contact_id}", after=_audit_view(result))
    return result


def _audit_view(contact: dict[str, Any]) -> dict[str, Any]:
    return {key: contact[key] for key in ("id", "name", "company", "numbers", "fields")}


def remove_contact(op: Operation, contact_id: int) -> dict[str, Any]:
    _require_contacts(op)
    before = show_contact(op, contact_id)
    op.session.exec(delete(ContactNumber).where(ContactNumber.contact_id == contact_id))
    op.session.exec(delete(Contact).where(Contact.id == contact_id))
    audit(op, "contact.remove", f"contact {contact_id}", before=_audit_view(before))
    return before


# ---------------------------------------------------------------- reading


def _contact_rows(op: Operation, condition: ColumnElement[bool] | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Contacts by name, with their numbers fetched in one more query."""
    query = select(Contact).order_by(func.lower(Contact.name), Contact.id)
    if condition is not None:
        query = query.where(condition)
    if limit is not None:
        query = query.limit(limit)
    contacts = op.session.exec(query).all()
    numbers: dict[int, list[str]] = defaultdict(list)
    ids = [c.id for c in contacts]
    for chunk in _chunks(ids, 1000):
        found = select(ContactNumber.contact_id, ContactNumber.e164).where(
            ContactNumber.contact_id.in_(chunk)).order_by(ContactNumber.id)
        for contact_id, e164 in op.session.exec(found):
            numbers[contact_id].append(e164)
    return [contact_dict(c, numbers.get(c.id, [])) for c in contacts]


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def contact_dict(contact: Contact, numbers: list[str]) -> dict[str, Any]:
    return {"id": contact.id, "name": contact.name, "company": contact.company, "numbers": numbers,
            "fields": dict(contact.custom or {}), "created_at": contact.created_at}


def show_contact(op: Operation, contact_id: int) -> dict[str, Any]:
    _require_contacts(op)
    rows = _contact_rows(op, Contact.id == contact_id)
    if not rows:
        raise NotFound(f"no contact with id {contact_id} (see `ringtui contacts list`)")
    return rows[0]


def list_contacts(op: Operation, *, limit: int | None = None) -> list[dict[str, Any]]:
    _require_contacts(op)
    return _contact_rows(op, limit=_check_limit(limit) if limit is not None else None)


def _check_limit(limit: int) -> int:
    if limit < 1:
        raise Invalid(f"--limit {limit} must be 1 or more")
    return limit


def looks_like_number(query: str) -> bool:
    text = query.strip()
    return bool(_LOOKS_LIKE_NUMBER.match(text)) and any(ch.isdigit() for ch in text)


def search_contacts(op: Operation, query: str, *, limit: int = DEFAULT_SEARCH_LIMIT) -> list[dict[str, Any]]:
    """By number prefix when the query looks like a number (+, 00 or digits), else by name substring."""
    _require_contacts(op)
    text = query.strip()
    if not text:
        raise Invalid("empty search: give part of a name or the start of a number")
    if looks_like_number(text):
        prefix = national_prefix_to_e164(text, op.account.country)
        numbered = select(ContactNumber.contact_id).where(
            ContactNumber.e164.startswith(prefix, autoescape=True))
        condition = Contact.id.in_(numbered)
    else:
        condition = func.lower(Contact.name).contains(text.lower(), autoescape=True)
    return _contact_rows(op, condition, limit=_check_limit(limit))


def list_imports(op: Operation) -> list[dict[str, Any]]:
    _require_contacts(op)
    imports = op.session.exec(select(ContactImport).order_by(ContactImport.imported_at.desc(),
                                                             ContactImport.id.desc())).all()
    return [import_dict(i) for i in imports]


def import_dict(record: ContactImport) -> dict[str, Any]:
    return {"id": record.id, "filename": record.filename, "imported_count": record.imported_count,
            "skipped_count": record.skipped_count, "actor_email": record.actor_email,
            "imported_at": record.imported_at}


# ---------------------------------------------------------------- importing files

Line = tuple[int, ContactDraft | str]  # (line number, the contact or what is wrong with the line)


def _checked(line: int, build: Callable[[], ContactDraft]) -> Line:
    try:
        return line, build()
    except Invalid as error:
        return line, str(error)


def _txt_lines(text: str, country: str) -> Iterator[Line]:
    """NUMBER, NAME;NUMBER or NAME,NUMBER per line."""
    for line, raw in enumerate(text.splitlines(), start=1):
        content = raw.strip()
        if not content:
            continue
        separator = ";" if ";" in content else "," if "," in content else None
        name, number = content.rpartition(separator)[::2] if separator else ("", content)
        if line == 1 and number.strip().lower() in NUMBER_COLUMNS:
            continue  # a header line
        yield _checked(line, lambda n=name, m=number: check_contact(n, [m], country))


def _column(header: list[str], names: Sequence[str]) -> int | None:
    return next((i for i, column in enumerate(header) if column in names), None)


def _csv_lines(text: str, filename: str, country: str) -> Iterator[Line]:
    """A header row (name, number or phone, company, anything else: custom fields), then contacts."""
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    raw_header = next(reader, None)
    if raw_header is None:
        return
    header = [column.strip().lower().replace(" ", "_") for column in raw_header]
    name_at, number_at = _column(header, NAME_COLUMNS), _column(header, NUMBER_COLUMNS)
    company_at = _column(header, COMPANY_COLUMNS)
    if name_at is None and number_at is None:
        raise Invalid(f"{filename}: the header {', '.join(raw_header)!r} has no name and no number column "
                      f"(expected name and number or phone)")
    extra = [(i, raw_header[i].strip()) for i in range(len(header))
             if i not in (name_at, number_at, company_at) and raw_header[i].strip()]
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            yield line, f"{len(cells)} cells but the header has {len(header)} columns"
            continue
        cells += [""] * (len(header) - len(cells))
        yield _checked(line, lambda c=cells: check_contact(
            c[name_at] if name_at is not None else "",
            c[number_at].split(NUMBER_SEPARATOR) if number_at is not None else [],
            country,
            company=c[company_at] if company_at is not None else None,
            fields={key: c[i].strip() for i, key in extra if c[i].strip()}))


def read_contact_file(path: Path, country: str) -> list[Line]:
    kind = path.suffix.lower()
    if kind not in _FILE_KINDS:
        raise Invalid(f"cannot import {path.name!r}: give a .csv file (with a header) or a .txt file")
    text = _read_contact_text(path)
    lines = list(_csv_lines(text, path.name, country) if kind == ".csv" else _txt_lines(text, country))
    if not lines:
        raise Invalid(f"{path.name!r} holds no contacts")
    return lines


def import_contacts(
    op: Operation, path: Path, *, skip_invalid: bool = False, country: str | None = None
) -> dict[str, Any]:
    """Import a .csv or .txt file, all or nothing unless skip_invalid.

    Every line is checked in Python first; the good ones go in with a few bulk INSERTs, recorded as one
    ContactImport row and one audit entry.
    """
    _require_contacts(op)
    path = Path(path)
    region = check_country(country) if country else op.account.country
    lines = read_contact_file(path, region)
    problems = [(line, outcome) for line, outcome in lines if isinstance(outcome, str)]
    if problems and not skip_invalid:
        raise BulkInvalid(f"contacts import of {path.name!r}", problems)
    drafts = [outcome for _, outcome in lines if isinstance(outcome, ContactDraft)]
    record = ContactImport(filename=path.name[:255], imported_count=len(drafts),
                           skipped_count=len(problems), actor_email=op.actor.email, imported_at=utcnow())
    op.session.add(record)
    op.session.flush()
    _insert_contacts(op, drafts, import_id=record.id, created_at=record.imported_at)
    result = {**import_dict(record), "invalid": problems}
    audit(op, "contacts.import", path.name,
          after={"import_id": record.id, "imported": len(drafts), "skipped": len(problems)})
    return result


def _read_contact_text(path: Path) -> str:
    return read_text_file(path, fallback_encoding="cp1252")  # spreadsheets saved on Windows
