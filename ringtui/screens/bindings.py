"""Key bindings with stable ids, and the user's remapping from config.toml `[tui.keys]`.

    [tui.keys]
    "app.pause" = "f5"           # binding id = key(s), comma-separated
    "activity.snooze" = "z"

Ids are listed by `?` (help) on every screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.binding import Binding

from ringtui.errors import Invalid
from ringtui.screens.registry import SCREENS

APP_BINDINGS: list[Binding] = [
    Binding("colon", "command_palette", "Command", id="app.palette", key_display=":"),
    Binding("question_mark", "help", "Help", id="app.help", key_display="?"),
    Binding("escape", "back", "Back", id="app.back", show=False),
    Binding("p", "toggle_pause", "Pause", id="app.pause"),
    Binding("q", "quit", "Quit", id="app.quit"),
    *[Binding(entry.key, f"open_screen('{entry.id}')", entry.title, id=entry.binding_id, show=False)
      for entry in SCREENS if entry.key],
]


def known_ids() -> set[str]:
    """Every binding id of the app, its screens and the widgets and dialogs they use (screens are
    imported for it: only when the user remaps keys)."""
    from textual.dom import DOMNode

    ids = {b.id for b in APP_BINDINGS if b.id} | {entry.binding_id for entry in SCREENS}
    for entry in SCREENS:
        try:
            entry.load()
        except ImportError:
            continue
    for node_class in _subclasses(DOMNode):
        if node_class.__module__.startswith("ringtui."):
            ids |= {b.id for b in node_class.__dict__.get("BINDINGS", [])
                    if isinstance(b, Binding) and b.id}
    return ids


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def keymap_from(options: Mapping[str, Any]) -> dict[str, str]:
    """The `[tui.keys]` table checked: every id known, every value a non-empty key list."""
    keys = options.get("keys") or {}
    if not isinstance(keys, Mapping):
        raise Invalid("[tui.keys] must be a table of binding id = \"key\"")
    if not keys:
        return {}
    valid = known_ids()
    keymap: dict[str, str] = {}
    for binding_id, value in keys.items():
        if binding_id not in valid:
            raise Invalid(f"[tui.keys] {binding_id!r} is not a binding id; ids: {', '.join(sorted(valid))}")
        if not isinstance(value, str) or not value.strip():
            raise Invalid(f"[tui.keys] {binding_id!r} = {value!r}: "
                          "give a key name such as \"f5\" or \"ctrl+s\"")
        keymap[binding_id] = value.strip()
    return keymap
