"""`ringtui account ...` and `ringtui addons ...`: the account's summary, plan and add-ons."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import CsvFlag, JsonFlag, operation
from ringtui.output import info, render_object, render_rows

NAME = "account"
HELP = "Show the account; change its plan (smart, business, advanced) and data retention."
app = typer.Typer(no_args_is_help=True)

ADDONS_NAME = "addons"
ADDONS_HELP = "List, activate and deactivate add-ons (admin or super admin)."
addons_app = typer.Typer(no_args_is_help=True)
# Reachable as `ringtui account addons ...` until the root registers `ringtui addons ...`.
app.add_typer(addons_app, name=ADDONS_NAME, help=ADDONS_HELP)

ADDON_COLUMNS = ["name", "active", "plans", "targets"]


@app.command("show")
def show(as_json: JsonFlag = False) -> None:
    """Show the account: company, plan, country, add-ons, counts and super admin."""
    from ringtui.services import account

    with operation() as op:
        result = account.show_account(op)
    render_object(result, as_json=as_json, title="Account")


@app.command("plan")
def plan(
    plan: Annotated[str, typer.Argument(help="The new plan: smart, business or advanced.")],
    as_json: JsonFlag = False,
) -> None:
    """Change the account's plan; a downgrade is refused while the account uses what the plan lacks."""
    from ringtui.services import account

    with operation() as op:
        result = account.change_plan(op, plan)
    info(f"The account is {'now' if result['changed'] else 'already'} on the {result['plan']} plan.")
    render_object(result, as_json=as_json, title="Account")


@app.command("retention")
def retention(
    days: Annotated[int | None, typer.Argument(help="Keep call data this many days.")] = None,
    forever: Annotated[bool, typer.Option("--forever", help="Keep data without limit.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Set how long call data is kept (B9)."""
    if (days is None) == (not forever):
        raise typer.BadParameter("give a number of days or --forever")
    from ringtui.services import account

    with operation() as op:
        result = account.set_retention(op, None if forever else days)
    kept = "without limit" if result["retention_days"] is None else f"{result['retention_days']} days"
    info(f"Call data is kept {kept}.")
    render_object(result, as_json=as_json, title="Account")


@addons_app.command("list")
def list_(as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """List the add-ons, whether each is active, and the plans that offer it."""
    from ringtui.services import account

    with operation() as op:
        rows = account.list_addons(op)
    render_rows(rows, as_json=as_json, as_csv=as_csv, columns=ADDON_COLUMNS, title="Add-ons")


@addons_app.command("activate")
def activate(
    name: Annotated[str, typer.Argument(
        help="extra-outbound-channel, call-campaign-extension or omnichannel.")],
    user: Annotated[str | None, typer.Option("--user", help="Buy it for this user (e-mail).")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Buy it for this group.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Activate an add-on (M2, C1), for the account or one user or group."""
    from ringtui.services import account

    with operation() as op:
        result = account.activate_addon(op, name, user=user, group=group)
    info(f"Add-on {result['name']} activated.")
    render_object(result, as_json=as_json)


@addons_app.command("deactivate")
def deactivate(
    name: Annotated[str, typer.Argument(help="An active add-on (see `ringtui addons list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Deactivate an add-on."""
    from ringtui.services import account

    with operation() as op:
        result = account.deactivate_addon(op, name)
    info(f"Add-on {result['name']} deactivated.")
    render_object(result, as_json=as_json)
