"""IVRs (I1-I3): list, the scenario of one (steps and their skip-if conditions), delete, apply a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.logs import facts
from ringtui.screens.widgets.forms import DetailScreen, Field
from ringtui.screens.widgets.records_table import RecordsTable, columns

IVR_COLUMNS = columns("name", "numbers", "steps", "hours", "record_inbound", "anonymous", "vip_numbers",
                      record_inbound="recorded")
STEP_COLUMNS = columns("position", "name", "type", "settings", "skip_if")
DETAIL_FIELDS = ("name", "numbers", "record_inbound", "record_outbound", "anonymous", "vip_numbers",
                 "script", "announce_recording", "hours", "closed_step")


class IvrsScreen(ListScreen):
    TITLE_TEXT = "IVRs"
    NOUN = "IVRs"
    HELP_TEXT = "Enter scenario  d delete  A apply a scenario file"
    COLUMNS = IVR_COLUMNS
    ROW_KEY = "name"
    EXPORT_NAME = "ivrs"
    BINDINGS = [
        Binding("d", "delete", "Delete", id="ivrs.delete"),
        Binding("A", "apply", "Apply file", id="ivrs.apply"),
    ]

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import ivrs

        return [ivr | {"steps": len(ivr["steps"])} for ivr in ivrs.list_ivrs(op)]

    def drill_down(self, table: RecordsTable, row: dict[str, Any]) -> None:
        from ringtui.services import ivrs

        ivr = self.call(lambda op: ivrs.show_ivr(op, row["name"]))
        if ivr is None:
            return
        steps = RecordsTable(STEP_COLUMNS, row_key="name", export_name=f"ivr-{ivr['name']}-steps", id="steps")
        steps.styles.height = "auto"
        screen = DetailScreen(f"IVR {ivr['name']}", [facts(ivr, DETAIL_FIELDS),
                                                       Static("Scenario", classes="form-title"), steps])
        screen.call_after_refresh(lambda: steps.set_rows(ivr["steps"]))
        self.app.push_screen(screen)

    def action_delete(self) -> None:
        from ringtui.services import ivrs

        row = self.chosen("IVR")
        if row is None:
            return

        def submit(op: Any) -> str:
            result = ivrs.delete_ivr(op, row["name"])
            return f"Deleted IVR {result['name']}; released {len(result['numbers'])} number(s)."

        self.confirm(f"Delete IVR {row['name']}? Its numbers become available.", submit)

    def action_apply(self) -> None:
        from ringtui.services import ivrs

        def submit(op: Any, v: dict[str, str]) -> str:
            rows = ivrs.apply_file(op, Path(v["file"]).expanduser())
            return "; ".join(f"{row['name']}: {row['result']}" for row in rows) or "The file holds no IVR."

        self.open_form("Apply a scenario file (idempotent; all or nothing)", [
            Field("file", "TOML file of [[ivr]] tables", placeholder="examples/ivr-standard.toml")], submit)
