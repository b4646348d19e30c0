"""Hourly roll-ups: every call indicator is the same from the roll-ups as from call_record, on SQLite
and PostgreSQL; the recorder, close_orphans, the CDR import and `stats rebuild` keep them equal;
filters they cannot answer (and zones off the hour) are answered raw.

The data: the hand-computed history of tests/commands/test_calls.py plus 240 seeded calls over
October and November 2026 (across the Europe/Paris autumn change), with ring attempts of every
outcome, tags and both directions.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from ringtui.config import Settings
from ringtui.db import engine_for
from ringtui.engine.core.events import AttemptOutcomeChanged, CallEnded, CallStarted
from ringtui.engine.recorder import Recorder, _started_from, close_orphans, record_all
from ringtui.errors import Invalid
from ringtui.models import Account, AgentDay, AgentHour, CallHour, CallRecord, IvrHour, RingAttempt
from ringtui.services import stats
from ringtui.services.base import operation
from ringtui.services.filters import FilterOptions
from ringtui.services.rollups import rebuild_hours
from ringtui.vocab import CallKind, CallType, Direction, Outcome
from tests.commands import test_calls as base
from tests.commands.test_calls import ANA, BOB, HISTORY, NOV_2, SUP, at, build_center, call
from tests.commands.test_calls_import import ANSWERED_IN, BUSY_IN, MISSED_IN, master, pbx  # noqa: F401
from tests.conftest import ok, refused

base.register_commands()
NOW = at(30, 12)
TYPES = (CallType.ANSWERED, CallType.ANSWERED, CallType.MISSED, CallType.VOICEMAIL)


def seeded_calls(count: int = 240, seed: int = 7, first: datetime | None = None,
                 span: timedelta = timedelta(days=60), prefix: str = "s") -> list:
    rng = random.Random(seed)
    calls = []
    for n in range(count):
        start = (first or at(1, 0, month=10)) + timedelta(seconds=rng.randrange(int(span.total_seconds())))
        inbound = rng.random() < 0.75
        type_ = rng.choice(TYPES) if inbound else rng.choice((CallType.ANSWERED, CallType.MISSED))
        answered = type_ == CallType.ANSWERED
        agent = rng.choice((ANA, BOB))
        outcomes = [(agent, Outcome.ANSWERED if answered else rng.choice(list(Outcome)))]
        if inbound and rng.random() < 0.5:
            outcomes.append((BOB if agent == ANA else ANA, rng.choice(list(Outcome))))
        calls.append(call(
            f"{prefix}{n}", start, Direction.IN if inbound else Direction.OUT,
            CallKind.IVR if inbound and rng.random() < 0.7 else CallKind.DIRECT,
            f"+3361234{rng.randrange(100):04d}", type_=type_,
            ivr=rng.choice(("Support", "Sales")) if inbound else None,
            agent=agent if answered or not inbound else None,
            wait=round(rng.uniform(0, 90), 3) if inbound else 0,
            talk=round(rng.uniform(5, 900), 3) if answered else 0,
            attempts=tuple(outcomes) if inbound else ((agent, Outcome.OUT),),
            tags=("Sale",) if rng.random() < 0.2 else ()))
    return calls


@pytest.fixture
def center(cli, db_url):
    build_center(cli)
    record_all(engine_for(db_url), [*HISTORY, *seeded_calls()])
    return cli, db_url


def run(db_url: str, work, as_user: str | None = None):
    with operation(Settings(database_url=db_url), as_user) as op:
        return work(op)


def both_ways(db_url: str, work, as_user: str | None = None):
    """(from the roll-ups, raw); refuses when the roll-ups cannot answer."""
    return (run(db_url, lambda op: work(op, "rollup"), as_user),
            run(db_url, lambda op: work(op, "raw"), as_user))


ANSWERABLE = [
    FilterOptions(),
    FilterOptions(period=NOV_2),
    FilterOptions(period="2026-10-01..2026-10-31", hours="09:00-18:00"),
    FilterOptions(hours="22:00-02:00"),
    FilterOptions(ivr="Support"),
    FilterOptions(period="this-month", ivr="Sales", type="answered"),
    FilterOptions(ivr="Support,Sales"),  # --ivr Support --ivr Sales: both IVRs' hours added up
    FilterOptions(period="2026-10-01..2026-10-31", hours="09:00-18:00", ivr="Sales,Support", direction="in"),
    FilterOptions(scope="ivrs", direction="in"),
    FilterOptions(scope="direct", period="last-month"),
    FilterOptions(direction="out", type="missed"),
]


def _named(options: FilterOptions) -> str:
    return ",".join(f"{key}={getattr(options, key)}" for key in options.given()) or "none"


@pytest.mark.parametrize("options", ANSWERABLE, ids=_named)
def test_every_call_indicator_is_the_same_from_rollups_and_raw(center, options):
    _, db_url = center
    rolled, raw = both_ways(db_url, lambda op, source: stats.call_stats(op, options, now=NOW, source=source))
    assert rolled == raw
    assert raw["total_calls"] > 0
    for name in stats.TREND_INDICATORS:
        rolled, raw = both_ways(db_url, lambda op, source, name=name: stats.call_heatmap(
            op, name, options, now=NOW, source=source))
        assert rolled == raw, name
    for interval in ("hour", "day", "month"):
        rolled, raw = both_ways(db_url, lambda op, source, interval=interval: stats.call_history(
            op, interval, "avg_wait_s", options, now=NOW, source=source))
        assert rolled == raw, interval


@pytest.mark.parametrize("interval", ["hour", "day", "week", "month"])
def test_every_history_indicator_is_the_same_from_rollups_and_raw(center, interval):
    _, db_url = center
    for name in stats.TREND_INDICATORS:
        rolled, raw = both_ways(db_url, lambda op, source, name=name: stats.call_history(
            op, interval, name, FilterOptions(period="2026-10-01..2026-11-30"), now=NOW, source=source))
        assert rolled == raw and raw["points"], name


@pytest.mark.parametrize("options", [FilterOptions(), FilterOptions(period=NOV_2),
                                     FilterOptions(period="2026-10-03..2026-11-14"),
                                     FilterOptions(period="last-month", hours="08:00-20:00")],
                         ids=["all", "nov2", "whole-days-and-edges", "october-daytime"])
def test_the_leaderboard_is_the_same_from_rollups_and_raw(center, options):
    _, db_url = center
    rolled, raw = both_ways(db_url, lambda op, source: stats.leaderboard(op, options, now=NOW, source=source))
    assert rolled == raw and {row["agent"] for row in raw} == {ANA, BOB}


@pytest.mark.parametrize("options", [
    FilterOptions(tag="Sale"), FilterOptions(country="FR"), FilterOptions(user=ANA),
    FilterOptions(period=NOV_2, hours="09:30-12:00")], ids=["tag", "country", "user", "half-hour"])
def test_filters_the_rollups_cannot_answer_are_answered_raw(center, options):
    _, db_url = center
    with pytest.raises(Invalid, match="roll-ups cannot answer"):
        run(db_url, lambda op: stats.call_stats(op, options, now=NOW, source="rollup"))
    automatic = run(db_url, lambda op: stats.call_stats(op, options, now=NOW))
    assert automatic == run(db_url, lambda op: stats.call_stats(op, options, now=NOW, source="raw"))
    with pytest.raises(Invalid, match="roll-ups cannot answer"):  # the leaderboard filters on the call
        run(db_url, lambda op: stats.leaderboard(op, FilterOptions(ivr="Sales"), now=NOW, source="rollup"))


def test_a_scoped_supervisor_is_answered_raw_with_her_ivrs_only(center):
    _, db_url = center
    with pytest.raises(Invalid, match="roll-ups cannot answer"):
        run(db_url, lambda op: stats.call_stats(op, source="rollup"), as_user=SUP)
    scoped = run(db_url, lambda op: stats.call_stats(op, now=NOW), as_user=SUP)
    sales = run(db_url, lambda op: stats.call_stats(op, FilterOptions(ivr="Sales"), now=NOW, source="rollup"))
    assert scoped == sales  # granted ivr:Sales only, and she takes no calls herself


def test_a_zone_off_the_hour_is_answered_raw(center):
    _, db_url = center
    with Session(engine_for(db_url)) as db:
        db.execute(update(Account).values(timezone="Asia/Kolkata"))
        db.commit()
    with pytest.raises(Invalid, match="roll-ups cannot answer"):
        run(db_url, lambda op: stats.call_heatmap(op, "total_calls", now=NOW, source="rollup"))
    automatic = run(db_url, lambda op: stats.call_heatmap(op, "total_calls", now=NOW))
    assert automatic == run(db_url, lambda op: stats.call_heatmap(op, "total_calls", now=NOW, source="raw"))
    assert sum(cell["value"] for cell in automatic["cells"]) == len(HISTORY) + 240


def test_the_recorder_keeps_the_rollups_current(center):
    _, db_url = center
    engine = engine_for(db_url)
    day = FilterOptions(period="2026-11-01..2026-11-03")  # Nov 2 from agent_day, the edges by hour
    before = run(db_url, lambda op: stats.call_stats(op, day, now=NOW, source="rollup"))
    board = {r["agent"]: r for r in run(db_url, lambda op: stats.leaderboard(
        op, day, now=NOW, source="rollup"))}
    # a late pick-up turns bob's SNOOZE attempt on c5 into TOOLATE after the call was recorded
    c5 = next(event.call for event in HISTORY if event.call.call_id == "c5")
    record_all(engine, [AttemptOutcomeChanged(at=c5.ended_at, call_id="c5", agent=BOB,
                                              started_at=c5.started_at, outcome=Outcome.TOOLATE),
                        call("late", at(2, 15), Direction.IN, CallKind.IVR, "+33600000001",
                             type_=CallType.ANSWERED, ivr="Sales", agent=ANA, wait=3, talk=30,
                             attempts=((ANA, Outcome.ANSWERED),))])
    after = run(db_url, lambda op: stats.call_stats(op, day, now=NOW, source="rollup"))
    assert (after["total_calls"], after["answered_calls"]) == (before["total_calls"] + 1,
                                                               before["answered_calls"] + 1)
    rows = {r["agent"]: r for r in run(db_url, lambda op: stats.leaderboard(
        op, day, now=NOW, source="rollup"))}
    assert (rows[BOB]["toolate"], rows[BOB]["snooze"], rows[ANA]["answered"]) == (
        board[BOB]["toolate"] + 1, board[BOB]["snooze"] - 1, board[ANA]["answered"] + 1)
    # a call left open by a crash counts once close_orphans has closed it at the next start
    record_all(engine, [CallStarted(at=at(2, 16), call_id="orphan", direction=Direction.IN,
                                    kind=CallKind.IVR, from_number="+33600000002", to_number=base.LINE,
                                    ivr="Sales")])
    close_orphans(engine, at(2, 16, 5))
    closed = run(db_url, lambda op: stats.call_stats(op, day, now=NOW, source="rollup"))
    assert (closed["missed_calls"], closed["max_wait_s"]) == (after["missed_calls"] + 1, 300.0)
    assert closed == run(db_url, lambda op: stats.call_stats(op, day, now=NOW, source="raw"))


def rollup_rows(db_url: str) -> int:
    with Session(engine_for(db_url)) as db:
        return sum(db.execute(select(func.count()).select_from(table)).scalar_one()
                   for table in (CallHour, IvrHour, AgentHour, AgentDay))


def test_stats_rebuild_recomputes_a_period_or_everything(center):
    cli, db_url = center
    intact = rollup_rows(db_url)
    with Session(engine_for(db_url)) as db:
        for table in (CallHour, IvrHour, AgentHour, AgentDay):
            db.execute(delete(table))
        db.commit()
    assert ok(cli("stats", "calls", "--json")).json()["total_calls"] == 0  # what a stale roll-up shows
    day = ok(cli("stats", "rebuild", "--period", NOV_2, "--json")).json()
    assert day["period"] == NOV_2
    assert (day["first_hour"], day["last_hour"]) == ("2026-11-01T23:00:00Z", "2026-11-02T22:00:00Z")
    assert ok(cli("stats", "calls", "--period", NOV_2, "--json")).json()["total_calls"] == 6 + sum(
        1 for e in seeded_calls() if at(1, 23) <= e.call.started_at < at(2, 23))
    whole = ok(cli("stats", "rebuild", "--json")).json()
    assert whole["period"] == "all" and whole["call_hour"] > day["call_hour"]
    assert rollup_rows(db_url) == intact
    assert ok(cli("stats", "calls", "--json")).json()["total_calls"] == len(HISTORY) + 240


def test_stats_rebuild_refuses_bad_periods_and_agents(center, unchanged):
    cli, _ = center
    with unchanged():
        refused(cli("stats", "rebuild", "--period", "someday"), "'someday'")
        refused(cli("stats", "rebuild", as_user=ANA), ANA)
    assert re.search(r"call hour +245", ok(cli("stats", "rebuild")).stdout)


@pytest.mark.usefixtures("pbx")
def test_a_cdr_import_rebuilds_the_hours_it_touched(cli, db_url, tmp_path: Path):
    ok(cli("calls", "import", master(tmp_path, ANSWERED_IN, MISSED_IN, BUSY_IN), "--json"))
    rolled, raw = both_ways(db_url, lambda op, source: stats.call_stats(op, now=NOW, source=source))
    assert rolled == raw and raw["inbound_calls"] == 3


def test_rollup_hours_are_utc_hour_starts(center):
    _, db_url = center
    with Session(engine_for(db_url)) as db:
        hours = db.execute(select(CallHour.hour)).scalars().all()
        assert hours and all(isinstance(h, datetime) and h == h.replace(minute=0, second=0, microsecond=0)
                             for h in hours)
        total = db.execute(select(func.sum(CallHour.calls))).scalar_one()
        assert total == db.execute(select(func.count()).select_from(CallRecord)).scalar_one()


def test_migration_0009_fills_the_rollups_from_the_calls_already_there(tmp_path: Path):
    from ringtui import db as ringtui_db

    engine = ringtui_db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    ringtui_db.upgrade(engine, "0008")
    rows = [{"call_id": f"old{n}", "direction": "in", "kind": "direct", "from_number": "+33600000000",
             "to_number": base.LINE, "started_at": at(2, 9, 10 * n), "ended_at": at(2, 9, 10 * n, 30),
             "type": "answered", "wait_s": 5.0 * n, "talk_s": 25.0, "ended_by": "customer", "recorded": False,
             "vip": False, "flagged": False} for n in range(5)]
    with engine.begin() as connection:
        connection.execute(CallRecord.__table__.insert(), rows)
    ringtui_db.upgrade(engine)
    with engine.connect() as connection:
        hours = connection.execute(select(CallHour.hour, CallHour.calls, CallHour.wait_max)).all()
    engine.dispose()
    assert hours == [(at(2, 9), 5, 20.0)]


# ---------------------------------------------------------------- the live path, batch by batch

def rollup_contents(db_url: str) -> dict[str, list[tuple]]:
    """Every roll-up row without its id, sorted; sums rounded to the microsecond (float sums differ
    in their last bits with the order they were added in)."""
    contents = {}
    with Session(engine_for(db_url)) as db:
        for table in (CallHour, IvrHour, AgentHour, AgentDay):
            columns = [column for column in table.__table__.columns if column.name != "id"]
            rows = [tuple(round(value, 6) if isinstance(value, float) else value for value in row)
                    for row in db.execute(select(*columns))]
            contents[table.__tablename__] = sorted(rows, key=lambda row: tuple(map(str, row)))
    return contents


def rebuilt_contents(db_url: str) -> dict[str, list[tuple]]:
    with Session(engine_for(db_url)) as db, db.begin():
        rebuild_hours(db, None, None)
    return rollup_contents(db_url)


def busy_morning() -> list[CallEnded]:
    """150 calls over 09:00-12:00 on Nov 3 and 20 around midnight (two UTC days of agent_day)."""
    return [*seeded_calls(150, seed=11, first=at(3, 9), span=timedelta(hours=3), prefix="m"),
            *seeded_calls(20, seed=12, first=at(3, 23, 50), span=timedelta(minutes=20), prefix="n")]


def test_the_recorder_adds_batch_after_batch_exactly_as_a_rebuild(cli, db_url):
    build_center(cli)
    engine = engine_for(db_url)
    calls = busy_morning()
    recorder, pending = Recorder(engine), []
    # flushes of 7 calls starting; a third of them end in the same flush, the others in the next
    for first in range(0, len(calls), 7):
        chunk = calls[first:first + 7]
        recorder.write([*(_started_from(e.call) for e in chunk), *pending, *chunk[::3]])
        pending = [e for e in chunk if e not in chunk[::3]]
    recorder.write(pending)
    # late pick-ups: on a call recorded in an earlier flush, and on one ending in the same flush
    # (an ANSWERED attempt turned TOOLATE also takes its talk time out of that agent's hour)
    recorded = next(e.call for e in calls if len(e.call.attempts) == 2 and e.call.talk_s > 0)
    late_user = recorded.attempts[0].agent  # the agent who answered: their talk time goes too
    fresh = call("late", at(3, 9, 30), Direction.IN, CallKind.IVR, "+33600000001",
                 type_=CallType.ANSWERED, ivr="Sales", agent=ANA, wait=3, talk=30,
                 attempts=((BOB, Outcome.NO_ANSWER), (ANA, Outcome.ANSWERED)))
    record_all(engine, [fresh, *(AttemptOutcomeChanged(at=e.ended_at, call_id=e.call_id, agent=who,
                                                       started_at=e.started_at, outcome=Outcome.TOOLATE)
                                 for e, who in ((recorded, late_user), (fresh.call, BOB)))])
    # a call left open by a crash, closed at the next start
    record_all(engine, [CallStarted(at=at(3, 10, 10), call_id="orphan", direction=Direction.IN,
                                    kind=CallKind.IVR, from_number="+33600000002", to_number=base.LINE,
                                    ivr="Support")])
    assert close_orphans(engine, at(3, 10, 20)) == ["orphan"]
    live = rollup_contents(db_url)
    assert live == rebuilt_contents(db_url)
    assert sum(row[4] for row in live["call_hour"]) == len(calls) + 2  # column 4: calls
    assert len(live["agent_day"]) > 2 and {row[-1] for row in live["agent_day"]} == {at(3, 0), at(4, 0)}
    with Session(engine) as db:
        assert db.execute(select(func.sum(AgentDay.toolate))).scalar_one() == db.execute(
            select(func.count()).where(RingAttempt.outcome == Outcome.TOOLATE)).scalar_one() >= 2


BOOM = {"sqlite": ["CREATE TRIGGER boom BEFORE INSERT ON agent_day BEGIN SELECT RAISE(ABORT, 'boom'); END"],
        "postgresql": ["CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION 'boom'; END $$",
                       "CREATE TRIGGER boom BEFORE INSERT ON agent_day FOR EACH ROW EXECUTE FUNCTION boom()"]}
UNBOOM = {"sqlite": ["DROP TRIGGER boom"],
          "postgresql": ["DROP TRIGGER boom ON agent_day", "DROP FUNCTION boom()"]}


def test_a_failing_batch_leaves_the_rollups_unchanged_and_its_retry_counts_once(cli, db_url):
    build_center(cli)
    engine = engine_for(db_url)
    record_all(engine, busy_morning()[:40])
    before = rollup_contents(db_url)
    batch = [call(f"x{n}", at(4, 9, n), Direction.IN, CallKind.IVR, "+33600000003",
                  type_=CallType.ANSWERED, ivr="Sales", agent=ANA, wait=5, talk=60,
                  attempts=((ANA, Outcome.ANSWERED),)) for n in range(3)]
    # agent_day's upsert, the last of the four, fails: the three before it must roll back with it
    with engine.begin() as connection:
        for statement in BOOM[engine.dialect.name]:
            connection.exec_driver_sql(statement)
    try:
        with pytest.raises(DBAPIError, match="boom"):
            Recorder(engine).write(batch)
    finally:
        with engine.begin() as connection:
            for statement in UNBOOM[engine.dialect.name]:
                connection.exec_driver_sql(statement)
    assert rollup_contents(db_url) == before
    with Session(engine) as db:
        assert db.execute(select(func.count()).where(CallRecord.call_id.like("x%"))).scalar_one() == 0
    Recorder(engine).write(batch)  # the same batch again, as a retry would
    after = rollup_contents(db_url)
    assert after == rebuilt_contents(db_url)
    assert sum(row[4] for row in after["call_hour"]) == 43


@pytest.mark.usefixtures("pbx")
def test_a_cdr_import_adds_to_the_rollups_exactly_as_a_rebuild(cli, db_url, tmp_path: Path):
    """Calls over two UTC days, queue legs merged into one call, a second file into the same hours
    (the rows already there are added to) with lines imported before: the roll-ups a rebuild gives."""
    from tests.commands.test_calls_import import ANSWERED_OUT

    def moved(line: str, n: int, hour: int) -> str:
        return (line.replace("1762074000.1", f"1762074000.{n}").replace("1762077600.3", f"1762077600.{n}")
                .replace("1762081200.5", f"1762081200.{n}").replace("1762084800.9", f"1762084800.{n}")
                .replace(" 10:0", f" {hour:02d}:0").replace(" 11:0", f" {hour:02d}:0")
                .replace(" 12:0", f" {hour:02d}:0").replace(" 13:0", f" {hour:02d}:0"))

    first = [moved(line, n, 8 + n % 16) for n, line in enumerate([ANSWERED_IN, MISSED_IN, ANSWERED_OUT,
                                                                   BUSY_IN] * 6)]
    rang = moved(ANSWERED_IN, 99, 10).replace('"ANSWERED"', '"NO ANSWER"').replace(",132,120,", ",15,0,")
    taken = moved(ANSWERED_IN, 99, 10).replace("SIP/ana-00000002", "SIP/201-00000003")
    ok(cli("calls", "import", master(tmp_path, *first, rang, taken), "--json"))
    assert rollup_contents(db_url) == rebuilt_contents(db_url)
    second = [moved(line, 100 + n, 9 + n % 3) for n, line in enumerate([ANSWERED_OUT, MISSED_IN] * 4)]
    summary = ok(cli("calls", "import", master(tmp_path, *first[:5], *second, name="b.csv"), "--json")).json()
    assert (summary["imported"], summary["already_imported"]) == (8, 5)
    live = rollup_contents(db_url)
    assert live == rebuilt_contents(db_url)
    assert sum(row[4] for row in live["call_hour"]) == 24 + 1 + 8  # column 4: calls
