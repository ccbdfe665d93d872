"""A product export and a stream of order reads sharing one throttled shop's request budget.

The export (every article created in the shop, in batches of 100) runs in the products lane; the
order reads, in the orders lane, go ahead of the export's queued batches, so they wait at most
for the batches already in flight. The test checks the lanes did that on a small catalogue; run
this file as a script for the measured run and its figures::

    python tests/acceptance/test_run_lanes.py --products 30000 [--fifo]

(``--fifo`` puts the order reads in the products lane too: the queue without lanes, to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import tempfile
import time
from pathlib import Path

import msgspec
import pytest

from adapters.budget import Budgets, RequestBudget
from adapters.http import HttpClient
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform, load
from adapters.memory.catalogue import generate_products
from adapters.registry import build_adapter
from adapters.simkit import Faults, serve, set_faults
from adapters.woocommerce.simulator.app import create_app
from canonical.lanes import in_lane
from engine.config import JobConfig
from engine.cycle.run import run_cycle
from engine.store.state import Store
from rules.policy import FieldRule, KindRules

KEY, SECRET = "ck_lanes_5a1f", "cs_lanes_c09e"


class Figures(msgspec.Struct, kw_only=True):
    products: int
    lanes: bool
    export_seconds: float
    created: int
    export_requests: int
    throttled: int
    lowest_rate: float
    batch_mean: float
    """Seconds one export request was in flight, on average (a batch of 100 products)."""
    batch_max: float
    order_reads: int
    order_wait_mean: float
    """Seconds an order read waited for its turn, on average."""
    order_wait_max: float
    order_latency_p50: float
    order_latency_p95: float
    order_latency_max: float
    """Seconds from asking to answer, 429 retries included."""
    orders_overtook: int


async def measure(
    store: Store,
    products: int,
    *,
    lanes: bool = True,
    rate_limit: float = 20.0,
    order_every: float = 0.25,
) -> Figures:
    """Export ``products`` articles to a shop allowing ``rate_limit`` requests/s while reading
    orders every ``order_every`` seconds; returns what was measured."""
    os.environ["LANES_WC_KEY"], os.environ["LANES_WC_SECRET"] = KEY, SECRET
    shop_app = create_app(consumer_key=KEY, consumer_secret=SECRET)
    # The account allows fewer requests than the adapter is configured for: it gets 429s.
    set_faults(shop_app, Faults(rate_limit=rate_limit, retry_after=1.0, latency=0.01))
    erp = MemoryAdapter(MemoryPlatform())
    load(erp.platform, generate_products(products, seed=5))
    budgets = Budgets()
    async with serve(shop_app) as url:
        with budgets.shared():
            shop = build_adapter(
                {
                    "type": "woocommerce",
                    "url": url,
                    "consumer_key_env": "LANES_WC_KEY",
                    "consumer_secret_env": "LANES_WC_SECRET",
                    "requests_per_second": rate_limit * 1.5,
                    "max_concurrency": 4,
                },
                source="lanes",
                path="shop",
            )
            token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
            orders = HttpClient(
                f"{url}/wp-json/wc/v3",
                requests_per_second=rate_limit * 1.5,
                max_concurrency=4,
                headers={"Authorization": f"Basic {token}"},
            )
            (budget,) = list(budgets)
            try:
                figures = await _run(store, budget, erp, shop, orders, lanes, order_every)
            finally:
                await orders.aclose()
                await shop.aclose()
    figures.products = products
    return figures


async def _run(
    store: Store,
    budget: RequestBudget,
    erp: MemoryAdapter,
    shop: object,
    orders: HttpClient,
    lanes: bool,
    order_every: float,
) -> Figures:
    lowest = [budget.max_rate]

    async def export() -> dict[str, int]:
        with in_lane("products"):
            result = await run_cycle(
                store,
                connection="lanes",
                job_name="products",
                job=JobConfig(kind="product"),
                rules=KindRules(default=FieldRule(owner="erp")),
                adapters={"erp": erp, "shop": shop},  # type: ignore[dict-item]
                full=True,
            )
        return result.counts

    started = time.perf_counter()
    exporting = asyncio.create_task(export())
    latencies: list[float] = []
    with in_lane("orders" if lanes else "products"):
        while not exporting.done():
            asked = time.perf_counter()
            await orders.request("GET", "/orders", params={"per_page": "10"})
            latencies.append(time.perf_counter() - asked)
            lowest.append(budget.current_rate())
            await asyncio.wait({exporting}, timeout=order_every)
    counts = await exporting
    seconds = time.perf_counter() - started
    stats, mine = budget.lanes["products"], budget.lanes["orders" if lanes else "products"]
    ordered = sorted(latencies)
    return Figures(
        products=0,
        lanes=lanes,
        export_seconds=round(seconds, 2),
        created=counts.get("created_shop", 0),
        export_requests=stats.granted - (0 if lanes else len(latencies)),
        throttled=budget.throttled,
        lowest_rate=round(min(lowest), 2),
        batch_mean=round(stats.held_seconds / max(stats.granted, 1), 3),
        batch_max=round(stats.max_held, 3),
        order_reads=len(latencies),
        order_wait_mean=round(mine.wait_seconds / max(mine.granted, 1), 3),
        order_wait_max=round(mine.max_wait, 3),
        order_latency_p50=round(statistics.median(ordered), 3),
        order_latency_p95=round(ordered[int(len(ordered) * 0.95) - 1], 3),
        order_latency_max=round(ordered[-1], 3),
        orders_overtook=budget.lanes["orders"].overtook,
    )


@pytest.mark.slow
async def test_order_reads_go_ahead_of_a_throttled_product_export(store: Store) -> None:
    figures = await measure(store, 1000, rate_limit=4.0, order_every=1.0)

    assert figures.created == 1000  # the export went through, 429s and all
    assert figures.throttled > 0 and figures.lowest_rate < 6.0  # the budget backed off
    assert figures.order_reads >= 3
    # Order reads were let through ahead of export batches queued before them.
    assert figures.orders_overtook > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=30000)
    parser.add_argument("--rate", type=float, default=20.0, help="the shop's requests/s")
    parser.add_argument("--fifo", action="store_true", help="order reads in the products lane")
    args = parser.parse_args()

    async def go() -> Figures:
        from engine.runtime import open_store

        with tempfile.TemporaryDirectory(prefix="concord-lanes-") as tmp:
            url = os.environ.get("CONCORD_DATABASE_URL") or None
            async with open_store(url, Path(tmp), auto_migrate=True) as store:
                return await measure(
                    store, args.products, lanes=not args.fifo, rate_limit=args.rate
                )

    figures = asyncio.run(go())
    for name in figures.__struct_fields__:
        print(f"{name:>18}: {getattr(figures, name)}")


if __name__ == "__main__":
    main()
