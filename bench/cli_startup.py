"""Whole-process start-up time of the CLI: `ringtui --help` and `ringtui users list --json`.

Builds a throw-away SQLite account of 1,000 users once (through `ringtui init` and
`ringtui users import`, or bulk SQL if the import is not available), then times
each command as a fresh process, N times, next to `python -c pass` measured in the
same run. Prints a Markdown table for bench/README.md.

    .venv/bin/python bench/cli_startup.py [--runs N] [--users N]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ADMIN = "boss@bench.test"
TARGETS_S = {"ringtui --help": 0.25, "ringtui users list --json": 0.6}


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def ringtui_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m ringtui`."""
    script = Path(sys.executable).with_name("ringtui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ringtui"]


def bench_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGTUI_")}
    env.update(XDG_CONFIG_HOME=str(workdir / "config"), XDG_DATA_HOME=str(workdir / "data"),
               RINGTUI_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}", NO_COLOR="1")
    return env


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def write_users_csv(path: Path, count: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "role", "number", "groups"])
        for n in range(count):
            writer.writerow([f"agent{n:05d}@bench.test", f"Agent{n}", "Bench", "none", "", ""])


def insert_users_in_bulk(database_url: str, count: int) -> None:
    """Fallback when `ringtui users import` is not there yet: the same rows through SQLAlchemy."""
    from sqlalchemy import insert

    from ringtui import db
    from ringtui.models import User
    from ringtui.models.types import utcnow

    now = utcnow()
    rows = [{"email": f"agent{n:05d}@bench.test", "first_name": f"Agent{n}", "last_name": "Bench",
             "sip_username": f"agent{n:05d}", "sip_password": "bench-password", "license": "business",
             "status": "invited", "role": "none", "permissions": {}, "sounds": {}, "invited_at": now}
            for n in range(count)]
    engine = db.engine_for(database_url)
    with engine.begin() as connection:
        connection.execute(insert(User), rows)
    engine.dispose()


def build_account(workdir: Path, env: dict[str, str], users: int) -> str:
    """An account with `users` users (the super admin included); says how it was built."""
    command = ringtui_command()
    done = run([*command, "init", "--company", "Bench", "--admin", ADMIN], env)
    if done.returncode != 0:
        sys.exit(f"ringtui init failed: {done.stderr}")
    csv_path = workdir / "users.csv"
    write_users_csv(csv_path, users - 1)
    done = run([*command, "users", "import", str(csv_path)], env)
    how = "`ringtui users import`"
    if done.returncode != 0:
        print(f"users import failed ({done.stderr.strip()[:200]}); inserting in bulk", file=sys.stderr)
        insert_users_in_bulk(env["RINGTUI_DATABASE_URL"], users - 1)
        how = "bulk SQL insert (users import unavailable)"
    listed = run([*command, "users", "list", "--json"], env)
    if listed.returncode != 0 or listed.stdout.count('"email"') != users:
        sys.exit(f"the bench account does not list {users} users: {listed.stderr[:300]}")
    return how


def time_process(label: str, argv: list[str], env: dict[str, str], runs: int) -> Timing:
    run(argv, env)  # warm the OS file cache and .pyc files; not counted
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{label} exited {done.returncode}: {done.stderr.decode()[:300]}")
    return Timing(label, seconds)


def markdown_table(timings: list[Timing], baseline: Timing) -> str:
    lines = ["| command | median (s) | min (s) | max (s) | × `python -c pass` | target (s) | met |",
             "|---|---:|---:|---:|---:|---:|:---:|"]
    for timing in [baseline, *timings]:
        target = TARGETS_S.get(timing.label)
        met = "" if target is None else ("yes" if timing.median <= target else "**no**")
        shown_target = "" if target is None else f"{target:.2f}"
        lines.append(
            f"| `{timing.label}` | {timing.median:.3f} | {min(timing.seconds):.3f} "
            f"| {max(timing.seconds):.3f} | {timing.median / baseline.median:.1f} | {shown_target} | {met} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="Processes per command (default 15).")
    parser.add_argument("--users", type=int, default=1000, help="Users in the account (default 1000).")
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ringtui-bench-"))
    try:
        env = bench_env(workdir)
        how = build_account(workdir, env, options.users)
        command = ringtui_command()
        baseline = time_process("python -c pass", [sys.executable, "-c", "pass"], env, options.runs)
        timings = [time_process(label, [*command, *label.split()[1:]], env, options.runs)
                   for label in TARGETS_S]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{options.runs} runs each; {options.users} users built by {how}; SQLite; "
          f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
          f"{os.cpu_count()} CPU(s).\n")
    print(markdown_table(timings, baseline))
    if any(t.median > TARGETS_S[t.label] for t in timings):
        print("\nA target was missed: profile with `python -X importtime -m ringtui ...`.")


if __name__ == "__main__":
    main()
