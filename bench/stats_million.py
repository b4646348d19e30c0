"""Call statistics at a million calls: `stats calls`, the leaderboard, the heatmap and the history,
each timed beside `SELECT count(*) FROM call_record` on the same table in the same process.

A throw-away SQLite file (or the PostgreSQL database given with --db) gets an account with 50
agents and 10 IVRs, then N call records (default 1,000,000) over the last 365 days, in time order
as the recorder writes them, between 100,000 customers and the account (so that missed calls
are sometimes called back), with one ring attempt each, written with SQLAlchemy Core executemany
in batches (the bulk path). Each figure is
the median of K runs (default 3) after one unmeasured warm-up, through the services the CLI calls:

- stats calls, one IVR, 30 days  (S1/S2 in one query)
- leaderboard, 30 days           (S5: ring attempts x calls, GROUP BY agent)
- heatmap, 365 days              (S4: weekday x hour in the account's time zone)
- history by day, 365 days       (S3)

--indexes also times them again after creating candidate indexes (in this file only: ringtui
adds indexes only by migration), to say which would help.

    .venv/bin/python bench/stats_million.py [--calls N] [--runs K] [--db URL] [--indexes]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text

from ringtui import db as ringtui_db
from ringtui.config import Settings
from ringtui.models import CallRecord, Ivr, RingAttempt, User
from ringtui.services import ivrs, stats, users
from ringtui.services.base import operation
from ringtui.services.filters import FilterOptions
from ringtui.services.phones import area_of
from ringtui.services.setup import init_account

AGENTS, IVRS, BATCH = 50, 10, 50_000
CUSTOMERS, LINE = 100_000, "+33144951479"  # customers call in and are called back
cached_area_of = lru_cache(maxsize=None)(area_of)  # S14: one parse per distinct customer number


def customer_number(index: int) -> str:
    """A quarter of the customers on landlines of the five French areas (S14 area codes), the rest on
    mobiles; from the index alone, so the random stream (and every other figure) stays as it was."""
    if index % 4 == 0:
        return f"+33{1 + index // 4 % 5}{index:08d}"
    return f"+336{index:08d}"
OUTCOMES = ("ANSWERED", "ANSWERED", "ANSWERED", "NO_ANSWER", "REJECTED", "TOOLATE", "INCALL", "OUT")
CANDIDATE_INDEXES = (
    "CREATE INDEX bench_call_record_to_started ON call_record (to_number, started_at)",
    "CREATE INDEX bench_call_record_ivr_started ON call_record (ivr_id, started_at)",
    "CREATE INDEX bench_ring_attempt_call_user_outcome ON ring_attempt (call_record_id, user_id, outcome)",
)


def make_account(url: str, ivr_count: int, agent_count: int) -> tuple[list[int], list[int]]:
    """The bench account with IVRs 'IVR 0'.. and agents agent0@bench.test..; (agent ids, IVR ids)."""
    settings = Settings(database_url=url)
    init_account(settings, company="Bench", plan="advanced", admin_email="admin@bench.test", country="FR")
    with operation(settings) as op:
        for n in range(ivr_count):
            ivrs.create_ivr(op, f"IVR {n}")
        for n in range(agent_count):
            users.add_user(op, f"agent{n}@bench.test")
    with ringtui_db.engine_for(url).connect() as connection:
        agents = list(connection.execute(select(User.id).where(User.email.like("agent%"))).scalars())
        return agents, list(connection.execute(select(Ivr.id).order_by(Ivr.id)).scalars())


def build(url: str, calls: int, seed: int = 1) -> float:
    """The account and `calls` records; returns the seconds the bulk insert took."""
    engine = ringtui_db.make_engine(url)
    ringtui_db.upgrade(engine)
    agent_ids, ivr_ids = make_account(url, IVRS, AGENTS)
    rng = random.Random(seed)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # in time order, as the recorder writes them (rows of a period sit together in the table)
    offsets = sorted((rng.randrange(365 * 86400) for _ in range(calls)), reverse=True)
    started = time.perf_counter()
    for first in range(0, calls, BATCH):
        records, attempts = [], []
        for n in range(first, min(first + BATCH, calls)):
            start = end - timedelta(seconds=offsets[n])
            outcome = rng.choice(OUTCOMES)
            inbound = outcome != "OUT"
            answered = outcome == "ANSWERED" or not inbound
            wait = rng.uniform(0, 90) if inbound else 0.0
            talk = rng.uniform(20, 600) if answered else 0.0
            agent = rng.choice(agent_ids)
            customer = customer_number(rng.randrange(CUSTOMERS))
            records.append({
                "id": n + 1, "call_id": f"b{n}", "direction": "in" if inbound else "out",
                "kind": "ivr" if inbound else "direct", "from_number": customer if inbound else LINE,
                "to_number": LINE if inbound else customer, "caller_country": "FR",
                "caller_area": cached_area_of(customer),
                "ivr_id": rng.choice(ivr_ids) if inbound else None,
                "user_id": agent if answered else None, "started_at": start,
                "ended_at": start + timedelta(seconds=wait + talk),
                "type": "answered" if answered else "missed", "wait_s": wait, "talk_s": talk,
                "ended_by": "customer", "recorded": False, "vip": False, "flagged": False})
            attempts.append({"call_record_id": n + 1, "user_id": agent, "started_at": start,
                             "ended_at": start + timedelta(seconds=wait), "outcome": outcome})
        with engine.begin() as connection:
            connection.execute(insert(CallRecord.__table__), records)
            connection.execute(insert(RingAttempt.__table__), attempts)
    return time.perf_counter() - started


def median_of(runs: int, work: Callable[[], Any]) -> tuple[float, float, float]:
    work()  # warm-up: caches, statistics of the planner
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


Figure = tuple[str, tuple[float, float, float]]


def measure(url: str, runs: int, *, with_call_stats: bool = True) -> list[Figure]:
    settings = Settings(database_url=url)
    now = datetime.now(UTC)
    last_30 = f"{(now - timedelta(days=30)).date()}..{now.date()}"
    year = f"{(now - timedelta(days=365)).date()}..{now.date()}"
    engine = ringtui_db.engine_for(url)

    def baseline() -> Any:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM call_record")).scalar()

    def service(call: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with operation(settings) as op:
                return call(op)
        return run

    def scan() -> Any:
        with engine.connect() as connection:
            return connection.execute(text("SELECT sum(talk_s) FROM call_record")).scalar()

    figures = [("SELECT count(*) FROM call_record (baseline)", median_of(runs, baseline)),
               ("SELECT sum(talk_s) FROM call_record (a full scan)", median_of(runs, scan))]
    if with_call_stats:
        figures.append(("stats calls --ivr 'IVR 3', 30 days", median_of(runs, service(
            lambda op: stats.call_stats(op, FilterOptions(period=last_30, ivr="IVR 3"))))))
    return [
        *figures,
        ("stats leaderboard, 30 days", median_of(runs, service(
            lambda op: stats.leaderboard(op, FilterOptions(period=last_30))))),
        ("stats heatmap, 365 days", median_of(runs, service(
            lambda op: stats.call_heatmap(op, None, FilterOptions(period=year))))),
        ("stats history --interval day, 365 days", median_of(runs, service(
            lambda op: stats.call_history(op, "day", None, FilterOptions(period=year))))),
    ]


def table(rows: list[tuple[str, tuple[float, float, float]]]) -> str:
    base = rows[0][1][0]
    lines = ["| query | median (s) | min (s) | max (s) | × baseline |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {m:.3f} | {lo:.3f} | {hi:.3f} | {m / base:.1f} |" for name, (m, lo, hi) in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="an empty PostgreSQL database URL (default: a temporary SQLite file)")
    parser.add_argument("--indexes", action="store_true", help="also time with the candidate indexes")
    parser.add_argument("--all", action="store_true",
                        help="above 200,000 calls, also time stats calls without the indexes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        inserted = build(url, args.calls)
        print(f"{platform.python_version()} {platform.machine()} {url.split(':')[0]}: "
              f"{args.calls:,} calls and ring attempts inserted in {inserted:.1f} s "
              f"({args.calls / inserted:,.0f} calls/s), {args.runs} runs\n")
        slow = args.calls > 200_000 and not args.all
        print(table(measure(url, args.runs, with_call_stats=not slow)))
        if slow:
            print("\nstats calls not run without indexes: the callback delay (S2) looks up, for each missed "
                  "call, the next outbound call to its number, which without an index on to_number scans "
                  "the calls that follow (quadratic; --all runs it anyway)")
        if args.indexes:
            engine = ringtui_db.engine_for(url)
            with engine.begin() as connection:
                for statement in CANDIDATE_INDEXES:
                    connection.execute(text(statement))
                connection.execute(text("ANALYZE"))
            print("\nWith " + "; ".join(CANDIDATE_INDEXES) + ":\n")
            print(table(measure(url, args.runs)))
        ringtui_db.engine_for(url).dispose()


if __name__ == "__main__":
    main()
