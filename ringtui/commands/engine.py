"""`ringtui engine ...`: run the routing engine, ask a running one for its state."""

from __future__ import annotations

from typing import Annotated

import typer

from ringtui.commands._runtime import JsonFlag, settings
from ringtui.output import info, render_rows, to_json

NAME = "engine"
HELP = "Run the routing engine (SIP, live feed, simulator) or ask a running one for its state."
app = typer.Typer(no_args_is_help=True)

EngineOption = Annotated[str | None, typer.Option(
    "--engine", help="Feed address ws://HOST:PORT (default [engine] ws of config.toml).")]
TokenOption = Annotated[str | None, typer.Option(
    "--token", envvar="RINGTUI_ENGINE_TOKEN",
    help="Feed token or API key with feed:read (default: the engine's local token file).")]


@app.command("run")
def run(
    ws: Annotated[str | None, typer.Option(
        "--ws", help="Serve the live feed on HOST:PORT (default [engine] ws, 127.0.0.1:8765).")] = None,
    sip: Annotated[str | None, typer.Option(
        "--sip", help="Serve SIP (agents' phones register) on udp HOST:PORT, e.g. 127.0.0.1:5060 "
        "([engine] sip of config.toml); without it, no SIP.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the engine's random choices.")] = None,
    auto_snooze: Annotated[int, typer.Option(
        "--auto-snooze", help="Snooze an agent after N unanswered rings in a row (0: never).")] = 0,
    run_for: Annotated[float | None, typer.Option(
        "--for", help="Stop after this many seconds (default: until Ctrl-C or SIGTERM).")] = None,
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Generate realistic traffic on the account (no phone needed).")] = False,
    speed: Annotated[float, typer.Option(
        "--speed", help="With --simulate: simulated seconds per real second.")] = 1.0,
) -> None:
    """Run the routing engine in the foreground: live feed, call records, webhooks."""
    import asyncio

    from ringtui.engine.launcher import run_engine
    from ringtui.services.base import operation

    if sip is not None:
        from ringtui.engine.runtime import split_address

        try:
            split_address(sip)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--sip") from None
    current = settings()
    with operation(current) as op:  # the account must exist; its time zone paces the simulation
        zone = op.account.timezone
    asyncio.run(run_engine(current, ws=ws or current.engine_ws, seed=seed, auto_snooze_after=auto_snooze,
                           run_for=run_for, simulate=simulate, speed=speed, time_zone=zone, sip=sip))


@app.command("status")
def status(engine: EngineOption = None, token: TokenOption = None, as_json: JsonFlag = False) -> None:
    """Agents by state, waiting calls and calls in progress of a running engine."""
    import asyncio

    from ringtui.engine.client import feed_url, fetch_snapshot
    from ringtui.engine.token import read_token

    current = settings()
    url = feed_url(engine or current.engine_ws)
    snapshot = asyncio.run(fetch_snapshot(url, token or read_token(current.token_file)))
    if as_json:
        typer.echo(to_json(snapshot))
        return
    agents = [{**agent, "phones": [phone["address"] for phone in agent.get("sip_phones", [])]}
              for agent in snapshot.get("agents", [])]
    render_rows(agents, title="Agents",
                columns=["email", "name", "state", "reason", "interface", "device", "phones", "since"])
    render_rows(snapshot.get("waiting", []), title="Waiting calls",
                columns=["call_id", "from_number", "ivr", "wait_s", "vip"])
    calls = [{**call, "phones": [f"{leg['agent']} {leg['state']}" for leg in call.get("sip_legs", [])]}
             for call in snapshot.get("calls", [])]
    render_rows(calls, title="Calls in progress",
                columns=["call_id", "direction", "from_number", "to_number", "ivr", "agent", "state",
                         "duration_s", "channel", "sip_peer", "phones"])
    info(f"engine at {url}")
