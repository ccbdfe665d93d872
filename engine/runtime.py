"""Opening what a command needs: the state store and each connection's two adapters."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path

from adapters.base import Adapter, Side
from adapters.registry import build_adapter
from canonical.errors import StoreError
from engine.config import Config
from engine.store.database import create_pool, database_server
from engine.store.health import StoreHealth
from engine.store.migrate import migrate, pending
from engine.store.state import Store


def database_url_of(config: Config) -> str | None:
    """The configured PostgreSQL URL, or ``None`` for the embedded server."""
    return os.environ.get(config.database.url_env) or None


@asynccontextmanager
async def open_store(
    url: str | None, data_dir: Path, *, auto_migrate: bool = False
) -> AsyncIterator[Store]:
    """A :class:`Store` on ``url``, or on an embedded server in ``data_dir`` when ``url`` is None.

    The embedded database is always brought up to date (it is Concord's own); a server given by
    URL is migrated only when asked (``auto_migrate`` or ``concord migrate``), so an upgrade
    never changes a shared schema behind its operator's back. The store's ``health`` can
    revive the embedded server if it dies (see :mod:`engine.store.health`).
    """
    async with database_server(url, data_dir) as (real_url, embedded):
        revive = None if embedded is None else partial(asyncio.to_thread, embedded.revive)
        health = StoreHealth(real_url, revive=revive)
        pool = await create_pool(real_url)
        try:
            async with pool.acquire() as conn:
                if url is None or auto_migrate:
                    await migrate(conn)
                elif waiting := await pending(conn):
                    raise StoreError(
                        f"the database schema is not up to date ({', '.join(waiting)} not "
                        "applied): run `concord migrate`"
                    )
            yield Store(pool, health=health)
        finally:
            await pool.close()


@asynccontextmanager
async def open_config_store(config: Config) -> AsyncIterator[Store]:
    async with open_store(database_url_of(config), config.data_dir()) as store:
        yield store


@asynccontextmanager
async def open_adapters(config: Config, connection: str) -> AsyncIterator[dict[Side, Adapter]]:
    """Both adapters of ``connection``, closed on exit."""
    settings = config.connections[connection]
    async with AsyncExitStack() as stack:
        adapters: dict[Side, Adapter] = {}
        for side in ("erp", "shop"):
            adapter = build_adapter(
                getattr(settings, side),
                source=config.source,
                path=f"connections.{connection}.{side}",
            )
            stack.push_async_callback(adapter.aclose)
            adapters[side] = adapter
        yield adapters
