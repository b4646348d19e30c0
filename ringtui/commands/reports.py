"""`ringtui reports ...`: image reports by subscription (S15), delivered by `reports run-due` from cron."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "reports"
HELP = "Image reports: subscribe a saved filter daily, weekly or monthly; run-due delivers them (cron)."
app = typer.Typer(no_args_is_help=True)

COLUMNS = ["id", "filter", "every", "period", "to", "subscriber", "created_at"]
RUN_COLUMNS = ["subscription", "filter", "to", "period_start", "period_end", "channel", "location"]


@app.command("subscribe")
def subscribe(
    filter_name: Annotated[str, typer.Argument(
        help="A saved filter whose period is yesterday (daily), last-week (weekly) or last-month "
             "(monthly).")],
    every: Annotated[str, typer.Option("--every", help="daily, weekly or monthly.")],
    to: Annotated[str | None, typer.Option("--to", help="E-mail address; default yours (only an admin may "
                                           "give another).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Receive the call report (indicators and heatmap, PNG) of a saved filter by e-mail."""
    from ringtui.services import reports

    with operation() as op:
        result = reports.subscribe(op, filter_name, every, to)
    info(f"Subscription {result['id']}: the {result['every']} report of {result['filter']!r} "
         f"({result['period']}) goes to {result['to']}.")
    if as_json:
        render_object(result, as_json=True)


@app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """Your report subscriptions (everyone's for an admin)."""
    from ringtui.services import reports

    with operation() as op:
        rows = reports.list_subscriptions(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=COLUMNS, title="Report subscriptions")


@app.command("unsubscribe")
def unsubscribe(
    subscription_id: Annotated[int, typer.Argument(help="Subscription id (see `ringtui reports list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Stop a subscription (yours; an admin may stop any)."""
    from ringtui.services import reports

    with operation() as op:
        result = reports.unsubscribe(op, subscription_id)
    info(f"Subscription {subscription_id} ({result['filter']!r} to {result['to']}) stopped.")
    if as_json:
        render_object(result, as_json=True)


@app.command("run-due")
def run_due(
    out_dir: Annotated[Path | None, typer.Option(
        "--out-dir", help="Write the images here when [smtp] is not configured "
                          "(default [reports] out_dir).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Render and deliver every report due (for cron; running it twice sends nothing twice)."""
    from ringtui.services import reports

    with operation() as op:
        result = reports.run_due(op, out_dir)
    if as_json:
        render_object(result.as_dict(), as_json=True)
    else:
        if result.delivered:
            render_rows(result.delivered, columns=RUN_COLUMNS, title="Delivered")
        info(f"{len(result.delivered)} report(s) delivered, {len(result.already)} already delivered before, "
             f"{len(result.failed)} failed.")
    for failure in result.failed:
        typer.echo(f"Error: report subscription {failure['subscription']} ({failure['filter']!r} to "
                   f"{failure['to']}, {failure['period_start']}): {failure['error']}", err=True)
    if result.failed:
        raise typer.Exit(1)
