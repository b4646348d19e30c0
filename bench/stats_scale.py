"""Call statistics at 1M-10M call records, answered from the hourly roll-ups, each beside a plain
raw-SQL query over call_record doing the same kind of work, in the same process (the baseline).

The generator writes an account with 50 IVRs and 500 agents, then N call records over 365 days in
time order (as the recorder writes them), 75% inbound (70% through an IVR), with one ring attempt
per call and a second one on 30% of inbound calls, through the bulk path: SQLAlchemy Core
executemany on SQLite, COPY (psycopg 3 `cursor.copy`) on PostgreSQL. It then builds the roll-ups
with `rebuild_hours` (INSERT ... SELECT ... GROUP BY), timed. Figures are the median of K runs after
one unmeasured warm-up, the service and its baseline in turns, through the services the CLI calls:

- stats calls --ivr 'IVR 3', 30 days   vs  one SELECT over call_record computing the same 16 figures the
  command prints (S1: counts, service level, talk and wait sums, averages and maxima; S2: unprocessed
  missed calls and the average callback delay, a correlated min() of the next outbound call to the
  caller's number per missed call) over the IVR's ended calls of the same 30 local days; the bench
  checks that both give the same figures before timing them
- stats heatmap, 365 days              vs  SELECT weekday, hour, count(*) ... GROUP BY (UTC)
- stats leaderboard, 30 days           vs  SELECT user_id, outcome, count(*) attempts x calls
- stats history --interval day, 365 d  vs  SELECT date, count(*) ... GROUP BY (UTC)

`--reuse TARGET` keeps the generated data (a SQLite file, or a PostgreSQL URL): the first run
generates into it, later runs only measure. Periods are counted back from the last call, so a
database generated on another day gives the same figures.

    .venv/bin/python bench/stats_scale.py --rows 1000000 --db sqlite [--reuse /var/tmp/calls1m.db]
    .venv/bin/python bench/stats_scale.py --rows 1000000 --db postgresql \\
        --reuse postgresql+psycopg://postgres@127.0.0.1:5432/ringtui_bench
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, column, func, insert, select, table, text
from stats_million import cached_area_of, customer_number, make_account, median_of

from ringtui import db as ringtui_db
from ringtui.config import Settings
from ringtui.models import Account, CallRecord, Ivr
from ringtui.services import rollups, stats
from ringtui.services.base import operation
from ringtui.services.filters import FilterOptions, parse_period

AGENTS, IVRS, BATCH, CUSTOMERS, LINE = 500, 50, 50_000, 200_000, "+33144951479"
IN_OUTCOMES = ("ANSWERED",) * 5 + ("NO_ANSWER", "REJECTED", "TOOLATE", "INCALL", "SNOOZE")
OTHER_OUTCOMES = ("CALL_ANSWERED", "NO_ANSWER", "REJECTED", "INCALL", "SNOOZE", "PLANNING", "NOTCONNECTED")
RECORD_COLUMNS = ("id", "call_id", "direction", "kind", "from_number", "to_number", "caller_country",
                  "caller_area", "ivr_id",
                  "user_id", "started_at", "answered_at", "ended_at", "type", "wait_s", "talk_s", "ended_by",
                  "recorded", "vip", "flagged")
ATTEMPT_COLUMNS = ("call_record_id", "user_id", "started_at", "ended_at", "outcome")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


# ---------------------------------------------------------------- generating


def _calls(rows: int, agents: list[int], ivr_ids: list[int], end: datetime,
           seed: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(call record, its ring attempts) in time order."""
    rng = random.Random(seed)
    year = 365 * 86400
    for n in range(rows):
        start = end - timedelta(seconds=year * (rows - n) / rows + rng.random())
        inbound = rng.random() < 0.75
        outcome = rng.choice(IN_OUTCOMES) if inbound else "OUT"
        answered = outcome in ("ANSWERED", "OUT") and rng.random() < (1 if inbound else 0.8)
        wait = rng.uniform(0, 120) if inbound else 0.0
        talk = rng.uniform(10, 900) if answered else 0.0
        agent, customer = rng.choice(agents), customer_number(rng.randrange(CUSTOMERS))
        through_ivr = inbound and rng.random() < 0.7
        answered_at = start + timedelta(seconds=wait) if answered else None
        ended = start + timedelta(seconds=wait + talk)
        record = (n + 1, f"b{n}", "in" if inbound else "out", "ivr" if through_ivr else "direct",
                  customer if inbound else LINE, LINE if inbound else customer, "FR",
                  cached_area_of(customer),
                  rng.choice(ivr_ids) if through_ivr else None, agent if answered or not inbound else None,
                  start, answered_at, ended, "answered" if answered else "missed", wait, talk, "customer",
                  False, False, False)
        attempts = [(n + 1, agent, start, start + timedelta(seconds=wait),
                     outcome if answered or not inbound else rng.choice(OTHER_OUTCOMES))]
        if inbound and rng.random() < 0.3:
            attempts.append((n + 1, rng.choice(agents), start, start + timedelta(seconds=wait),
                             "CALL_ANSWERED" if answered else rng.choice(OTHER_OUTCOMES)))
        yield record, attempts


