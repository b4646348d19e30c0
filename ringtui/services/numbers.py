"""The account's numbers: assignment and release (N3).

Search over the inventory, adding and porting numbers live in this module too.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from ringtui.errors import Conflict, Invalid
from ringtui.models import Conference, Ivr, PhoneNumber, User
from ringtui.services.access import Area, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import (
    conference_by_name,
    ivr_by_name,
    number_by_e164,
    user_by_email,
)
from ringtui.services.phones import to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.vocab import AssigneeKind, NumberStatus


def assignee(op: Operation, number: PhoneNumber) -> dict[str, str] | None:
    """`{"kind": ..., "name": ...}` of what the number is assigned to, or None."""
    if number.assigned_kind is None:
        return None
    model: type[User] | type[Ivr] | type[Conference]
    model, key = {
        AssigneeKind.USER: (User, number.user_id),
        AssigneeKind.IVR: (Ivr, number.ivr_id),
        AssigneeKind.CONFERENCE: (Conference, number.conference_id),
    }[AssigneeKind(number.assigned_kind)]
    target = op.session.get(model, key)
    name = target.email if isinstance(target, User) else target.name if target else None
    return {"kind": str(number.assigned_kind), "name": name}


def number_dict(op: Operation, number: PhoneNumber) -> dict[str, Any]:
    return {
        "number": number.e164,
        "country": number.country,
        "format": number.format,
        "region": number.region,
        "status": number.status,
        "assigned_to": assignee(op, number),
        "label": number.label,
        "address": number.address,
    }


def clear_assignment(number: PhoneNumber) -> None:
    number.assigned_kind = None
    number.user_id = number.ivr_id = number.conference_id = None
    number.label = None
    number.status = NumberStatus.AVAILABLE


def require_available(op: Operation, number: PhoneNumber) -> None:
    if number.status == NumberStatus.PORTING:
        raise Conflict(f"{number.e164} is still being ported in; it can be assigned once ported")
    if number.status == NumberStatus.ASSIGNED:
        owner = assignee(op, number)
        raise Conflict(
            f"{number.e164} is already assigned to {owner['kind']} {owner['name']}; "
            f"release it first (`ringtui numbers release {number.e164}`)" if owner else
            f"{number.e164} is already assigned")


def attach_to_user(op: Operation, number: PhoneNumber, user: User, label: str | None = None) -> None:
    """Give an available number to a user; the caller has checked the rights."""
    require_available(op, number)
    number.assigned_kind = AssigneeKind.USER
    number.user_id = user.id
    number.label = label
    number.status = NumberStatus.ASSIGNED
    op.session.add(number)


def assign(
    op: Operation,
    raw_number: str,
    *,
    user: str | None = None,
    ivr: str | None = None,
    conference: str | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    require_feature(op.account, Feature.NUMBERS)
    require_area(op, Area.CONFIGURATION)
    if sum(x is not None for x in (user, ivr, conference)) != 1:
        raise Invalid("give exactly one of --user EMAIL, --ivr NAME or --conference NAME")
    number = number_by_e164(op, to_e164(raw_number, op.account.country))
    before = number_dict(op, number)
    if user is not None:
        attach_to_user(op, number, user_by_email(op, user), label)
    else:
        require_available(op, number)
        if ivr is not None:
            number.assigned_kind, number.ivr_id = AssigneeKind.IVR, ivr_by_name(op, ivr).id
        else:
            room = conference_by_name(op, conference or "")
            if room is None:
                room = Conference(name=conference.strip())
                op.session.add(room)
                op.session.flush()
            number.assigned_kind, number.conference_id = AssigneeKind.CONFERENCE, room.id
        number.label = label
        number.status = NumberStatus.ASSIGNED
        op.session.add(number)
    op.session.flush()
    after = number_dict(op, number)
    audit(op, "number.assign", number.e164, before=before, after=after)
    return after


def release(op: Operation, raw_number: str) -> dict[str, Any]:
    require_feature(op.account, Feature.NUMBERS)
    require_area(op, Area.CONFIGURATION)
    number = number_by_e164(op, to_e164(raw_number, op.account.country))
    if number.status != NumberStatus.ASSIGNED:
        raise Conflict(f"{number.e164} is not assigned (status {number.status}); nothing to release")
    before = number_dict(op, number)
    clear_assignment(number)
    op.session.add(number)
    op.session.flush()
    after = number_dict(op, number)
    audit(op, "number.release", number.e164, before=before, after=after)
    return after


def release_all_of_user(op: Operation, user: User) -> list[str]:
    """Release every number of a leaving user; returns the released numbers."""
    numbers = op.session.exec(select(PhoneNumber).where(PhoneNumber.user_id == user.id)).all()
    for number in numbers:
        clear_assignment(number)
        op.session.add(number)
        audit(op, "number.release", number.e164, before={"assigned_to": user.email})
    return [n.e164 for n in numbers]
