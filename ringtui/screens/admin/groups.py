"""Groups (U2): create (open or not), add and remove members, delete — through services/groups.py."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.widgets.forms import DetailScreen, Field, words, yes
from ringtui.screens.widgets.records_table import RecordsTable, columns

GROUP_COLUMNS = columns("name", "open", "member_count", member_count="members")


class GroupsScreen(ListScreen):
    TITLE_TEXT = "Groups"
    HELP_TEXT = "a create  + add members  - remove members  d delete  Enter members"
    COLUMNS = GROUP_COLUMNS
    ROW_KEY = "name"
    EXPORT_NAME = "groups"
    BINDINGS = [
        Binding("a", "create", "Create", id="groups.create"),
        Binding("plus", "add_members", "Add members", id="groups.add"),
        Binding("minus", "remove_members", "Remove members", id="groups.remove"),
        Binding("d", "delete", "Delete", id="groups.delete"),
    ]

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import groups

        return groups.list_groups(op)

    def drill_down(self, table: RecordsTable, row: dict[str, Any]) -> None:
        from ringtui.services import users

        name = row["name"]
        members = self.call(lambda op: users.list_users(op, group=name))
        if members is not None:
            lines = "\n".join(f"  {m['email']}  {m['first_name']} {m['last_name']}  ({m['role']})"
                              for m in members) or "  nobody yet"
            self.app.push_screen(DetailScreen(f"Group {name}", [Static(f"Members:\n{lines}")]))

    def action_create(self) -> None:
        from ringtui.services import groups

        def submit(op: Any, v: dict[str, str]) -> str:
            result = groups.create_group(op, v["name"], open_=yes(v["open"]))
            return f"Group {result['name']} created{' (open)' if result['open'] else ''}."

        self.open_form("Create a group", [
            Field("name", "Name"),
            Field("open", "Open: users may join by themselves (yes/no)", "no"),
        ], submit)

    def _members_form(self, adding: bool) -> None:
        from ringtui.services import groups

        row = self.chosen("group")
        if row is None:
            return

        def submit(op: Any, v: dict[str, str]) -> str:
            change = groups.add_members if adding else groups.remove_members
            result = change(op, row["name"], words(v["emails"]))
            return f"Group {result['name']}: {result['member_count']} member(s)."

        verb = "Add users to" if adding else "Remove users from"
        self.open_form(f"{verb} {row['name']}", [Field("emails", "E-mails (separated by spaces or commas)")],
                       submit)

    def action_add_members(self) -> None:
        self._members_form(True)

    def action_remove_members(self) -> None:
        self._members_form(False)

    def action_delete(self) -> None:
        from ringtui.services import groups

        row = self.chosen("group")
        if row is None:
            return

        def submit(op: Any) -> str:
            return f"Group {groups.delete_group(op, row['name'])['name']} deleted."

        self.confirm(f"Delete group {row['name']}? Its members stay users.", submit)