Rows = list[tuple[Any, ...]]


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(value.strftime(SQLITE_TIME) if isinstance(value, datetime) else value for value in row)


def _write_sqlite(engine: Engine, records: Rows, attempts: Rows) -> None:
    with engine.begin() as connection:
        for name, columns, rows in (("call_record", RECORD_COLUMNS, records),
                                    ("ring_attempt", ATTEMPT_COLUMNS, attempts)):
            statement = insert(table(name, *(column(c) for c in columns)))
            connection.execute(statement, [dict(zip(columns, _sqlite_row(row), strict=True)) for row in rows])


def _write_postgresql(engine: Engine, records: Rows, attempts: Rows) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            for name, columns, rows in (("call_record", RECORD_COLUMNS, records),
                                        ("ring_attempt", ATTEMPT_COLUMNS, attempts)):
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def generate(url: str, rows: int, seed: int = 1) -> tuple[float, float]:
    """The account and `rows` calls; returns (seconds inserting, seconds building the roll-ups)."""
    engine = ringtui_db.make_engine(url)
    ringtui_db.upgrade(engine)
    agents, ivr_ids = make_account(url, IVRS, AGENTS)
    write = _write_postgresql if engine.dialect.name == "postgresql" else _write_sqlite
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    records: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    for record, its_attempts in _calls(rows, agents, ivr_ids, end, seed):
        records.append(record)
        attempts.extend(its_attempts)
        if len(records) >= BATCH:
            write(engine, records, attempts)
            records, attempts = [], []
    if records:
        write(engine, records, attempts)
    if engine.dialect.name == "postgresql":  # sequences follow the explicit ids
        with engine.begin() as connection:
            connection.execute(text("SELECT setval('call_record_id_seq', (SELECT max(id) FROM call_record))"))
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as connection:
        rollups.rebuild_hours(connection, None, None)
    built = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return inserted, built


# ---------------------------------------------------------------- measuring

_SQLITE_BASELINES = {
    "heatmap": "SELECT strftime('%w', started_at) AS d, strftime('%H', started_at) AS h, count(*) "
               "FROM call_record WHERE started_at >= :year GROUP BY d, h",
    "history": "SELECT date(started_at) AS day, count(*) FROM call_record WHERE started_at >= :year "
               "GROUP BY day",
}
_PG_BASELINES = {
    "heatmap": "SELECT extract(isodow FROM started_at) AS d, extract(hour FROM started_at) AS h, count(*) "
               "FROM call_record WHERE started_at >= :year GROUP BY d, h",
    "history": "SELECT date_trunc('day', started_at) AS day, count(*) FROM call_record "
               "WHERE started_at >= :year GROUP BY day",
}
_IN, _OUT = "c.direction = 'in'", "c.direction = 'out'"
_ANSWERED, _MISSED = f"{_IN} AND c.type = 'answered'", f"{_IN} AND c.type <> 'answered'"
_CALLBACK_AT = ("(SELECT min(o.started_at) FROM call_record o WHERE o.direction = 'out' "
                "AND o.to_number = c.from_number AND o.started_at >= c.ended_at)")
