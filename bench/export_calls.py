"""Benchmark: `ringtui export calls --format csv|json --out F` of a million calls, time and peak memory.

The history is stats_million's (50 agents, 10 IVRs, N calls over 365 days, one ring attempt each,
written through SQLAlchemy Core), plus one tag on every tenth call; the SQLite file is built once
and kept (--data, default /tmp/ringtui-bench/export-N.db) for the next runs. Each export runs as
its own `ringtui` process under /usr/bin/time (wall, CPU and peak RSS of that process), beside
the baseline: the same rows and columns dumped to CSV by the `sqlite3` command-line shell
(SQLite), or by `psql \\copy` (PostgreSQL), with no tags, names or formatting of ringtui's own.

    .venv/bin/python bench/export_calls.py [--calls N] [--data FILE.db] [--pg postgresql+psycopg://...]

--pg builds the same history in that database (dropped and created; with --pg-reuse, kept when it
already holds N calls) and times the exports there: the server writes each cell and streams the
file with COPY (SELECT ...) TO STDOUT, CSV and JSON alike, so the baseline (psql \\copy of the
same columns, with no tags, names or formatting) is the same kind of work.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cdr_import import fresh_postgres, ringtui_executable
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from stats_million import build

from ringtui import db as ringtui_db
from ringtui.models import Tag

TAGGED_EVERY = 10
BASELINE_QUERY = (
    "SELECT c.id, c.started_at, c.direction, c.type, c.from_number, c.to_number, i.name, u.email, "
    "c.wait_s, c.talk_s, c.ended_by, c.processed_channel FROM call_record c "
    "LEFT JOIN ivr i ON i.id = c.ivr_id LEFT JOIN app_user u ON u.id = c.user_id "
    "ORDER BY c.started_at DESC, c.id DESC")


def tag_calls(url: str) -> None:
    """One tag on every TAGGED_EVERY-th call (the export looks tags up batch by batch)."""
    engine = ringtui_db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(Tag.__table__.insert(), [{"name": "Sale", "color": "#2E8B57", "conditions": "",
                                                      "created_at": datetime.now(UTC)}])
        tag = connection.execute(select(Tag.id)).scalar_one()
        connection.execute(text(
            f"INSERT INTO call_tag (call_record_id, tag_id) SELECT id, {tag} FROM call_record "
            f"WHERE id % {TAGGED_EVERY} = 0"))
    engine.dispose()


def sqlite_data(path: Path, calls: int) -> str:
    url = f"sqlite:///{path}"
    if path.exists():
        print(f"reusing {path}", file=sys.stderr)
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.unlink(missing_ok=True)
    print(f"building {calls:,} calls into {path} (once)", file=sys.stderr)
    build(f"sqlite:///{partial}", calls)
    tag_calls(f"sqlite:///{partial}")
    # a copy through the backup API holds what is still in the write-ahead log (a rename would not)
    with sqlite3.connect(partial) as source, sqlite3.connect(path) as target:
        source.backup(target)
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    return url


def _held(url: str) -> int | None:
    """Calls in that PostgreSQL database, or None when it cannot be read (missing, not migrated)."""
    engine = ringtui_db.make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM call_record")).scalar_one()
    except Exception:  # any failure means: build it
        return None
    finally:
        engine.dispose()


def postgres_data(base_url: str, calls: int, *, reuse: bool = False) -> str:
    if reuse and _held(base_url) == calls:
        print(f"reusing {make_url(base_url).database}", file=sys.stderr)
        return base_url
    url = fresh_postgres(base_url)
    print(f"building {calls:,} calls into {make_url(url).database}", file=sys.stderr)
    build(url, calls)
    tag_calls(url)
    return url


def timed(command: list[str], out: Path) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, bytes written) of one process."""
    report = out.with_suffix(".time")
    result = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(report), *command],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    wall, user, system, rss_kb = report.read_text().split()[-4:]
    return float(wall), float(user) + float(system), int(rss_kb) / 1024, out.stat().st_size


def baseline(url: str, out: Path) -> list[str]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not shutil.which("sqlite3"):
            sys.exit("the sqlite3 command-line shell is needed for the baseline")
        return ["sqlite3", "-csv", "-header", "-cmd", f".output {out}", str(parsed.database), BASELINE_QUERY]
    if not shutil.which("psql"):
        sys.exit("psql is needed for the PostgreSQL baseline")
    libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return ["psql", libpq, "-c", f"\\copy ({BASELINE_QUERY}) TO '{out}' WITH CSV HEADER"]


def run(label: str, url: str, calls: int, work: Path) -> None:
    exe = str(ringtui_executable())
    rows = [("baseline (" + ("sqlite3 -csv" if label == "SQLite" else "psql \\copy") + ")",
             timed(baseline(url, work / "baseline.csv"), work / "baseline.csv"))]
    for file_format in ("csv", "json"):
        out = work / f"calls.{file_format}"
        rows.append((f"ringtui export calls --format {file_format}", timed(
            [exe, "--db", url, "export", "calls", "--format", file_format, "--out", str(out)], out)))
    for name, (wall, cpu, rss, size) in rows:
        print(f"| {label} | {calls:,} | {name} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | {size / 2**20:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000, help="call records (default 1000000)")
    parser.add_argument("--data", type=Path, help="the SQLite file to build once and reuse "
                        "(default /tmp/ringtui-bench/export-N.db)")
    parser.add_argument("--pg", help="also on this PostgreSQL URL (the database is dropped and created)")
    parser.add_argument("--pg-reuse", action="store_true",
                        help="keep the --pg database when it already holds --calls calls (built once)")
    parser.add_argument("--pg-only", action="store_true", help="with --pg: skip the SQLite runs")
    options = parser.parse_args()
    data = options.data or Path(tempfile.gettempdir()) / "ringtui-bench" / f"export-{options.calls}.db"
    print("| database | calls | command | wall (s) | CPU (s) | peak RSS (MB) | file (MB) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="ringtui-export-") as tmp:
        if not (options.pg and options.pg_only):
            run("SQLite", sqlite_data(data, options.calls), options.calls, Path(tmp))
        if options.pg:
            run("PostgreSQL", postgres_data(options.pg, options.calls, reuse=options.pg_reuse),
                options.calls, Path(tmp))


if __name__ == "__main__":
    main()
