"""Forms and prompts that call a service, and the base every service-backed screen shares.

A form runs its service call itself: a refusal (RingtuiError) is shown verbatim
under the fields, exactly as the CLI prints it ("Error: ..."), the transaction
is rolled back and the form stays open so the user can correct the value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Static

from ringtui.errors import RingtuiError

if TYPE_CHECKING:
    from ringtui.screens.context import TuiContext
    from ringtui.services.base import Operation

T = TypeVar("T")

FORM_CSS = """
FormScreen, PromptScreen, DetailScreen { align: center middle; }
FormScreen > Vertical, PromptScreen > Vertical {
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: round $accent; padding: 0 1; background: $surface;
}
DetailScreen > VerticalScroll {
    width: 90%; height: 90%; border: round $accent; padding: 0 1; background: $surface;
}
.form-title { text-style: bold; }
.form-error { color: $error; }
.form-hint { color: $text-muted; }
"""


def ascii_only(app: Any) -> bool:
    """The app's ASCII-only mode (no box drawing): the ringtui app's flag, or a test host's."""
    return bool(getattr(app, "ascii", False))


def draw_ascii(screen: Screen[Any]) -> None:
    """ASCII borders for the dialogs and no tab underline (its bar is drawn with box glyphs)."""
    if isinstance(screen, ModalScreen):
        for dialog in screen.children:
            dialog.styles.border = ("ascii", "grey")
    for underline in screen.query("Underline"):
        underline.display = False


def error_text(error: BaseException) -> str:
    """The message a refused request shows, worded as the CLI prints it."""
    return f"Error: {error}"


@dataclass(frozen=True)
class Field:
    """One input of a form: the service argument it feeds, a label, a default, a hint."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""


class FormScreen(ModalScreen[str | None]):
    """Fields, then Enter runs `submit` (a service call); the screen closes with its message."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel"),
                Binding("enter", "confirm", "Confirm", show=False, id="form.confirm")]

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict[str, str]], str],
                 *, hint: str = "") -> None:
        super().__init__()
        self.form_title, self.fields, self.submit, self.hint = title, fields, submit, hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.form_title, classes="form-title")
            for field in self.fields:
                yield Label(field.label)
                yield Input(value=field.value, placeholder=field.placeholder, id=f"field-{field.name}")
            yield Static(self.hint or "Enter: confirm   Esc: cancel", classes="form-hint")
            yield Static("", id="form-error", classes="form-error")

    def on_mount(self) -> None:
        if ascii_only(self.app):
            draw_ascii(self)

    def values(self) -> dict[str, str]:
        return {field.name: self.query_one(f"#field-{field.name}", Input).value.strip()
                for field in self.fields}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        try:
            message = self.submit(self.values())
        except RingtuiError as error:
            self.query_one("#form-error", Static).update(error_text(error))
            return
        self.dismiss(message)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a file name, a filter), or None when cancelled."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.prompt_title, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt_title, classes="form-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static("Enter: confirm   Esc: cancel", classes="form-hint")

    def on_mount(self) -> None:
        if ascii_only(self.app):
            draw_ascii(self)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DetailScreen(ModalScreen[None]):
    """A read-only detail view (drill-down) made of ready widgets; Esc closes it."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [Binding("escape", "close", "Back", id="detail.close"),
                Binding("q", "close", "Back", show=False, id="detail.quit")]

    def __init__(self, title: str, parts: list[Any]) -> None:
        super().__init__()
        self.detail_title, self.parts = title, parts

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.detail_title, classes="form-title")
            yield from self.parts

    def on_mount(self) -> None:
        if ascii_only(self.app):
            draw_ascii(self)

    def action_close(self) -> None:
        self.dismiss(None)


class ServiceScreen(Screen[None]):
    """A screen that calls services for the acting user and reports refusals on its status line.

    Esc (back), `?`, `:` and the screen keys are the app's bindings."""

    DEFAULT_CSS = """
    ServiceScreen #status { height: auto; padding: 0 1; }
    ServiceScreen #status.error { color: $error; }
    """

    def __init__(self, context: TuiContext) -> None:
        super().__init__()
        self.context = context

    def on_mount(self) -> None:
        """Textual calls this as well as the screen's own on_mount (handlers of every class run)."""
        if self.context.options.get("ascii") or ascii_only(self.app):
            draw_ascii(self)

    def status_line(self) -> Static:
        return Static("", id="status")

    def footer(self) -> Footer:
        return Footer()

    def call(self, work: Callable[[Operation], T]) -> T | None:
        """Run one service operation; a refusal is shown and nothing is written (rolled back)."""
        try:
            with self.context.operation() as op:
                return work(op)
        except RingtuiError as error:
            self.show_error(error)
            return None

    def show_error(self, error: BaseException | str) -> None:
        message = error if isinstance(error, str) else error_text(error)
        status = self.query_one("#status", Static)
        status.add_class("error")
        status.update(Text(message))
        self.notify(message, severity="error", timeout=6)

    def show_info(self, message: str) -> None:
        status = self.query_one("#status", Static)
        status.remove_class("error")
        status.update(Text(message))

    def open_form(self, title: str, fields: list[Field], submit: Callable[[Operation, dict[str, str]], str],
                  *, hint: str = "") -> None:
        """A form whose confirmation runs `submit` in one operation; the screen reloads afterwards."""

        def run(values: dict[str, str]) -> str:
            with self.context.operation() as op:
                return submit(op, values)

        def done(message: str | None) -> None:
            if message:
                self.reload()
                self.show_info(message)

        self.app.push_screen(FormScreen(title, fields, run, hint=hint), done)

    def confirm(self, question: str, submit: Callable[[Operation], str]) -> None:
        self.open_form(question, [], lambda op, _values: submit(op), hint="Enter: yes   Esc: no")

    def reload(self) -> None:
        """Read the screen's data again (after a change)."""


def words(text: str) -> list[str]:
    """Several values typed in one field, separated by commas or spaces."""
    return [part for part in text.replace(",", " ").split() if part]


def optional(text: str) -> str | None:
    return text or None


def yes(text: str) -> bool:
    return text.strip().lower() in {"y", "yes", "true", "on", "1"}


def listed(text: str) -> list[str]:
    """Several names typed in one field, separated by commas (names may hold spaces)."""
    return [part.strip() for part in text.split(",") if part.strip()]