_SECONDS = {"sqlite": "((julianday({later}) - julianday({earlier})) * 86400.0)",
            "postgresql": "EXTRACT(EPOCH FROM ({later} - {earlier}))"}
# the 16 figures of `stats calls`, in stats.CALL_INDICATORS order, straight over call_record
_CALLS_BASELINE = (
    f"SELECT count(*), count(CASE WHEN {_IN} THEN 1 END), count(CASE WHEN {_OUT} THEN 1 END), "
    f"count(CASE WHEN {_ANSWERED} THEN 1 END), count(CASE WHEN {_MISSED} THEN 1 END), "
    f"CAST(count(CASE WHEN {_ANSWERED} THEN 1 END) AS FLOAT) / nullif(count(CASE WHEN {_IN} THEN 1 END), 0), "
    f"sum(c.talk_s), avg(CASE WHEN {_ANSWERED} THEN c.wait_s END), max(CASE WHEN {_IN} THEN c.wait_s END), "
    f"avg(CASE WHEN {_MISSED} THEN c.wait_s END), avg(CASE WHEN {_ANSWERED} THEN c.talk_s END), "
    f"max(CASE WHEN {_ANSWERED} THEN c.talk_s END), avg(CASE WHEN {_OUT} THEN c.talk_s END), "
    f"max(CASE WHEN {_OUT} THEN c.talk_s END), "
    f"count(CASE WHEN {_MISSED} AND c.processed_at IS NULL THEN 1 END), "
    f"avg(CASE WHEN {_MISSED} THEN {{callback}} END) "
    "FROM call_record c WHERE c.ivr_id = :ivr AND c.started_at >= :start AND c.started_at < :stop "
    "AND c.ended_at IS NOT NULL")
_BASELINES = {
    "leaderboard": "SELECT a.user_id, a.outcome, count(*), sum(c.talk_s) FROM ring_attempt a "
                   "JOIN call_record c ON c.id = a.call_record_id "
                   "WHERE c.started_at >= :month AND c.started_at < :end GROUP BY a.user_id, a.outcome",
}


Times = tuple[float, float, float]
Figure = tuple[str, Times, Times, Times | None]


