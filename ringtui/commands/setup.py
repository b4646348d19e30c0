"""`ringtui init` and `ringtui demo`."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import JsonFlag, settings
from ringtui.output import info, render_object


def init(
    company: Annotated[str, typer.Option(help="Company name.")] = "My company",
    plan: Annotated[str, typer.Option(help="smart, business or advanced.")] = "business",
    admin: Annotated[str, typer.Option(help="E-mail of the super admin.")] = "admin@example.com",
    country: Annotated[str, typer.Option(help="Default country (ISO2) for national numbers.")] = "FR",
    demo: Annotated[bool, typer.Option("--demo", help="Seed a realistic demo account.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create the account and its super admin in an empty database."""
    from ringtui.services import setup as setup_service

    current = settings()
    if demo:
        from ringtui.services import demo as demo_service

        result = demo_service.seed_demo(current, company=company if company != "My company" else None,
                                        plan=plan, admin_email=admin, country=country)
    else:
        result = setup_service.init_account(current, company=company, plan=plan,
                                            admin_email=admin, country=country)
    render_object(result, as_json=as_json, title="Account created")


def demo(as_json: JsonFlag = False) -> None:
    """Seed the demo account on an empty database (or show the one there) and present it."""
    from ringtui.services import demo as demo_service
    from ringtui.services import setup as setup_service

    current = settings()
    if setup_service.is_initialised(current):
        info("The database already holds an account; showing it.")
        result = demo_service.summary(current)
    else:
        result = demo_service.seed_demo(current)
    render_object(result, as_json=as_json, title="ringtui demo account")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(demo)
