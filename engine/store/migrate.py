"""Bring the database schema up to date with the numbered files in ``migrations/``.

A migration is a file ``NNNN_name.sql``. Each is applied once, in order, in its own transaction,
and recorded in ``concord_migration`` with its SHA-256 so that a file edited after it was applied
is refused rather than silently diverging from the databases it already ran on. A session-level
advisory lock serialises concurrent ``migrate`` calls (several workers starting at once).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

import migrations
from canonical.errors import MigrationError
from engine.store.queries import query

MIGRATIONS_DIR = Path(migrations.__file__).parent
"""The migrations shipped with Concord."""

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection of its own or one taken from a pool."""

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


class Migration(msgspec.Struct, frozen=True):
    """One migration file: its version, file name, SQL and the SHA-256 of its bytes."""

    version: int
    name: str
    sql: str
    checksum: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files of ``directory`` in version order; a misnamed ``.sql`` is refused."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{path}: a migration is named NNNN_name.sql (4 digits, lower-case name)"
            )
        version = int(match["version"])
        if version in found:
            raise MigrationError(f"{path}: version {version} is also used by {found[version].name}")
        data = path.read_bytes()
        found[version] = Migration(
            version=version,
            name=path.name,
            sql=data.decode("utf-8"),
            checksum=hashlib.sha256(data).hexdigest(),
        )
    return [found[version] for version in sorted(found)]


async def pending(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """File names of the migrations not applied yet, in order.

    Raises :class:`MigrationError` when an applied migration was edited or has disappeared.
    """
    return [migration.name for migration in await _plan(conn, directory)]


async def migrate(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending migrations of ``directory``; returns the file names applied.

    Safe to call from several processes at once: they wait for each other and only the first
    applies anything. A migration that fails is rolled back, and those before it stay applied.
    """
    try:
        await conn.execute(query("migration_lock"))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise MigrationError(f"cannot take the migration lock: {exc}") from exc
    try:
        await _execute(conn, "migration_create_table", "cannot create concord_migration")
        applied: list[str] = []
        for migration in await _plan(conn, directory):
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        query("migration_record"),
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                raise MigrationError(
                    f"{directory / migration.name}: failed, nothing of it was applied: {exc}"
                ) from exc
            applied.append(migration.name)
        return applied
    finally:
        if not conn.is_closed():
            await conn.execute(query("migration_unlock"))


async def _execute(conn: Connection, name: str, what: str) -> None:
    try:
        await conn.execute(query(name))
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise MigrationError(f"{what}: {exc}") from exc


async def _plan(conn: Connection, directory: Path) -> list[Migration]:
    """The migrations to apply, after checking the applied ones against their files."""
    files = discover(directory)
    try:
        recorded = await conn.fetchval(query("migration_table_exists"))
        rows = await conn.fetch(query("migration_applied")) if recorded else []
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise MigrationError(f"cannot read the applied migrations: {exc}") from exc
    by_version = {migration.version: migration for migration in files}
    applied: set[int] = set()
    for row in rows:
        version: int = row["version"]
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"migration {row['name']} (version {version}) was applied to this database "
                f"but its file is missing from {directory}"
            )
        if migration.checksum != row["checksum"]:
            raise MigrationError(
                f"{directory / migration.name} was edited after being applied "
                f"(checksum {row['checksum'][:12]}... recorded, {migration.checksum[:12]}... "
                "now); add a new migration instead of changing an applied one"
            )
        applied.add(version)
    todo = [migration for migration in files if migration.version not in applied]
    if applied and todo and todo[0].version < max(applied):
        raise MigrationError(
            f"{directory / todo[0].name} is older than migration {max(applied):04d}, "
            "already applied; number new migrations after the last one"
        )
    return todo
