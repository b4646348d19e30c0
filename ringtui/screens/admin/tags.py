"""Tags (T1): name, colour, conditions of use, and the maximum of tags per call — services/tags.py."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

from ringtui.errors import Invalid
from ringtui.screens.admin._list_screen import ListScreen
from ringtui.screens.widgets.forms import Field, optional
from ringtui.screens.widgets.records_table import columns

TAG_COLUMNS = columns("name", "color", "conditions")


class TagsScreen(ListScreen):
    TITLE_TEXT = "Tags"
    HELP_TEXT = "a add  d remove  m maximum per call"
    COLUMNS = TAG_COLUMNS
    ROW_KEY = "name"
    EXPORT_NAME = "tags"
    BINDINGS = [
        Binding("a", "add", "Add", id="tags.add"),
        Binding("d", "remove", "Remove", id="tags.remove"),
        Binding("m", "maximum", "Max per call", id="tags.max"),
    ]
    maximum = 0

    def load(self, op: Any) -> list[dict[str, Any]]:
        from ringtui.services import tags

        listed = tags.list_tags(op)
        self.maximum = listed["max_tags_per_call"]
        return listed["tags"]

    def reload(self) -> None:
        super().reload()
        self.table.border_title = f"at most {self.maximum} tags per call"

    def action_add(self) -> None:
        from ringtui.services import tags

        def submit(op: Any, v: dict[str, str]) -> str:
            result = tags.add_tag(op, v["name"], color=optional(v["color"]), conditions=v["conditions"])
            return f"Tag {result['name']!r} added."

        self.open_form("Add a tag", [
            Field("name", "Name"), Field("color", "Colour (hex such as #1E90FF; empty: #888888)"),
            Field("conditions", "Conditions of use, shown to agents when they tag a call"),
        ], submit)

    def action_remove(self) -> None:
        from ringtui.services import tags

        row = self.chosen("tag")
        if row is None:
            return
        self.confirm(f"Remove tag {row['name']!r}?",
                     lambda op: f"Tag {tags.remove_tag(op, row['name'])['name']!r} removed.")

    def action_maximum(self) -> None:
        from ringtui.services import tags

        def submit(op: Any, v: dict[str, str]) -> str:
            try:
                value = int(v["value"])
            except ValueError:
                raise Invalid(f"maximum {v['value']!r} is not a whole number: give 1..20") from None
            result = tags.max_tags_per_call(op, value)
            return f"At most {result['max_tags_per_call']} tags per call."

        self.open_form("Maximum of tags on one call", [Field("value", "Maximum (1..20)", str(self.maximum))],
                       submit)
