"""Bulk user import (U1): `ringtui users import FILE`.

Sized for 10,000 lines in a few seconds: the account's users, groups and numbers
are read once, every line is checked in Python, and users, group memberships,
number assignments and audit entries are each written with one bulk statement.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import select

from ringtui.errors import BulkInvalid, Conflict, Invalid, PermissionDenied
from ringtui.models import AuditEntry, Conference, GroupMember, Ivr, PhoneNumber, User, UserGroup
from ringtui.models.types import utcnow
from ringtui.services.access import Area, require_area, require_may_set_role
from ringtui.services.base import Operation, audit
from ringtui.services.phones import to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.services.users import new_sip_password, new_sip_username, parse_license, parse_role
from ringtui.services.validation import check_email, read_text_file
from ringtui.vocab import AssigneeKind, License, NumberStatus, Role, UserStatus

COLUMNS = ("email", "first_name", "last_name", "role", "number", "groups")
EXTRA_COLUMNS = ("license",)  # same meaning as `users add --license`
NAME_MAX = 100  # first_name / last_name column width


@dataclass(frozen=True)
class _Number:
    id: int
    status: str
    owner: str | None  # "user ana@acme.test", "ivr Support", ...


@dataclass
class _Directory:
    """What the account already holds, read once for the whole file."""

    emails: set[str]
    sip_usernames: set[str]
    groups: dict[str, int]
    numbers: dict[str, _Number]


@dataclass(frozen=True)
class Record:
    """A data line of the file: its line number, its cells by column, cells beyond the header."""

    line: int
    cells: dict[str, str]
    surplus: int = 0


@dataclass
class _Line:
    """The user a data line asks for, and what is wrong with the line."""

    line: int
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    role: Role = Role.NONE
    license: License = License.BUSINESS
    number: str | None = None
    groups: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def import_users(op: Operation, file: Path, *, skip_invalid: bool) -> dict[str, Any]:
    """Import every line of `file`, all or nothing unless `skip_invalid`."""
    require_feature(op.account, Feature.USERS)
    require_area(op, Area.CONFIGURATION)
    records = read_records(file)
    directory = _load_directory(op)
    checker = _LineChecker(op, directory)
    lines = [checker.check(record) for record in records]
    _mark_repeats(lines, "e-mail", lambda line: line.email)
    _mark_repeats(lines, "number", lambda line: line.number)
    if any(line.role != Role.NONE for line in lines):
        require_feature(op.account, Feature.DASHBOARD_ROLES)
    problems = [(line.line, "; ".join(line.problems)) for line in lines if line.problems]
    if problems and not skip_invalid:
        raise BulkInvalid(f"users import of {file}", problems)
    good = [line for line in lines if not line.problems]
    result = {"file": str(file), "imported": len(good), "invalid": [list(p) for p in problems],
              "groups_joined": sum(len(line.groups) for line in good),
              "numbers_assigned": sum(line.number is not None for line in good)}
    if good:
        _write(op, directory, good)
        audit(op, "users.import", file.name, after={
            key: result[key] for key in ("file", "imported", "groups_joined", "numbers_assigned")}
            | {"invalid_lines": [line for line, _ in problems]})
    return result


# ---------------------------------------------------------------- reading the file


def read_records(file: Path) -> list[Record]:
    """Every non-blank data line of the file, with its line number."""
    text = _read_csv_text(file)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise Invalid(f"{file} is empty: expected a header line {','.join(COLUMNS)} "
                          "then one line per user")
        columns = _check_header(file, header)
        records = list(_data_records(reader, columns))
    except csv.Error as error:
        raise Invalid(f"{file} line {reader.line_num}: not readable as CSV ({error})") from None
    if not records:
        raise Invalid(f"{file} has a header but no users: add one line per user after line 1")
    return records


def _check_header(file: Path, header: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    accepted = (*COLUMNS, *EXTRA_COLUMNS)
    if "email" not in columns:
        if any("@" in cell for cell in columns):
            raise Invalid(f"{file} has no header: line 1 looks like a user; the first line must name "
                          f"the columns, e.g. {','.join(COLUMNS)}")
        raise Invalid(f"{file} line 1: the header has no email column; columns: {', '.join(accepted)} "
                      "(only email is required)")
    unknown = [header[i].strip() for i, name in enumerate(columns) if name not in accepted]
    if unknown:
        shown = ", ".join(repr(name) for name in unknown)
        raise Invalid(f"{file} line 1: unknown column(s) {shown}; columns: {', '.join(accepted)}")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise Invalid(f"{file} line 1: column(s) {', '.join(repeated)} given more than once")
    return columns


def _data_records(reader: Any, columns: list[str]) -> Iterable[Record]:
    last_line = reader.line_num
    for cells in reader:
        # a quoted cell may span lines: a record starts on the line after the previous one ended
        first_line, last_line = last_line + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            values = dict(zip(columns, (cell.strip() for cell in cells), strict=False))
            yield Record(first_line, values, max(0, len(cells) - len(columns)))


# ---------------------------------------------------------------- checking lines


def _load_directory(op: Operation) -> _Directory:
    emails, sip_usernames = set(), set()
    for email, sip_username in op.session.exec(select(User.email, User.sip_username)):
        emails.add(email)
        sip_usernames.add(sip_username)
    groups = dict(op.session.exec(select(UserGroup.name, UserGroup.id)).all())
    query = (select(PhoneNumber.e164, PhoneNumber.id, PhoneNumber.status, PhoneNumber.assigned_kind,
                    User.email, Ivr.name, Conference.name)
             .outerjoin(User, User.id == PhoneNumber.user_id)
             .outerjoin(Ivr, Ivr.id == PhoneNumber.ivr_id)
             .outerjoin(Conference, Conference.id == PhoneNumber.conference_id))
    numbers = {}
    for e164, number_id, status, kind, user, ivr, conference in op.session.exec(query):
        owner = f"{kind} {user or ivr or conference}" if kind else None
        numbers[e164] = _Number(number_id, status, owner)
    return _Directory(emails, sip_usernames, groups, numbers)


class _LineChecker:
    """Checks one line at a time against the account, in Python only (no query per line)."""

    def __init__(self, op: Operation, directory: _Directory) -> None:
        self.op = op
        self.directory = directory
        self.role_refusals: dict[Role, str | None] = {}

    def check(self, record: Record) -> _Line:
        line = _Line(record.line)
        cells = record.cells
        if record.surplus:
            line.problems.append(f"{len(cells) + record.surplus} cells but the header has "
                                 f"{len(cells)} columns (quote a cell that holds a comma)")
        self.email(line, cells.get("email", ""))
        for column in ("first_name", "last_name"):
            self.name(line, column, cells.get(column, ""))
        if cells.get("role"):
            self.role(line, cells["role"])
        if cells.get("license"):
            self.license(line, cells["license"])
        if cells.get("number"):
            self.number(line, cells["number"])
        self.groups(line, cells.get("groups", ""))
        return line

    def email(self, line: _Line, raw: str) -> None:
        if not raw:
            line.problems.append("email is empty; every line needs the user's e-mail address")
            return
        try:
            line.email = check_email(raw)
        except Invalid as error:
            line.problems.append(str(error))
            return
        if line.email in self.directory.emails:
            line.problems.append(f"{line.email} is already a user (see `ringtui users show {line.email}`)")

    @staticmethod
    def name(line: _Line, column: str, raw: str) -> None:
        if len(raw) > NAME_MAX:
            line.problems.append(f"{column} {raw[:30]!r}... is longer than {NAME_MAX} characters")
        else:
            setattr(line, column, raw)

    def role(self, line: _Line, raw: str) -> None:
        try:
            line.role = parse_role(raw)
        except Invalid as error:
            line.problems.append(str(error))
            return
        refusal = self.role_refusal(line.role)
        if refusal:
            line.problems.append(refusal)

    def role_refusal(self, role: Role) -> str | None:
        """Why the actor may not give `role` to a new user, or None; the answer is the
        same for every newcomer, so it is worked out once per role."""
        if role == Role.NONE:
            return None
        if role not in self.role_refusals:
            newcomer = User(email="", sip_username="", sip_password="", role=Role.NONE)
            try:
                require_may_set_role(self.op, newcomer, role)
                self.role_refusals[role] = None
            except PermissionDenied as error:
                self.role_refusals[role] = f"role {role.value!r} refused: {error}"
        return self.role_refusals[role]

    @staticmethod
    def license(line: _Line, raw: str) -> None:
        try:
            line.license = parse_license(raw)
        except Invalid as error:
            line.problems.append(str(error))

    def number(self, line: _Line, raw: str) -> None:
        try:
            e164 = to_e164(raw, self.op.account.country)
        except Invalid as error:
            line.problems.append(str(error))
            return
        line.number = e164
        known = self.directory.numbers.get(e164)
        if known is None:
            line.problems.append(f"{e164} is not one of the account's numbers (see `ringtui numbers list`)")
        elif known.status == NumberStatus.PORTING:
            line.problems.append(f"{e164} is still being ported in; it can be assigned once ported")
        elif known.status != NumberStatus.AVAILABLE:
            owner = f" to {known.owner}" if known.owner else ""
            line.problems.append(f"{e164} is already assigned{owner}; release it first "
                                 f"(`ringtui numbers release {e164}`)")

    def groups(self, line: _Line, raw: str) -> None:
        line.groups = list(dict.fromkeys(name.strip() for name in raw.split(";") if name.strip()))
        for name in line.groups:
            if name not in self.directory.groups:
                near = [g for g in self.directory.groups if g.lower() == name.lower()]
                hint = f"; did you mean {near[0]!r}?" if near else " (see `ringtui groups list`)"
                line.problems.append(f"unknown group {name!r}{hint}")


def _mark_repeats(lines: list[_Line], what: str, key: Callable[[_Line], str | None]) -> None:
    """A value two lines both claim is a problem on each of them: neither is chosen."""
    claims: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        if key(line) is not None:
            claims[key(line)].append(line.line)
    by_number = {line.line: line for line in lines}
    for value, numbers in claims.items():
        if len(numbers) < 2:
            continue
        for number in numbers:
            others = ", ".join(str(n) for n in numbers if n != number)
            by_number[number].problems.append(f"{what} {value} is also on line {others}")


# ---------------------------------------------------------------- writing


def _user_defaults() -> dict[str, Any]:
    """The model's default for every optional column, so the bulk rows match `users add`."""
    return {name: info.get_default(call_default_factory=True)
            for name, info in User.model_fields.items() if name != "id" and not info.is_required()}


