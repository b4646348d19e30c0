"""Starting the TUI: the context from settings and flags, the feed connection, the app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ringtui.config import Settings
from ringtui.screens.context import TuiContext


def build_context(settings: Settings, *, ascii_only: bool = False) -> TuiContext:
    from ringtui.screens.bindings import keymap_from

    return TuiContext(settings=settings, acting_user=settings.acting_user, options={
        "ascii": ascii_only or settings.tui_ascii,
        "refresh_hz": settings.tui_refresh_hz,
        "keymap": keymap_from({"keys": settings.tui_keys}),
    })


def token_from(path: Path, token: str | None) -> Callable[[], str]:
    """The given token, else the engine's token file read at each (re)connection:
    an engine writes a fresh one at every start."""
    from ringtui.engine.token import read_token

    if token:
        return lambda: token
    return lambda: read_token(path)


def run_tui(context: TuiContext, url: str, token: Callable[[], str], *,
            engine: Callable[[asyncio.Event], Awaitable[Any]] | None = None, start: str | None = None,
            run_for: float | None = None) -> int:
    """Run the app until the user quits; the exit code (1 when the in-process engine failed)."""
    from ringtui.screens.app import RingtuiApp
    from ringtui.screens.feed import FeedConnection

    app = RingtuiApp(context, connection=FeedConnection(url, token), engine=engine, start=start,
                     run_for=run_for)
    app.run()
    return app.return_code or 0
