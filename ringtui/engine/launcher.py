"""Starting the engine from the command line: signals, a time limit, a status line."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from ringtui.config import Settings
from ringtui.engine.runtime import EngineOptions, EngineRuntime


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run_engine(settings: Settings, *, ws: str, seed: int | None = None, auto_snooze_after: int = 0,
                     run_for: float | None = None) -> EngineRuntime:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runtime = EngineRuntime(settings, EngineOptions(ws=ws, auto_snooze_after=auto_snooze_after, seed=seed))
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
        _say(f"ringtui engine: feed on ws://{host}:{port}, token in {settings.token_file}; "
             f"{len(snapshot['agents'])} agents, {len(runtime.center.scenarios)} IVRs. "
             "Ctrl-C stops it.")

    await runtime.run(stop, announce)
    _say("ringtui engine: stopped; every call record is written.")
    return runtime
