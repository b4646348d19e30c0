"""One busy simulated weekday, recorded: simulate_history on a 200-agent SQLite account.

Builds a template account once, through the same service functions as the CLI
commands (`ringtui init`, `groups create`, `numbers search/add/assign`, `users
import` of a generated CSV, `ivr apply` of a generated TOML): 200 agents in 10
groups, 5 IVRs (announce, menu, a ring step, queue steps, voicemail, survey), one
number per IVR and a direct line for 40 agents. Then times
`ringtui.engine.history.simulate_history` over one Monday (00:00 to 24:00 Europe/
Paris, plus the two hours the last calls need to end) with a Behaviour tuned to
about `--calls` calls, each run in a fresh process on a fresh copy of the template:

- recorded: the real Recorder writes every call record and ring attempt (it
  flushes every 5,000 events inside the simulation, so the writes are timed);
- no-op sink: the same simulation, same seed, with the Recorder replaced by a
  sink that drops the events, so the cost of recording is the difference;
- `python -c pass`, the cost of starting any Python, for scale.

Each child reports the simulation's wall time (config load, simulation, writes; not
the interpreter start or the imports), the events and calls, its max RSS, and the
rows the database holds afterwards. One more run of each kind under tracemalloc
gives the peak of Python allocations (tracemalloc slows it down; its time is not used).

    .venv/bin/python bench/simulated_day.py [--runs 3] [--calls 20000]
    .venv/bin/python bench/simulated_day.py --profile [--calls 20000]   # cProfile of one recorded run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AGENTS, GROUPS, IVRS, DIRECT_LINES = 200, 10, 5, 40
SEED = 7
DAY_END = datetime(2026, 11, 24, tzinfo=ZoneInfo("Europe/Paris"))  # the simulated day is Monday 23rd
TARGET_S = 10.0
ADMIN = "boss@bench.test"
STRATEGIES = ("longest-idle", "round-robin", "fewest-calls", "ring-all", "longest-idle")


def group_name(index: int) -> str:
    return f"Team {index + 1:02d}"


# ---------------------------------------------------------------- the account


def ivr_toml(count: int) -> str:
    """IVR k: a menu to a ring step (then a queue) for one team, a queue for the next, one for both."""
    parts = []
    for k in range(count):
        first, second = group_name(2 * k % GROUPS), group_name((2 * k + 1) % GROUPS)
        parts.append(f'''
[[ivr]]
name = "Line {k + 1}"
record = {"true" if k % 2 == 0 else "false"}

[[ivr.step]]
name = "welcome"
type = "announce"
text = "Welcome to line {k + 1}."

[[ivr.step]]
name = "menu"
type = "menu"
text = "Sales 1, support 2, billing 3."
choices = {{ "1" = "sales", "2" = "support", "3" = "billing" }}
timeout_s = 8
default = "support"

[[ivr.step]]
name = "sales"
type = "ring"
groups = ["{first}"]
strategy = "{STRATEGIES[k % len(STRATEGIES)]}"
ring_s = 20
skip_if = ["offline", "snooze"]

[[ivr.step]]
name = "sales-queue"
type = "queue"
groups = ["{first}", "{second}"]
strategy = "longest-idle"
ring_s = 15
max_wait_s = 300
exit = "messages"

[[ivr.step]]
name = "support"
type = "queue"
groups = ["{second}"]
strategy = "round-robin"
ring_s = 15
max_wait_s = 300
exit = "messages"

[[ivr.step]]
name = "billing"
type = "queue"
groups = ["{first}", "{second}"]
strategy = "fewest-calls"
ring_s = 20
max_wait_s = 240
exit = "messages"

[[ivr.step]]
name = "messages"
type = "voicemail"
text = "Please leave a message."

[[ivr.step]]
name = "rating"
type = "survey"
text = "Rate this call from 1 to 5."
category = "satisfaction"
''')
    return "".join(parts)


def write_users_csv(path: Path, direct_lines: list[str]) -> None:
    """200 agents, 20 a team; one in four also helps the next team; the first 40 have a direct line."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "role", "number", "groups"])
        for i in range(AGENTS):
            teams = [group_name(i % GROUPS)] + ([group_name((i + 1) % GROUPS)] if i % 4 == 0 else [])
            number = direct_lines[i] if i < len(direct_lines) else ""
            writer.writerow([f"agent.{i:03d}@bench.test", f"First{i}", f"Last{i}", "none", number,
                             ";".join(teams)])


