"""Live feed fan-out: 1,000 events/s to 20 websocket clients, latency from publish to receipt.

This process serves a real `ringtui.engine.feed.Feed` on 127.0.0.1 (a free port),
with a token check like the engine's. A second process (this script again, so the
clients do not share the server's CPU time slice and event loop) opens 20
`websockets` clients with `Authorization: Bearer TOKEN`; each reads the hello and
the snapshot, then every event. Once all are subscribed, the server publishes
AgentStateChanged events at 1,000/s for 10 s, on a schedule (each loop turn publishes
every event due by then, so the rate holds even when a turn is late), each stamped
with the wall-clock time of its `Feed.publish` call in its `at` field. Each client
takes receive time minus `at`. At the end the server publishes a closing event; the
clients report, and the figures are p50 / p99 / max latency over all clients, events
delivered against published, and clients the feed dropped (close code 1013: its
queue of 1,000 frames overflowed). Stops by itself (the clients give up 15 s after
the planned end).

    .venv/bin/python bench/feed_fanout.py [--clients 20] [--rate 1000] [--seconds 10] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_P99_MS = 50.0
END = "bench_end"
GRACE_S = 15.0


# ---------------------------------------------------------------- the clients (child process)


async def one_client(url: str, token: str, ready: asyncio.Event, connected: list[int],
                     expected: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    latencies: list[float] = []
    close_code = None
    last_seq, gaps = 0, 0
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                       max_size=2**20, compression=None) as ws:
        hello, snapshot = json.loads(await ws.recv()), json.loads(await ws.recv())
        assert hello["type"] == "hello" and snapshot["type"] == "snapshot", (hello, snapshot)
        connected[0] += 1
        if connected[0] == expected:
            ready.set()
        try:
            async for frame in ws:
                received = time.time()
                event = json.loads(frame)
                if event["type"] == END:
                    break
                latencies.append(received - datetime.fromisoformat(event["at"]).timestamp())
                gaps += event["seq"] != last_seq + 1 and last_seq != 0
                last_seq = event["seq"]
        except ConnectionClosed as closed:
            close_code = closed.rcvd.code if closed.rcvd else None
    return {"received": len(latencies), "latencies": latencies, "close_code": close_code, "gaps": gaps}


async def run_clients(url: str, token: str, count: int, seconds: float) -> dict[str, Any]:
    ready, connected = asyncio.Event(), [0]
    tasks = [asyncio.create_task(one_client(url, token, ready, connected, count)) for _ in range(count)]
    await asyncio.wait_for(ready.wait(), timeout=30)
    print("ready", flush=True)  # the server starts publishing on this line
    cpu_before = time.process_time()
    done, pending = await asyncio.wait(tasks, timeout=seconds + GRACE_S)
    cpu = time.process_time() - cpu_before
    for task in pending:
        task.cancel()
    results = [task.result() for task in done if not task.exception()]
    latencies = sorted(latency for result in results for latency in result["latencies"])
    return {
        "clients": count, "finished": len(results), "clients_cpu_s": cpu, "timed_out": len(pending),
        "failed": sum(1 for task in done if task.exception()),
        "received": [result["received"] for result in results],
        "closed_by_server": [result["close_code"] for result in results if result["close_code"] is not None],
        "gaps": sum(result["gaps"] for result in results),
        "p50_ms": 1000 * percentile(latencies, 0.50), "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * latencies[-1] if latencies else float("nan"),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
    }


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# ---------------------------------------------------------------- the server (this process)


async def publish_for(feed: Any, rate: float, seconds: float) -> tuple[int, float]:
    """Publish `rate` events a second for `seconds`; returns how many and the real duration."""
    from ringtui.engine.core.events import AgentStateChanged
    from ringtui.vocab import AgentState

    states = (AgentState.FREE, AgentState.RINGING, AgentState.IN_CALL, AgentState.AFTER_CALL_WORK)
    total, published = int(rate * seconds), 0
    started = time.perf_counter()
    while published < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        while published < due:
            email = f"agent{published % 200:03d}@bench.test"
            feed.publish(AgentStateChanged(at=datetime.now(UTC), email=email,
                                           state=states[published % len(states)], interface="web"))
            published += 1
        await asyncio.sleep(0.001)
    return published, time.perf_counter() - started


async def serve_and_measure(clients: int, rate: float, seconds: float) -> dict[str, Any]:
    from ringtui.engine.feed import READ, Feed

    token = secrets.token_urlsafe(24)
    feed = Feed(lambda: {"agents": [], "waiting": [], "calls": []},
                lambda offered: frozenset({READ}) if offered == token else None)
    server = await feed.serve("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client-side", f"ws://127.0.0.1:{port}", "--token", token,
        "--clients", str(clients), "--seconds", str(seconds),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        if line.strip() != b"ready":
            raise SystemExit(f"the clients did not start: {line!r} {(await child.stderr.read())[-2000:]!r}")
        load = os.getloadavg()[0]
        cpu_before = time.process_time()
        published, took = await publish_for(feed, rate, seconds)
        cpu = time.process_time() - cpu_before
        await asyncio.sleep(0.5)  # let the queues drain before the closing event
        feed.publish({"type": END, "at": datetime.now(UTC)})
        out, err = await asyncio.wait_for(child.communicate(), timeout=seconds + GRACE_S + 30)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        server.close()
        await server.wait_closed()
    if child.returncode != 0:
        raise SystemExit(f"the clients failed ({child.returncode}): {err.decode()[-2000:]}")
    return json.loads(out.decode().splitlines()[-1]) | {
        "published": published, "publish_s": took, "server_cpu_s": cpu,
        "dropped_clients": feed.dropped_clients,
        "load": load}


def report(runs: list[dict[str, Any]], rate: float, seconds: float) -> None:
    print(f"Python {platform.python_version()}, websockets {websockets_version()}, {platform.system()} "
          f"{platform.machine()}, {os.cpu_count()} CPU(s); {runs[0]['clients']} clients in a second process, "
          f"{rate:,.0f} events/s for {seconds:g} s, loopback\n")
    print("| run | published | achieved rate (/s) | delivered (all clients) | min per client "
          "| dropped clients | p50 (ms) | p99 (ms) | max (ms) | server CPU (% of one) "
          "| clients' CPU (% of one) | load average |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for index, run in enumerate(runs, 1):
        delivered, fewest = sum(run["received"]), min(run["received"], default=0)
        print(f"| {index} | {run['published']:,} | {run['published'] / run['publish_s']:,.0f} "
              f"| {delivered:,} of {run['published'] * run['clients']:,} | {fewest:,} "
              f"| {run['dropped_clients']} | {run['p50_ms']:.2f} | {run['p99_ms']:.2f} | {run['max_ms']:.1f} "
              f"| {100 * run['server_cpu_s'] / run['publish_s']:.0f} "
              f"| {100 * run['clients_cpu_s'] / run['publish_s']:.0f} | {run['load']:.1f} |")
    p99 = statistics.median(run["p99_ms"] for run in runs)
    trouble = [run for run in runs
               if run["timed_out"] or run["failed"] or run["gaps"] or run["closed_by_server"]]
    for run in trouble:
        print(f"\nclients timed out {run['timed_out']}, failed {run['failed']}, sequence gaps {run['gaps']}, "
              f"closed by the server {run['closed_by_server']}")
    verdict = "meets" if p99 <= TARGET_P99_MS else "misses"
    print(f"\nmedian p99 {p99:.2f} ms {verdict} the target of {TARGET_P99_MS:.0f} ms")


def websockets_version() -> str:
    import websockets

    return websockets.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="Websocket clients (default 20).")
    parser.add_argument("--rate", type=float, default=1000, help="Events published a second (default 1000).")
    parser.add_argument("--seconds", type=float, default=10, help="How long to publish (default 10).")
    parser.add_argument("--runs", type=int, default=1, help="Runs, each with fresh clients (default 1).")
    parser.add_argument("--client-side", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.client_side:
        result = run_clients(options.client_side, options.token, options.clients, options.seconds)
        print(json.dumps(asyncio.run(result)))
        return
    runs = [asyncio.run(serve_and_measure(options.clients, options.rate, options.seconds))
            for _ in range(options.runs)]
    report(runs, options.rate, options.seconds)


if __name__ == "__main__":
    main()
