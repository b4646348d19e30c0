"""Blacklist (T3): numbers and prefixes refused inbound and/or outbound, company-wide or per user.

An entry is one (number, user) pair; its direction is `in`, `out` or `both`.
Adding the other direction to an entry merges it into `both`; removing one
direction from `both` leaves the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from ringtui.errors import Conflict, Invalid, NotFound
from ringtui.models import BlacklistEntry, User
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import user_by_email
from ringtui.services.phones import national_prefix_to_e164, to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import Direction

PREFIX_MARK = "*"
_PREFIX_BODY = re.compile(r"^\+?[\d\s().-]*\d[\d\s().-]*$")
_E164_PREFIX = re.compile(r"^\+\d{1,15}$")

_SIDES: dict[Direction, frozenset[Direction]] = {
    Direction.IN: frozenset({Direction.IN}),
    Direction.OUT: frozenset({Direction.OUT}),
    Direction.BOTH: frozenset({Direction.IN, Direction.OUT}),
}


def parse_direction(raw: str) -> Direction:
    try:
        return Direction(raw.strip().lower())
    except ValueError:
        raise Invalid(f"unknown direction {raw!r}; directions: in, out, both") from None


def _direction_of(sides: frozenset[Direction]) -> Direction:
    return next(direction for direction, covered in _SIDES.items() if covered == sides)


def parse_blacklisted_number(raw: str, country: str) -> tuple[str, bool]:
    """(stored number, is_prefix): an E.164 number, or an E.164 prefix ending in '*'."""
    text = raw.strip()
    if not text.endswith(PREFIX_MARK):
        return to_e164(text, country), False
    body = text[:-1].strip()
    prefix = national_prefix_to_e164(body, country) if _PREFIX_BODY.match(body) else ""
    if not _E164_PREFIX.match(prefix):
        raise Invalid(f"invalid number prefix {raw!r}: give digits followed by '*', such as +33899* or 0899*")
    return prefix + PREFIX_MARK, True


def _entry_dict(entry: BlacklistEntry, email: str | None) -> dict[str, Any]:
    return {"number": entry.number, "direction": Direction(entry.direction), "user": email,
            "created_at": entry.created_at}


def _target(number: str, user: User | None) -> str:
    return f"{number} ({user.email})" if user else number


def _owner(op: Operation, email: str | None) -> User | None:
    return user_by_email(op, email) if email else None


def _find(op: Operation, number: str, user: User | None) -> BlacklistEntry | None:
    owner = BlacklistEntry.user_id == user.id if user else BlacklistEntry.user_id.is_(None)
    return op.session.exec(select(BlacklistEntry).where(BlacklistEntry.number == number, owner)).first()


def _require_blacklist(op: Operation) -> None:
    require_feature(op.account, Feature.BLACKLIST)
    require_area(op, Area.CONFIGURATION)


def add_entry(op: Operation, number: str, direction: str, *, user: str | None = None) -> dict[str, Any]:
    """Blacklist a number or prefix; an existing entry for the other direction becomes `both`."""
    _require_blacklist(op)
    wanted = parse_direction(direction)
    stored, is_prefix = parse_blacklisted_number(number, op.account.country)
    owner = _owner(op, user)
    entry = _find(op, stored, owner)
    if entry is None:
        entry = BlacklistEntry(number=stored, is_prefix=is_prefix, direction=wanted,
                               user_id=owner.id if owner else None)
        before = None
    else:
        sides = _SIDES[Direction(entry.direction)]
        if _SIDES[wanted] <= sides:
            whose = f"for {owner.email}" if owner else "company-wide"
            raise Conflict(f"{stored} is already blacklisted {whose} with direction {entry.direction}")
        before = {"direction": entry.direction}
        entry.direction = _direction_of(sides | _SIDES[wanted])
    op.session.add(entry)
    op.session.flush()
    audit(op, "blacklist.add", _target(stored, owner), before=before, after={"direction": entry.direction})
    return _entry_dict(entry, owner.email if owner else None)


def remove_entry(
    op: Operation, number: str, *, direction: str | None = None, user: str | None = None
) -> dict[str, Any]:
    """Take a direction off an entry (default: the whole entry); it goes when no direction is left."""
    _require_blacklist(op)
    asked = _SIDES[parse_direction(direction)] if direction is not None else None
    stored, _ = parse_blacklisted_number(number, op.account.country)
    owner = _owner(op, user)
    whose = f"for {owner.email}" if owner else "company-wide"
    entry = _find(op, stored, owner)
    if entry is None:
        raise NotFound(f"{stored} is not blacklisted {whose} (see `ringtui blacklist list`)")
    sides = _SIDES[Direction(entry.direction)]
    removed = sides if asked is None else asked
    if not removed <= sides:
        raise NotFound(f"{stored} is blacklisted {whose} with direction {entry.direction} only, "
                       f"not {_direction_of(removed)}")
    left = _direction_of(sides - removed) if sides - removed else None
    if left:
        entry.direction = left
        op.session.add(entry)
    else:
        op.session.delete(entry)
    op.session.flush()
    audit(op, "blacklist.remove", _target(stored, owner), before={"direction": _direction_of(sides)},
          after={"direction": left} if left else None)
    return {"number": stored, "user": owner.email if owner else None,
            "removed": _direction_of(removed), "direction": left}


def list_entries(op: Operation, *, user: str | None = None) -> list[dict[str, Any]]:
    """Every entry (company-wide first), or only those of one user."""
    _require_blacklist(op)
    query = select(BlacklistEntry, User.email).join(User, User.id == BlacklistEntry.user_id, isouter=True)
    if user:
        query = query.where(BlacklistEntry.user_id == user_by_email(op, user).id)
    query = query.order_by(User.email.is_not(None), User.email, BlacklistEntry.number)
    return [_entry_dict(entry, email) for entry, email in op.session.exec(query)]


def _candidates(number_e164: str) -> list[str]:
    """The number itself and every prefix entry that would cover it (+3*, +33*, ...)."""
    return [number_e164] + [number_e164[:end] + PREFIX_MARK for end in range(2, len(number_e164) + 1)]


def is_blocked(
    op_or_session: Operation | Session, number_e164: str, direction: Direction | str,
    user_id: int | None = None,
) -> bool:
    """Whether a call in `direction` (in or out) with this number is refused, for the company or the user.

    Pure lookup for the routing engine: no plan or role check, one indexed query.
    """
    db = op_or_session.session if isinstance(op_or_session, Operation) else op_or_session
    side = parse_direction(str(direction))
    if side == Direction.BOTH:
        raise Invalid("is_blocked checks one call direction: in or out, not both")
    owners = BlacklistEntry.user_id.is_(None)
    if user_id is not None:
        owners = or_(owners, BlacklistEntry.user_id == user_id)
    query = select(BlacklistEntry.id).where(
        BlacklistEntry.number.in_(_candidates(number_e164)),
        BlacklistEntry.direction.in_([side.value, Direction.BOTH.value]),
        owners,
    )
    return db.exec(query.limit(1)).first() is not None


@dataclass(frozen=True)
class BlacklistSnapshot:
    """The whole blacklist in memory, for the routing engine's per-call checks.

    Same rule as is_blocked (the number or any prefix entry covering it, company
    entries for everyone, a user's for that user), without a query per call.
    """

    entries: frozenset[tuple[str, str, str | None]]  # (number or prefix, direction, user e-mail)

    def blocks(self, number_e164: str, direction: Direction | str, user_email: str | None = None) -> bool:
        side = parse_direction(str(direction))
        if side == Direction.BOTH:
            raise Invalid("a call goes one way: check in or out, not both")
        owners = (None, user_email) if user_email else (None,)
        return any((candidate, way, owner) in self.entries
                   for candidate in _candidates(number_e164)
                   for way in (side.value, Direction.BOTH.value) for owner in owners)


def load_snapshot(db: Session) -> BlacklistSnapshot:
    rows = db.exec(select(BlacklistEntry.number, BlacklistEntry.direction, User.email)
                   .join(User, User.id == BlacklistEntry.user_id, isouter=True)).all()
    return BlacklistSnapshot(frozenset((number, str(direction), email) for number, direction, email in rows))
