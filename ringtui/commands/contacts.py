"""`ringtui contacts ...`."""

from __future__ import annotations

import typer

NAME = "contacts"
HELP = "contacts."
app = typer.Typer(no_args_is_help=True)
