"""CPU and memory of the Activity screen under a busy feed, beside a plain DataTable baseline;
and the time from `ringtui tui` to its first full paint.

    .venv/bin/python bench/tui_activity.py [--seconds 10] [--agents 1000] [--waiting 300]
                                           [--rate 200] [--no-paint] [--paint-runs 5]
    .venv/bin/python bench/tui_activity.py --paint-only [--paint-runs 9] [--baseline-tree /work/main]

Part 1 (same process, one after the other, same event stream):
- ringtui: the Activity screen (run_test, headless, 160x48) fed by a LiveState receiving
  RATE events/s (agent state changes, calls waiting/answered/ended keeping ~WAITING calls
  waiting); the screen applies the coalesced changes at 10 Hz, in place.
- baseline: a plain Textual DataTable of AGENTS rows whose cell is updated at once for
  every agent event (no coalescing), the way a naive live table is written.
CPU is process CPU time / wall time (100% = one core); RSS is the process's peak (VmHWM)
and current (VmRSS) after each phase. The feed is applied in-process (no websockets), so
the figure is the TUI's own cost.

Part 2: `ringtui tui --engine ws://...` started in tmux against `ringtui engine run
--simulate` on a throw-away demo database; the time until the board shows its agents and
today's KPIs (capture-pane polled every 20 ms), beside `ringtui --help` and `python -c`
in tmux in the same runs (and another source tree's `ringtui tui`, interleaved, with
--baseline-tree).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from ringtui.config import Settings  # noqa: E402
from ringtui.screens.activity import ActivityScreen  # noqa: E402
from ringtui.screens.app import RingtuiApp  # noqa: E402
from ringtui.screens.context import TuiContext  # noqa: E402
from ringtui.screens.feed import LiveState  # noqa: E402
from ringtui.screens.live_screen import MIN_FRAME_S  # noqa: E402

STATES = ("free", "in_call", "ringing", "after_call_work", "snooze", "off")
START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def memory() -> tuple[float, float]:
    """(peak, current) resident set size in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


