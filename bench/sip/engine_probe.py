"""`ringtui engine run ARGS...` exactly as the command runs it, plus a probe for bench/sip_load.py:
every second the SIP gateway's counts (asyncio tasks, server transactions, call legs, calls in
the core, edge drops) are appended as one JSON line to $RINGTUI_BENCH_PROBE. With
$RINGTUI_BENCH_TRACEMALLOC=FILE, tracemalloc runs and every 30 s FILE gets the 15 source lines
whose allocations grew most since the first minute (where a leak would be). With
$RINGTUI_BENCH_CPROFILE=FILE, the event loop's thread runs under cProfile while the SIP gateway
runs, and FILE gets its stats when it stops.

    RINGTUI_BENCH_PROBE=probe.jsonl python bench/sip/engine_probe.py engine run --sip 127.0.0.1:5060
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ringtui.engine.sip import gateway

EVERY_S = 1.0


def counts(sip: gateway.SipGateway) -> dict[str, float]:
    calls = sip.calls
    return {"at": time.time(), "asyncio_tasks": len(asyncio.all_tasks()),
            "transactions": len(sip.endpoint.transactions), "endpoint_tasks": len(sip.endpoint.tasks),
            "unacked": len(sip.endpoint.unacked), "outbound_calls": len(sip.outbound.calls),
            "caller_legs": len(calls.callers), "caller_dialogs": len(calls.caller_dialogs),
            "agent_legs": len(calls.agent_legs), "rings": len(calls.rings),
            "core_calls": len(sip.runtime.center.calls), **sip.guard.counts()}


def probed(run):
    async def run_with_probe(self: gateway.SipGateway) -> None:
        async def probe() -> None:
            with open(os.environ["RINGTUI_BENCH_PROBE"], "a", encoding="utf-8") as out:
                while True:
                    out.write(json.dumps(counts(self)) + "\n")
                    out.flush()
                    await asyncio.sleep(EVERY_S)

        tasks = [asyncio.create_task(probe())]
        if os.environ.get("RINGTUI_BENCH_TRACEMALLOC"):
            tasks.append(asyncio.create_task(growth(Path(os.environ["RINGTUI_BENCH_TRACEMALLOC"]))))
        profiler = cProfile.Profile() if os.environ.get("RINGTUI_BENCH_CPROFILE") else None
        if profiler is not None:
            profiler.enable()
        try:
            await run(self)
        finally:
            if profiler is not None:  # the stop: written before the engine's own shutdown work
                profiler.disable()
                profiler.dump_stats(os.environ["RINGTUI_BENCH_CPROFILE"])
            for task in tasks:
                task.cancel()

    return run_with_probe


async def growth(path: Path) -> None:
    tracemalloc.start(4)
    await asyncio.sleep(60)
    first = tracemalloc.take_snapshot()
    while True:
        await asyncio.sleep(30)
        top = tracemalloc.take_snapshot().compare_to(first, "lineno")[:15]
        path.write_text(f"{time.ctime()}: traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MiB\n"
                        + "\n".join(str(stat) for stat in top) + "\n")


if __name__ == "__main__":
    gateway.SipGateway.run = probed(gateway.SipGateway.run)  # type: ignore[method-assign]
    from ringtui.cli import main

    sys.argv = ["ringtui", *sys.argv[1:]]
    main()
