"""Fast-forwarded history (E5, `init --demo`): three simulated days on the demo account, recorded on
SQLite and PostgreSQL: one closed record per call, coherent times, attempts and survey answers, the
same records for the same seed on a fresh account, and the caller's country."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from ringtui import db as ringtui_db
from ringtui.config import Settings
from ringtui.engine.history import HistoryReport, simulate_history
from ringtui.services.demo import seed_demo
from ringtui.vocab import CallType, EndedBy, Outcome
from tests.conftest import PG_ENV, fresh_postgres_database

END = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)  # Thursday: three days from Monday
DAYS, SEED = 3, 41


@dataclass
class History:
    url: str
    engine: Engine
    report: HistoryReport

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def one(self, sql: str, **params: Any) -> Any:
        return self.rows(sql, **params)[0][0]


class Databases:
    """Fresh migrated databases of one kind, dropped at the end of the module."""

    def __init__(self, kind: str, template: Path, folder: Path) -> None:
        self.kind, self.template, self.folder = kind, template, folder
        self.postgres: list[str] = []

    def fresh(self, name: str) -> str:
        if self.kind == "sqlite":
            path = self.folder / f"{name}.db"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        base = os.environ.get(PG_ENV)
        if not base:
            pytest.skip(f"{PG_ENV} is not set")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = fresh_postgres_database(base, f"history_{worker}_{name}")
        ringtui_db.upgrade(ringtui_db.make_engine(url))
        self.postgres.append(url)
        return url

    def drop_all(self) -> None:
        for url in self.postgres:
            ringtui_db.engine_for(url).dispose()
            parsed = make_url(url)
            admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            admin.dispose()


def demo_history(databases: Databases, name: str, seed: int = SEED) -> History:
    url = databases.fresh(name)
    seed_demo(Settings(database_url=url))
    engine = ringtui_db.engine_for(url)
    return History(url, engine, simulate_history(engine, days=DAYS, seed=seed, end=END))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, sqlite_template: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    kept = Databases(request.param, sqlite_template, tmp_path_factory.mktemp("history"))
    yield kept
    kept.drop_all()


@pytest.fixture(scope="module")
def history(databases: Databases) -> History:
    """The demo account with three days of history."""
    return demo_history(databases, "first")


# ---------------------------------------------------------------- one closed record per call


def test_one_record_per_call_started(history: History):
    records = history.one("SELECT count(*) FROM call_record")
    assert history.report.calls > 500, history.report
    assert records == history.report.calls
    assert history.one("SELECT count(DISTINCT call_id) FROM call_record") == records
    assert (history.report.days, history.report.first_day, history.report.last_day) == (
        3, "2026-03-02", "2026-03-05")


def test_no_record_is_left_open(history: History):
    assert history.one("SELECT count(*) FROM call_record WHERE ended_at IS NULL") == 0
    assert history.one("SELECT count(*) FROM call_record WHERE ended_at < started_at") == 0
    assert history.one("SELECT count(*) FROM call_record WHERE ended_by IS NULL") == 0
    last_end = history.one("SELECT max(ended_at) FROM call_record")
    assert ringtui_time(last_end) <= END + timedelta(hours=2)


def test_calls_start_within_the_simulated_days(history: History):
    first, last = history.rows("SELECT min(started_at), max(started_at) FROM call_record")[0]
    monday_paris = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)
    assert monday_paris <= ringtui_time(first) and ringtui_time(last) <= END


def ringtui_time(value: Any) -> datetime:
    """A timestamp as read back by a raw query (SQLite gives text), UTC-aware."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_every_record_has_a_type_and_every_type_appears(history: History):
    assert history.one("SELECT count(*) FROM call_record WHERE type IS NULL") == 0
    types = {row[0] for row in history.rows("SELECT DISTINCT type FROM call_record")}
    assert types == {t.value for t in CallType}


def test_waits_are_never_negative_and_only_answered_calls_have_talk(history: History):
    assert history.one("SELECT count(*) FROM call_record WHERE wait_s < 0") == 0
    answered = CallType.ANSWERED.value
    assert history.one("SELECT count(*) FROM call_record WHERE type = :t AND talk_s <= 0", t=answered) == 0
    assert history.one("SELECT count(*) FROM call_record WHERE type <> :t AND talk_s <> 0", t=answered) == 0
    assert history.one("SELECT count(*) FROM call_record WHERE (type = :t) <> (answered_at IS NOT NULL)",
                       t=answered) == 0
    assert history.one("SELECT count(*) FROM call_record WHERE type = :t AND user_id IS NULL",
                       t=answered) == 0


# ---------------------------------------------------------------- attempts and survey answers


def test_ring_attempts_reference_records(history: History):
    attempts = history.one("SELECT count(*) FROM ring_attempt")
    assert attempts > history.report.calls // 2
    assert history.one("SELECT count(*) FROM ring_attempt a LEFT JOIN call_record r "
                       "ON r.id = a.call_record_id WHERE r.id IS NULL") == 0
    assert history.one("SELECT count(*) FROM ring_attempt a LEFT JOIN app_user u "
                       "ON u.id = a.user_id WHERE u.id IS NULL") == 0
    outcomes = {row[0] for row in history.rows("SELECT DISTINCT outcome FROM ring_attempt")}
    assert outcomes <= {o.value for o in Outcome}
    assert {Outcome.ANSWERED, Outcome.NOTCONNECTED, Outcome.TOOLATE} <= outcomes


