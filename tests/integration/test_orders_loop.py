"""The order jobs in the continuous loop: a connection with an ``[orders]`` table gets the import,
feedback and audit jobs, and a paid web order placed while ``concord run`` works reaches the ERP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from test_orders_sides import Sides, place, sale_orders, sides
from test_worker import running, wait_for

from adapters.base import Adapter, Side
from engine.config import Config, parse_config
from engine.jobs import load_runner, runner_name, scheduled_jobs
from engine.loop.worker import Worker, WorkerSettings
from engine.store.state import Store

__all__ = ["sides"]  # the fixture, shared

CONFIG = """
[connections.main.erp]
type = "memory"

[connections.main.shop]
type = "memory"

[connections.main.jobs.stock]
kind = "stock"
every = "1d"

[connections.main.orders]
every = "1s"
taxes = { FR = "VAT 20%" }
"""


def config() -> Config:
    return parse_config(CONFIG, source="test.toml")


def test_a_connection_with_an_orders_table_gets_the_three_order_jobs() -> None:
    jobs = scheduled_jobs(config().connections["main"])

    assert {name: runner_name(job) for name, job in jobs.items()} == {
        "stock": "cycle",
        "orders": "orders",
        "order-feedback": "order-feedback",
        "order-audit": "order-audit",
    }
    for job in jobs.values():
        assert callable(load_runner(runner_name(job)))


async def test_a_paid_order_placed_while_the_loop_runs_reaches_the_erp_once(
    store: Store,
    sides: Sides,
) -> None:
    @asynccontextmanager
    async def open_sides(config: Config, connection: str) -> AsyncIterator[Mapping[Side, Adapter]]:
        yield sides.adapters

    number = place(sides.shop, [("SKU-000002", 1)])
    settings = WorkerSettings(lease_seconds=5.0, poll_seconds=0.2, shutdown_timeout=10.0)
    worker = Worker(config(), store, settings=settings, adapters=open_sides)

    async def imported() -> bool:
        runs = await store.list_runs("main", limit=50)
        return any(r.job == "orders" and r.counts.get("already_imported", 0) for r in runs)

    async with running(worker):
        # The second import run finds the order already there: it was imported exactly once.
        await wait_for(imported, within=60)

    [sale] = sale_orders(sides.erp, str(number))
    assert sale["state"] == "sale"
    jobs = {run.job for run in await store.list_runs("main", limit=50)}
    assert {"orders", "order-feedback", "order-audit"} <= jobs
