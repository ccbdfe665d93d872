"""Imports asked for by webhooks, run right away beside the polling runs.

A webhook handler puts the shop's order id in an :class:`OrderImportQueue`; its consumer
takes whatever ids are waiting (up to a batch) and imports them with
:func:`engine.orders.importer.run_orders` (``keys=``), which is safe beside a polling run of the
same connection: each order is imported under its own lock and intent. A failed import is logged
and left to the next polling run: polling stays the safety net.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from adapters.base import Adapter, Side
from engine.cycle.run import CycleResult
from engine.orders.importer import run_orders
from engine.store.state import Store
from rules.order_config import OrdersConfig

log = logging.getLogger("concord.orders")
ImportKeys = Callable[[Sequence[str]], Awaitable[Any]]
BATCH = 50


def order_importer(
    store: Store, *, connection: str, adapters: Mapping[Side, Adapter], config: OrdersConfig
) -> Callable[[Sequence[str]], Awaitable[CycleResult]]:
    """A function importing some shop orders (by id) of ``connection`` now."""

    async def import_keys(keys: Sequence[str]) -> CycleResult:
        return await run_orders(
            store, connection=connection, adapters=adapters, config=config, full=False, keys=keys
        )

    return import_keys


class OrderImportQueue:
    """Order ids waiting for an immediate import, and the task that imports them."""

    def __init__(self, import_keys: ImportKeys) -> None:
        self._import = import_keys
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def put(self, key: str) -> None:
        """Ask for order ``key`` to be imported as soon as possible."""
        await self._queue.put(key)

    async def run(self) -> None:
        """Import batches of waiting orders until cancelled."""
        while True:
            keys = [await self._queue.get()]
            while len(keys) < BATCH and not self._queue.empty():
                keys.append(self._queue.get_nowait())
            try:
                await self._import(list(dict.fromkeys(keys)))
            except Exception:
                # Polling imports these later; one bad batch must not stop webhook imports.
                log.exception("webhook import of orders %s failed", ", ".join(keys))
            finally:
                for _ in keys:
                    self._queue.task_done()
