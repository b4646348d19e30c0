"""`ringtui tags ...`."""

from __future__ import annotations

import typer

NAME = "tags"
HELP = "tags."
app = typer.Typer(no_args_is_help=True)
