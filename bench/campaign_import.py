"""Benchmark: importing and validating a 100,000-number campaign list (`campaign sms create`).

Writes a .txt list of N numbers (default 100,000): national and international forms,
one in 50 a duplicate, one in 200 invalid, one in 100 on the company's outbound
blacklist (a prefix entry). Each of K runs starts the whole `ringtui campaign sms
create ... --skip-invalid --json` process on a fresh copy of a template SQLite
database (account initialised, SMS access approved, blacklist set) and checks the
counts it reports. Target: N = 100,000 in 10 s or less.

    .venv/bin/python bench/campaign_import.py [--numbers N] [--runs K] [--db postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0


def ringtui() -> str:
    candidate = Path(sys.executable).parent / "ringtui"
    if not candidate.exists():
        sys.exit(f"no ringtui executable next to {sys.executable}: run with the venv's python")
    return str(candidate)


def write_list(path: Path, count: int) -> dict[str, int]:
    expected = {"duplicates": 0, "invalid": 0, "blacklisted": 0}
    lines = []
    for i in range(count):
        if i % 200 == 199:
            lines.append(f"12{i}")  # too short: invalid
            expected["invalid"] += 1
        elif i % 50 == 49:
            lines.append(lines[-1])  # the previous number again
            expected["duplicates"] += 1
        elif i % 100 == 0:
            lines.append(f"+3361{i:07d}")  # under the blacklisted +3361* prefix
            expected["blacklisted"] += 1
        elif i % 2:
            lines.append(f"06 {i:08d}")  # national form
        else:
            lines.append(f"+33 6 {i:08d}")  # international form
    path.write_text("\n".join(lines) + "\n")
    expected["recipients"] = count - sum(expected.values())
    return expected


def run(*args: str, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([ringtui(), "--db", db, *args], capture_output=True, text=True, check=True)


def template(folder: Path, db: str | None) -> str:
    url = db or f"sqlite:///{folder / 'template.db'}"
    run("init", "--company", "Bench", "--plan", "business", "--admin", "boss@bench.test", "--country", "FR",
        db=url)
    run("campaign", "sms", "request-access", db=url)
    run("campaign", "sms", "approve", "boss@bench.test", db=url)
    run("blacklist", "add", "+3361*", "--direction", "out", db=url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="a PostgreSQL URL (one run per campaign name); default SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        listing = folder / "list.txt"
        expected = write_list(listing, args.numbers)
        base = template(folder, args.db)
        times = []
        for index in range(args.runs):
            url = base
            if args.db is None:
                copy = folder / f"run{index}.db"
                shutil.copyfile(folder / "template.db", copy)
                url = f"sqlite:///{copy}"
            started = time.perf_counter()
            result = run("campaign", "sms", "create", f"Bench {index}", "--sender", "Bench",
                         "--country", "FR", "--message", "Spring sale: 20% off this week",
                         "--recipients", str(listing), "--skip-invalid", "--json", db=url)
            times.append(time.perf_counter() - started)
            report = json.loads(result.stdout)
            got = {key: report[key] for key in expected}
            if got != expected:
                sys.exit(f"run {index}: reported {got}, expected {expected}")
        median = statistics.median(times)
        print(f"{args.numbers:,} numbers ({expected['recipients']:,} kept, "
              f"{expected['duplicates']:,} duplicates, "
              f"{expected['invalid']:,} invalid, {expected['blacklisted']:,} blacklisted), "
              f"{'PostgreSQL' if args.db else 'SQLite'}, {args.runs} runs: median {median:.2f} s, "
              f"min {min(times):.2f} s, max {max(times):.2f} s; target {TARGET_S:.0f} s: "
              f"{'met' if median <= TARGET_S else 'NOT met'}")


if __name__ == "__main__":
    main()
