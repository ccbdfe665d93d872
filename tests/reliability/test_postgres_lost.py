"""PostgreSQL lost in the middle of a cycle: the cycle fails cleanly, the next one succeeds.

Each test runs its own embedded PostgreSQL (``engine.store.database.database_url`` in a temporary
directory), never the session's shared server, since it stops it. The hook is at the adapter
boundary: the shop adapter's first ``apply`` (after the snapshot, before the commit) acts on the
server. Two ways to lose it:

- stopped during the push and started again only after the cycle gave up: the commit cannot
  even begin;
- stopped while the commit's transaction is open (a lock taken from another session holds the
  commit after it wrote the new base, then the server shuts down): Postgres rolls it back.

Either way the cycle raises :class:`StoreError`, base, links, cursors and runs are as before
(nothing half committed), the writes already made on the platforms are simply redone and
matched by the next cycle, which commits everything.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from reliability_support import wait_for

from adapters.base import Adapter, Capabilities, ItemResult, Operation, Seen, Snapshot
from adapters.sandbox import Sandbox, sandbox
from canonical.errors import StoreError
from engine.cli.demo import DEMO_JOBS, DEMO_RULES
from engine.cycle.run import run_cycle
from engine.store.database import create_pool, database_url
from engine.store.migrate import migrate
from engine.store.state import Store

CONNECTION = "lost"
READS = {
    "concord_base": "select * from concord_base",
    "concord_link": "select * from concord_link",
    "concord_cursor": "select * from concord_cursor",
    "concord_run": "select * from concord_run",
    "concord_dead_letter": "select * from concord_dead_letter",
}


class Server:
    """A dedicated embedded PostgreSQL that a test can stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = ""
        self._stack: AsyncExitStack | None = None

    async def start(self) -> str:
        self._stack = AsyncExitStack()
        self.url = await self._stack.enter_async_context(database_url(None, self.directory))
        return self.url

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    with tempfile.TemporaryDirectory(prefix="concord-lost-", ignore_cleanup_errors=True) as tmp:
        running = Server(Path(tmp))
        url = await running.start()
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        try:
            yield running
        finally:
            await running.stop()


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with sandbox(products=80, seed=12, shop_share=0.5, typo_rate=0.05) as running:
        yield running


class OnFirstWrite:
    """The shop's adapter, running ``hook`` when the push begins (the snapshot is done)."""

    def __init__(self, inner: Adapter, hook: Callable[[], Awaitable[None]]) -> None:
        self.inner, self.hook, self.fired = inner, hook, False
        self.rejected = inner.rejected

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        return await self.inner.snapshot(kind, since)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        return await self.inner.fetch(kind, keys)

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        if not self.fired:
            self.fired = True
            await self.hook()
        return await self.inner.apply(kind, operations)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def state(url: str) -> dict[str, Any]:
    """Every row Concord keeps about a cycle, per table (timestamps left out)."""
    conn = await asyncpg.connect(url)
    try:
        rows = {}
        for table, sql in READS.items():
            records = await conn.fetch(sql)
            rows[table] = sorted(
                str({k: v for k, v in r.items() if not k.endswith("_at")}) for r in records
            )
        return rows
    finally:
        await conn.close()


async def products_cycle(store: Store, adapters: dict[str, Any]) -> Any:
    return await run_cycle(
        store,
        connection=CONNECTION,
        job_name="products",
        job=DEMO_JOBS["products"],
        rules=DEMO_RULES["product"],
        adapters=adapters,
        full=True,
    )


async def test_server_stopped_during_the_push_fails_the_cycle_and_the_next_one_commits(
    server: Server, box: Sandbox
) -> None:
    pool = await create_pool(server.url)
    store = Store(pool)
    adapters = box.open_adapters()
    try:
        before = await state(server.url)
        hooked = OnFirstWrite(adapters["shop"], server.stop)
        with pytest.raises(StoreError):
            await products_cycle(store, {"erp": adapters["erp"], "shop": hooked})
        assert hooked.fired
        await server.start()
        assert await state(server.url) == before  # nothing of the cycle was committed

        result = await products_cycle(store, dict(adapters))
        assert result.run_id is not None and result.failures == []
        again = await products_cycle(store, dict(adapters))
    finally:
        await pool.close()
    # The first cycle's writes reached the shop: the next one matched them, creating nothing
    # twice, and the one after it had nothing left to do.
    assert again.counts.get("writes_shop", 0) == 0 and again.counts.get("writes_erp", 0) == 0
    assert len({p.sku for p in box.shop_store.products.values()}) == len(box.shop_store.products)
    after = await state(server.url)
    assert len(after["concord_base"]) > 50 and len(after["concord_run"]) == 2


async def test_server_lost_inside_the_commit_transaction_rolls_it_back(
    server: Server, box: Sandbox
) -> None:
    pool = await create_pool(server.url)
    store = Store(pool)
    adapters = box.open_adapters()
    locker: list[asyncpg.Connection] = []

    async def hold_the_run_table() -> None:
        # Another session locks the run table: the commit writes base, links and cursors, then
        # waits on its run row, its transaction open.
        conn = await asyncpg.connect(server.url)
        await conn.execute("begin")
        await conn.execute("lock table concord_run in access exclusive mode")
        locker.append(conn)

    try:
        before = await state(server.url)
        hooked = OnFirstWrite(adapters["shop"], hold_the_run_table)
        cycle = asyncio.create_task(products_cycle(store, {"erp": adapters["erp"], "shop": hooked}))

        async def commit_waits() -> bool:
            if not locker:
                return False
            # The locker is inside a transaction, where PostgreSQL keeps the first view of
            # pg_stat_activity until it ends: without clearing it, a first look taken before
            # the commit waited would be seen again and again.
            await locker[0].execute("select pg_stat_clear_snapshot()")
            waiting = await locker[0].fetchval(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                " and query like '%concord_run%'"
            )
            return bool(waiting)

        await wait_for(commit_waits, within=30)
        written = await locker[0].fetchval(
            "select count(*) from pg_locks where relation = 'concord_base'::regclass"
            " and mode = 'RowExclusiveLock' and granted"
        )
        assert written == 1  # the commit's transaction holds its writes to base
        await server.stop()  # the server goes away with the transaction open
        with pytest.raises(StoreError):
            await cycle
        await server.start()
        assert await state(server.url) == before  # rolled back: nothing half committed

        result = await products_cycle(store, dict(adapters))
        assert result.run_id is not None and result.failures == []
    finally:
        for conn in locker:
            conn.terminate()
        await pool.close()
    after = await state(server.url)
    assert len(after["concord_base"]) > 50 and len(after["concord_run"]) == 1
