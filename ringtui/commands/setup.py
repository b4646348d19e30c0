"""`ringtui init` and `ringtui demo`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ringtui.commands._runtime import JsonFlag, settings
from ringtui.output import info, render_object

if TYPE_CHECKING:
    from ringtui.config import Settings

HistoryDays = Annotated[int, typer.Option(
    "--history-days", min=0, max=3650, help="Days of simulated call history written with the demo account.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the demo's simulated traffic.")]


def init(
    company: Annotated[str | None, typer.Option(help="Company name.")] = None,
    plan: Annotated[str | None, typer.Option(
        help="smart, business or advanced (default business; advanced with --demo).")] = None,
    admin: Annotated[str | None, typer.Option(help="E-mail of the super admin.")] = None,
    country: Annotated[str, typer.Option(help="Default country (ISO2) for national numbers.")] = "FR",
    demo: Annotated[bool, typer.Option("--demo", help="Seed a realistic demo account with history.")] = False,
    history_days: HistoryDays = 90,
    seed: Seed = 2026,
    as_json: JsonFlag = False,
) -> None:
    """Create the account and its super admin in an empty database."""
    from ringtui.services import setup as setup_service

    current = settings()
    if demo:
        result = _seed_demo(history_days, seed, company=company, plan=plan or "advanced",
                            admin_email=admin, country=country)
    else:
        result = setup_service.init_account(current, company=company or "My company",
                                            plan=plan or "business",
                                            admin_email=admin or "admin@example.com", country=country)
    render_object(result, as_json=as_json, title="Account created")


def _seed_demo(history_days: int, seed: int, **account: object) -> dict[str, object]:
    """The demo account, then its simulated past, both told on stderr as they go."""
    from ringtui.engine.history import simulate_recent_history
    from ringtui.services import demo as demo_service

    current = settings()
    info("Creating the demo account (users, groups, numbers, IVRs, tags, contacts)...")
    demo_service.seed_demo(current, **account)  # type: ignore[arg-type]
    if history_days:
        info(f"Simulating {history_days} days of calls (seed {seed})...")
        report = simulate_recent_history(current, days=history_days, seed=seed)
        info(f"Recorded {report.calls} calls from {report.first_day} to {report.last_day}.")
    return demo_service.summary(current)


def demo(
    history_days: HistoryDays = 90,
    seed: Seed = 2026,
    speed: Annotated[float, typer.Option("--speed", help="Speed of the live simulated traffic.")] = 10.0,
    ws: Annotated[str | None, typer.Option("--ws", help="Live feed address HOST:PORT.")] = None,
    run_for: Annotated[float | None, typer.Option(
        "--for", help="Stop the live engine (and the TUI) after this many seconds "
        "(default: Ctrl-C, or q in the TUI).")] = None,
    no_engine: Annotated[bool, typer.Option(
        "--no-engine", help="Seed (or show) the demo account and stop there.")] = False,
    headless: Annotated[bool, typer.Option(
        "--headless", help="No TUI: print a status line every 5 s (the default when stdout is not "
        "a terminal, so scripts and CI never hang on a screen).")] = False,
    ascii_only: Annotated[bool, typer.Option(
        "--ascii", help="TUI in ASCII only (no box drawing). Colours off: NO_COLOR=1.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """A living contact center: seed a demo account with history, run the engine and open the TUI.

    Engine and TUI share one process: quitting the TUI stops the engine and closes every call record.
    """
    from ringtui.services import demo as demo_service
    from ringtui.services import setup as setup_service

    current = settings()
    if setup_service.is_initialised(current):
        info("The database already holds an account; using it.")
        result = demo_service.summary(current)
    else:
        result = _seed_demo(history_days, seed)
    render_object(result, as_json=as_json, title="ringtui demo account")
    if no_engine:
        return
    import sys

    if not headless and not as_json and sys.stdin.isatty() and sys.stdout.isatty():
        _demo_tui(current, ws=ws or current.engine_ws, seed=seed, speed=speed,
                  time_zone=str(result["timezone"]), ascii_only=ascii_only, run_for=run_for)
        return
    import asyncio

    from ringtui.engine.launcher import run_engine

    info("Starting the engine with simulated traffic; in another terminal: `ringtui engine status`.")
    asyncio.run(run_engine(current, ws=ws or current.engine_ws, seed=seed, run_for=run_for, simulate=True,
                           speed=speed, time_zone=str(result["timezone"]), report_every=5.0))


def _demo_tui(current: Settings, *, ws: str, seed: int, speed: float, time_zone: str,
              ascii_only: bool, run_for: float | None) -> None:
    """The engine and the simulator on the TUI's own asyncio loop; the TUI joins its feed."""
    from ringtui.engine.client import feed_url
    from ringtui.engine.launcher import in_process_engine
    from ringtui.screens.launch import build_context, run_tui, token_from

    _runtime, engine = in_process_engine(current, ws=ws, seed=seed, speed=speed, time_zone=time_zone,
                                         log_file=current.token_file.parent / "demo-engine.log")
    code = run_tui(build_context(current, ascii_only=ascii_only), feed_url(ws),
                   token_from(current.token_file, None), engine=engine, run_for=run_for)
    if code == 0:
        info("ringtui demo: engine stopped; every call record is written.")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(demo)
