"""Contacts (T2): the shared address book — search by name or number prefix, add, import, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding

from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.widgets.forms import Field, PromptScreen, listed, optional
from ringtui.screens.widgets.records_table import columns

CONTACT_COLUMNS = columns("id", "name", "company", "numbers", "fields")
LIST_LIMIT = 10_000


class ContactsScreen(ListScreen):
    TITLE_TEXT = "Contacts"
    HELP_TEXT = "f find  a add  i import  d remove"
    COLUMNS = CONTACT_COLUMNS
    EXPORT_NAME = "contacts"
    BINDINGS = [
        Binding("f", "find", "Find", id="contacts.find"),
        Binding("a", "add", "Add", id="contacts.add"),
        Binding("i", "import", "Import", id="contacts.import"),
        Binding("d", "remove", "Remove", id="contacts.remove"),
    ]
    query_text = ""

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import contacts

        if self.query_text:
            return contacts.search_contacts(op, self.query_text, limit=LIST_LIMIT)
        return contacts.list_contacts(op, limit=LIST_LIMIT)

    def action_find(self) -> None:
        def search(text: str | None) -> None:
            if text is not None:
                self.query_text = text.strip()
                self.reload()

        self.app.push_screen(PromptScreen("Find contacts: part of a name, or the start of a number "
                                          "(empty: all contacts)", self.query_text), search)

    def action_add(self) -> None:
        from ringtui.services import contacts

        def submit(op: Any, v: dict[str, str]) -> str:
            result = contacts.add_contact(op, name=optional(v["name"]), numbers=listed(v["numbers"]),
                                          company=optional(v["company"]))
            return f"Contact {result['id']} added."

        self.open_form("Add a contact (a name, a number, or both)", [
            Field("name", "Name"), Field("numbers", "Numbers (national or +CC..., separated by commas)"),
            Field("company", "Company"),
        ], submit)

    def action_import(self) -> None:
        from ringtui.services import contacts

        def submit(op: Any, v: dict[str, str]) -> str:
            result = contacts.import_contacts(op, Path(v["file"]).expanduser())
            return f"Imported {result['imported_count']} contact(s) from {result['filename']}."

        self.open_form("Import contacts (all or nothing)", [
            Field("file", ".csv with a header, or .txt (one contact a line)")], submit)

    def action_remove(self) -> None:
        from ringtui.services import contacts

        row = self.chosen("contact")
        if row is None:
            return
        self.confirm(f"Remove contact {row['id']} ({row['name'] or row['numbers']})?",
                     lambda op: f"Contact {contacts.remove_contact(op, row['id'])['id']} removed.")
