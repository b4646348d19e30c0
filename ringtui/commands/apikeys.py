"""`ringtui apikeys ...`: keys for scripts and the live feed (M4)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "apikeys"
HELP = "Create, list and revoke API keys with chosen rights."
app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    name: str,
    rights: Annotated[str, typer.Option(
        "--rights", help="Comma-separated rights, e.g. calls:read,feed:read.")],
    as_json: JsonFlag = False,
) -> None:
    """Create a key; its secret is shown this once."""
    from ringtui.services import apikeys

    with operation() as op:
        result = apikeys.create_key(op, name, [rights])
    info("Keep the key now: only its hash is stored.")
    render_object(result, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List keys (never their secrets)."""
    from ringtui.services import apikeys

    with operation() as op:
        rows = apikeys.list_keys(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, title="API keys")


@app.command("revoke")
def revoke(name: str, as_json: JsonFlag = False) -> None:
    """Revoke a key; it stops working at once."""
    from ringtui.services import apikeys

    with operation() as op:
        result = apikeys.revoke_key(op, name)
    render_object(result, as_json=as_json)