def _write(op: Operation, directory: _Directory, lines: list[_Line]) -> None:
    now = utcnow()
    defaults = _user_defaults()
    rows = [defaults | {
        "email": line.email, "first_name": line.first_name, "last_name": line.last_name,
        "license": line.license.value, "status": UserStatus.INVITED.value, "role": line.role.value,
        "sip_username": new_sip_username(line.email, directory.sip_usernames),
        "sip_password": new_sip_password(), "invited_at": now,
    } for line in lines]
    inserted = op.session.execute(
        insert(User).returning(User.id, User.email, sort_by_parameter_order=True), rows)
    user_ids = {email: user_id for user_id, email in inserted}
    members = [{"group_id": directory.groups[name], "user_id": user_ids[line.email]}
               for line in lines for name in line.groups]
    if members:
        op.session.execute(insert(GroupMember), members)
    assignments = [{"number_id": directory.numbers[line.number].id, "owner_id": user_ids[line.email]}
                   for line in lines if line.number]
    if assignments:
        _assign_numbers(op, assignments)
    op.session.execute(insert(AuditEntry), [
        {"at": now, "actor": op.actor.email, "action": "user.add", "target": line.email,
         "before": None, "after": _audit_view(line)} for line in lines])


def _assign_numbers(op: Operation, assignments: list[dict[str, int]]) -> None:
    """Give each number to its new user, provided it is still available."""
    table = PhoneNumber.__table__
    statement = (update(table)
                 .where(table.c.id == bindparam("number_id"), table.c.status == NumberStatus.AVAILABLE.value)
                 .values(assigned_kind=AssigneeKind.USER.value, user_id=bindparam("owner_id"),
                         status=NumberStatus.ASSIGNED.value, label=None))
    if op.session.execute(statement, assignments).rowcount == len(assignments):
        return
    # another operation took some of the numbers since the file was checked
    wanted = {a["number_id"]: a["owner_id"] for a in assignments}
    rows = op.session.execute(select(PhoneNumber.id, PhoneNumber.e164, PhoneNumber.user_id)
                              .where(PhoneNumber.id.in_(list(wanted))))
    lost = sorted(e164 for number_id, e164, owner in rows if owner != wanted[number_id])
    raise Conflict(f"{', '.join(lost)} assigned by someone else during the import; nothing was "
                   "imported: run the import again to see the lines concerned")


def _audit_view(line: _Line) -> dict[str, Any]:
    """The same shape `users add` audits."""
    return {"email": line.email, "first_name": line.first_name, "last_name": line.last_name,
            "role": line.role.value, "license": line.license.value, "groups": sorted(line.groups),
            "numbers": [line.number] if line.number else [], "status": UserStatus.INVITED.value}


def _read_csv_text(file: Path) -> str:
    return read_text_file(file, save_as="UTF-8 CSV")
