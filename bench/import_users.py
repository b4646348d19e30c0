"""Benchmark: the whole `ringtui users import FILE` process on a fresh SQLite database.

Generates a CSV of N users (names, roles, groups, and a number for every fifth
user), initialises a template database through the CLI, then runs the import K
times, each on a fresh copy of the template, and reports median / min / max wall
time next to the median of `python -c pass` (the cost of starting any Python).

    .venv/bin/python bench/import_users.py [--users N] [--runs K]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GROUPS = [f"Team {i:02d}" for i in range(10)]
ROLES = ["none"] * 17 + ["supervisor", "technical", "accountant"]
NUMBER_EVERY = 5  # one user in five gets a direct line


def ringtui_executable() -> Path:
    """The `ringtui` script of the interpreter running this benchmark (the venv's)."""
    candidate = Path(sys.executable).parent / "ringtui"
    if not candidate.exists():
        sys.exit(f"no ringtui executable next to {sys.executable}: run with the venv's python")
    return candidate


def national(i: int) -> str:
    """The i-th bench number in French national form: 01 40 NN NN NN."""
    digits = f"{i:06d}"
    return f"01 40 {digits[0:2]} {digits[2:4]} {digits[4:6]}"


def e164(i: int) -> str:
    return f"+33140{i:06d}"


def write_csv(path: Path, users: int) -> int:
    """The users file; returns how many lines carry a number."""
    numbers = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "first_name", "last_name", "role", "number", "groups"])
        for i in range(users):
            number = ""
            if i % NUMBER_EVERY == 0:
                number, numbers = national(numbers), numbers + 1
            groups = ";".join(dict.fromkeys([GROUPS[i % len(GROUPS)], GROUPS[(i * 7) % len(GROUPS)]]))
            writer.writerow([f"agent.{i:06d}@bench.test", f"First{i}", f"Last{i}",
                             ROLES[i % len(ROLES)], number, groups])
    return numbers


def ringtui(exe: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(exe), "--db", url, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"ringtui {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def make_template(exe: Path, path: Path, numbers: int) -> None:
    """An initialised account with the groups, and the numbers the CSV assigns.

    The numbers are inserted directly: they stand for numbers bought earlier and
    are not part of what is measured.
    """
    url = f"sqlite:///{path}"
    ringtui(exe, url, "init", "--company", "Bench", "--plan", "business",
            "--admin", "boss@bench.test", "--country", "FR")
    for name in GROUPS:
        ringtui(exe, url, "groups", "create", name)
    db = sqlite3.connect(path)
    with db:  # one transaction
        db.executemany(
            "INSERT INTO phone_number (e164, country, format, region, status, added_at) "
            "VALUES (?, 'FR', 'local', 'Paris', 'available', '2025-01-01 00:00:00')",
            [(e164(i),) for i in range(numbers)])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, so a copy is complete
    db.close()


def fresh_copy(template: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_import(exe: Path, template: Path, work: Path, users_csv: Path, expected: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole import process on a fresh copy of the template."""
    database = work / "run.db"
    fresh_copy(template, database)
    command = [str(exe), "--db", f"sqlite:///{database}", "users", "import", str(users_csv), "--json"]
    cpu_before, start = children_cpu(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, children_cpu() - cpu_before
    if result.returncode != 0:
        sys.exit(f"import failed ({result.returncode}):\n{result.stderr[-3000:]}")
    imported = json.loads(result.stdout)["imported"]
    if imported != expected:
        sys.exit(f"imported {imported} users, expected {expected}")
    return elapsed, cpu


def time_python_start(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="users in the CSV (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="timed imports (default 5)")
    options = parser.parse_args()
    exe = ringtui_executable()
    with tempfile.TemporaryDirectory(prefix="ringtui-bench-") as tmp:
        work = Path(tmp)
        users_csv = work / "users.csv"
        numbers = write_csv(users_csv, options.users)
        template = work / "template.db"
        make_template(exe, template, numbers)
        measured = [time_import(exe, template, work, users_csv, options.users) for _ in range(options.runs)]
        baseline = statistics.median(time_python_start(options.runs))
    runs = [wall for wall, _ in measured]
    median = statistics.median(runs)
    print(f"users import: {options.users} users ({numbers} numbers, {len(GROUPS)} groups), "
          f"{options.runs} runs on fresh SQLite copies")
    print(f"  median {median:.3f} s   min {min(runs):.3f} s   max {max(runs):.3f} s")
    print(f"  runs   {'  '.join(f'{t:.3f}' for t in runs)}")
    print(f"  CPU (user+sys) median {statistics.median(cpu for _, cpu in measured):.3f} s "
          "(less sensitive than wall time to other load on the machine)")
    print(f"python -c pass: median {baseline:.3f} s; import / baseline = {median / baseline:.1f}x")


if __name__ == "__main__":
    main()