def build_template(path: Path) -> None:
    from ringtui.config import Settings
    from ringtui.db import dispose_engines
    from ringtui.services import groups, ivrs, numbers, user_import
    from ringtui.services.base import operation
    from ringtui.services.setup import init_account

    settings = Settings(database_url=f"sqlite:///{path}")
    init_account(settings, company="Bench", plan="advanced", admin_email=ADMIN, country="FR")
    with operation(settings) as op:
        for index in range(GROUPS):
            groups.create_group(op, group_name(index))
        offers = numbers.search(op, "FR", "mobile", limit=IVRS + DIRECT_LINES)
        for offer in offers:
            numbers.add_number(op, offer["number"])
    bought = [offer["number"] for offer in offers]
    scenario, users_csv = path.with_name("ivrs.toml"), path.with_name("users.csv")
    scenario.write_text(ivr_toml(IVRS), encoding="utf-8")
    write_users_csv(users_csv, bought[IVRS:])
    with operation(settings) as op:
        user_import.import_users(op, users_csv, skip_invalid=False)
        ivrs.apply_file(op, scenario)
        for k, number in enumerate(bought[:IVRS]):
            numbers.assign(op, number, ivr=f"Line {k + 1}", label="Main line")
    dispose_engines()


# ---------------------------------------------------------------- one run (a child process)


class NoOpRecorder:
    """Stands in for ringtui.engine.recorder.Recorder: takes every event, writes nothing."""

    pending = 0

    def __init__(self, engine: Any) -> None:
        pass

    def handle(self, event: Any) -> None:
        pass

    def flush(self) -> int:
        return 0


def behaviour_for(calls: int) -> Any:
    from ringtui.engine.simulator import DAY_FACTORS, WEEKDAY_HOURS, Behaviour

    monday = DAY_FACTORS[0]
    return Behaviour(calls_per_busy_hour=calls / (sum(WEEKDAY_HOURS) * monday))


def peak_rss_kb() -> int:
    """This process's peak resident set: VmHWM on Linux, which, unlike getrusage's ru_maxrss, does not
    carry over the parent's peak through fork and exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(database: Path, sink: str, calls: int, trace: bool, profile: bool) -> dict[str, Any]:
    import tracemalloc

    from ringtui import db
    from ringtui.engine import history

    engine = db.engine_for(f"sqlite:///{database}")
    behaviour = behaviour_for(calls)
    if sink == "none":
        history.Recorder = NoOpRecorder  # type: ignore[assignment,misc]
    rss_before_kb = peak_rss_kb()
    if trace:
        tracemalloc.start()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.process_time()
    report = history.simulate_history(engine, days=1, seed=SEED, end=DAY_END, behaviour=behaviour)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(database.with_suffix(".prof")))
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    engine.dispose()
    return {"seconds": seconds, "cpu_s": cpu, "calls": report.calls, "events": report.events,
            "day": report.first_day, "rss_before_kb": rss_before_kb, "max_rss_kb": peak_rss_kb(),
            "tracemalloc_peak": peak}


# ---------------------------------------------------------------- the parent


def rows(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("call_record", "ring_attempt", "survey_answer")}


def one_run(template: Path, workdir: Path, sink: str, calls: int, *, trace: bool = False,
            profile: bool = False) -> dict[str, Any]:
    database = workdir / f"run-{sink}.db"
    shutil.copyfile(template, database)
    argv = [sys.executable, __file__, "--child", str(database), "--sink", sink, "--calls", str(calls)]
    argv += ["--trace"] * trace + ["--profile"] * profile
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the {sink} run failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.splitlines()[-1]) | rows(database)
    if profile:
        print_profile(database.with_suffix(".prof"))
    database.unlink()
    return result


def print_profile(path: Path) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


def python_pass(runs: int) -> tuple[float, int]:
    """Median wall time of `python -c pass`, and the peak RSS of a bare interpreter."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        seconds.append(time.perf_counter() - started)
    bare = subprocess.run([sys.executable, "-c", "print(open('/proc/self/status').read())"],
                          capture_output=True, text=True, check=False)
    peak = [line.split()[1] for line in bare.stdout.splitlines() if line.startswith("VmHWM:")]
    return statistics.median(seconds), int(peak[0]) if peak else 0


