"""Users (U1, U3-U7): adding, listing, roles and scopes, permissions, settings, snooze."""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, PermissionDenied
from ringtui.models import GroupMember, Ivr, PhoneNumber, SnoozePeriod, User, UserGroup, UserScope
from ringtui.models.types import utcnow
from ringtui.services import numbers as numbers_service
from ringtui.services import reports
from ringtui.services.access import (
    Area,
    areas_of,
    is_admin,
    require_area,
    require_may_configure,
    require_may_set_role,
    scope_ids,
)
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import group_by_name, ivr_by_name, number_by_e164, user_by_email
from ringtui.services.permissions import (
    CATALOGUE,
    effective_permissions,
    parse_permission,
    permission_value,
)
from ringtui.services.phones import to_e164
from ringtui.services.plans import Feature, require_feature
from ringtui.services.validation import check_email
from ringtui.vocab import License, Role, ScopeKind, UserStatus


def parse_role(raw: str) -> Role:
    try:
        return Role(raw.strip().lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(r.value for r in Role if r != Role.SUPER_ADMIN)
        raise Invalid(f"unknown role {raw!r}; roles: {names}") from None


def parse_license(raw: str) -> License:
    try:
        return License(raw.strip().lower())
    except ValueError:
        raise Invalid(f"unknown licence {raw!r}; licences: {', '.join(License)}") from None


def new_sip_username(email: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]", "", email.split("@", 1)[0].lower())[:24] or "agent"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    taken.add(candidate)
    return candidate


def new_sip_password() -> str:
    return secrets.token_urlsafe(12)


def _taken_sip_usernames(op: Operation) -> set[str]:
    return set(op.session.exec(select(User.sip_username)).all())


# ---------------------------------------------------------------- reading


def _groups_by_user(op: Operation, user_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    query = select(GroupMember.user_id, UserGroup.name).join(
        UserGroup, UserGroup.id == GroupMember.group_id).order_by(UserGroup.name)
    if user_ids is not None:
        query = query.where(GroupMember.user_id.in_(list(user_ids)))
    result: dict[int, list[str]] = defaultdict(list)
    for user_id, name in op.session.exec(query):
        result[user_id].append(name)
    return result


def _numbers_by_user(op: Operation, user_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    query = select(PhoneNumber.user_id, PhoneNumber.e164).where(
        PhoneNumber.user_id.is_not(None)).order_by(PhoneNumber.e164)
    if user_ids is not None:
        query = query.where(PhoneNumber.user_id.in_(list(user_ids)))
    result: dict[int, list[str]] = defaultdict(list)
    for user_id, e164 in op.session.exec(query):
        result[user_id].append(e164)
    return result


def _scopes_by_user(op: Operation, user_id: int) -> list[str]:
    rows = op.session.exec(select(UserScope).where(UserScope.user_id == user_id)).all()
    scopes = []
    for scope in rows:
        if scope.kind == ScopeKind.GROUP:
            group = op.session.get(UserGroup, scope.group_id)
            scopes.append(f"group:{group.name}")
        else:
            ivr = op.session.get(Ivr, scope.ivr_id)
            scopes.append(f"ivr:{ivr.name}")
    return sorted(scopes)


def user_dict(user: User, groups: list[str], numbers: list[str]) -> dict[str, Any]:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "status": user.status,
        "role": user.role,
        "license": user.license,
        "groups": groups,
        "numbers": numbers,
        "snooze_reason": user.snooze_reason,
        "invited_at": user.invited_at,
    }


def visible_user_ids(op: Operation) -> set[int] | None:
    """Members of the groups a supervisor may see; None when the actor sees everyone."""
    groups = scope_ids(op, ScopeKind.GROUP)
    if groups is None:
        return None
    rows = op.session.exec(select(GroupMember.user_id).where(GroupMember.group_id.in_(groups)))
    return set(rows) | {op.actor.id}


def _require_may_read_users(op: Operation) -> None:
    """Configurers see users; supervisors see the members of their groups."""
    if Area.ACTIVITY not in areas_of(op.actor):
        require_area(op, Area.CONFIGURATION)


def list_users(op: Operation, *, group: str | None = None) -> list[dict[str, Any]]:
    require_feature(op.account, Feature.USERS)
    _require_may_read_users(op)
    query = select(User).order_by(User.email)
    if group is not None:
        query = query.join(GroupMember, GroupMember.user_id == User.id).where(
            GroupMember.group_id == group_by_name(op, group).id)
    visible = visible_user_ids(op)
    if visible is not None:
        query = query.where(User.id.in_(visible))
    users = op.session.exec(query).all()
    groups, numbers = _groups_by_user(op), _numbers_by_user(op)
    return [user_dict(u, groups.get(u.id, []), numbers.get(u.id, [])) for u in users]


def show_user(op: Operation, email: str) -> dict[str, Any]:
    _require_may_read_users(op)
    user = user_by_email(op, email)
    visible = visible_user_ids(op)
    if visible is not None and user.id not in visible:
        raise PermissionDenied(f"{email} is outside the groups {op.actor.email} supervises")
    data = user_dict(user, _groups_by_user(op, [user.id]).get(user.id, []),
                     _numbers_by_user(op, [user.id]).get(user.id, []))
    data.update(
        scopes=_scopes_by_user(op, user.id),
        campaigns=user.campaigns_right,
        settings=phone_settings(user),
        sounds=user.sounds,
        sip_username=user.sip_username,
        snoozed_since=user.snoozed_since,
        activated_at=user.activated_at,
    )
    return data


# ---------------------------------------------------------------- adding


def add_user(
    op: Operation,
    email: str,
    *,
    first_name: str = "",
    last_name: str = "",
    license: str = License.BUSINESS.value,
    number: str | None = None,
    role: str = Role.NONE.value,
    groups: Sequence[str] = (),
) -> dict[str, Any]:
    require_feature(op.account, Feature.USERS)
    require_area(op, Area.CONFIGURATION)
    address = check_email(email)
    if op.session.exec(select(User.id).where(User.email == address)).first() is not None:
        raise Conflict(f"user {address} already exists")
    new_role = parse_role(role)
    user = User(
        email=address,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        license=parse_license(license),
        role=Role.NONE,
        status=UserStatus.INVITED,
        sip_username=new_sip_username(address, _taken_sip_usernames(op)),
        sip_password=new_sip_password(),
    )
    if new_role != Role.NONE:
        require_feature(op.account, Feature.DASHBOARD_ROLES)
        require_may_set_role(op, user, new_role)
        user.role = new_role
    op.session.add(user)
    op.session.flush()
    for name in groups:
        op.session.add(GroupMember(group_id=group_by_name(op, name).id, user_id=user.id))
    if number:
        line = number_by_e164(op, to_e164(number, op.account.country))
        numbers_service.attach_to_user(op, line, user)
    op.session.flush()
    result = show_user(op, address)
    audit(op, "user.add", address, after=_audit_view(result))
    return result


def _audit_view(user: dict[str, Any]) -> dict[str, Any]:
    keep = ("email", "first_name", "last_name", "role", "license", "groups", "numbers", "status")
    return {key: user[key] for key in keep if key in user}


def remove_user(op: Operation, email: str) -> dict[str, Any]:
    require_area(op, Area.CONFIGURATION)
    user = user_by_email(op, email)
    if user.role == Role.SUPER_ADMIN:
        raise PermissionDenied(f"{user.email} is the super admin and cannot be removed")
    if is_admin(user) and op.actor.role != Role.SUPER_ADMIN:
        raise PermissionDenied(f"only the super admin removes an admin such as {user.email}")
    before = show_user(op, user.email)
    released = numbers_service.release_all_of_user(op, user)
    reports.drop_subscriptions_of(op, user)
    op.session.delete(user)
    op.session.flush()
    audit(op, "user.remove", user.email, before=_audit_view(before))
    return {"email": user.email, "released_numbers": released}


# ---------------------------------------------------------------- roles


def _parse_scope(op: Operation, raw: str) -> tuple[ScopeKind, int]:
    kind, _, name = raw.partition(":")
    if kind == "group" and name:
        return ScopeKind.GROUP, group_by_name(op, name).id
    if kind == "ivr" and name:
        return ScopeKind.IVR, ivr_by_name(op, name).id
    raise Invalid(f"invalid scope {raw!r}: give group:NAME or ivr:NAME")


def set_role(
    op: Operation, email: str, role: str, *, scopes: Sequence[str] = (), campaigns: bool = False
) -> dict[str, Any]:
    require_feature(op.account, Feature.DASHBOARD_ROLES)
    user = user_by_email(op, email)
    new_role = parse_role(role)
    require_may_set_role(op, user, new_role)
    if (scopes or campaigns) and new_role != Role.SUPERVISOR:
        raise Invalid(f"--scope and --campaigns apply to supervisors only, not to role {new_role}")
    parsed = [_parse_scope(op, raw) for raw in scopes]
    before = show_user(op, user.email)
    user.role = new_role
    user.campaigns_right = campaigns
    op.session.exec(delete(UserScope).where(UserScope.user_id == user.id))
    for kind, target in dict.fromkeys(parsed):
        op.session.add(UserScope(
            user_id=user.id, kind=kind,
            group_id=target if kind == ScopeKind.GROUP else None,
            ivr_id=target if kind == ScopeKind.IVR else None))
    op.session.add(user)
    op.session.flush()
    after = show_user(op, user.email)
    audit(op, "user.role", user.email,
          before={k: before[k] for k in ("role", "scopes", "campaigns")},
          after={k: after[k] for k in ("role", "scopes", "campaigns")})
    return after


# ---------------------------------------------------------------- permissions


def permissions_table(user: User) -> list[dict[str, Any]]:
    values = effective_permissions(user)
    return [
        {"name": p.name, "category": p.category, "type": p.describe_type(),
         "value": values[p.name], "default": p.default, "changed": values[p.name] != p.default}
        for p in CATALOGUE.values()
    ]


def show_permissions(op: Operation, email: str) -> list[dict[str, Any]]:
    require_feature(op.account, Feature.PERMISSIONS)
    user = user_by_email(op, email)
    if user.id != op.actor.id:
        require_area(op, Area.CONFIGURATION)
    return permissions_table(user)


def parse_pairs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    parsed = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise Invalid(f"{pair!r} is not NAME=VALUE")
        parsed.append((name.strip(), value.strip()))
    return parsed


def set_permissions(op: Operation, email: str, pairs: Sequence[str]) -> list[dict[str, Any]]:
    require_feature(op.account, Feature.PERMISSIONS)
    user = user_by_email(op, email)
    require_may_configure(op, user)
    changes = {name: parse_permission(name, value) for name, value in parse_pairs(pairs)}
    before = effective_permissions(user)
    stored = dict(user.permissions or {})
    for name, value in changes.items():
        if value == CATALOGUE[name].default:
            stored.pop(name, None)
        else:
            stored[name] = value
    user.permissions = stored
    op.session.add(user)
    after = effective_permissions(user)
    audit(op, "user.perms", user.email,
          before={k: before[k] for k in changes}, after={k: after[k] for k in changes})
    return permissions_table(user)


# ---------------------------------------------------------------- phone settings (U5, U6)

SOUND_KEYS = ("ringback", "welcome_message", "hold_music", "voicemail_message",
              "recording_announcement")
_BOOL = {"true": True, "yes": True, "on": True, "1": True,
         "false": False, "no": False, "off": False, "0": False}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLEAR = {"", "none", "off"}


def phone_settings(user: User) -> dict[str, Any]:
    return {
        "outgoing_number": user.outgoing_number,
        "forward_to": user.forward_to,
        "ring_seconds": user.ring_seconds,
        "call_waiting": user.call_waiting,
        "record_by_default": user.record_by_default,
        "schedule": user.schedule,
    }


def parse_schedule(text: str) -> dict[str, list[list[str]]]:
    """'mon-fri 09:00-12:00,14:00-18:00; sat 10:00-12:00' as {day: [[start, end], ...]}."""
    schedule: dict[str, list[list[str]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_text, _, hours_text = part.partition(" ")
        days = _expand_days(days_text.lower(), text)
        ranges = [_parse_range(r.strip(), text) for r in hours_text.split(",") if r.strip()]
        if not ranges:
            raise Invalid(f"schedule {text!r}: {part!r} gives no hours (HH:MM-HH:MM)")
        for day in days:
            schedule.setdefault(day, []).extend(ranges)
    if not schedule:
        raise Invalid(f"schedule {text!r} is empty: e.g. 'mon-fri 09:00-18:00'")
    return schedule


def _expand_days(days_text: str, whole: str) -> list[str]:
    first, _, last = days_text.partition("-")
    if first not in _DAYS or (last and last not in _DAYS):
        raise Invalid(f"schedule {whole!r}: {days_text!r} is not a day or range of {'/'.join(_DAYS)}")
    if not last:
        return [first]
    start, end = _DAYS.index(first), _DAYS.index(last)
    if end < start:
        raise Invalid(f"schedule {whole!r}: day range {days_text!r} runs backwards")
    return list(_DAYS[start:end + 1])


def _parse_range(text: str, whole: str) -> list[str]:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)", text)
    if not match or text[:5] >= text[6:]:
        raise Invalid(f"schedule {whole!r}: {text!r} is not an hour range HH:MM-HH:MM")
    return [text[:5], text[6:]]


def _setting_value(op: Operation, user: User, key: str, text: str) -> Any:
    lowered = text.strip().lower()
    if key in ("outgoing_number", "forward_to"):
        if lowered in _CLEAR:
            return None
        e164 = to_e164(text, op.account.country)
        if key == "outgoing_number":
            number_by_e164(op, e164)  # must be one of the account's numbers
        return e164
    if key == "ring_seconds":
        if lowered.isdigit() and 5 <= int(lowered) <= 300:
            return int(lowered)
        raise Invalid(f"ring_seconds={text!r}: expected an integer 5..300")
    if key in ("call_waiting", "record_by_default"):
        if lowered in _BOOL:
            return _BOOL[lowered]
        raise Invalid(f"{key}={text!r}: expected true|false")
    if key == "schedule":
        return None if lowered in _CLEAR else parse_schedule(text)
    return None if lowered in _CLEAR else text.strip()  # sounds: a sound's name


def _require_may_set(op: Operation, user: User, keys: Iterable[str]) -> None:
    if user.id != op.actor.id:
        require_may_configure(op, user)
        return
    needs = {"forward_to": "edit_call_forwarding"}
    if is_admin(user):
        return
    if not permission_value(user, "edit_own_settings"):
        raise PermissionDenied(f"{user.email} may not edit own settings (edit_own_settings=false)")
    for key in keys:
        if key in needs and not permission_value(user, needs[key]):
            raise PermissionDenied(f"{user.email} may not change {key} ({needs[key]}=false)")
        if key == "schedule" and permission_value(user, "schedule_block"):
            raise PermissionDenied(f"{user.email}'s schedule is locked (schedule_block=true)")


def set_settings(op: Operation, email: str, pairs: Sequence[str]) -> dict[str, Any]:
    user = user_by_email(op, email)
    parsed = parse_pairs(pairs)
    known = (*phone_settings(user), *SOUND_KEYS)
    for key, _ in parsed:
        if key not in known:
            raise Invalid(f"unknown setting {key!r}; settings: {', '.join(known)}")
    _require_may_set(op, user, [key for key, _ in parsed])
    before = {"settings": phone_settings(user), "sounds": dict(user.sounds)}
    sounds = dict(user.sounds or {})
    for key, text in parsed:
        value = _setting_value(op, user, key, text)
        if key in SOUND_KEYS:
            if value is None:
                sounds.pop(key, None)
            else:
                sounds[key] = value
        else:
            setattr(user, key, value)
    user.sounds = sounds
    op.session.add(user)
    after = {"settings": phone_settings(user), "sounds": dict(user.sounds)}
    audit(op, "user.set", user.email, before=before, after=after)
    return {"email": user.email, **after}


# ---------------------------------------------------------------- SIP credentials


def sip_credentials(op: Operation, email: str, *, reset: bool = False) -> dict[str, str]:
    user = user_by_email(op, email)
    if user.id != op.actor.id:
        require_may_configure(op, user)
    if not permission_value(user, "sip_account"):
        raise PermissionDenied(
            f"{user.email} is not allowed a SIP account (permission sip_account=false; "
            f"`ringtui users perms {user.email} sip_account=true`)")
    if reset:
        user.sip_password = new_sip_password()
        op.session.add(user)
        audit(op, "user.sip_reset", user.email)
    return {"username": user.sip_username, "password": user.sip_password,
            "domain": op.settings.sip_domain}


# ---------------------------------------------------------------- snooze


def _require_may_snooze(op: Operation, user: User) -> None:
    if user.id == op.actor.id:
        if not permission_value(user, "snooze") and not is_admin(user):
            raise PermissionDenied(f"{user.email} may not snooze (permission snooze=false)")
        return
    require_area(op, Area.ACTIVITY)
    visible = visible_user_ids(op)
    if visible is not None and user.id not in visible:
        raise PermissionDenied(f"{user.email} is outside the groups {op.actor.email} supervises")


def snooze(op: Operation, email: str, *, reason: str | None = None, off: bool = False) -> dict[str, Any]:
    user = user_by_email(op, email)
    _require_may_snooze(op, user)
    now = utcnow()
    before = {"snooze_reason": user.snooze_reason}
    open_period = op.session.exec(select(SnoozePeriod).where(
        SnoozePeriod.user_id == user.id, SnoozePeriod.ended_at.is_(None))).first()
    if open_period is not None:
        open_period.ended_at = now
        op.session.add(open_period)
    if off:
        user.snooze_reason, user.snoozed_since = None, None
    else:
        text = (reason or "").strip()
        if len(text) > 200:
            raise Invalid(f"snooze reason {text[:40]!r}... is longer than 200 characters")
        user.snooze_reason, user.snoozed_since = text, now
        op.session.add(SnoozePeriod(user_id=user.id, reason=text, started_at=now))
    op.session.add(user)
    audit(op, "user.snooze", user.email, before=before, after={"snooze_reason": user.snooze_reason})
    return {"email": user.email, "snoozed": not off, "reason": user.snooze_reason,
            "since": user.snoozed_since}
