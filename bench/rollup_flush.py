"""What one recorder flush costs the roll-ups, against the traffic already in its hour (SQLite).

Loads `--hour-calls` ended calls (two ring attempts each, 200 agents) into one UTC hour and
builds their roll-ups, then times, for a flush of `--batch` calls ending in that same hour, the
two ways of bringing the roll-ups up to date in the flush's transaction (rolled back after each):

- delta: `add_calls`, the recorder's live path (aggregate the batch, upsert);
- hour recompute: `refresh_calls`, the path it replaced (and still the one for orphans),
  which deletes and recomputes the whole hour and the agents' day;
- late outcomes: `shift_outcomes` for the 20 attempts of 10 of the flush's calls turned TOOLATE
  after their calls were recorded (one count moved in 20 agents' hour and day).

Median of `--runs` runs each.

    .venv/bin/python bench/rollup_flush.py [--hour-calls 200000] [--batch 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ringtui.models import CallRecord, RingAttempt
from ringtui.services.rollups import add_calls, rebuild_hours, refresh_calls, shift_outcomes

HOUR = datetime(2026, 11, 23, 10, tzinfo=UTC)
AGENTS = 200
OUTCOMES = ("ANSWERED", "NO_ANSWER", "CALL_ANSWERED", "REJECTED")


def calls(first: int, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records, attempts = [], []
    for n in range(first, first + count):
        start = HOUR + timedelta(seconds=n * 3599 / (first + count))
        records.append({"id": n + 1, "call_id": f"c{n}", "direction": "in", "kind": "ivr",
                        "from_number": "+33600000000", "to_number": "+33100000000", "started_at": start,
                        "ended_at": start + timedelta(seconds=90), "type": "answered",
                        "wait_s": 10.0 + n % 50, "talk_s": 80.0 + n % 300, "ended_by": "customer",
                        "recorded": False, "vip": False, "flagged": False})
        attempts += [{"call_record_id": n + 1, "user_id": 1 + (n + k) % AGENTS, "started_at": start,
                      "ended_at": start, "outcome": OUTCOMES[(n + k) % len(OUTCOMES)]} for k in range(2)]
    return records, attempts


def write(connection: Any, count: int, first: int = 0) -> list[str]:
    records, attempts = calls(first, count)
    connection.execute(insert(CallRecord.__table__), records)
    connection.execute(insert(RingAttempt.__table__), attempts)
    return [record["call_id"] for record in records]


def timed(engine: Any, hour_calls: int, batch: int, update: Callable[[Any, list[str]], None]) -> float:
    with engine.connect() as connection, connection.begin() as transaction:
        ids = write(connection, batch, first=hour_calls)
        started = time.perf_counter()
        update(connection, ids)
        elapsed = time.perf_counter() - started
        transaction.rollback()
    return elapsed


def late_outcomes(connection: Any, ids: list[str]) -> None:
    """The attempts of 10 of the batch's calls turned TOOLATE after their calls were recorded
    (timed alone: the recorder's own UPDATE of the attempts is not part of the roll-ups)."""
    attempts = connection.execute(select(
        CallRecord.call_id, RingAttempt.user_id, RingAttempt.started_at).join(
        RingAttempt, RingAttempt.call_record_id == CallRecord.id).where(CallRecord.call_id.in_(ids[:10])))
    shift_outcomes(connection, [(*attempt, "TOOLATE") for attempt in attempts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hour-calls", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/flush.db")  # no FK pragma: no agents to create
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            write(connection, args.hour_calls)
            rebuild_hours(connection, None, None)
        print(f"{args.hour_calls:,} calls already in the hour, a flush of {args.batch} calls ending in it:")
        ways = (("delta (add_calls)", add_calls), ("hour recompute (refresh_calls)", refresh_calls),
                ("late outcomes (shift_outcomes)", late_outcomes))
        for name, update in ways:
            runs = [timed(engine, args.hour_calls, args.batch, update) for _ in range(args.runs)]
            print(f"  {name:32} median {statistics.median(runs) * 1000:8.1f} ms   "
                  f"(min {min(runs) * 1000:.1f}, max {max(runs) * 1000:.1f}, {args.runs} runs)")
        engine.dispose()


if __name__ == "__main__":
    main()
