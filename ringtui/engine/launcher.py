"""Starting the engine from the command line: signals, a time limit, a status line."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ringtui.config import Settings
from ringtui.engine.core.clock import ScaledClock
from ringtui.engine.runtime import EngineOptions, EngineRuntime
from ringtui.engine.simulator import simulator_for
from ringtui.errors import RingtuiError


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def simulation_start(zone_name: str, now: datetime | None = None) -> datetime:
    """Where simulated time begins: now, or the next weekday 09:30 when the center is closed,
    so that a demo always opens on a working contact center."""
    zone = ZoneInfo(zone_name)
    local = (now or datetime.now(UTC)).astimezone(zone)
    if local.weekday() < 5 and time(9) <= local.time() < time(17, 30):
        return local.astimezone(UTC)
    day = local.date() + timedelta(days=0 if local.time() < time(9) else 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 30), zone).astimezone(UTC)


def _simulation(runtime: EngineRuntime, seed: int | None) -> Callable[[], Awaitable[None]]:
    """The simulator as an extra task of the runtime, built once the configuration is loaded."""

    async def simulate() -> None:
        config = runtime.config
        assert config is not None
        simulator = simulator_for(runtime.center, config, random.Random(seed), sink=runtime.apply,
                                  id_prefix=f"live{int(runtime.clock.now().timestamp())}", responds=False)
        runtime.action_sinks.append(simulator.respond)
        from ringtui.engine.campaigns.telephony import SimulatedTelephony

        runtime.campaign_telephony = SimulatedTelephony(random.Random(seed))  # the demo's campaigns call too
        await simulator.run_live()

    return simulate


def _sip_gateway(runtime: EngineRuntime, address: str, stop: asyncio.Event) -> Callable[[], Awaitable[None]]:
    """The SIP gateway (registrar) as an extra task; aiovoip is loaded only when it is asked for.
    An engine asked for SIP that cannot listen stops, rather than run without its phones."""
    from ringtui.engine.sip.gateway import SipGateway

    gateway = SipGateway(runtime, address)

    async def serve() -> None:
        task = asyncio.create_task(gateway.run())
        while gateway.address is None and not task.done():
            await asyncio.sleep(0.05)
        if gateway.address is not None:
            _say(f"ringtui engine: SIP registrar on udp:{gateway.address[0]}:{gateway.address[1]}, "
                 f"domain {runtime.settings.sip_domain}.")
        try:
            await task
        except OSError as error:
            _say(f"ringtui engine: cannot serve SIP on {address}: {error}; stopping.")
            stop.set()

    return serve


def status_line(runtime: EngineRuntime) -> str:
    """One line for a terminal: the time, agents by state, waiting calls, today's figures."""
    snapshot = runtime.center.snapshot()
    states = Counter(agent["state"] for agent in snapshot["agents"])
    kpis = runtime.kpis.figures(runtime.clock.now())
    level = kpis["service_level"]
    zone = runtime.center.zone
    return (f"{runtime.clock.now().astimezone(zone):%a %H:%M}  agents: {states['free']} free, "
            f"{states['in_call'] + states['ringing']} busy, {states['snooze']} snooze, {states['off']} off  "
            f"waiting: {len(snapshot['waiting'])}  today: {kpis['inbound_calls']} in, "
            f"{kpis['answered_calls']} answered"
            + (f", service level {level:.0%}" if level is not None else ""))


def in_process_engine(settings: Settings, *, ws: str, seed: int | None = None, speed: float = 1.0,
                      time_zone: str = "UTC", log_file: Path | None = None
                      ) -> tuple[EngineRuntime, Callable[[asyncio.Event], Awaitable[None]]]:
    """An engine with simulated traffic to run beside a TUI on its loop (`ringtui demo`).

    Nothing is written to the terminal (the TUI owns it): warnings go to `log_file`.
    The returned coroutine function runs the engine until its event is set, then
    closes every record, like `engine run` on Ctrl-C.
    """
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger = logging.getLogger("ringtui")
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    runtime = EngineRuntime(settings, EngineOptions(ws=ws, seed=seed),
                            clock=ScaledClock(speed, simulation_start(time_zone)))

    async def run(stop: asyncio.Event) -> None:
        try:
            await runtime.run(stop, _simulation(runtime, seed))
        except OSError as error:
            raise RingtuiError(f"cannot serve the live feed on {ws}: {error.strerror or error}; "
                               "give another address with --ws HOST:PORT") from None

    return runtime, run


async def run_engine(settings: Settings, *, ws: str, seed: int | None = None, auto_snooze_after: int = 0,
                     run_for: float | None = None, simulate: bool = False, speed: float = 1.0,
                     time_zone: str = "UTC", report_every: float | None = None,
                     sip: str | None = None) -> EngineRuntime:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    clock = ScaledClock(speed, simulation_start(time_zone)) if simulate else None
    runtime = EngineRuntime(settings, EngineOptions(ws=ws, auto_snooze_after=auto_snooze_after, seed=seed),
                            clock=clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if run_for is not None:
        loop.call_later(run_for, stop.set)

    async def announce() -> None:
        while runtime.address is None:
            await asyncio.sleep(0.05)
        host, port = runtime.address
        snapshot = runtime.center.snapshot()
        traffic = (f" Simulated traffic at {speed:g}x from {runtime.clock.now():%Y-%m-%d %H:%M} UTC."
                   if simulate else "")
        _say(f"ringtui engine: feed on ws://{host}:{port}, token in {settings.token_file}; "
             f"{len(snapshot['agents'])} agents, {len(runtime.center.scenarios)} IVRs.{traffic} "
             "Ctrl-C stops it.")

    async def report() -> None:
        while True:
            await asyncio.sleep(report_every or 5)
            _say(status_line(runtime))

    extra = [announce, _simulation(runtime, seed)] if simulate else [announce]
    if report_every:
        extra.append(report)
    if sip:
        extra.append(_sip_gateway(runtime, sip, stop))
    try:
        await runtime.run(stop, *extra)
    except OSError as error:  # the feed's address is taken or not ours
        raise RingtuiError(f"cannot serve the live feed on {ws}: {error.strerror or error}; "
                           "give another address with --ws HOST:PORT") from None
    ended = len(runtime.closed_at_stop)
    _say("ringtui engine: stopped; every call record is written"
         + (f" ({ended} call(s) in progress closed as ended by the engine)." if ended else "."))
    return runtime
