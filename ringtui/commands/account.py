"""`ringtui account ...`."""

from __future__ import annotations

import typer

NAME = "account"
HELP = "account."
app = typer.Typer(no_args_is_help=True)
