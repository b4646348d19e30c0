"""The `:` command palette: jump to any screen the user may open, or run an action."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from ringtui.screens.app import RingtuiApp


class ScreensProvider(Provider):
    """Screens (open NAME) and the actions of the app and of the current screen."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: RingtuiApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, Callable[[], Any]]] = [
            (f"open {entry.title.lower()}", entry.description, partial(app.open_screen, entry.id))
            for entry in app.screens_allowed]
        commands += [("pause / resume live updates", "p", app.action_toggle_pause),
                     ("help: keys of this screen", "?", app.action_help),
                     ("quit", "q", app.request_quit)]
        screen_actions = getattr(self.screen, "palette_actions", None)
        if callable(screen_actions):
            commands += screen_actions()
        return commands

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
