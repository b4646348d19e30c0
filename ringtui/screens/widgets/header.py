"""The app's header: Textual's, with a title update that survives a screen being switched away.

Textual's Header updates its title from watchers registered at mount; when a screen is
switched or removed while such an update is pending, the update finds no HeaderTitle and
raises NoMatches, which would stop the app. This one ignores that case.
"""

from __future__ import annotations

import contextlib

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class SafeHeader(Header):
    def _on_mount(self, event: Mount) -> None:
        event.prevent_default()  # replaces Header._on_mount

        async def set_title() -> None:
            with contextlib.suppress(NoMatches, NoScreen):
                self.query_one(HeaderTitle).update(self.format_title())

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
