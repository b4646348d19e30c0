"""`ringtui blacklist ...`."""

from __future__ import annotations

import typer

NAME = "blacklist"
HELP = "blacklist."
app = typer.Typer(no_args_is_help=True)
