"""Finding records by the names people type, with errors that name the value."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlmodel import select

from ringtui.errors import NotFound
from ringtui.models import Conference, Ivr, PhoneNumber, User, UserGroup
from ringtui.services.base import Operation


def user_by_email(op: Operation, email: str) -> User:
    user = op.session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise NotFound(f"no user {email!r} in this account (see `ringtui users list`)")
    return user


def group_by_name(op: Operation, name: str) -> UserGroup:
    group = op.session.exec(select(UserGroup).where(UserGroup.name == name.strip())).first()
    if group is None:
        raise NotFound(f"no group {name!r} (see `ringtui groups list`)")
    return group


def ivr_by_name(op: Operation, name: str) -> Ivr:
    """The IVR named `name`; a second look-up of the same name in the operation costs no query (the
    statistics services look the --ivr filter up once for the conditions and once for the roll-up)."""
    wanted = name.strip()
    known: dict[str, Ivr] = op.session.info.setdefault("ivrs_by_name", {})
    ivr = known.get(wanted)
    if ivr is not None and not inspect(ivr).was_deleted and ivr.name == wanted:  # not renamed since
        return ivr
    ivr = op.session.exec(select(Ivr).where(Ivr.name == wanted)).first()
    if ivr is None:
        raise NotFound(f"no IVR {name!r} (see `ringtui ivr list`)")
    known[wanted] = ivr
    return ivr


def conference_by_name(op: Operation, name: str) -> Conference | None:
    return op.session.exec(select(Conference).where(Conference.name == name.strip())).first()


def number_by_e164(op: Operation, e164: str) -> PhoneNumber:
    number = op.session.exec(select(PhoneNumber).where(PhoneNumber.e164 == e164)).first()
    if number is None:
        raise NotFound(f"{e164} is not one of the account's numbers (see `ringtui numbers list`)")
    return number
