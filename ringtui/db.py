"""Database engines, sessions and migrations.

SQLite is the default (WAL, busy timeout, foreign keys on); PostgreSQL is chosen
by a `postgresql+psycopg://` URL. The schema is brought to the newest Alembic
revision the first time a process opens a database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ringtui.errors import Invalid

if TYPE_CHECKING:  # SQLModel costs a seventh of a second to import: a bare engine does not need it
    from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ACCEPTED_URLS = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"


def _sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    parsed = _database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _database_url(url: str) -> Any:
    """The parsed URL of a database ringtui can use; Invalid naming the URL otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Invalid(f"database URL {url!r} is not a URL: give {ACCEPTED_URLS}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise Invalid(f"database URL {url!r}: ringtui works with SQLite or PostgreSQL: give {ACCEPTED_URLS}")
    return parsed


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema's revision in one query (None: not created yet)."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:  # no alembic_version table
            return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def _latest_revision_file() -> str:
    """The head revision id, read cheaply from the newest migration's file name.

    Migration files are named NNNN_<slug>.py with revision id NNNN; importing
    Alembic only to learn the head would cost every command a third of a second.
    """
    newest = max(p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return newest.split("_")[0]


_engines: dict[str, Engine] = {}


def engine_for(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    """The process-wide engine of a database, migrated to the newest revision on first use."""
    engine = _engines.get(url)
    if engine is None:
        engine = make_engine(url, busy_timeout_ms=busy_timeout_ms)
        if current_revision(engine) != _latest_revision_file():
            upgrade(engine)
        _engines[url] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection this process opened."""
    while _engines:
        _engines.popitem()[1].dispose()


def session(engine: Engine) -> Session:
    from sqlmodel import Session

    return Session(engine, expire_on_commit=False)
