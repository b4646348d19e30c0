"""Shared fixtures: a migrated database per test (SQLite always, PostgreSQL when
RINGTUI_TEST_DATABASE_URL is set), the CLI run in-process, and a snapshot of
every table to prove that a refused request changed nothing."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from ringtui import db as ringtui_db
from ringtui.cli import app

PG_ENV = "RINGTUI_TEST_DATABASE_URL"
ADMIN = "boss@acme.test"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config or database."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    for name in ("RINGTUI_CONFIG", "RINGTUI_USER", "RINGTUI_DATABASE_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = ringtui_db.make_engine(f"sqlite:///{path}")
    ringtui_db.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def fresh_postgres_database(base_url: str, suffix: str) -> str:
    """The URL of a new, empty database named after `base_url`'s, on the same server."""
    url = make_url(base_url)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url = fresh_postgres_database(base, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    engine = ringtui_db.make_engine(url)
    ringtui_db.upgrade(engine)
    engine.dispose()
    return url


def _truncate_postgres(url: str) -> None:
    engine = ringtui_db.engine_for(url)
    with engine.begin() as connection:
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        quoted = ", ".join(f'"{t}"' for t in tables)
        connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "ringtui.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


CliRun = Callable[..., Result]


@pytest.fixture
def cli(db_url: str) -> CliRun:
    """Run `ringtui ARGS...` in-process against the test database."""
    runner = CliRunner()

    def run(*args: str, as_user: str | None = None, env: dict[str, str] | None = None) -> Result:
        prefix = ["--db", db_url] + (["--as", as_user] if as_user else [])
        result = runner.invoke(app, [*prefix, *args], env=env, catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def refused(result: Result, *fragments: str) -> Result:
    """The request failed with exit 1 and an error naming each fragment."""
    assert result.exit_code == 1, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in error: {result.stderr}"
    return result


@pytest.fixture
def account(cli: CliRun) -> CliRun:
    """An initialised business account (FR) with its super admin; returns the CLI runner."""
    ok(cli("init", "--company", "Acme", "--plan", "business", "--admin", ADMIN, "--country", "FR"))
    return cli


@pytest.fixture
def advanced_account(cli: CliRun) -> CliRun:
    ok(cli("init", "--company", "Acme", "--plan", "advanced", "--admin", ADMIN, "--country", "FR"))
    return cli


def database_state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for 'nothing changed' assertions."""
    engine = ringtui_db.engine_for(url)
    state: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            state[table] = sorted((tuple(row) for row in rows), key=repr)
    return state


@pytest.fixture
def unchanged(db_url: str) -> Callable[[], AbstractContextManager[None]]:
    """`with unchanged(): ...` fails if the block changed any row of any table."""

    @contextmanager
    def frozen() -> Iterator[None]:
        before = database_state(db_url)
        yield
        assert database_state(db_url) == before, "a refused request changed the database"

    return frozen
