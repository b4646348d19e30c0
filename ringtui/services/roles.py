"""Which areas each dashboard role opens (U7): pure rules on a user's role, Campaigns right and
permissions, importable without the database layer (the TUI decides its first screen with them
before the ORM is loaded)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ringtui.services.permissions import permission_value
from ringtui.vocab import Role


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


ROLE_AREAS: dict[Role, frozenset[Area]] = {
    Role.NONE: frozenset(),
    Role.ACCOUNTANT: frozenset({Area.BILLING}),
    Role.TECHNICAL: frozenset(
        {Area.CONFIGURATION, Area.DEVELOPER, Area.INTEGRATIONS, Area.CONTACTS}),
    Role.SUPERVISOR: frozenset({Area.ACTIVITY, Area.LOGS, Area.STATISTICS, Area.CONTACTS}),
    Role.ADMIN: frozenset(Area),
    Role.SUPER_ADMIN: frozenset(Area),
}

ADMINS = frozenset({Role.ADMIN, Role.SUPER_ADMIN})


def is_admin(user: Any) -> bool:
    return user.role in ADMINS


def areas_of(user: Any) -> frozenset[Area]:
    """`user`: anything with role, campaigns_right and permissions (a User row or a plain record)."""
    areas = set(ROLE_AREAS[Role(user.role)])
    if user.role == Role.SUPERVISOR and user.campaigns_right:
        areas.add(Area.CAMPAIGNS)
    if permission_value(user, "contacts_tab"):
        areas.add(Area.CONTACTS)
    return frozenset(areas)
