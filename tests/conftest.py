"""Database fixtures shared by every test tier.

One PostgreSQL per test session: ``CONCORD_TEST_DATABASE_URL`` when set (a server the tests may
create and drop databases on), else an embedded server in a temporary directory. A template
database is migrated once; each test that asks for ``db_url`` or ``store`` gets a fresh copy of
it (``CREATE DATABASE ... TEMPLATE``, a few milliseconds) and it is dropped afterwards.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from canonical.secrets import known_secrets
from engine.store.database import create_pool, database_url
from engine.store.migrate import migrate
from engine.store.state import Store

# A real Tryton (one template per run, one server per module) for every folder that tests it.
pytest_plugins = ["integration.tryton.tryton_fixtures"]

TEMPLATE = "concord_template"
SHORTEST_SECRET = 6
"""Shorter secret values of test fixtures (``admin``) are ordinary words in log lines."""

# Database names cannot be bound as parameters: the server quotes them with format('%I').
_CREATE_SQL = "select format('create database %I template %I', $1::text, $2::text)"
_DROP_SQL = "select format('drop database if exists %I with (force)', $1::text)"


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{database}{query}"


async def _admin(server_url: str, statement: str, *names: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(await conn.fetchval(statement, *names))
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_database(server_url: str, template: str) -> AsyncIterator[str]:
    """A new database copied from ``template``, dropped on exit; yields its URL."""
    name = f"concord_test_{uuid.uuid4().hex[:12]}"
    await _admin(server_url, _CREATE_SQL, name, template)
    try:
        yield with_database(server_url, name)
    finally:
        await _admin(server_url, _DROP_SQL, name)


@pytest.fixture(scope="session")
async def server_url() -> AsyncIterator[str]:
    """URL of the session's PostgreSQL server (its maintenance database)."""
    configured = os.environ.get("CONCORD_TEST_DATABASE_URL") or None
    # Outside pytest's numbered temp dirs, which concurrent sessions prune, and short enough
    # for the server's Unix socket path.
    with tempfile.TemporaryDirectory(prefix="concord-pg-", ignore_cleanup_errors=True) as tmp:
        async with database_url(configured, Path(tmp)) as url:
            yield url


@pytest.fixture(scope="session")
async def template_database(server_url: str) -> AsyncIterator[str]:
    """The migrated template every test database is copied from; yields its name."""
    await _admin(server_url, _DROP_SQL, TEMPLATE)
    await _admin(server_url, _CREATE_SQL, TEMPLATE, "template0")
    conn = await asyncpg.connect(with_database(server_url, TEMPLATE))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield TEMPLATE
    await _admin(server_url, _DROP_SQL, TEMPLATE)


@pytest.fixture
async def db_url(server_url: str, template_database: str) -> AsyncIterator[str]:
    """URL of a fresh, migrated database for this test only."""
    async with fresh_database(server_url, template_database) as url:
        yield url


@pytest.fixture
async def empty_db_url(server_url: str) -> AsyncIterator[str]:
    """URL of a fresh database with no schema at all."""
    async with fresh_database(server_url, "template0") as url:
        yield url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A :class:`Store` on a pool to this test's database."""
    pool = await create_pool(db_url)
    try:
        yield Store(pool)
    finally:
        await pool.close()


class _SecretGuard(logging.Handler):
    """Collects log records that carry a secret read through :mod:`canonical.secrets`."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]}"
        for secret in known_secrets():
            if len(secret) >= SHORTEST_SECRET and secret in text:
                self.leaks.append(f"{record.name}: {text.replace(secret, '<secret>')[:300]}")


@pytest.fixture(autouse=True)
def no_secret_in_logs() -> Iterator[None]:
    """Fail any test during which a configured secret reached a log record (in-process, at the
    levels the root logger lets through)."""
    guard = _SecretGuard()
    root = logging.getLogger()
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeHandler(guard)
    assert guard.leaks == [], "a secret was logged:\n" + "\n".join(guard.leaks)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say at the end which tiers skipped tests and why, even under ``-q``: a whole tier skipped
    on a machine without its tool (Chromium) must not pass unnoticed."""
    skipped: dict[tuple[str, str], int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        parts = Path(report.nodeid.split("::", 1)[0]).parts
        tier = parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0]
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else "skipped"
        reason = reason.removeprefix("Skipped: ")
        skipped[(tier, reason)] = skipped.get((tier, reason), 0) + 1
    if not skipped:
        return
    terminalreporter.write_sep("-", "skipped tiers")
    for (tier, reason), count in sorted(skipped.items()):
        terminalreporter.write_line(f"{tier}: {count} skipped: {reason}")