class Stream:
    """A reproducible feed: agent changes and calls that wait, get answered and end."""

    def __init__(self, agents: int, waiting: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.emails = [f"agent{i:04d}@acme.test" for i in range(agents)]
        self.waiting_target = waiting
        self.waiting: list[str] = []
        self.talking: list[str] = []
        self.next_call = 0
        self.now = START

    def snapshot(self) -> dict[str, Any]:
        agents = [{"email": e, "name": f"Agent {i:04d}", "state": self.rng.choice(STATES), "reason": None,
                   "interface": self.rng.choice(("sip", "web", "ios", "android")), "device": None,
                   "since": START.isoformat()} for i, e in enumerate(self.emails)]
        waiting = []
        for _ in range(self.waiting_target):
            call_id = self._new_call()
            self.waiting.append(call_id)
            waiting.append({"call_id": call_id, "from_number": f"+336{self.next_call:08d}",
                            "ivr": self.rng.choice(("Standard", "Support", "Sales")), "wait_s": 10.0,
                            "vip": self.rng.random() < 0.05})
        return {"type": "snapshot", "agents": agents, "waiting": waiting, "calls": []}

    def _new_call(self) -> str:
        self.next_call += 1
        return f"call-{self.next_call}"

    def event(self, dt: float) -> dict[str, Any]:
        self.now += timedelta(seconds=dt)
        at = self.now.isoformat()
        roll = self.rng.random()
        if roll < 0.6:
            state = self.rng.choice(STATES)
            return {"type": "agent_state", "at": at, "email": self.rng.choice(self.emails), "state": state,
                    "reason": "Break" if state == "snooze" else None, "interface": "sip", "since": at}
        if roll < 0.75 or not self.waiting:
            call_id = self._new_call()
            self.waiting.append(call_id)
            return {"type": "call_waiting", "at": at, "call_id": call_id, "vip": False, "position": 1,
                    "from_number": f"+336{self.next_call:08d}",
                    "ivr": self.rng.choice(("Standard", "Support", "Sales"))}
        if roll < 0.9 and len(self.waiting) > self.waiting_target // 2:
            call_id = self.waiting.pop(0)
            self.talking.append(call_id)
            return {"type": "call_answered", "at": at, "call_id": call_id, "wait_s": 12.0,
                    "agent": self.rng.choice(self.emails)}
        pool = self.talking or self.waiting
        call_id = pool.pop(0)
        return {"type": "call_ended", "at": at,
                "call": {"call_id": call_id, "direction": "in", "ivr": "Standard", "type": "answered"}}


async def drive(apply: Any, stream: Stream, rate: float, seconds: float) -> int:
    """Apply `rate` events a second for `seconds`, in 10 ms slices."""
    sent = 0
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            apply(stream.event(1.0 / rate))
            sent += 1
        await asyncio.sleep(0.01)
    return sent


async def ringtui_phase(args: argparse.Namespace) -> dict[str, Any]:
    stream = Stream(args.agents, args.waiting)
    state = LiveState()
    state.apply({"type": "hello", "rights": ["feed:read"]})
    state.apply(stream.snapshot())
    state.apply({"type": "kpi", "at": START.isoformat(), "service_level": 0.9, "inbound_calls": 100})
    settings = Settings(database_url=f"sqlite:///{tempfile.mkdtemp()}/none.db")
    scope = {"email": "boss@acme.test", "role": "super_admin", "areas": ["activity"], "agents": None,
             "ivrs": None}
    names = {f"+336{i:08d}": None for i in range(1, args.waiting + int(args.rate * args.seconds) + 10)}
    context = TuiContext(settings=settings, options={"scope": scope, "refresh_hz": 10, "keymap": {},
                                                     "contact_names": names})
    context.feed = state
    app = RingtuiApp(context, start="activity")
    async with app.run_test(size=(160, 48)) as pilot:
        while not isinstance(app.screen, ActivityScreen):
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        screen = app.screen
        cpu0, wall0, frames0 = time.process_time(), time.monotonic(), screen.applied_frames
        sent = await drive(state.apply, stream, args.rate, args.seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        frames = screen.applied_frames - frames0
        # the last frame (a busy screen draws one at least every MIN_FRAME_S): the tables must
        # then hold what the state holds
        await pilot.pause(MIN_FRAME_S + 0.5)
        rows = sum(screen.query_one(f"#board-{column}", DataTable).row_count
                   for column in ("free", "in_call", "snooze", "off"))
        waiting = screen.query_one("#waiting", DataTable).row_count
    peak, current = memory()
    return {"events": sent, "cpu": cpu / wall, "frames_per_s": frames / wall, "peak_mb": peak,
            "rss_mb": current, "board_rows": rows, "waiting_rows": waiting,
            "in_step": rows == len(state.agents) and waiting == len(state.waiting)}


async def virtual_run(args: argparse.Namespace) -> dict[str, Any]:
    """The same stream in stream time, not wall time: for each 100 ms of stream, its events,
    then one frame drawn (`pilot.pause` renders what changed). CPU seconds over stream
    seconds is then the share of a core the screen would need to keep up in real time,
    whatever else the machine is running. The baseline gets the same treatment: its cells
    updated for every event, one render per 100 ms."""
    ticks = int(args.seconds * 10)
    per_tick = args.rate / 10

    stream = Stream(args.agents, args.waiting)
    state = LiveState()
    state.apply({"type": "hello", "rights": ["feed:read"]})
    state.apply(stream.snapshot())
    state.apply({"type": "kpi", "at": START.isoformat(), "service_level": 0.9, "inbound_calls": 100})
    settings = Settings(database_url=f"sqlite:///{tempfile.mkdtemp()}/none.db")
    scope = {"email": "boss@acme.test", "role": "super_admin", "areas": ["activity"], "agents": None,
             "ivrs": None}
    names = {f"+336{i:08d}": None for i in range(1, args.waiting + int(args.rate * args.seconds) + 10)}
    context = TuiContext(settings=settings, options={"scope": scope, "refresh_hz": 10, "keymap": {},
                                                     "contact_names": names})
    context.feed = state
    app = RingtuiApp(context, start="activity")
    async with app.run_test(size=(160, 48)) as pilot:
        while not isinstance(app.screen, ActivityScreen) or not app.screen.ready:
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        screen = app.screen
        app.paused = True  # the screen's own timers stand still; this loop drives its frames
        cpu0 = time.process_time()
        for tick in range(ticks):
            for _ in range(int(per_tick)):
                state.apply(stream.event(1.0 / args.rate))
            screen.apply_pending(force=True)
            if tick % 10 == 9:
                screen.tick()
            await pilot.pause(0)
        ours = (time.process_time() - cpu0) / args.seconds

    stream = Stream(args.agents, args.waiting)
    stream.snapshot()
    base_app = Baseline(stream.emails)
    async with base_app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)
        table = base_app.query_one(DataTable)
        cpu0 = time.process_time()
        for _tick in range(ticks):
            for _ in range(int(per_tick)):
                event = stream.event(1.0 / args.rate)
                if event["type"] == "agent_state":
                    table.update_cell(event["email"], "state", event["state"])
                    table.update_cell(event["email"], "interface", event.get("interface") or "-")
            await pilot.pause(0)
        base = (time.process_time() - cpu0) / args.seconds
    return {"ringtui": ours, "baseline": base}


class Baseline(App[None]):
    def __init__(self, agents: list[str]) -> None:
        super().__init__()
        self.agents = agents

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable()
        table.add_column("Agent", key="agent")
        table.add_column("State", key="state")
        table.add_column("Interface", key="interface")
        for email in self.agents:
            table.add_row(email, "free", "sip", key=email)
        yield table


async def baseline_phase(args: argparse.Namespace) -> dict[str, Any]:
    stream = Stream(args.agents, args.waiting)
    stream.snapshot()
    app = Baseline(stream.emails)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        table = app.query_one(DataTable)

        def apply(event: dict[str, Any]) -> None:
            if event["type"] == "agent_state":
                table.update_cell(event["email"], "state", event["state"])
                table.update_cell(event["email"], "interface", event.get("interface") or "-")

        cpu0, wall0 = time.process_time(), time.monotonic()
        sent = await drive(apply, stream, args.rate, args.seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    peak, current = memory()
    return {"events": sent, "cpu": cpu / wall, "peak_mb": peak, "rss_mb": current}


# ---------------------------------------------------------------- first paint


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until_screen(session: str, predicate: Any, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        text = subprocess.run(["tmux", "-L", session, "capture-pane", "-p", "-t", session],
                              capture_output=True, text=True).stdout
        if predicate(text):
            return time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError(f"nothing painted in {timeout} s:\n{text}")


def tmux_time(command: str, predicate: Any, env: dict[str, str]) -> float:
    session = f"bench-{os.getpid()}-{random.randrange(10**6)}"
    started = time.monotonic()
    subprocess.run(["tmux", "-L", session, "new-session", "-d", "-s", session, "-x", "160", "-y", "48",
                    "sh", "-c", command + "; sleep 30"], env=env, check=True)
    try:
        _until_screen(session, predicate)
        return time.monotonic() - started
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True)


def first_paint(runs: int, baseline_tree: str | None = None) -> dict[str, float]:
    """Medians over `runs` of: `ringtui tui` to its first full paint (this tree, and a
    baseline tree's if given, interleaved), `ringtui --help` and `python -c`, in tmux."""
    ringtui = Path(sys.executable).with_name("ringtui")
    work = Path(tempfile.mkdtemp())
    env = {**os.environ, "RINGTUI_DATABASE_URL": f"sqlite:///{work / 'demo.db'}", "TERM": "xterm-256color",
           "XDG_DATA_HOME": str(work / "data"), "XDG_CONFIG_HOME": str(work / "cfg"),
           "PYTHONPATH": str(ROOT)}
    subprocess.run([str(ringtui), "demo", "--history-days", "1", "--no-engine"], env=env, check=True,
                   capture_output=True)
    port = free_port()
    engine = subprocess.Popen([str(ringtui), "engine", "run", "--simulate", "--speed", "10", "--ws",
                               f"127.0.0.1:{port}"], env=env, stderr=subprocess.DEVNULL)
    trees = {"tui": env} | ({"baseline": {**env, "PYTHONPATH": baseline_tree}} if baseline_tree else {})
    timings: dict[str, list[float]] = {name: [] for name in (*trees, "help", "python")}

    def painted(text: str) -> bool:
        return "Today  SL" in text and "Free (" in text and "Free (0)" not in text

    try:
        time.sleep(3)
        for _ in range(runs):
            for name, tree_env in trees.items():
                timings[name].append(tmux_time(f"{ringtui} tui --engine ws://127.0.0.1:{port}", painted,
                                               tree_env))
            timings["help"].append(tmux_time(f"{ringtui} --help", lambda t: "Usage" in t, env))
            timings["python"].append(tmux_time(f"{sys.executable} -c 'print(\"READY\")'",
                                               lambda t: "READY" in t, env))
    finally:
        engine.terminate()
        engine.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    return {f"{name}_median_s": sorted(values)[len(values) // 2] for name, values in timings.items()} | \
        {"tui_max_s": max(timings["tui"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=300)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--paint-runs", type=int, default=5)
    parser.add_argument("--no-paint", action="store_true")
    parser.add_argument("--paint-only", action="store_true", help="only part 2 (first paint)")
    parser.add_argument("--baseline-tree", help="another ringtui source tree (e.g. a main worktree) whose "
                        "first paint is timed in the same runs, interleaved")
    parser.add_argument("--no-virtual", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.agents} agents, {args.waiting} waiting, "
          f"{args.rate:g} events/s for {args.seconds:g} s, 160x48")
    if args.paint_only:
        report_paint(args)
        return
    ours = asyncio.run(ringtui_phase(args))
    print(f"ringtui Activity: {ours['events']} events, CPU {ours['cpu']:.0%} of a core, "
          f"{ours['frames_per_s']:.1f} frames/s applied, peak RSS {ours['peak_mb']:.0f} MB "
          f"(now {ours['rss_mb']:.0f} MB), board {ours['board_rows']} agents, "
          f"{ours['waiting_rows']} waiting, "
          f"tables in step with the feed: {'yes' if ours['in_step'] else 'NO'}")
    base = asyncio.run(baseline_phase(args))
    print(f"plain DataTable baseline: {base['events']} events, CPU {base['cpu']:.0%} of a core, "
          f"peak RSS {base['peak_mb']:.0f} MB (now {base['rss_mb']:.0f} MB)")
    if not args.no_virtual:
        cost = asyncio.run(virtual_run(args))
        print(f"in stream time (10 frames per stream second): ringtui Activity needs {cost['ringtui']:.0%} "
              f"of a core, the plain DataTable {cost['baseline']:.0%}")
    if not args.no_paint and shutil.which("tmux"):
        report_paint(args)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def report_paint(args: argparse.Namespace) -> None:
    paint = first_paint(args.paint_runs, args.baseline_tree)
    baseline = (f", baseline tree {paint['baseline_median_s']:.2f} s" if "baseline_median_s" in paint else "")
    print(f"ringtui tui to first full paint: median {paint['tui_median_s']:.2f} s, "
          f"max {paint['tui_max_s']:.2f} s{baseline}; in the same runs ringtui --help "
          f"{paint['help_median_s']:.2f} s, python -c {paint['python_median_s']:.2f} s (all in tmux)")


if __name__ == "__main__":
    main()
