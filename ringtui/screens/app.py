"""The ringtui TUI: a home menu of the screens the acting user may open, live screens fed by the engine.

Keyboard first: `:` command palette, `?` keys of the screen, `esc` back, `p` pause
live updates, `q` quit, digits open screens. Keys are remappable by binding id
(config.toml `[tui.keys]`). `NO_COLOR` gives a monochrome display (Textual honours
it); the ASCII mode (`--ascii`, `[tui] ascii`) draws no box or block glyph.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ringtui.errors import RingtuiError
from ringtui.screens.bindings import APP_BINDINGS
from ringtui.screens.context import TuiContext
from ringtui.screens.feed import FeedConnection
from ringtui.screens.palette import ScreensProvider
from ringtui.screens.registry import ScreenEntry, entry, visible_screens
from ringtui.screens.theme import ASCII_CSS, BASE_CSS
from ringtui.screens.widgets.header import SafeHeader

EngineTask = Callable[[asyncio.Event], Awaitable[Any]]


class HomeScreen(Screen[None]):
    """The menu: every screen this user may open, with its key."""

    def compose(self) -> ComposeResult:
        app: RingtuiApp = self.app  # type: ignore[assignment]
        yield SafeHeader(show_clock=False, icon="*" if app.ascii else "⭘")
        with Vertical(id="home-body"):
            yield from self._body()
        yield Footer()

    def _body(self) -> list[Widget]:
        app: RingtuiApp = self.app  # type: ignore[assignment]
        scope = app.context.options.get("scope")
        if scope is None:
            return [Static("ringtui - opening the account...", id="home-who")]
        who = f"{scope.get('email', '?')} ({scope.get('role', '?')})"
        body: list[Widget] = [Static(f"ringtui - signed in as {who}.  {app.feed_status()}", id="home-who")]
        allowed = app.screens_allowed
        if allowed:
            body.append(OptionList(*[Option(f"{e.key}  {e.title:<12} {e.description}", id=e.id)
                                     for e in allowed], id="home-menu"))
        else:
            body.append(Static(f"The {scope.get('role', 'current')} role opens no screen of the TUI "
                               "(billing and account are in the CLI: `ringtui account --help`).",
                               id="home-none"))
        return body

    async def refresh_body(self) -> None:
        body = self.query_one("#home-body", Vertical)
        await body.remove_children()
        await body.mount_all(self._body())

    def on_mount(self) -> None:
        self.title = "ringtui"

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.call_later(self.app.open_screen, event.option.id)  # type: ignore[attr-defined]


class RingtuiApp(App[None]):
    TITLE = "ringtui"
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {ScreensProvider}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, context: TuiContext, *, connection: FeedConnection | None = None,
                 engine: EngineTask | None = None, start: str | None = None,
                 run_for: float | None = None) -> None:
        self.context = context
        self.ascii = bool(context.options.get("ascii"))
        self.CSS = BASE_CSS + (ASCII_CSS if self.ascii else "")
        super().__init__()
        self.connection = connection
        if connection is not None:
            context.feed = connection.state
        self.paused = False
        self.screens_allowed: list[ScreenEntry] = []
        self._engine = engine
        self._engine_stop = asyncio.Event()
        self._engine_done: asyncio.Future[Any] | None = None
        self._start = start
        self._home: HomeScreen | None = None
        self._home_pushed = asyncio.Event()
        self._run_for = run_for
        self.refresh_hz = float(context.options.get("refresh_hz") or 10.0)

    # ------------------------------------------------------------ start and stop

    async def on_mount(self) -> None:
        keymap = self.context.options.get("keymap") or {}
        if keymap:
            self.set_keymap(keymap)
        # The engine, the feed and the account's rules load side by side: the first paint waits
        # for whichever is slowest, not for their sum.
        if self._engine is not None:
            self._engine_done = asyncio.ensure_future(self._engine(self._engine_stop))
            self._engine_done.add_done_callback(self._engine_ended)
        if self.connection is not None:
            self.run_worker(self.connection.run(), name="feed", group="feed", exit_on_error=False)
            from ringtui.screens.power_dialer import watch  # the agent's power-dialer panel (K2)

            self.power_dialer = watch(self)
        if self._run_for:
            self.set_timer(self._run_for, self.request_quit)
        preset = "scope" in self.context.options  # given (tests, bench), else read while home is drawn
        if not preset:
            self.run_worker(self._scope_loading(), name="scope", exit_on_error=False)
        self._home = HomeScreen()
        await self.push_screen(self._home)
        self._home_pushed.set()
        if preset:
            await self._scope_ready()

    async def _scope_loading(self) -> None:
        try:
            scope = await asyncio.to_thread(self._load_scope)
        except RingtuiError as error:
            self.exit(return_code=1, message=f"Error: {error}")
            return
        self.context.options["scope"] = scope
        await self._home_pushed.wait()  # the first screen goes on top of home, never under it
        await self._scope_ready()

    async def _scope_ready(self) -> None:
        self.screens_allowed = visible_screens(self.context.options["scope"]["areas"])
        first = self._start or (self.screens_allowed[0].id if self.screens_allowed else None)
        if first and any(e.id == first for e in self.screens_allowed):
            await self.open_screen(first)  # before the home menu: the first paint waits on nothing else
        if self._home is not None and self._home.is_mounted:
            await self._home.refresh_body()

    def _load_scope(self) -> dict[str, Any]:
        from ringtui.services.live_scope import quick_scope

        scope = quick_scope(self.context.settings, self.context.acting_user)
        if scope is None:
            with self.context.operation():  # raises what is wrong (no account, no such user)
                pass
            raise RingtuiError("the acting user could not be read")
        return scope

    def _engine_ended(self, done: asyncio.Future[Any]) -> None:
        error = None if done.cancelled() else done.exception()
        if error is not None:
            self.exit(return_code=1, message=f"Error: the engine stopped: {error}")

    async def request_quit(self) -> None:
        await self.action_quit()

    async def action_quit(self) -> None:
        """Stop the in-process engine first (every call record closed), then leave."""
        if self.connection is not None:
            await self.connection.close()
        if self._engine_done is not None:
            self._engine_stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._engine_done), timeout=15)
        self.exit()

    # ------------------------------------------------------------ navigation

    async def open_screen(self, screen_id: str) -> None:
        try:
            target = entry(screen_id)
        except KeyError:
            self.notify(f"no screen {screen_id!r}", severity="error")
            return
        if target not in self.screens_allowed:
            role = self.context.options.get("scope", {}).get("role", "current")
            self.notify(f"the {role} role does not give access to {target.title} ({target.area})",
                        severity="error", timeout=6)
            return
        current = self.screen
        if getattr(current, "screen_id", None) == screen_id:
            return
        if not self.is_screen_installed(screen_id):
            # Installed once and kept: switching back is instant and keeps the screen's state;
            # a hidden live screen only collects which rows changed, and catches up when shown.
            try:
                screen = target.load()(self.context)
            except (ImportError, RingtuiError) as error:
                self.notify(f"cannot open {target.title}: {error}", severity="error", timeout=8)
                return
            screen.screen_id = screen_id
            self.install_screen(screen, name=screen_id)
        if getattr(current, "screen_id", None) is not None:  # switch, do not stack screen on screen
            await self.switch_screen(screen_id)
        else:
            await self.push_screen(screen_id)

    async def action_open_screen(self, screen_id: str) -> None:
        await self.open_screen(screen_id)

    async def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.notify("live updates paused (p resumes)" if self.paused else "live updates resumed", timeout=2)
        for screen in self.screen_stack:
            refresh = getattr(screen, "on_pause_changed", None)
            if callable(refresh):
                refresh(self.paused)

    def action_help(self) -> None:
        from ringtui.screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding: Binding = active.binding
            name = binding.id or binding.action
            if name in seen:
                continue
            seen.add(name)
            rows.append((self.get_key_display(binding), binding.description or binding.action,
                         binding.id or ""))
            del key
        self.push_screen(HelpScreen(getattr(screen, "title", None) or "ringtui", rows))

    def feed_status(self) -> str:
        state = self.context.feed
        if state is None:
            return "offline: no engine feed (live screens are empty)"
        return state.status + ("  [PAUSED]" if self.paused else "")
