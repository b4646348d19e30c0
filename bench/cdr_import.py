"""Benchmark: the whole `ringtui calls import Master.csv --format asterisk-csv` process.

Generates an Asterisk Master.csv of N lines (no header, the 18 standard columns):
70 % inbound calls from a pool of 20,000 customer numbers to the IVR's number or an
agent's extension (ANSWERED 75 %, NO ANSWER, BUSY, FAILED), 25 % outbound calls by
agents' extensions, 5 % internal calls between extensions (skipped by the import).
Then times, on a fresh SQLite copy of an account with 50 agents (and on PostgreSQL
with --pg URL), the first import and a second import of the same file (nothing
new), with the peak RSS of the import process.

    .venv/bin/python bench/cdr_import.py [--lines N] [--pg postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

AGENTS = [f"agent{i:02d}" for i in range(50)]
IVR_NUMBER = "+33144951479"
CUSTOMERS = 20_000
DISPOSITIONS = ["ANSWERED"] * 15 + ["NO ANSWER"] * 3 + ["BUSY", "FAILED"]


def ringtui_executable() -> Path:
    candidate = Path(sys.executable).parent / "ringtui"
    if not candidate.exists():
        sys.exit(f"no ringtui executable next to {sys.executable}: run with the venv's python")
    return candidate


def write_master(path: Path, lines: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 8)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
        for i in range(lines):
            begin = start + timedelta(seconds=i * 30 + rng.randrange(30))
            agent = rng.choice(AGENTS)
            customer = f"06{rng.randrange(CUSTOMERS):08d}"
            kind = rng.random()
            disposition = rng.choice(DISPOSITIONS)
            ring = rng.randrange(3, 40)
            talk = rng.randrange(10, 900) if disposition == "ANSWERED" else 0
            if kind < 0.70:
                src, dst, context = customer, IVR_NUMBER if rng.random() < 0.8 else agent, "from-trunk"
                channel, dstchannel = f"SIP/trunk-{i:08x}", f"SIP/{agent}-{i + 1:08x}"
            elif kind < 0.95:
                src, dst, context = agent, customer, "from-internal"
                channel, dstchannel = f"PJSIP/{agent}-{i:08x}", f"SIP/trunk-{i + 1:08x}"
            else:
                other = rng.choice(AGENTS)
                src, dst, context = agent, other, "from-internal"
                channel, dstchannel = f"PJSIP/{agent}-{i:08x}", f"PJSIP/{other}-{i + 1:08x}"
            answer = begin + timedelta(seconds=ring) if disposition == "ANSWERED" else None
            end = begin + timedelta(seconds=ring + talk)
            fmt = "%Y-%m-%d %H:%M:%S"
            writer.writerow(["", src, dst, context, f'"{src}" <{src}>', channel, dstchannel, "Dial",
                             f"SIP/{agent},20", begin.strftime(fmt), answer.strftime(fmt) if answer else "",
                             end.strftime(fmt), ring + talk, talk, disposition, "DOCUMENTATION",
                             f"{1767254400 + i}.{i}", ""])


def ringtui(exe: Path, url: str, *args: str) -> str:
    result = subprocess.run([str(exe), "--db", url, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"ringtui {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def make_account(exe: Path, url: str, work: Path) -> None:
    ringtui(exe, url, "init", "--company", "Bench", "--plan", "advanced", "--admin", "boss@bench.test",
            "--country", "FR")
    users = work / "agents.csv"
    users.write_text("email\n" + "".join(f"{name}@bench.test\n" for name in AGENTS), encoding="utf-8")
    ringtui(exe, url, "users", "import", str(users))
    ringtui(exe, url, "ivr", "create", "Support")
    ringtui(exe, url, "numbers", "add", IVR_NUMBER, "--address", "1 rue de Rivoli, Paris")
    ringtui(exe, url, "numbers", "assign", IVR_NUMBER, "--ivr", "Support")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_import(exe: Path, url: str, master: Path) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds of the import process, its JSON summary)."""
    command = [str(exe), "--db", url, "calls", "import", str(master), "--format", "asterisk-csv", "--json"]
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, children_cpu() - cpu
    if result.returncode != 0:
        sys.exit(f"import failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed, cpu, json.loads(result.stdout)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def fresh_postgres(base_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from ringtui import db

    url = make_url(base_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    rendered = url.render_as_string(hide_password=False)
    engine = db.make_engine(rendered)
    db.upgrade(engine)
    engine.dispose()
    return rendered


def run(label: str, exe: Path, url: str, master: Path, lines: int) -> None:
    first, first_cpu, summary = timed_import(exe, url, master)
    second, second_cpu, again = timed_import(exe, url, master)
    assert again["imported"] == 0 and again["already_imported"] == summary["imported"], again
    print(f"| {label} | {lines:,} | {summary['imported']:,} | {summary['internal_skipped']:,} | "
          f"{first:.1f} | {first_cpu:.1f} | {lines / first:,.0f} | {second:.1f} | {second_cpu:.1f} | "
          f"{peak_rss_mb():.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000, help="CDR lines (default 100000)")
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (the database is dropped and created)")
    options = parser.parse_args()
    exe = ringtui_executable()
    with tempfile.TemporaryDirectory(prefix="ringtui-bench-") as tmp:
        work = Path(tmp)
        master = work / "Master.csv"
        write_master(master, options.lines)
        print("| database | lines | imported | internal skipped | import (s) | import CPU (s) | lines/s "
              "| re-import (s) | re-import CPU (s) | peak RSS (MB) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        template = work / "template.db"
        make_account(exe, f"sqlite:///{template}", work)
        database = work / "run.db"
        shutil.copyfile(template, database)
        run("SQLite", exe, f"sqlite:///{database}", master, options.lines)
        if options.pg:
            url = fresh_postgres(options.pg)
            make_account(exe, url, work)
            run("PostgreSQL", exe, url, master, options.lines)


if __name__ == "__main__":
    main()
