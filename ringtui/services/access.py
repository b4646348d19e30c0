"""Dashboard roles and scopes (U7): who may do what, decided in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import select

from ringtui.errors import PermissionDenied
from ringtui.models import GroupMember, User, UserScope
from ringtui.services.base import Operation
from ringtui.services.permissions import permission_value
from ringtui.services.roles import ROLE_AREAS, Area, areas_of, is_admin
from ringtui.vocab import Role, ScopeKind


def require_area(op: Operation, area: Area) -> None:
    if area not in areas_of(op.actor):
        allowed = sorted(r.value for r, areas in ROLE_AREAS.items() if area in areas)
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


# ---------------------------------------------------------------- who sees which logs


def _members_of(group_ids: Any) -> Any:
    return select(GroupMember.user_id).where(GroupMember.group_id.in_(group_ids))


def _own_group_ids(op: Operation) -> Any:
    return select(GroupMember.group_id).where(GroupMember.user_id == op.actor.id)


def log_level(op: Operation, what: str = "call logs") -> str:
    """all, groups or own: which logs the acting user may see (U4); refused when none."""
    level = permission_value(op.actor, "call_logs")
    if level == "none":
        raise PermissionDenied(f"{op.actor.email} may not see {what} (permission call_logs=none)")
    if permission_value(op.actor, "own_logs_only"):
        return "own"
    return str(level)


def visible_records(op: Operation, *, user: Any, ivr: Any = None, group: Any = None,
                    what: str = "call logs") -> list[ColumnElement[bool]]:
    """SQL conditions limiting a log table (calls, SMS, meetings, messages) to what the acting user
    may see, given its agent column and, where it has them, its IVR and group columns.

    U4: call_logs=own (or own_logs_only) keeps the user's own rows, call_logs=groups the rows of the
    agents of the user's groups (the user included). U7: a supervisor also sees only the rows of the
    granted IVRs and of the agents (or groups) of the granted groups, and her own. Every log query
    uses this.
    """
    conditions: list[ColumnElement[bool]] = []
    level = log_level(op, what)
    if level == "own":
        conditions.append(user == op.actor.id)
    elif level == "groups":
        conditions.append(or_(user == op.actor.id, user.in_(_members_of(_own_group_ids(op)))))
    ivrs, groups = scope_ids(op, ScopeKind.IVR), scope_ids(op, ScopeKind.GROUP)
    if ivrs is not None or groups is not None:
        granted: list[ColumnElement[bool]] = [user == op.actor.id, user.in_(_members_of(groups or set()))]
        if ivr is not None:
            granted.append(ivr.in_(ivrs or set()))
        if group is not None:
            granted.append(group.in_(groups or set()))
        conditions.append(or_(*granted))
    return conditions


def may_hear_recording(op: Operation, agent_id: int | None) -> bool:
    """U4 recordings permission (all, groups, own, none) for a call taken by `agent_id`;
    admins hear every recording."""
    if is_admin(op.actor):
        return True
    level = permission_value(op.actor, "recordings")
    if level == "all":
        return True
    if level == "none" or agent_id is None:
        return False
    if agent_id == op.actor.id:
        return True
    if level != "groups":
        return False
    shared = op.session.exec(select(GroupMember.user_id).where(
        GroupMember.user_id == agent_id, GroupMember.group_id.in_(_own_group_ids(op)))).first()
    return shared is not None
