"""The S6 call filters as one line, typed like the CLI's FILTERS: `period=today direction=in tag=Sale`.

`--period today` works too. The words are the FILTERS options of CLI.md; a screen
may accept a few more (interval, indicator, ...). The values are checked by the
services, so a bad value is refused with the CLI's own message.
"""

from __future__ import annotations

import shlex
from dataclasses import fields
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from ringtui.errors import Invalid
from ringtui.services.filters import FilterOptions

FILTER_KEYS = tuple(f.name for f in fields(FilterOptions))
ALIASES = {"filter": "saved"}  # the CLI's --filter NAME (a saved filter) is FilterOptions.saved
SPELLING = {field: alias for alias, field in ALIASES.items()}


def parse_filters(text: str, extra: tuple[str, ...] = ()) -> tuple[FilterOptions, dict[str, str]]:
    """The filter options and the screen's extra settings typed in `text`."""
    try:
        tokens = shlex.split(text)
    except ValueError as error:
        raise Invalid(f"cannot read the filters {text!r}: {error}") from None
    accepted = (*FILTER_KEYS, *extra)
    spelt = [SPELLING.get(key, key) for key in accepted]
    values: dict[str, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.startswith("--") and "=" not in token and index + 1 < len(tokens):
            key, value = token[2:], tokens[index + 1]
            index += 2
        elif "=" in token:
            key, value = token.lstrip("-").split("=", 1)
            index += 1
        else:
            raise Invalid(f"cannot read {token!r}: write NAME=VALUE with NAME one of {', '.join(spelt)}")
        typed = key.replace("-", "_").lower()
        key = ALIASES.get(typed, typed)
        if key not in accepted or typed in SPELLING:
            raise Invalid(f"unknown filter {typed!r}: give {', '.join(spelt)}")
        values[key] = value
    options = FilterOptions(**{k: v for k, v in values.items() if k in FILTER_KEYS})
    return options, {k: v for k, v in values.items() if k in extra}


def describe(options: FilterOptions, extra: dict[str, str] | None = None) -> str:
    given = {SPELLING.get(name, name): getattr(options, name) for name in options.given()} | (extra or {})
    return " ".join(f"{k}={shlex.quote(str(v))}" for k, v in given.items()) or "all calls"


class FilterBar(Horizontal):
    """A one-line filter input; Enter posts FilterBar.Changed with the parsed options."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar Label { width: auto; padding: 0 1 0 0; }
    FilterBar Input { border: none; height: auto; padding: 0; width: 1fr; }
    """
    BINDINGS = [Binding("escape", "leave", "Leave filters", show=False, id="filters.leave")]

    class Changed(Message):
        def __init__(self, bar: FilterBar, options: FilterOptions, extra: dict[str, str]) -> None:
            super().__init__()
            self.bar, self.options, self.extra = bar, options, extra

        @property
        def control(self) -> FilterBar:
            return self.bar

    class Refused(Message):
        def __init__(self, bar: FilterBar, error: Invalid) -> None:
            super().__init__()
            self.bar, self.error = bar, error

    def __init__(self, *, extra: tuple[str, ...] = (), value: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.extra, self.initial = extra, value
        self.options, self.extra_values = parse_filters(value, extra)

    def compose(self) -> ComposeResult:
        yield Label("Filters:")
        placeholder = "period=today direction=in type=missed tag=NAME ivr=NAME hours=09:00-18:00 ..."
        yield Input(value=self.initial, placeholder=placeholder, id="filters-input")

    @property
    def input(self) -> Input:
        return self.query_one("#filters-input", Input)

    def focus_input(self) -> None:
        self.input.focus()

    def apply(self, text: str) -> None:
        self.input.value = text
        self._parse(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._parse(event.value)

    def _parse(self, text: str) -> None:
        try:
            options, extra = parse_filters(text, self.extra)
        except Invalid as error:
            self.post_message(self.Refused(self, error))
            return
        self.options, self.extra_values = options, extra
        self.post_message(self.Changed(self, options, extra))

    def action_leave(self) -> None:
        self.screen.focus_next()


def options_dict(options: FilterOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in options.given()}
