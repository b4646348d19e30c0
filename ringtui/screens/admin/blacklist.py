"""Blacklist (T3): company-wide or per-user entries, inbound, outbound or both — services/blacklist.py."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.widgets.forms import Field, optional
from ringtui.screens.widgets.records_table import columns

ENTRY_COLUMNS = columns("number", "direction", "user")


def _key(row: dict[str, Any]) -> str:
    return f"{row['number']}|{row['user'] or ''}"


class BlacklistScreen(ListScreen):
    TITLE_TEXT = "Blacklist"
    HELP_TEXT = "a add  d lift (or one direction of it)"
    COLUMNS = ENTRY_COLUMNS
    ROW_KEY = "key"
    EXPORT_NAME = "blacklist"
    BINDINGS = [
        Binding("a", "add", "Add", id="blacklist.add"),
        Binding("d", "remove", "Lift", id="blacklist.remove"),
    ]

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import blacklist

        return [row | {"key": _key(row)} for row in blacklist.list_entries(op)]

    def action_add(self) -> None:
        from ringtui.services import blacklist

        def submit(op: Any, v: dict[str, str]) -> str:
            result = blacklist.add_entry(op, v["number"], v["direction"], user=optional(v["user"]))
            whose = f"for {result['user']}" if result["user"] else "company-wide"
            return f"{result['number']} is blacklisted {whose}, direction {result['direction']}."

        self.open_form("Blacklist a number or prefix", [
            Field("number", "Number (national or +CC...) or prefix ending in *", placeholder="+33899*"),
            Field("direction", "Direction (in, out, both)", "both"),
            Field("user", "User e-mail (empty: company-wide)"),
        ], submit)

    def action_remove(self) -> None:
        from ringtui.services import blacklist

        row = self.chosen("entry")
        if row is None:
            return

        def submit(op: Any, v: dict[str, str]) -> str:
            result = blacklist.remove_entry(op, row["number"], direction=optional(v["direction"]),
                                            user=row["user"])
            left = f"still blocked {result['direction']}" if result["direction"] else "no longer blacklisted"
            return f"{result['number']}: {result['removed']} lifted; {left}."

        self.open_form(f"Lift {row['number']} ({row['user'] or 'company-wide'})", [
            Field("direction", "Direction to lift (in, out, both; empty: the whole entry)")], submit)
