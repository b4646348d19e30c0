"""`ringtui webhooks ...`: URLs that receive signed JSON events of the calls (M5)."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "webhooks"
HELP = "Register URLs that receive signed JSON call events (incoming, answered, missed, voicemail, ended)."
app = typer.Typer(no_args_is_help=True)

LIST_COLUMNS = ["id", "url", "events", "active", "last_status", "last_delivery_at"]
EVENTS_HELP = ("Comma-separated events: incoming_call, call_answered, missed_call, voicemail, call_ended, "
               "or all.")


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="http:// or https:// URL that receives the POSTs.")],
    events: Annotated[str, typer.Option("--events", help=EVENTS_HELP)],
    as_json: JsonFlag = False,
) -> None:
    """Register a webhook; its signing secret is shown this once."""
    from ringtui.services import webhooks

    with operation() as op:
        result = webhooks.add_webhook(op, url, events)
    info(f"Webhook {result['id']} added. Keep its secret now: it is not shown again. "
         "Each POST carries X-Ringtui-Signature: sha256=HMAC-SHA256(secret, raw body).")
    render_object(result, as_json=as_json)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List webhooks with the outcome of their last delivery (never their secrets)."""
    from ringtui.services import webhooks

    with operation() as op:
        rows = webhooks.list_webhooks(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=LIST_COLUMNS, title="Webhooks")


@app.command("remove")
def remove(
    webhook_id: Annotated[int, typer.Argument(metavar="ID", help="Webhook id (see `webhooks list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Remove a webhook; it receives no further events."""
    from ringtui.services import webhooks

    with operation() as op:
        result = webhooks.remove_webhook(op, webhook_id)
    info(f"Webhook {result['id']} ({result['url']}) removed.")
    render_object(result, as_json=as_json)


@app.command("test")
def test(
    webhook_id: Annotated[int, typer.Argument(metavar="ID", help="Webhook id (see `webhooks list`).")],
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, max=60.0, help="Seconds to wait for the receiver's answer.")] = 5.0,
    as_json: JsonFlag = False,
) -> None:
    """Send a signed `test` event to a webhook now and print the HTTP status it answered."""
    from ringtui.services import webhooks

    with operation() as op:
        result = webhooks.send_test(op, webhook_id, timeout_s=timeout)
    info(f"{result['url']} answered HTTP {result['status']} in {result['elapsed_ms']} ms.")
    render_object(result, as_json=as_json)
