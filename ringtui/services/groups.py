"""Groups of users (U2): create, members, open groups users join by themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from ringtui.errors import Conflict, Invalid, PermissionDenied
from ringtui.models import GroupMember, User, UserGroup
from ringtui.services.access import Area, areas_of, require_area, scope_ids
from ringtui.services.base import Operation, audit
from ringtui.services.lookups import group_by_name, user_by_email
from ringtui.services.permissions import permission_value
from ringtui.services.plans import Feature, require_feature
from ringtui.services.validation import check_name
from ringtui.vocab import ScopeKind


def _members(op: Operation, group: UserGroup) -> list[str]:
    query = select(User.email).join(GroupMember, GroupMember.user_id == User.id).where(
        GroupMember.group_id == group.id).order_by(User.email)
    return list(op.session.exec(query))


def group_dict(op: Operation, group: UserGroup) -> dict[str, Any]:
    members = _members(op, group)
    return {"name": group.name, "open": group.open, "member_count": len(members), "members": members}


def create_group(op: Operation, name: str, *, open_: bool = False) -> dict[str, Any]:
    require_feature(op.account, Feature.GROUPS)
    require_area(op, Area.CONFIGURATION)
    clean = check_name(name, "group name")
    if op.session.exec(select(UserGroup.id).where(UserGroup.name == clean)).first() is not None:
        raise Conflict(f"group {clean!r} already exists")
    group = UserGroup(name=clean, open=open_)
    op.session.add(group)
    op.session.flush()
    audit(op, "group.create", clean, after={"open": open_})
    return group_dict(op, group)


def delete_group(op: Operation, name: str) -> dict[str, Any]:
    require_area(op, Area.CONFIGURATION)
    group = group_by_name(op, name)
    before = group_dict(op, group)
    op.session.delete(group)
    audit(op, "group.delete", group.name, before=before)
    return before


def add_members(op: Operation, name: str, emails: Sequence[str]) -> dict[str, Any]:
    require_area(op, Area.CONFIGURATION)
    group = group_by_name(op, name)
    before = _members(op, group)
    users = [user_by_email(op, email) for email in emails]
    already = [u.email for u in users if u.email in before]
    if already:
        raise Conflict(f"{', '.join(already)} already in group {group.name!r}")
    for user_id in dict.fromkeys(user.id for user in users):
        op.session.add(GroupMember(group_id=group.id, user_id=user_id))
    op.session.flush()
    after = group_dict(op, group)
    audit(op, "group.add", group.name, before={"members": before}, after={"members": after["members"]})
    return after


def remove_members(op: Operation, name: str, emails: Sequence[str]) -> dict[str, Any]:
    require_area(op, Area.CONFIGURATION)
    group = group_by_name(op, name)
    before = _members(op, group)
    for email in emails:
        user = user_by_email(op, email)
        membership = op.session.get(GroupMember, (group.id, user.id))
        if membership is None:
            raise Invalid(f"{user.email} is not a member of group {group.name!r}")
        op.session.delete(membership)
    op.session.flush()
    after = group_dict(op, group)
    audit(op, "group.remove", group.name, before={"members": before}, after={"members": after["members"]})
    return after


def join_open_group(op: Operation, name: str) -> dict[str, Any]:
    """The acting user joins an open group by themselves (U2)."""
    group = group_by_name(op, name)
    if not group.open:
        raise PermissionDenied(f"group {group.name!r} is not open; an admin adds its members")
    if not permission_value(op.actor, "join_open_groups"):
        raise PermissionDenied(f"{op.actor.email} may not join open groups (join_open_groups=false)")
    if op.session.get(GroupMember, (group.id, op.actor.id)) is not None:
        raise Conflict(f"{op.actor.email} already in group {group.name!r}")
    op.session.add(GroupMember(group_id=group.id, user_id=op.actor.id))
    op.session.flush()
    audit(op, "group.join", group.name, after={"member": op.actor.email})
    return group_dict(op, group)


def list_groups(op: Operation) -> list[dict[str, Any]]:
    if not areas_of(op.actor) & {Area.CONFIGURATION, Area.ACTIVITY}:
        require_area(op, Area.CONFIGURATION)
    counts = dict(op.session.exec(
        select(GroupMember.group_id, func.count()).group_by(GroupMember.group_id)).all())
    query = select(UserGroup).order_by(UserGroup.name)
    visible = scope_ids(op, ScopeKind.GROUP)
    if visible is not None:
        query = query.where(UserGroup.id.in_(visible))
    return [{"name": g.name, "open": g.open, "member_count": counts.get(g.id, 0)}
            for g in op.session.exec(query)]
