"""`ringtui numbers ...`."""

from __future__ import annotations

import typer

NAME = "numbers"
HELP = "numbers."
app = typer.Typer(no_args_is_help=True)