def test_each_answered_call_has_one_answered_attempt_by_its_agent(history: History):
    answered = dict(history.rows(
        "SELECT r.call_id, count(a.id) FROM call_record r LEFT JOIN ring_attempt a "
        "ON a.call_record_id = r.id AND a.outcome = 'ANSWERED' AND a.user_id = r.user_id "
        "WHERE r.type = 'answered' AND r.direction = 'in' "
        "AND NOT EXISTS (SELECT 1 FROM call_transfer t WHERE t.call_record_id = r.id) GROUP BY r.call_id"))
    assert answered and set(answered.values()) == {1}
    # transferred: the first answer, and again when the transfer came back to the same agent (recall)
    again = dict(history.rows(
        "SELECT r.call_id, count(a.id) FROM call_record r JOIN call_transfer t ON t.call_record_id = r.id "
        "JOIN ring_attempt a ON a.call_record_id = r.id AND a.outcome = 'ANSWERED' AND a.user_id = r.user_id "
        "GROUP BY r.call_id"))
    assert again and set(again.values()) <= {1, 2}
    assert history.one("SELECT count(*) FROM ring_attempt a JOIN call_record r ON r.id = a.call_record_id "
                       "WHERE a.outcome = 'ANSWERED' AND r.type <> 'answered'") == 0


def test_survey_answers_are_rated_one_to_five_on_answered_calls(history: History):
    ratings = dict(history.rows("SELECT rating, count(*) FROM survey_answer GROUP BY rating"))
    assert set(ratings) <= {1, 2, 3, 4, 5} and sum(ratings.values()) > 10, ratings
    assert history.one("SELECT count(*) FROM survey_answer s LEFT JOIN call_record r "
                       "ON r.id = s.call_record_id WHERE r.id IS NULL OR r.type <> 'answered'") == 0
    assert history.one("SELECT count(*) FROM (SELECT call_record_id FROM survey_answer "
                       "GROUP BY call_record_id HAVING count(*) > 1) AS twice") == 0
    assert history.one("SELECT count(*) FROM survey_answer WHERE ivr_id IS NULL") == 0


def test_ivr_calls_name_the_step_of_their_ivr_that_handled_them_last(history: History):
    """S6 redirection: a step of the call's own IVR; answered by an agent: a ring or queue step;
    voicemail: a voicemail step; none for direct lines and for calls refused before any step."""
    step_of = ("FROM call_record r JOIN ivr_step s ON s.ivr_id = r.ivr_id AND s.name = r.ivr_step")
    assert history.one("SELECT count(*) FROM call_record WHERE kind = 'direct' AND ivr_step IS NOT NULL") == 0
    assert history.one("SELECT count(*) FROM call_record WHERE ivr_step IS NOT NULL") == history.one(
        f"SELECT count(*) {step_of}")
    # (a transferred call nobody took back goes on to the step after the one that connected it)
    assert {row[0] for row in history.rows(
        f"SELECT DISTINCT s.type {step_of} WHERE r.type = 'answered' AND r.user_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM call_transfer t WHERE t.call_record_id = r.id)")} <= {"ring", "queue"}
    assert {row[0] for row in history.rows(f"SELECT DISTINCT s.type {step_of} WHERE r.type = 'voicemail'")} \
        == {"voicemail"}
    unrouted = history.rows("SELECT DISTINCT type, ended_by FROM call_record "
                            "WHERE kind = 'ivr' AND ivr_step IS NULL")
    assert set(unrouted) <= {(CallType.MISSED.value, EndedBy.SYSTEM.value)}
    assert history.one("SELECT count(*) FROM call_record WHERE ivr_step IS NOT NULL") > 100


# ---------------------------------------------------------------- refused callers


def test_anonymous_calls_to_the_ivr_that_rejects_them_are_refused(history: History):
    rows = history.rows(
        "SELECT r.type, r.ended_by, r.talk_s, (SELECT count(*) FROM ring_attempt a "
        "WHERE a.call_record_id = r.id) FROM call_record r JOIN ivr i ON i.id = r.ivr_id "
        "WHERE r.from_number = 'anonymous' AND i.name = :ivr", ivr="Soporte España")
    assert rows, "no anonymous call reached the IVR that rejects them"
    assert set(rows) == {(CallType.MISSED.value, EndedBy.SYSTEM.value, 0.0, 0)}


def test_blacklisted_callers_are_refused(history: History):
    rows = history.rows(
        "SELECT r.from_number, r.type, r.ended_by, (SELECT count(*) FROM ring_attempt a "
        "WHERE a.call_record_id = r.id) FROM call_record r "
        "WHERE r.from_number = '+33162000000' OR r.from_number LIKE '+34902%'")
    assert {row[0][:6] for row in rows} == {"+33162", "+34902"}, rows
    assert {row[1:] for row in rows} == {(CallType.MISSED.value, EndedBy.SYSTEM.value, 0)}


