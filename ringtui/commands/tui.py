"""`ringtui tui`: the terminal UI on a running engine's live feed."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ringtui.commands._runtime import settings
from ringtui.errors import RingtuiError

AsciiFlag = Annotated[bool, typer.Option(
    "--ascii", help="ASCII only: no box drawing nor block glyphs (PuTTY, mosh, some tmux). "
    "Colours off: NO_COLOR=1.")]
ScreenOption = Annotated[str | None, typer.Option(
    "--screen", help="Screen to open first: activity, wallboard, ... (default the first the role may see).")]


def require_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise RingtuiError("the TUI needs a terminal (stdin/stdout are not a TTY); in scripts use "
                           "`ringtui engine status --json`")


def tui(
    engine: Annotated[str | None, typer.Option(
        "--engine", help="Feed address ws://HOST:PORT (default [engine] ws of config.toml).")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="RINGTUI_ENGINE_TOKEN",
        help="Feed token or API key with feed:read (default: the engine's local token file).")] = None,
    ascii_only: AsciiFlag = False,
    screen: ScreenOption = None,
) -> None:
    """Open the TUI on a running engine's live feed.

    Without an engine it opens offline: live screens say so and retry every 2 s; the others work.
    """
    from ringtui.engine.client import feed_url
    from ringtui.screens.launch import build_context, run_tui, token_from
    if screen is not None:
        from ringtui.screens.registry import SCREENS

        ids = [entry.id for entry in SCREENS]
        if screen not in ids:
            raise typer.BadParameter(f"unknown screen {screen!r}; screens: {', '.join(ids)}",
                                     param_hint="--screen")
    require_terminal()
    current = settings()
    context = build_context(current, ascii_only=ascii_only)
    code = run_tui(context, feed_url(engine or current.engine_ws), token_from(current.token_file, token),
                   start=screen)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(tui)
