"""The account itself (B): its summary, its plan, and its add-ons (M2, C1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, PermissionDenied, PlanRequired
from ringtui.models import BlacklistEntry, PhoneNumber, User
from ringtui.services.access import Area, is_admin, require_area
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import group_by_name, user_by_email
from ringtui.services.plans import Feature
from ringtui.services.setup import account_dict, parse_plan
from ringtui.vocab import Addon, Plan, Role

# The feature an add-on extends: the add-on is only sold on the plans that include it.
_ADDON_FEATURE: dict[Addon, Feature] = {
    Addon.OMNICHANNEL: Feature.OMNICHANNEL,
    Addon.CALL_CAMPAIGN_EXTENSION: Feature.CALL_CAMPAIGNS,
}
# What an add-on may be bought for besides the whole account (M2).
_ADDON_TARGETS: dict[Addon, frozenset[str]] = {
    Addon.EXTRA_OUTBOUND_CHANNEL: frozenset({"user", "group"}),
    Addon.CALL_CAMPAIGN_EXTENSION: frozenset({"user", "group"}),
    Addon.OMNICHANNEL: frozenset(),
}


def _plans_text(plans: frozenset[Plan]) -> str:
    return " or ".join(plan.value for plan in Plan if plan in plans)


def _require_dashboard(op: Operation) -> None:
    if op.actor.role == Role.NONE:
        raise PermissionDenied(
            f"{op.actor.email} has the none role (telephony only) and no dashboard access; "
            "any other role may see the account")


def _require_admin(op: Operation, what: str) -> None:
    if not is_admin(op.actor):
        raise PermissionDenied(
            f"{op.actor.email} has the {op.actor.role} role: only an admin or the super admin {what}")


# ---------------------------------------------------------------- summary


def _count(op: Operation, column: Any) -> int:
    return op.session.exec(select(func.count(column))).one()


def _super_admin_email(op: Operation) -> str | None:
    return op.session.exec(
        select(User.email).where(User.role == Role.SUPER_ADMIN).order_by(User.id)).first()


def show_account(op: Operation) -> dict[str, Any]:
    _require_dashboard(op)
    return account_dict(op.account) | {
        "users": _count(op, User.id),
        "numbers": _count(op, PhoneNumber.id),
        "super_admin": _super_admin_email(op),
    }


# ---------------------------------------------------------------- plan


@dataclass(frozen=True)
class _Usage:
    """Something in the account that only some plans allow; `count` says how much of it there is."""

    feature: Feature
    what: str
    hint: str
    count: Callable[[Operation], int]


def _customised_users(op: Operation) -> int:
    # U4 stores only values that differ from the defaults, so any stored value is a customisation.
    return sum(1 for stored in op.session.exec(select(User.permissions)) if stored)


def _active_addon(addon: Addon) -> Callable[[Operation], int]:
    return lambda op: int(addon.value in op.account.addons)


_USAGES: tuple[_Usage, ...] = (
    _Usage(Feature.BLACKLIST, "blacklist entries", "`ringtui blacklist list`",
           lambda op: _count(op, BlacklistEntry.id)),
    _Usage(Feature.PERMISSIONS, "users with non-default permissions", "`ringtui users perms EMAIL`",
           _customised_users),
    *(_Usage(feature, f"active add-on {addon.value}", f"`ringtui addons deactivate {addon.value}`",
             _active_addon(addon)) for addon, feature in _ADDON_FEATURE.items()),
)


def _downgrade_blockers(op: Operation, plan: Plan) -> list[str]:
    blockers = []
    for usage in _USAGES:
        if plan in usage.feature.plans:
            continue
        count = usage.count(op)
        if count:
            blockers.append(f"{usage.what}: {count} ({usage.feature.label} needs the "
                            f"{_plans_text(usage.feature.plans)} plan; see {usage.hint})")
    return blockers


def change_plan(op: Operation, raw_plan: str) -> dict[str, Any]:
    require_area(op, Area.BILLING)
    plan = parse_plan(raw_plan)
    before = op.account.plan
    if plan == before:
        return show_account(op) | {"changed": False}
    blockers = _downgrade_blockers(op, plan)
    if blockers:
        raise Conflict(f"cannot move from the {before} plan to the {plan} plan while the account uses "
                       f"features the {plan} plan lacks: " + "; ".join(blockers))
    op.account.plan = plan
    op.session.add(op.account)
    audit(op, "account.plan", op.account.company, before={"plan": before}, after={"plan": plan.value})
    return show_account(op) | {"changed": True}


# ---------------------------------------------------------------- data retention (B9)

MAX_RETENTION_DAYS = 36500


def set_retention(op: Operation, days: int | None) -> dict[str, Any]:
    """Keep call data for `days` days (None: forever); `ringtui retention apply` purges the rest."""
    _require_admin(op, "sets the data retention period")
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise Invalid(f"retention of {days} days: give a number of days from 1 to {MAX_RETENTION_DAYS}, "
                      "or --forever")
    before = op.account.retention_days
    op.account.retention_days = days
    op.session.add(op.account)
    audit(op, "account.retention", op.account.company, before={"retention_days": before},
          after={"retention_days": days})
    return show_account(op)


# ---------------------------------------------------------------- add-ons


def parse_addon(raw: str) -> Addon:
    try:
        return Addon(raw.strip().lower().replace("_", "-"))
    except ValueError:
        raise Invalid(f"unknown add-on {raw!r}; add-ons: {', '.join(Addon)}") from None


def _addon_plans(addon: Addon) -> frozenset[Plan]:
    feature = _ADDON_FEATURE.get(addon)
    return feature.plans if feature else frozenset(Plan)


def list_addons(op: Operation) -> list[dict[str, Any]]:
    _require_dashboard(op)
    return [
        {"name": addon.value, "active": addon.value in op.account.addons,
         "plans": [plan.value for plan in Plan if plan in _addon_plans(addon)],
         "targets": sorted(_ADDON_TARGETS[addon])}
        for addon in Addon
    ]


def _target(op: Operation, addon: Addon, user: str | None, group: str | None) -> dict[str, str] | None:
    if user is not None and group is not None:
        raise Invalid(f"give --user {user!r} or --group {group!r}, not both")
    kind, name = ("user", user) if user is not None else ("group", group)
    if name is None:
        return None
    if kind not in _ADDON_TARGETS[addon]:
        accepted = " or ".join(f"--{k}" for k in sorted(_ADDON_TARGETS[addon])) or "no target"
        raise Invalid(f"add-on {addon.value} is bought for the whole account, not per {kind} "
                      f"({name!r}); it accepts {accepted}")
    found = user_by_email(op, name).email if kind == "user" else group_by_name(op, name).name
    return {"kind": kind, "name": found}


def activate_addon(
    op: Operation, raw_name: str, *, user: str | None = None, group: str | None = None
) -> dict[str, Any]:
    _require_admin(op, "activates add-ons")
    addon = parse_addon(raw_name)
    target = _target(op, addon, user, group)
    if op.account.plan not in _addon_plans(addon):
        raise PlanRequired(f"add-on {addon.value} needs the {_plans_text(_addon_plans(addon))} plan; this "
                           f"account is on the {op.account.plan} plan (`ringtui account plan PLAN`)")
    if addon.value in op.account.addons:
        raise Conflict(f"add-on {addon.value} is already active")
    before = list(op.account.addons)
    op.account.addons = [*before, addon.value]
    op.session.add(op.account)
    # Per-user / per-group assignments have no table yet: the audit entry is their only record.
    audit(op, "addon.activate", addon.value, before={"addons": before},
          after={"addons": op.account.addons, "target": target})
    return {"name": addon.value, "active": True, "target": target}


def deactivate_addon(op: Operation, raw_name: str) -> dict[str, Any]:
    _require_admin(op, "deactivates add-ons")
    addon = parse_addon(raw_name)
    if addon.value not in op.account.addons:
        active = ", ".join(op.account.addons) or "none"
        raise Conflict(f"add-on {addon.value} is not active (active add-ons: {active})")
    before = list(op.account.addons)
    op.account.addons = [name for name in before if name != addon.value]
    op.session.add(op.account)
    audit(op, "addon.deactivate", addon.value, before={"addons": before}, after={"addons": op.account.addons})
    return {"name": addon.value, "active": False, "target": None}
