"""Users (U1, U3, U4, U7): add, role and scopes, permissions, snooze — through services/users.py."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.logs import facts
from ringtui.screens.widgets.forms import DetailScreen, Field, listed, yes
from ringtui.screens.widgets.records_table import RecordsTable, columns

USER_COLUMNS = columns("email", "first_name", "last_name", "status", "role", "groups", "numbers",
                       "snooze_reason", snooze_reason="snooze",
                       narrow={"first_name": "first", "last_name": "last", "numbers": None,
                               "snooze_reason": None})  # under 110 columns: what fits in 80
PERMISSION_COLUMNS = columns("name", "category", "type", "value", "default", "changed")
DETAIL_FIELDS = ("email", "first_name", "last_name", "status", "role", "license", "scopes", "campaigns",
                 "groups", "numbers", "snooze_reason", "snoozed_since", "sip_username", "invited_at",
                 "activated_at")


class UsersScreen(ListScreen):
    TITLE_TEXT = "Users"
    HELP_TEXT = "a add  o role  P permissions  z snooze  d remove  Enter details"
    COLUMNS = USER_COLUMNS
    ROW_KEY = "email"
    EXPORT_NAME = "users"
    BINDINGS = [
        Binding("a", "add", "Add", id="users.add"),
        Binding("o", "role", "Role", id="users.role"),
        Binding("P", "permissions", "Permissions", id="users.permissions"),
        Binding("z", "snooze", "Snooze", id="users.snooze"),
        Binding("d", "remove", "Remove", id="users.remove"),
    ]

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import users

        return users.list_users(op)

    def drill_down(self, table: RecordsTable, row: dict[str, Any]) -> None:
        from ringtui.services import users

        email = row["email"]
        detail = self.call(lambda op: (users.show_user(op, email), users.show_permissions(op, email)))
        if detail is None:
            return
        user, permissions = detail
        listing = RecordsTable(PERMISSION_COLUMNS, row_key="name", export_name=f"permissions-{email}",
                               id="permissions")
        listing.styles.height = "auto"
        screen = DetailScreen(f"User {email}", [facts(user, DETAIL_FIELDS),
                                                 Static("Permissions", classes="form-title"), listing])
        screen.call_after_refresh(lambda: listing.set_rows(permissions))
        self.app.push_screen(screen)

    def action_add(self) -> None:
        from ringtui.services import users

        def submit(op: Any, v: dict[str, str]) -> str:
            result = users.add_user(op, v["email"], first_name=v["first_name"], last_name=v["last_name"],
                                    license=v["license"] or "business", number=v["number"] or None,
                                    role=v["role"] or "none", groups=listed(v["groups"]))
            return f"Invitation sent to {result['email']}."

        self.open_form("Add a user (an invitation is sent)", [
            Field("email", "E-mail"), Field("first_name", "First name"), Field("last_name", "Last name"),
            Field("license", "Licence (smart, business, advanced)", "business"),
            Field("number", "Number (an available number of the account, optional)"),
            Field("role", "Dashboard role (none, accountant, technical, supervisor, admin)", "none"),
            Field("groups", "Groups (names separated by commas, optional)"),
        ], submit)

    def action_role(self) -> None:
        from ringtui.services import users

        row = self.chosen("user")
        if row is None:
            return

        def submit(op: Any, v: dict[str, str]) -> str:
            result = users.set_role(op, row["email"], v["role"], scopes=listed(v["scopes"]),
                                    campaigns=yes(v["campaigns"]))
            return f"{result['email']} is now {result['role']}."

        self.open_form(f"Dashboard role of {row['email']}", [
            Field("role", "Role (none, accountant, technical, supervisor, admin)", str(row["role"])),
            Field("scopes", "Supervisor scopes (group:NAME, ivr:NAME, separated by commas)"),
            Field("campaigns", "Supervisor may run campaigns (yes/no)", "no"),
        ], submit)

    def action_permissions(self) -> None:
        from ringtui.services import users

        row = self.chosen("user")
        if row is None:
            return

        def submit(op: Any, v: dict[str, str]) -> str:
            pairs = v["pairs"].split()
            rows = users.set_permissions(op, row["email"], pairs)
            changed = {name for name, _ in users.parse_pairs(pairs)}
            values = ", ".join(f"{r['name']}={r['value']}" for r in rows if r["name"] in changed)
            return f"Permissions of {row['email']}: {values}."

        self.open_form(f"Permissions of {row['email']}", [
            Field("pairs", "NAME=VALUE pairs separated by spaces", placeholder="tag_calls=false snooze=true"),
        ], submit, hint="Enter on a user shows every permission and its value")

    def action_snooze(self) -> None:
        from ringtui.services import users

        row = self.chosen("user")
        if row is None:
            return

        def submit(op: Any, v: dict[str, str]) -> str:
            off = v["reason"].strip().lower() == "off"
            result = users.snooze(op, row["email"], reason=None if off else v["reason"], off=off)
            if not result["snoozed"]:
                return f"{result['email']} is out of snooze."
            return f"{result['email']} is in snooze ({result['reason'] or 'no reason'})."

        self.open_form(f"Snooze {row['email']}", [Field("reason", "Reason (or 'off' to end the snooze)")],
                       submit)

    def action_remove(self) -> None:
        from ringtui.services import users

        row = self.chosen("user")
        if row is None:
            return

        def submit(op: Any) -> str:
            result = users.remove_user(op, row["email"])
            return f"Removed {result['email']}; released {len(result['released_numbers'])} number(s)."

        self.confirm(f"Remove {row['email']}? Their numbers are released.", submit)