# ---------------------------------------------------------------- the caller's country


def test_caller_country_is_that_of_every_valid_international_number(history: History):
    rows = history.rows("SELECT CASE WHEN direction = 'in' THEN from_number ELSE to_number END, "
                        "caller_country FROM call_record")  # the customer's number, callbacks included
    valid = [(number, country) for number, country in rows
             if number.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(number))]
    assert len(valid) > len(rows) // 2
    for number, country in valid:
        assert country == phonenumbers.region_code_for_number(phonenumbers.parse(number)), number
    assert {"FR", "ES", "GB", "US"} <= {country for _, country in valid}
    assert {country for number, country in rows if number == "anonymous"} == {None}


def test_every_international_caller_has_a_country(history: History):
    nameless = history.rows("SELECT DISTINCT from_number FROM call_record "
                            "WHERE from_number LIKE '+%' AND caller_country IS NULL")
    assert nameless == []


# ---------------------------------------------------------------- the same seed, the same history


RECORD = "SELECT call_id, type, from_number, to_number, wait_s, talk_s FROM call_record"
ATTEMPTS = ("SELECT r.call_id, u.email, a.outcome FROM ring_attempt a "
            "JOIN call_record r ON r.id = a.call_record_id JOIN app_user u ON u.id = a.user_id")


def test_the_same_seed_on_a_fresh_account_writes_the_same_records(history: History, databases: Databases):
    again = demo_history(databases, "again")
    assert again.report == history.report
    assert set(again.rows(RECORD)) == set(history.rows(RECORD))
    assert sorted(again.rows(ATTEMPTS)) == sorted(history.rows(ATTEMPTS))
    assert sorted(again.rows("SELECT rating FROM survey_answer")) == sorted(
        history.rows("SELECT rating FROM survey_answer"))


def test_the_same_seed_writes_the_same_records_on_sqlite_and_postgresql(
        sqlite_template: Path, tmp_path: Path):
    on_sqlite = Databases("sqlite", sqlite_template, tmp_path)
    on_postgres = Databases("postgresql", sqlite_template, tmp_path)
    try:
        postgres = demo_history(on_postgres, "cross")
        sqlite = demo_history(on_sqlite, "cross")
        assert set(sqlite.rows(RECORD)) == set(postgres.rows(RECORD))
    finally:
        on_postgres.drop_all()


REPLAY = """
import hashlib, sys
from datetime import datetime
from sqlalchemy import text
from ringtui.db import engine_for
from ringtui.engine.history import simulate_history
engine = engine_for(sys.argv[1])
days, seed, end = int(sys.argv[2]), int(sys.argv[3]), datetime.fromisoformat(sys.argv[4])
simulate_history(engine, days=days, seed=seed, end=end)
with engine.connect() as connection:
    rows = connection.execute(text(sys.argv[5] + " ORDER BY call_id")).all()
print(hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest())
"""


def test_the_same_seed_writes_the_same_records_in_another_process(sqlite_template: Path, tmp_path: Path):
    demo = Databases("sqlite", sqlite_template, tmp_path).fresh("demo")
    seed_demo(Settings(database_url=demo))
    with ringtui_db.engine_for(demo).connect() as connection:  # the copies must hold the WAL's pages
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    digests = set()
    for hash_seed in ("1", "5"):  # two seeds that order the blacklist entries differently
        copy = tmp_path / f"process-{hash_seed}.db"
        shutil.copyfile(make_url(demo).database, copy)
        done = subprocess.run(
            [sys.executable, "-c", REPLAY, f"sqlite:///{copy}", str(DAYS), str(SEED), END.isoformat(),
             RECORD],
            capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": hash_seed}, check=False)
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_a_few_answered_calls_were_transferred_and_their_rows_hold_together(history: History):
    """S6/S13 have content: call_transfer rows, each on an answered record whose user is the agent who
    transferred it (the first to answer), with a ring attempt of the target agent on the same record."""
    answered = history.one("SELECT count(*) FROM call_record WHERE type = 'answered' AND direction = 'in'")
    transferred = history.one("SELECT count(DISTINCT call_record_id) FROM call_transfer")
    assert 0.01 < transferred / answered < 0.08
    assert history.one("SELECT count(*) FROM call_transfer WHERE answered") > 0
    assert history.one("SELECT count(*) FROM call_transfer WHERE NOT answered") > 0
    assert history.one(
        "SELECT count(*) FROM call_transfer t JOIN call_record r ON r.id = t.call_record_id "
        "WHERE r.type != 'answered' OR r.user_id != t.by_user_id OR t.to_user_id IS NULL "
        "OR t.to_user_id = t.by_user_id") == 0
    assert history.one(
        "SELECT count(*) FROM call_transfer t WHERE NOT EXISTS (SELECT 1 FROM ring_attempt a "
        "WHERE a.call_record_id = t.call_record_id AND a.user_id = t.to_user_id)") == 0
