"""The loop on real PostgreSQL: schedules, claims and leases, overruns, take-overs, shutdown.

Workers here run in this process, between in-memory platforms plugged in at the adapter
boundary; tests/acceptance/test_run.py runs ``concord run`` processes over HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.base import Adapter, Side, Snapshot
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform
from adapters.memory.catalogue import generate_products
from engine.config import Config, parse_config
from engine.cycle.run import run_cycle
from engine.loop.leases import Claim, ClaimRow, Leases, Slot
from engine.loop.status import gather_status
from engine.loop.worker import Worker, WorkerSettings, plan_slots
from engine.store.fencing import Fence, FencedOut, fenced
from engine.store.state import Store
from rules.policy import KindRules

CONFIG = """
[connections.main.erp]
type = "memory"

[connections.main.shop]
type = "memory"

[connections.main.jobs.stock]
kind = "stock"
every = "1s"

[connections.main.jobs.products]
kind = "product"
every = "1d"
"""

FAST = WorkerSettings(lease_seconds=2.0, poll_seconds=0.2, shutdown_timeout=5.0)


class GatedAdapter(MemoryAdapter):
    """A platform whose reads wait at a gate while ``gate`` is set: a job that takes long."""

    def __init__(self, platform: MemoryPlatform) -> None:
        super().__init__(platform)
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        return await super().snapshot(kind, since)


class Platforms:
    """One ERP and one shop for every run of every worker (the real ones would be, too)."""

    def __init__(self, products: int = 20) -> None:
        self.erp = GatedAdapter(MemoryPlatform())
        self.shop = MemoryAdapter(MemoryPlatform())
        for record in generate_products(products, seed=1):
            self.erp.platform.put(record)

    @asynccontextmanager
    async def open(self, config: Config, connection: str) -> AsyncIterator[Mapping[Side, Adapter]]:
        yield {"erp": self.erp, "shop": self.shop}


def config_of(text: str = CONFIG) -> Config:
    return parse_config(text, source="test.toml")


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Wait until ``condition()`` holds, every 50 ms, for ``within`` seconds at most."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def claims(store: Store, job: str | None = None) -> list[ClaimRow]:
    rows = await Leases(store.pool, "test").history("main")
    return [row for row in rows if job is None or row.job == job]


async def leases_held(store: Store) -> int:
    async with store.pool.acquire() as conn:
        count: int = await conn.fetchval("select count(*) from concord_lease")
    return count


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def assert_never_twice_at_once(rows: list[ClaimRow]) -> None:
    """Claims of one job, in order, each starting after the previous one ended (or expired)."""
    by_job: dict[str, list[ClaimRow]] = {}
    for row in rows:
        by_job.setdefault(row.job, []).append(row)
    for job, history in by_job.items():
        for before, after in itertools.pairwise(history):
            ended = before.renewed_until if before.outcome == "expired" else before.finished_at
            assert ended is not None, f"{job}: claim {before.id} never ended"
            assert after.claimed_at >= ended, f"{job}: claims {before.id} and {after.id} overlap"


async def test_jobs_run_on_their_schedules_and_every_run_is_recorded(store: Store) -> None:
    platforms = Platforms()
    worker = Worker(config_of(), store, settings=FAST, adapters=platforms.open)

    async with running(worker):
        await wait_for(lambda: _count(store, "stock", 3))

    stock = await claims(store, "stock")
    products = await claims(store, "products")
    assert [c.outcome for c in stock] == ["ok"] * len(stock)
    assert len(products) == 1 and products[0].outcome == "ok" and products[0].slot == "products"
    # Each stock run was due one interval after the previous one was due (or now, if later).
    for before, after in itertools.pairwise(stock):
        assert after.due_at >= before.due_at + timedelta(seconds=1)
    assert_never_twice_at_once(stock + products)
    runs = {run.id: run for run in await store.list_runs("main", limit=100)}
    assert all(c.run_id in runs and runs[c.run_id].status == "ok" for c in stock + products)
    assert await leases_held(store) == 0
    assert platforms.shop.platform.keys("product") == platforms.erp.platform.keys("product")


async def _count(store: Store, job: str, at_least: int) -> bool:
    return len([c for c in await claims(store, job) if c.outcome == "ok"]) >= at_least


async def test_an_overrunning_job_is_not_started_again_until_it_ends(store: Store) -> None:
    platforms = Platforms()
    platforms.erp.gate = asyncio.Event()
    config = config_of(CONFIG.replace('every = "1d"', 'every = "1s"'))
    worker = Worker(config, store, settings=FAST, adapters=platforms.open)
    other = Leases(store.pool, "other-worker")

    async with running(worker):
        await asyncio.wait_for(platforms.erp.entered.wait(), timeout=20)
        held = await claims(store)
        # Both jobs are stuck at the gate; wait until both are overdue by two intervals more.
        await wait_for(lambda: _overdue(store, seconds=2.0))
        assert await other.claim(plan_slots(config), lease_seconds=2.0) is None
        assert [c.outcome for c in await claims(store)] == ["running"] * len(held)
        platforms.erp.gate.set()
        await wait_for(lambda: _count(store, "stock", 2))

    assert_never_twice_at_once(await claims(store))


async def _overdue(store: Store, seconds: float) -> bool:
    async with store.pool.acquire() as conn:
        late: bool = await conn.fetchval(
            "select bool_and(next_due < now() - make_interval(secs => $1))"
            " from concord_schedule where mode = 'incremental'",
            seconds,
        )
    return late


async def take_over(leases: Leases, slots: list[Slot]) -> Claim:
    """The claim ``leases`` gets once the job's lease has expired."""
    taken: list[Claim] = []

    async def taken_over() -> bool:
        claim = await leases.claim(slots, lease_seconds=30.0)
        taken.extend([claim] if claim is not None else [])
        return claim is not None

    await wait_for(taken_over)
    return taken[0]


