"""The acting user's role, areas and scopes for the TUI's first screen, read with SQLAlchemy Core.

The TUI cannot choose its first screen before it knows the role, and loading the ORM
(SQLModel, every model class, mapper configuration) costs more than half a second: so
this reads the few columns it needs through lightweight table clauses, one query for
an admin (two more for a supervisor's groups and IVRs), and the role rules come from
services.roles, the same as everywhere. `None` when the database has no such user
yet: the caller then goes through the full service path, which says what is wrong.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Integer, String, column, select, table

from ringtui.config import Settings
from ringtui.services.permissions import permission_value
from ringtui.services.roles import Area, areas_of
from ringtui.vocab import Role, ScopeKind

APP_USER = table("app_user", column("id", Integer), column("email", String), column("role", String),
                 column("campaigns_right", Boolean), column("permissions", JSON))
USER_SCOPE = table("user_scope", column("user_id", Integer), column("kind", String),
                   column("group_id", Integer), column("ivr_id", Integer))
GROUP_MEMBER = table("group_member", column("group_id", Integer), column("user_id", Integer))
IVR = table("ivr", column("id", Integer), column("name", String))


class Actor:
    """The columns of a user the role rules read."""

    def __init__(self, row: Any) -> None:
        self.id, self.email, self.role = row.id, row.email, Role(row.role)
        self.campaigns_right, self.permissions = bool(row.campaigns_right), row.permissions or {}


def _actor(connection: Connection, acting_email: str | None) -> Actor | None:
    query = select(APP_USER.c.id, APP_USER.c.email, APP_USER.c.role, APP_USER.c.campaigns_right,
                   APP_USER.c.permissions)
    if acting_email:
        query = query.where(APP_USER.c.email == acting_email.strip().lower())
    else:  # the same default as services.base.resolve_actor: the first super admin
        query = query.where(APP_USER.c.role == Role.SUPER_ADMIN.value).order_by(APP_USER.c.id)
    row = connection.execute(query.limit(1)).first()
    return Actor(row) if row is not None else None


def _supervised(connection: Connection, actor: Actor) -> tuple[list[str], list[str]]:
    """(agent e-mails, IVR names) a supervisor may see: her groups' members and herself, her IVRs."""
    groups = select(USER_SCOPE.c.group_id).where(USER_SCOPE.c.user_id == actor.id,
                                                 USER_SCOPE.c.kind == ScopeKind.GROUP.value)
    members = select(GROUP_MEMBER.c.user_id).where(GROUP_MEMBER.c.group_id.in_(groups))
    agents = connection.execute(select(APP_USER.c.email).where(
        APP_USER.c.id.in_(members) | (APP_USER.c.id == actor.id))).scalars()
    ivr_ids = select(USER_SCOPE.c.ivr_id).where(USER_SCOPE.c.user_id == actor.id,
                                                USER_SCOPE.c.kind == ScopeKind.IVR.value)
    ivrs = connection.execute(select(IVR.c.name).where(IVR.c.id.in_(ivr_ids))).scalars()
    return sorted(agents), sorted(ivrs)


def quick_scope(settings: Settings, acting_email: str | None = None) -> dict[str, Any] | None:
    """What services.live promises a live screen: who acts, the areas of their role, the agents
    and IVRs they may see (None: all), whether they may take and whisper."""
    from ringtui.db import engine_for

    engine = engine_for(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    with engine.connect() as connection:
        actor = _actor(connection, acting_email or settings.acting_user)
        if actor is None:
            return None
        agents, ivrs = _supervised(connection, actor) if actor.role == Role.SUPERVISOR else (None, None)
    areas = areas_of(actor)
    return {
        "email": actor.email, "role": str(actor.role), "areas": sorted(a.value for a in areas),
        "agents": agents, "ivrs": ivrs,
        "may_take": Area.ACTIVITY in areas and bool(permission_value(actor, "take_waiting_calls")),
        "may_whisper": Area.ACTIVITY in areas,
    }