def measure(url: str, runs: int, *, with_raw_services: bool, only: str | None = None) -> list[Figure]:
    engine = ringtui_db.engine_for(url)
    settings = Settings(database_url=url)
    with engine.connect() as connection:
        last = connection.execute(select(func.max(CallRecord.started_at))).scalar_one()
        ivr = connection.execute(select(Ivr.id).where(Ivr.name == "IVR 3")).scalar_one()
    last = last.replace(tzinfo=UTC) if last.tzinfo is None else last
    today = last.date()
    month, year = f"{today - timedelta(days=29)}..{today}", f"{today - timedelta(days=364)}..{today}"
    bounds = {"ivr": ivr, "end": last + timedelta(days=1), "month": last - timedelta(days=30),
              "year": last - timedelta(days=365)}
    now = last + timedelta(hours=1)
    with engine.connect() as connection:  # the same local days as the service's period
        zone = ZoneInfo(connection.execute(select(Account.timezone)).scalar_one() or "UTC")
    period = parse_period(month, zone, now)
    bounds |= {"start": period.start, "stop": period.end}
    dialect = engine.dialect.name
    if dialect == "sqlite":
        bounds = {k: v.strftime(SQLITE_TIME) if isinstance(v, datetime) else v for k, v in bounds.items()}
    baselines = _BASELINES | (_SQLITE_BASELINES if dialect == "sqlite" else _PG_BASELINES)
    baselines["calls"] = _CALLS_BASELINE.format(
        callback=_SECONDS[dialect].format(later=_CALLBACK_AT, earlier="c.ended_at"))

    def plain(name: str) -> Callable[[], Any]:
        def run() -> Any:
            with engine.connect() as connection:
                return connection.execute(text(baselines[name]), bounds).all()
        return run

    def service(call: Callable[[Any], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with operation(settings) as op:
                return call(op)
        return run

    figures: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
        "calls": ("stats calls --ivr 'IVR 3', 30 days", lambda op, source: stats.call_stats(
            op, FilterOptions(period=month, ivr="IVR 3"), now=now, source=source)),
        "heatmap": ("stats heatmap, 365 days", lambda op, source: stats.call_heatmap(
            op, None, FilterOptions(period=year), now=now, source=source)),
        "leaderboard": ("stats leaderboard, 30 days", lambda op, source: stats.leaderboard(
            op, FilterOptions(period=month), now=now, source=source)),
        "history": ("stats history --interval day, 365 days", lambda op, source: stats.call_history(
            op, "day", None, FilterOptions(period=year), now=now, source=source)),
    }
    _same_calls_figures(plain("calls")()[0], service(lambda op: figures["calls"][1](op, "rollup"))())
    rows: list[Figure] = []
    for name, (label, work) in figures.items():
        if only and name != only:
            continue
        rollup, baseline = _paired(runs, service(lambda op, w=work: w(op, "rollup")), plain(name))
        rows.append((label, rollup, baseline,
                     median_of(1, service(lambda op, w=work: w(op, "raw"))) if with_raw_services else None))
    return rows


def _paired(runs: int, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Times, Times]:
    """(median, min, max) of each, run in turns after one warm-up each, so that a loaded machine
    slows both alike."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for work, spent in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            work()
            spent.append(time.perf_counter() - started)
    return _spread(times[0]), _spread(times[1])


def _spread(times: list[float]) -> Times:
    return statistics.median(times), min(times), max(times)


def _same_calls_figures(baseline: Any, service: dict[str, Any]) -> None:
    """The calls baseline must compute what the command prints, or the ratio would flatter."""
    plain = {name: stats._figure(name, value) for name, value in zip(stats.CALL_INDICATORS, baseline,
                                                                       strict=True)}
    if plain != service:
        sys.exit(f"the calls baseline and the service disagree:\n{plain}\n{service}")


def report(rows: list[Figure]) -> str:
    lines = ["| query | roll-ups median (s) | min | max | raw-SQL baseline median (s) | roll-ups / baseline "
             "| same service raw (s) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, (median, low, high), (base, _, _), raw in rows:
        raw_text = f"{raw[0]:.3f}" if raw else "-"
        lines.append(f"| {label} | {median:.4f} | {low:.4f} | {high:.4f} | {base:.4f} | {median / base:.2f} "
                     f"| {raw_text} |")
    return "\n".join(lines)


def _held(url: str) -> int:
    engine = ringtui_db.make_engine(url)
    if ringtui_db.current_revision(engine) is None:
        return 0
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(CallRecord)).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--reuse", help="a SQLite file or PostgreSQL URL: generated once, then reused")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--raw", action="store_true",
                        help="also time each service on call_record (source=raw), once: slow at 10M")
    parser.add_argument("--only", choices=("calls", "heatmap", "leaderboard", "history"),
                        help="time this figure only")
    args = parser.parse_args()
    if args.db == "postgresql" and not (args.reuse or "").startswith("postgresql"):
        parser.error("--db postgresql needs --reuse postgresql+psycopg://... "
                     "(an empty or generated database)")
    with tempfile.TemporaryDirectory() as folder:
        target = args.reuse or str(Path(folder) / "calls.db")
        url = target if args.db == "postgresql" else f"sqlite:///{Path(target).resolve()}"
        held = _held(url)
        print(f"{platform.python_version()} {platform.machine()} {args.db}: ", end="")
        if held == 0:
            inserted, built = generate(url, args.rows)
            print(f"{args.rows:,} calls with ring attempts inserted in {inserted:.1f} s "
                  f"({args.rows / inserted:,.0f} calls/s), roll-ups built in {built:.1f} s")
        elif held != args.rows:
            sys.exit(f"{target} holds {held:,} calls, not {args.rows:,}: "
                     f"give --rows {held} or another --reuse")
        else:
            print(f"reusing {held:,} calls in {target}")
        print(f"median of {args.runs} runs\n")
        print(report(measure(url, args.runs, with_raw_services=args.raw, only=args.only)))
        ringtui_db.dispose_engines()


if __name__ == "__main__":
    main()