async def test_a_dead_workers_job_is_taken_over_when_its_lease_expires(store: Store) -> None:
    slots = [Slot(connection="main", slot="stock", job="stock", mode="incremental", schedule="1m")]
    dead, alive = Leases(store.pool, "dead-worker"), Leases(store.pool, "live-worker")
    await dead.register(slots)
    lost = await dead.claim(slots, lease_seconds=1.0)
    assert lost is not None
    assert await alive.claim(slots, lease_seconds=1.0) is None  # held, and never renewed...

    claim = await take_over(alive, slots)
    assert claim.took_over is True
    assert claim.due_at == lost.due_at  # the lost run is run, not skipped
    assert await dead.renew(lost, 30.0) is False
    assert not await dead.finish(lost, outcome="ok", run_id=None, error=None, next_due=lambda n: n)
    history = await claims(store)
    assert [(c.owner, c.outcome) for c in history] == [
        ("dead-worker", "expired"),
        ("live-worker", "running"),
    ]
    assert_never_twice_at_once(history)


async def test_a_commit_under_a_claim_taken_over_is_refused_and_writes_nothing(
    store: Store,
) -> None:
    slots = [Slot(connection="main", slot="stock", job="stock", mode="incremental", schedule="1m")]
    paused, alive = Leases(store.pool, "paused-worker"), Leases(store.pool, "live-worker")
    await paused.register(slots)
    stale = await paused.claim(slots, lease_seconds=0.5)
    assert stale is not None
    taken = [await take_over(alive, slots)]
    assert taken[0].id > stale.id  # the fencing token only grows
    platforms = Platforms()
    job = config_of().connections["main"].jobs["stock"]

    async def cycle_under(claim: Claim) -> int | None:
        with fenced(Fence(connection="main", job="stock", token=claim.id)):
            result = await run_cycle(
                store,
                connection="main",
                job_name="stock",
                job=job,
                rules=KindRules(),
                adapters={"erp": platforms.erp, "shop": platforms.shop},
                full=True,
            )
        return result.run_id

    with pytest.raises(FencedOut, match=f"not to this run's claim {stale.id}"):
        await cycle_under(stale)
    async with store.pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from concord_run") == 0
        assert await conn.fetchval("select count(*) from concord_base") == 0
    run_id = await cycle_under(taken[0])
    async with store.pool.acquire() as conn:
        assert await conn.fetchval("select array_agg(id) from concord_run") == [run_id]


