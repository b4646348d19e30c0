"""The agent's power-dialer panel (K2): when the feed's `campaign_call` event names the acting user as
agent, a panel pops up over whatever screen is shown with the contact's named columns and the
campaign's script, and follows the call (dialing you, dialing the customer, connected, ended).
Esc dismisses it; the next call of the campaign opens it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from ringtui.formats import cell
from ringtui.screens.widgets.forms import FORM_CSS, ascii_only, draw_ascii

STATE_WORDS = {"dialing_agent": "Calling you: answer your phone", "dialing_customer": "Calling the customer",
               "connected": "Connected: talking to the customer", "ended": "Call ended"}


def call_state(event: dict[str, Any]) -> str:
    state = str(event.get("state") or "")
    words = STATE_WORDS.get(state, state or "?")
    if state == "ended" and event.get("result"):
        words += f": {event['result']}"
    return f"{words}  ({event.get('number') or '?'})"


def contact_grid(columns: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for name, value in columns.items():
        grid.add_row(str(name), cell(value))
    if not columns:
        grid.add_row("contact", "no named column in the list")
    return grid


class DialerPanel(ModalScreen[None]):
    """One power-dialer call of the acting agent: state, contact, script."""

    DEFAULT_CSS = FORM_CSS + """
    DialerPanel { align: center middle; }
    DialerPanel > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $success; padding: 0 1; background: $surface;
    }
    DialerPanel #dialer-state { text-style: bold; color: $success; }
    DialerPanel #dialer-script { margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "close", "Dismiss", id="dialer.close")]

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("", id="dialer-title", classes="form-title")
            yield Static("", id="dialer-state")
            yield Static("", id="dialer-contact")
            yield Static("", id="dialer-script")
            yield Static("Esc: dismiss (the call goes on)", classes="form-hint")

    def on_mount(self) -> None:
        if ascii_only(self.app):
            draw_ascii(self)
        self.show(self.event)

    def show(self, event: dict[str, Any]) -> None:
        self.event = event
        campaign = event.get("campaign") or "?"
        self.query_one("#dialer-title", Label).update(f"Power dialer: campaign {campaign}")
        self.query_one("#dialer-state", Static).update(call_state(event))
        self.query_one("#dialer-contact", Static).update(contact_grid(dict(event.get("columns") or {})))
        script = str(event.get("script") or "").strip()
        self.query_one("#dialer-script", Static).update(f"Script:\n{script}" if script else "No script.")

    def action_close(self) -> None:
        self.dismiss(None)


class PowerDialerWatch:
    """Listens to the feed's `campaign_call` events and shows the acting agent's calls in a panel."""

    def __init__(self, app: App[Any], feed: Any, agent: Callable[[], str | None]) -> None:
        self.app, self.agent = app, agent
        self.panel: DialerPanel | None = None
        self.stop = feed.listen("campaign_call", self.receive)

    def receive(self, event: dict[str, Any]) -> None:
        me = (self.agent() or "").lower()
        if me and str(event.get("agent") or "").lower() == me:
            self.app.call_later(self.show, event)

    def show(self, event: dict[str, Any]) -> None:
        panel = self.panel
        if panel is not None and panel.is_attached and panel in self.app.screen_stack:
            panel.show(event)
            return
        if event.get("state") == "ended":
            return  # the panel was dismissed during the call: the end needs no new panel
        self.panel = DialerPanel(event)
        self.app.push_screen(self.panel)


def watch(app: Any) -> PowerDialerWatch | None:
    """The RingtuiApp's watch over its feed (one line in its on_mount); None offline."""
    context = app.context
    if context.feed is None:
        return None
    return PowerDialerWatch(app, context.feed,
                            lambda: (context.options.get("scope") or {}).get("email") or context.acting_user)
