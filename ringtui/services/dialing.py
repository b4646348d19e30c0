"""What an agent may dial out (E1, U4, U5, B1): the destination's E.164 form, the caller ID, the refusals.

Read by the SIP gateway for every outbound call, before any traffic to the trunk:
- the number is typed in E.164 or in the national form of the account's country;
- a special-rate number of any country (toll-free, premium, shared-cost, UAN: the
  "special-rate national numbers" of U4) needs the user's `special_rate_numbers`;
- a number of another country is off-plan (B1: paid from credits, not in the
  plan's unlimited national calls): it needs the user's `off_plan_destinations`,
  and the account must not have blocked off-plan consumption;
- the caller ID is the user's outgoing number (U5), else the user's first direct line.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from sqlmodel import Session, select

from ringtui.errors import PermissionDenied
from ringtui.models import Account, PhoneNumber, User
from ringtui.services.permissions import permission_value
from ringtui.services.phones import parse
from ringtui.vocab import AssigneeKind

SPECIAL_RATE = frozenset({PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
                          PhoneNumberType.SHARED_COST, PhoneNumberType.UAN})


@dataclass(frozen=True)
class Dialler:
    """The facts about a user that decide where she may call and with which caller ID."""

    email: str
    country: str  # the account's, for national numbers
    caller_id: str | None  # E.164, None when the user has neither an outgoing number nor a direct line
    off_plan_allowed: bool
    off_plan_blocked: bool  # the account blocked off-plan consumption (B1)
    special_rate_allowed: bool


def dialler(db: Session, email: str) -> Dialler:
    user = db.exec(select(User).where(User.email == email)).one()
    account = db.exec(select(Account)).one()
    direct = db.exec(select(PhoneNumber.e164).where(PhoneNumber.user_id == user.id,
                                                    PhoneNumber.assigned_kind == AssigneeKind.USER)
                     .order_by(PhoneNumber.id)).first()
    return Dialler(email=email, country=account.country, caller_id=user.outgoing_number or direct,
                   off_plan_allowed=bool(permission_value(user, "off_plan_destinations")),
                   off_plan_blocked=account.off_plan_blocked,
                   special_rate_allowed=bool(permission_value(user, "special_rate_numbers")))


def destination(who: Dialler, dialled: str) -> str:
    """The E.164 number `who` may call for `dialled`; Invalid (not a number) or PermissionDenied (why not)."""
    number = parse(dialled, who.country)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if phonenumbers.number_type(number) in SPECIAL_RATE and not who.special_rate_allowed:
        raise PermissionDenied(f"{e164} is a special-rate number: {who.email} lacks the "
                               "special_rate_numbers permission")
    country = phonenumbers.region_code_for_number(number)
    if country != who.country.upper():
        if not who.off_plan_allowed:
            raise PermissionDenied(f"{e164} ({country}) is off-plan: {who.email} lacks the "
                                   "off_plan_destinations permission")
        if who.off_plan_blocked:
            raise PermissionDenied(f"{e164} ({country}) is off-plan and the account blocks off-plan "
                                   "consumption (billing credits --allow-off-plan)")
    if who.caller_id is None:
        raise PermissionDenied(f"{who.email} has no outgoing number nor direct line for the caller ID "
                               "(users set EMAIL outgoing_number=NUMBER)")
    return e164
