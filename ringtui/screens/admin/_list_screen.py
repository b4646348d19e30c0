"""What every administration screen is: a title, one table of a service's rows, forms that call services."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label

from ringtui.screens.context import TuiContext
from ringtui.screens.widgets.forms import DetailScreen, ServiceScreen
from ringtui.screens.widgets.records_table import Column, RecordsTable


class ListScreen(ServiceScreen):
    """A RecordsTable filled by `load(op)`; refusals (role, plan) are shown on the status line."""

    TITLE_TEXT: ClassVar[str] = ""
    NOUN: ClassVar[str] = ""  # what the rows are, in the status line (default the title in lower case)
    COLUMNS: ClassVar[list[Column]] = []
    ROW_KEY: ClassVar[str] = "id"
    EXPORT_NAME: ClassVar[str] = "export"
    HELP_TEXT: ClassVar[str] = ""
    BINDINGS = [Binding("ctrl+r", "reload", "Reload", id="admin.reload")]
    DEFAULT_CSS = """
    ListScreen .screen-title { text-style: bold; padding: 0 1; }
    ListScreen RecordsTable { height: 1fr; }
    """

    def __init__(self, context: TuiContext) -> None:
        super().__init__(context)

    def compose(self) -> ComposeResult:
        yield Label(f"{self.TITLE_TEXT}: {self.HELP_TEXT}" if self.HELP_TEXT else self.TITLE_TEXT,
                    classes="screen-title")
        yield from self.compose_top()
        yield RecordsTable(self.COLUMNS, row_key=self.ROW_KEY, export_name=self.EXPORT_NAME, id="records")
        yield self.status_line()
        yield self.footer()

    def compose_top(self) -> ComposeResult:
        """Widgets between the title and the table (none by default)."""
        yield from ()

    @property
    def table(self) -> RecordsTable:
        return self.query_one("#records", RecordsTable)

    def on_mount(self) -> None:
        self.reload()
        self.table.focus()

    def load(self, op: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def reload(self) -> None:
        rows = self.call(self.load)
        if rows is None:
            self.table.set_rows([])
            return
        self.table.set_rows(rows)
        self.show_info(f"{len(rows)} {self.NOUN or self.TITLE_TEXT.lower()}")

    def action_reload(self) -> None:
        self.reload()

    def on_records_table_chosen(self, event: RecordsTable.Chosen) -> None:
        self.drill_down(event.table, event.row)

    def drill_down(self, table: RecordsTable, row: dict[str, Any]) -> None:
        """Enter on a row: every field of it (screens with more to show override this)."""
        from ringtui.screens.logs import facts

        title = f"{self.TITLE_TEXT}: {row.get(self.ROW_KEY) or row.get(table.cols[0].key)}"
        self.app.push_screen(DetailScreen(title, [facts(row, tuple(c.key for c in table.data_cols))]))

    def chosen(self, what: str = "row") -> dict[str, Any] | None:
        row = self.table.current_row()
        if row is None:
            self.show_error(f"Error: no {what} is selected")
        return row
