"""Numbers (N1-N3): the account's numbers; search the inventory, add, assign and release them."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding

from ringtui.errors import Invalid
from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.widgets.forms import Field, optional
from ringtui.screens.widgets.records_table import RecordsTable, columns

NUMBER_COLUMNS = columns("number", "country", "format", "region", "status", "assigned_to", "label")
FOUND_COLUMNS = columns("number", "country", "format", "region")


class NumbersScreen(ListScreen):
    TITLE_TEXT = "Numbers"
    HELP_TEXT = "n search  a add  g assign  x release"
    COLUMNS = NUMBER_COLUMNS
    ROW_KEY = "number"
    EXPORT_NAME = "numbers"
    BINDINGS = [
        Binding("n", "search", "Search", id="numbers.search"),
        Binding("a", "add", "Add", id="numbers.add"),
        Binding("g", "assign", "Assign", id="numbers.assign"),
        Binding("x", "release", "Release", id="numbers.release"),
    ]
    DEFAULT_CSS = """
    NumbersScreen #found { height: 9; display: none; }
    NumbersScreen #found.shown { display: block; }
    """

    def compose_top(self) -> ComposeResult:
        yield RecordsTable(FOUND_COLUMNS, row_key="number", export_name="available-numbers", id="found")

    @property
    def found(self) -> RecordsTable:
        return self.query_one("#found", RecordsTable)

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import numbers

        return numbers.list_numbers(op)

    def action_search(self) -> None:
        from ringtui.services import numbers

        found: list[dict[str, Any]] = []

        def submit(op: Any, v: dict[str, str]) -> str:
            if not v["limit"].isdigit():
                raise Invalid(f"limit {v['limit']!r} is not a whole number: give 1..100")
            found[:] = numbers.search(op, v["country"], v["format"], region=optional(v["region"]),
                                      limit=int(v["limit"]))
            return f"{len(found)} available number(s); Enter or a on one adds it to the account."

        def shown(message: str | None) -> None:
            if message:
                self.found.set_rows(found)
                self.found.add_class("shown")
                self.found.border_title = "Available numbers"
                self.found.focus()
                self.show_info(message)

        self.app.push_screen(self._form("Search available numbers", [
            Field("country", "Country (ISO2, e.g. FR, ES, GB, US)", "FR"),
            Field("format", "Format (national, mobile, local)", "national"),
            Field("region", "Region or city (optional)"), Field("limit", "How many (1..100)", "10"),
        ], submit), shown)

    def _form(self, title: str, fields: list[Field], submit: Any) -> Any:
        from ringtui.screens.widgets.forms import FormScreen

        def run(values: dict[str, str]) -> str:
            with self.context.operation() as op:
                return submit(op, values)

        return FormScreen(title, fields, run)

    def drill_down(self, table: RecordsTable, row: dict[str, Any]) -> None:
        if table is self.found:
            self.action_add()
        else:
            super().drill_down(table, row)

    def action_add(self) -> None:
        from ringtui.services import numbers

        pick = self.found.current_row() if self.found.has_class("shown") else None

        def submit(op: Any, v: dict[str, str]) -> str:
            result = numbers.add_number(op, v["number"], address=optional(v["address"]))
            return (f"Added {result['number']} ({result['format']}, {result['region']}); the monthly invoice "
                    f"grows by {numbers.MONTHLY_PRICE_EUR} EUR excl. VAT.")

        self.open_form("Add a number to the account", [
            Field("number", "Number (E.164 or national form)", pick["number"] if pick else ""),
            Field("address", "Address in the number's city (local numbers)"),
        ], submit)

    def action_assign(self) -> None:
        from ringtui.services import numbers

        row = self.table.current_row()

        def submit(op: Any, v: dict[str, str]) -> str:
            result = numbers.assign(op, v["number"], user=optional(v["user"]), ivr=optional(v["ivr"]),
                                    conference=optional(v["conference"]), label=optional(v["label"]))
            target = result["assigned_to"]
            return f"{result['number']} assigned to {target['kind']} {target['name']}."

        self.open_form("Assign a number (to one user, IVR or conference)", [
            Field("number", "Number", row["number"] if row else ""), Field("user", "User e-mail"),
            Field("ivr", "or IVR name"), Field("conference", "or conference name"), Field("label", "Label"),
        ], submit)

    def action_release(self) -> None:
        from ringtui.services import numbers

        row = self.chosen("number")
        if row is None:
            return

        def submit(op: Any) -> str:
            return f"{numbers.release(op, row['number'])['number']} released; it is available again."

        self.confirm(f"Release {row['number']}?", submit)
