"""Migrations against a real PostgreSQL: applied once, in order, edits refused, safe in parallel."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from canonical.errors import MigrationError
from engine.store.migrate import MIGRATIONS_DIR, discover, migrate, pending

TABLES = (
    "concord_connection",
    "concord_link",
    "concord_base",
    "concord_cursor",
    "concord_conflict",
    "concord_dead_letter",
    "concord_intent",
    "concord_run",
    "concord_lease",
    "concord_migration",
)
SHIPPED = [migration.name for migration in discover()]


@pytest.fixture
async def conn(empty_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(empty_db_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    """A copy of the shipped migrations plus a second one, to edit freely."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, directory / path.name)
    (directory / "9001_extra.sql").write_text("create table extra (id int primary key);\n")
    return directory


async def tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
    return {row["tablename"] for row in rows}


async def test_applies_every_migration_to_an_empty_database(conn: asyncpg.Connection) -> None:
    assert await pending(conn) == SHIPPED

    assert await migrate(conn) == SHIPPED

    assert set(TABLES) <= await tables(conn)
    row = await conn.fetchrow(
        "select version, name, checksum from concord_migration order by version limit 1"
    )
    assert row is not None
    expected = hashlib.sha256((MIGRATIONS_DIR / "0001_initial.sql").read_bytes()).hexdigest()
    assert (row["version"], row["name"], row["checksum"]) == (1, "0001_initial.sql", expected)
    assert await pending(conn) == []


async def test_second_run_applies_nothing(conn: asyncpg.Connection) -> None:
    await migrate(conn)
    applied_at = await conn.fetchval("select min(applied_at) from concord_migration")

    assert await migrate(conn) == []

    assert await conn.fetchval("select count(*) from concord_migration") == len(SHIPPED)
    assert await conn.fetchval("select min(applied_at) from concord_migration") == applied_at


async def test_new_migration_is_applied_after_the_others(
    conn: asyncpg.Connection, migrations_dir: Path
) -> None:
    extra = migrations_dir / "9001_extra.sql"
    held = extra.read_text()
    extra.unlink()
    assert await migrate(conn, migrations_dir) == SHIPPED
    extra.write_text(held)

    assert await pending(conn, migrations_dir) == ["9001_extra.sql"]
    assert await migrate(conn, migrations_dir) == ["9001_extra.sql"]
    assert "extra" in await tables(conn)


async def test_edited_applied_migration_is_refused_naming_the_file(
    conn: asyncpg.Connection, migrations_dir: Path
) -> None:
    await migrate(conn, migrations_dir)
    (migrations_dir / "9001_extra.sql").write_text("create table extra (id bigint primary key);\n")

    with pytest.raises(MigrationError, match=r"9001_extra\.sql was edited after being applied"):
        await migrate(conn, migrations_dir)
    with pytest.raises(MigrationError, match=r"9001_extra\.sql"):
        await pending(conn, migrations_dir)


async def test_applied_migration_whose_file_is_missing_is_refused(
    conn: asyncpg.Connection, migrations_dir: Path
) -> None:
    await migrate(conn, migrations_dir)
    (migrations_dir / "9001_extra.sql").unlink()

    with pytest.raises(MigrationError, match=r"9001_extra\.sql.*missing"):
        await migrate(conn, migrations_dir)


async def test_failing_migration_is_rolled_back_and_not_recorded(
    conn: asyncpg.Connection, migrations_dir: Path
) -> None:
    (migrations_dir / "9001_extra.sql").write_text(
        "create table extra (id int primary key);\ncreate table broken (id nonexistent_type);\n"
    )

    with pytest.raises(MigrationError, match=r"9001_extra\.sql: failed"):
        await migrate(conn, migrations_dir)

    recorded = "select array_agg(version order by version) from concord_migration"
    assert await conn.fetchval(recorded) == [int(name[:4]) for name in SHIPPED]
    assert "extra" not in await tables(conn)
    assert await pending(conn, migrations_dir) == ["9001_extra.sql"]


async def test_misnamed_migration_file_is_refused(
    conn: asyncpg.Connection, migrations_dir: Path
) -> None:
    (migrations_dir / "2_oops.sql").write_text("select 1;\n")

    with pytest.raises(MigrationError, match=r"2_oops\.sql: a migration is named NNNN_name"):
        await migrate(conn, migrations_dir)
    assert "concord_connection" not in await tables(conn)


async def test_migration_numbered_before_an_applied_one_is_refused(
    conn: asyncpg.Connection, migrations_dir: Path
) -> None:
    await migrate(conn, migrations_dir)
    (migrations_dir / "8999_late.sql").write_text("create table late (id int);\n")

    with pytest.raises(MigrationError, match=r"8999_late\.sql is older than migration 9001"):
        await migrate(conn, migrations_dir)


async def test_concurrent_migrations_apply_once(
    empty_db_url: str, conn: asyncpg.Connection
) -> None:
    other = await asyncpg.connect(empty_db_url)
    try:
        results = await asyncio.gather(migrate(conn), migrate(other))
    finally:
        await other.close()

    assert sorted(results) == [[], SHIPPED]
    assert await conn.fetchval("select count(*) from concord_migration") == len(SHIPPED)
    assert await pending(conn) == []
    # The lock was released while `conn` stays open: another session can take it.
    third = await asyncpg.connect(empty_db_url)
    try:
        assert await asyncio.wait_for(migrate(third), timeout=10) == []
    finally:
        await third.close()
