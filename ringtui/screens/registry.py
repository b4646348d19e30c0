"""Every screen of the TUI: its id, title, key, the role area it needs, and where it lives.

Screens are imported only when opened (dotted paths), so the app starts fast and
a screen that fails to import does not take the others down. Each screen class
is built as `ScreenClass(context)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScreenEntry:
    id: str
    title: str
    key: str  # default key ("" = none: palette and home menu); remappable by the binding id "screen.<id>"
    area: str  # services.access.Area value the acting user needs
    target: str  # "module:Class" under ringtui.screens
    description: str

    @property
    def binding_id(self) -> str:
        return f"screen.{self.id}"

    def load(self) -> type:
        module_name, _, class_name = self.target.partition(":")
        module = importlib.import_module(f"ringtui.screens.{module_name}")
        return getattr(module, class_name)


SCREENS: tuple[ScreenEntry, ...] = (
    ScreenEntry("activity", "Activity", "1", "activity", "activity:ActivityScreen",
                "today's KPIs, agents, waiting calls, calls in progress"),
    ScreenEntry("wallboard", "Wallboard", "2", "activity", "wallboard:WallboardScreen",
                "every IVR at once, large"),
    ScreenEntry("logs", "Logs", "3", "logs", "logs:LogsScreen", "call, SMS and Meet logs; tag, flag, detail"),
    ScreenEntry("missed", "Missed", "4", "logs", "missed:MissedScreen", "missed-call worklist"),
    ScreenEntry("statistics", "Statistics", "5", "statistics", "statistics:StatisticsScreen",
                "every family, history, heatmap, leaderboard"),
    ScreenEntry("users", "Users", "6", "configuration", "admin.users:UsersScreen",
                "users, roles, permissions, snooze"),
    ScreenEntry("groups", "Groups", "7", "configuration", "admin.groups:GroupsScreen", "groups and members"),
    ScreenEntry("numbers", "Numbers", "8", "configuration", "admin.numbers:NumbersScreen",
                "search, add, assign, release"),
    ScreenEntry("ivrs", "IVRs", "9", "configuration", "admin.ivrs:IvrsScreen", "IVRs and their steps"),
    ScreenEntry("blacklist", "Blacklist", "0", "configuration", "admin.blacklist:BlacklistScreen",
                "blocked numbers"),
    ScreenEntry("tags", "Tags", "", "configuration", "admin.tags:TagsScreen", "call tags"),
    ScreenEntry("contacts", "Contacts", "", "contacts", "admin.contacts:ContactsScreen",
                "contacts and search"),
    ScreenEntry("campaigns", "Campaigns", "", "campaigns", "campaigns:CampaignsScreen",
                "SMS, call and voice campaigns: create, launch, watch, pause, resume"),
)


def visible_screens(areas: Iterable[str]) -> list[ScreenEntry]:
    """The screens a user with these role areas may open, in menu order."""
    allowed = set(areas)
    return [entry for entry in SCREENS if entry.area in allowed]


def entry(screen_id: str) -> ScreenEntry:
    for candidate in SCREENS:
        if candidate.id == screen_id:
            return candidate
    raise KeyError(screen_id)
