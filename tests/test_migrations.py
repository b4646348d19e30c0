"""The Alembic chain: head matches the models, and every revision keeps the data it finds.

Runs on SQLite always and on PostgreSQL when RINGTUI_TEST_DATABASE_URL is set (in
a database of its own on that server, recreated for every test). Written over
the whole chain so that each new revision is tested without touching this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, inspect, select, types
from sqlmodel import SQLModel

import ringtui.models  # noqa: F401  (fills SQLModel.metadata)
from ringtui import db as ringtui_db
from tests.conftest import fresh_postgres_database

PG_ENV = "RINGTUI_TEST_DATABASE_URL"
BASE = "base"

# A revision that rewrites or drops data on purpose lists what it rewrites here:
# {revision: {"table", "table.column", ...}}; everything else must survive its upgrade.
REWRITTEN: dict[str, set[str]] = {}

# Realistic values where a domain rule may read them; other columns get a value of their type.
KNOWN_VALUES: dict[str, dict[str, Any]] = {
    "account": {"company": "Acme", "plan": "business", "country": "FR", "timezone": "Europe/Paris",
                "addons": ["omnichannel"]},
    "app_user": {"email": "boss@acme.test", "role": "super_admin", "status": "active",
                 "license": "business", "permissions": {"snooze": False}, "sounds": {}},
}


def revisions_base_to_head() -> list[tuple[str, str]]:
    """(revision, down_revision or 'base') for the whole chain, oldest first."""
    scripts = ScriptDirectory(str(ringtui_db.MIGRATIONS_DIR))
    chain = [(s.revision, s.down_revision or BASE) for s in scripts.walk_revisions()]
    assert all(isinstance(down, str) for _, down in chain), "merge revisions need this test extended"
    return list(reversed(chain))


# ---------------------------------------------------------------- fresh databases


def _fresh_postgres_url(worker: str) -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    return fresh_postgres_database(base, f"migrations_{worker}")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database (no tables, no alembic_version)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        url = _fresh_postgres_url(os.environ.get("PYTEST_XDIST_WORKER", "main"))
    engine = ringtui_db.make_engine(url)
    yield engine
    engine.dispose()


def table_names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


# ---------------------------------------------------------------- (a) head == models


def test_upgrade_from_empty_gives_exactly_the_models_tables(empty_engine: Engine) -> None:
    ringtui_db.upgrade(empty_engine)
    assert ringtui_db.current_revision(empty_engine) == ringtui_db.head_revision()
    assert table_names(empty_engine) == set(SQLModel.metadata.tables)


def test_migrated_schema_has_no_difference_from_the_models(empty_engine: Engine) -> None:
    ringtui_db.upgrade(empty_engine)
    differences = schema_differences(empty_engine)
    assert differences == [], (
        "the models and the migrations disagree; write a revision "
        f"(alembic revision --autogenerate) for: {differences}")


# ---------------------------------------------------------------- (b) data survives each revision


def _value_for(table: Table, column: Any, parents: dict[str, dict[str, Any]]) -> Any:
    known = KNOWN_VALUES.get(table.name, {})
    if column.name in known:
        return known[column.name]
    for key in column.foreign_keys:
        return parents[key.column.table.name][key.column.name]
    kind = column.type
    if isinstance(kind, types.Enum) and kind.enums:
        return kind.enums[0]
    if isinstance(kind, types.Boolean):
        return True
    if isinstance(kind, types.Integer):
        return 7
    if isinstance(kind, types.Float):  # not a Numeric in SQLAlchemy 2.1
        return 1.5
    if isinstance(kind, types.Numeric):
        return Decimal("1.5") if kind.asdecimal else 1.5
    if isinstance(kind, types.DateTime):
        return datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    if isinstance(kind, types.Date):
        return date(2024, 1, 2)
    if isinstance(kind, types.JSON):
        return {"migrated": [1, "two"]}
    if isinstance(kind, types.LargeBinary):
        return b"\x00ringtui\xff"
    length = getattr(kind, "length", None) or 40
    return f"{table.name}.{column.name}"[:length]


def _is_generated_key(table: Table, column: Any) -> bool:
    primary = list(table.primary_key.columns)
    return (len(primary) == 1 and primary[0] is column and not column.foreign_keys
            and isinstance(column.type, types.Integer))


def insert_a_row_everywhere(engine: Engine) -> dict[str, dict[str, Any]]:
    """One row in every table there is now, parents first; returns each row as read back."""
    metadata = MetaData()
    metadata.reflect(engine)
    rows: dict[str, dict[str, Any]] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            values = {c.name: _value_for(table, c, rows) for c in table.columns
                      if not _is_generated_key(table, c)}
            key = connection.execute(table.insert().values(values)).inserted_primary_key
            where = [c == v for c, v in zip(table.primary_key.columns, key, strict=True)]
            rows[table.name] = dict(connection.execute(select(table).where(*where)).mappings().one())
    return rows


def read_rows_back(engine: Engine, before: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    metadata = MetaData()
    metadata.reflect(engine)
    found: dict[str, dict[str, Any] | None] = {}
    with engine.connect() as connection:
        for name, row in before.items():
            if name not in metadata.tables:
                found[name] = None
                continue
            table = metadata.tables[name]
            where = [c == row[c.name] for c in table.primary_key.columns]
            match = connection.execute(select(table).where(*where)).mappings().first()
            found[name] = dict(match) if match is not None else None
    return found


def lost_data(revision: str, before: dict[str, dict[str, Any]],
              after: dict[str, dict[str, Any] | None]) -> list[str]:
    allowed = REWRITTEN.get(revision, set())
    lost = []
    for name, row in before.items():
        if name in allowed:
            continue
        if after[name] is None:
            lost.append(f"{name}: the row is gone")
            continue
        for column, value in row.items():
            if f"{name}.{column}" in allowed or column not in after[name]:
                continue
            if after[name][column] != value:
                lost.append(f"{name}.{column}: {value!r} became {after[name][column]!r}")
    return lost


@pytest.mark.parametrize(("revision", "down_revision"), revisions_base_to_head(),
                         ids=[rev for rev, _ in revisions_base_to_head()])
def test_revision_keeps_the_data_of_the_schema_before_it(
    empty_engine: Engine, revision: str, down_revision: str
) -> None:
    if down_revision != BASE:
        ringtui_db.upgrade(empty_engine, down_revision)
    before = insert_a_row_everywhere(empty_engine)
    if down_revision != BASE:
        assert {"account", "app_user"} <= set(before), "the account and a user should exist by now"
    ringtui_db.upgrade(empty_engine, revision)
    assert ringtui_db.current_revision(empty_engine) == revision
    lost = lost_data(revision, before, read_rows_back(empty_engine, before))
    assert lost == [], f"upgrading to {revision} lost data: {lost}"


def test_the_chain_starts_at_base_and_is_linear() -> None:
    chain = revisions_base_to_head()
    assert chain[0][1] == BASE
    assert [down for _, down in chain[1:]] == [rev for rev, _ in chain[:-1]]
    assert chain[-1][0] == ringtui_db.head_revision()


def test_downgrade_to_base_with_data_then_up_again(empty_engine: Engine) -> None:
    ringtui_db.upgrade(empty_engine)
    insert_a_row_everywhere(empty_engine)
    ringtui_db.downgrade(empty_engine, BASE)
    assert table_names(empty_engine) == set()
    assert ringtui_db.current_revision(empty_engine) is None
    ringtui_db.upgrade(empty_engine)
    assert table_names(empty_engine) == set(SQLModel.metadata.tables)
    assert schema_differences(empty_engine) == []
    assert set(insert_a_row_everywhere(empty_engine)) == set(SQLModel.metadata.tables)