async def test_stopping_lets_the_running_job_finish_and_commit(store: Store) -> None:
    platforms = Platforms()
    platforms.erp.gate = asyncio.Event()
    worker = Worker(config_of(), store, settings=FAST, adapters=platforms.open)

    async with running(worker) as stop:
        await asyncio.wait_for(platforms.erp.entered.wait(), timeout=20)
        stop.set()
        platforms.erp.gate.set()

    history = await claims(store)
    assert history and all(c.outcome == "ok" and c.run_id is not None for c in history)
    assert await leases_held(store) == 0


async def test_stopping_interrupts_what_outlasts_the_timeout_and_gives_leases_back(
    store: Store,
) -> None:
    platforms = Platforms()
    platforms.erp.gate = asyncio.Event()  # never opened
    settings = WorkerSettings(lease_seconds=30.0, poll_seconds=0.2, shutdown_timeout=1.0)
    worker = Worker(config_of(), store, settings=settings, adapters=platforms.open)

    started = time.monotonic()
    async with running(worker) as stop:
        await asyncio.wait_for(platforms.erp.entered.wait(), timeout=20)
        stop.set()

    assert time.monotonic() - started < 25  # bounded: the 30 s lease did not have to expire
    history = await claims(store)
    assert history and {c.outcome for c in history} == {"interrupted"}
    assert await leases_held(store) == 0
    assert await store.list_runs("main") == []  # nothing of the interrupted cycles committed
    async with store.pool.acquire() as conn:
        due_now = await conn.fetchval(
            "select bool_and(next_due <= now()) from concord_schedule where mode = 'incremental'"
        )
    assert due_now  # another worker can start them at once


async def test_status_shows_lag_runs_and_counts(store: Store) -> None:
    platforms = Platforms()
    worker = Worker(config_of(), store, settings=FAST, adapters=platforms.open)
    async with running(worker):
        await wait_for(lambda: _count(store, "products", 1))
    async with store.pool.acquire() as conn:
        await conn.execute(
            "insert into concord_intent (connection, kind, key, idempotency_key, payload)"
            " values ('main', 'order', '1001', 'shop:1001', '{}')"
        )

    (main,) = await gather_status(
        Leases(store.pool, "status"), schedules={("main", "stock"): "1s", ("main", "x"): "1h"}
    )
    jobs = {job.job: job for job in main.jobs}
    assert main.pending_intents == 1 and main.dead_letters == 0 and main.open_conflicts == 0
    products = jobs["products"]
    assert products.last_run is not None and products.last_run.status == "ok"
    assert products.last_run.counts["created_shop"] == 20
    assert products.records_written == 20
    assert products.lag_seconds is not None and products.schedule == "1d" and not products.late
    assert jobs["x"].last_run is None  # configured, never ran


async def test_old_run_history_is_pruned_but_each_jobs_last_run_is_kept(
    store: Store, db_url: str
) -> None:
    await store.ensure_connection("main")
    old = datetime.now(UTC) - timedelta(days=40)
    for status in ("ok", "failed", "ok", "failed"):
        await store.record_failed_run("main", "stock", "incremental", old, "x")
        if status == "ok":
            await _set_last_status(db_url, "ok")
    await store.record_failed_run("main", "stock", "incremental", datetime.now(UTC), "recent")

    gone = await Leases(store.pool, "test").prune(keep_days=30)

    kept = await store.list_runs("main")
    assert gone == 3
    assert [(r.status, r.error) for r in kept] == [("failed", "recent"), ("ok", "x")]


async def _set_last_status(db_url: str, status: str) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "update concord_run set status = $1 where id = (select max(id) from concord_run)",
            status,
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("every", ["2m", "*/5 * * * *"])
def test_every_job_gets_its_slot_and_a_weekly_full_resync(every: str) -> None:
    config = config_of(CONFIG.replace('every = "1s"', f'every = "{every}"'))
    slots = {s.slot: s for s in plan_slots(config)}
    assert set(slots) == {"stock", "stock:full", "products", "products:full"}
    assert slots["stock"].schedule == every and slots["stock:full"].schedule == "7d"
    assert slots["stock:full"].job == "stock" and slots["stock:full"].mode == "full"
    assert slots["stock:full"].first_after == pytest.approx(7 * 86400, abs=5)
