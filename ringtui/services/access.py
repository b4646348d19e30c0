"""Dashboard roles and scopes (U7): who may do what, decided in one place."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import select

from ringtui.errors import PermissionDenied
from ringtui.models import User, UserScope
from ringtui.services.base import Operation
from ringtui.services.permissions import permission_value
from ringtui.vocab import Role, ScopeKind


class Area(StrEnum):
    BILLING = "billing"
    CONFIGURATION = "configuration"
    DEVELOPER = "developer"
    INTEGRATIONS = "integrations"
    ACTIVITY = "activity"
    LOGS = "logs"
    CAMPAIGNS = "campaigns"
    STATISTICS = "statistics"
    CONTACTS = "contacts"


_ROLE_AREAS: dict[Role, frozenset[Area]] = {
    Role.NONE: frozenset(),
    Role.ACCOUNTANT: frozenset({Area.BILLING}),
    Role.TECHNICAL: frozenset(
        {Area.CONFIGURATION, Area.DEVELOPER, Area.INTEGRATIONS, Area.CONTACTS}),
    Role.SUPERVISOR: frozenset({Area.ACTIVITY, Area.LOGS, Area.STATISTICS, Area.CONTACTS}),
    Role.ADMIN: frozenset(Area),
    Role.SUPER_ADMIN: frozenset(Area),
}

_ADMINS = frozenset({Role.ADMIN, Role.SUPER_ADMIN})


def is_admin(user: User) -> bool:
    return user.role in _ADMINS


def areas_of(user: User) -> frozenset[Area]:
    areas = set(_ROLE_AREAS[Role(user.role)])
    if user.role == Role.SUPERVISOR and user.campaigns_right:
        areas.add(Area.CAMPAIGNS)
    if permission_value(user, "contacts_tab"):
        areas.add(Area.CONTACTS)
    return frozenset(areas)


def require_area(op: Operation, area: Area) -> None:
    if area not in areas_of(op.actor):
        allowed = sorted(r.value for r, areas in _ROLE_AREAS.items() if area in areas)
        extra = " (or supervisor with the Campaigns right)" if area == Area.CAMPAIGNS else ""
        raise PermissionDenied(
            f"{op.actor.email} has the {op.actor.role} role, which does not give access to "
            f"{area.value}; roles that do: {', '.join(allowed)}{extra}"
        )


def require_may_configure(op: Operation, target: User) -> None:
    """Changing a user's permissions, settings or groups."""
    require_area(op, Area.CONFIGURATION)
    if is_admin(target) and op.actor.id != target.id and op.actor.role != Role.SUPER_ADMIN:
        raise PermissionDenied(
            f"{op.actor.email} may not change {target.email}: an admin's permissions can be "
            "changed only by the super admin"
        )


def require_may_set_role(op: Operation, target: User, new_role: Role) -> None:
    if not is_admin(op.actor):
        raise PermissionDenied(
            f"{op.actor.email} has the {op.actor.role} role: only an admin or the super admin "
            "changes dashboard roles"
        )
    if target.role == Role.SUPER_ADMIN:
        raise PermissionDenied(f"{target.email} is the super admin; that role cannot be changed")
    if new_role == Role.SUPER_ADMIN:
        raise PermissionDenied("there is one super admin per account; the role cannot be granted")
    if op.actor.role != Role.SUPER_ADMIN:
        if new_role == Role.ADMIN:
            raise PermissionDenied(
                f"only the super admin grants the admin role; {op.actor.email} is an admin")
        if is_admin(target) and target.id != op.actor.id:
            raise PermissionDenied(
                f"{op.actor.email} may not change {target.email}: an admin cannot change "
                "another admin's role or permissions")


def scope_ids(op: Operation, kind: ScopeKind) -> set[int] | None:
    """Group or IVR ids the acting user is limited to; None when not limited."""
    if op.actor.role != Role.SUPERVISOR:
        return None
    column = UserScope.group_id if kind == ScopeKind.GROUP else UserScope.ivr_id
    rows = op.session.exec(
        select(column).where(UserScope.user_id == op.actor.id, UserScope.kind == kind))
    return {row for row in rows if row is not None}