def summary_table(recorded: list[dict[str, Any]], dropped: list[dict[str, Any]],
                  traced: dict[str, dict[str, Any]], baseline: tuple[float, int]) -> str:
    lines = ["| run | calls | events | median (s) | min (s) | max (s) | CPU median (s) | calls/s "
             "| max RSS (MiB) | tracemalloc peak (MiB) | call_record | ring_attempt | survey_answer |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, runs, key in (("recorded (Recorder)", recorded, "record"), ("no-op sink", dropped, "none")):
        times = [run["seconds"] for run in runs]
        median, last = statistics.median(times), runs[-1]
        cpu = statistics.median(run["cpu_s"] for run in runs)
        rss = max(run["max_rss_kb"] for run in runs) / 1024
        peak = traced[key]["tracemalloc_peak"] / 2**20
        lines.append(f"| {label} | {last['calls']:,} | {last['events']:,} | {median:.2f} | {min(times):.2f} "
                     f"| {max(times):.2f} | {cpu:.2f} | {last['calls'] / median:,.0f} | {rss:.0f} "
                     f"| {peak:.0f} "
                     f"| {last['call_record']:,} | {last['ring_attempt']:,} | {last['survey_answer']:,} |")
    lines.append(f"| `python -c pass` |  |  | {baseline[0]:.3f} |  |  |  |  | {baseline[1] / 1024:.0f} "
                 "|  |  |  |  |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Timed runs of each kind (default 3).")
    parser.add_argument("--calls", type=int, default=20_000,
                        help="Calls the day is tuned to (default 20000).")
    parser.add_argument("--profile", action="store_true", help="cProfile one recorded run and print it.")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sink", choices=("record", "none"), default="record", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.build is not None:
        build_template(options.build)
        return
    if options.child is not None:
        print(json.dumps(child(options.child, options.sink, options.calls, options.trace, options.profile)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="ringtui-simday-"))
    load_before = os.getloadavg()[0]
    try:
        template = workdir / "template.db"
        started = time.perf_counter()
        # in a child, so that this process stays small (a child inherits its parent's peak RSS figure)
        subprocess.run([sys.executable, __file__, "--build", str(template)], check=True)
        print(f"template account built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        if options.profile:
            one_run(template, workdir, "record", options.calls, profile=True)
            return
        recorded, dropped = [], []
        for index in range(options.runs):
            recorded.append(one_run(template, workdir, "record", options.calls))
            dropped.append(one_run(template, workdir, "none", options.calls))
            print(f"run {index + 1}: recorded {recorded[-1]['seconds']:.2f} s, "
                  f"no-op sink {dropped[-1]['seconds']:.2f} s", file=sys.stderr)
        traced = {sink: one_run(template, workdir, sink, options.calls, trace=True)
                  for sink in ("record", "none")}
        baseline = python_pass(5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    median = statistics.median(run["seconds"] for run in recorded)
    if len({(run["calls"], run["events"]) for run in recorded + dropped}) != 1:
        print("warning: the runs did not all simulate the same day (did the code change meanwhile?)")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False).stdout.strip()
    print(f"commit {commit or '?'}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.system()} "
          f"{platform.machine()}, {os.cpu_count()} CPU(s); {AGENTS} agents, {GROUPS} groups, {IVRS} IVRs, "
          f"{DIRECT_LINES} direct lines; day {recorded[-1]['day']}; seed {SEED}; median of {options.runs} "
          f"runs, each a fresh process on a fresh copy of the account\n")
    print(summary_table(recorded, dropped, traced, baseline))
    dropped_median = statistics.median(run["seconds"] for run in dropped)
    print(f"\nrecording costs {median - dropped_median:.2f} s of {median:.2f} s "
          f"({(median - dropped_median) / median:.0%}); RSS before the simulation (imports, engine): "
          f"{recorded[-1]['rss_before_kb'] / 1024:.0f} MiB")
    verdict = "meets" if median <= TARGET_S else "misses"
    print(f"the recorded day {verdict} the target of {TARGET_S:.0f} s"
          + ("" if median <= TARGET_S else ": rerun with --profile"))


if __name__ == "__main__":
    main()
