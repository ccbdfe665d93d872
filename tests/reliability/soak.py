"""Soak: a merchant's day (or more) compressed, with both sides edited all the time.

The Odoo and WooCommerce simulators run in this process (:mod:`adapters.sandbox`) on a
simulated clock: each step is one simulated minute, in which people work on both sides (an ERP
price change every minute, goods received every 3 minutes, a paid web order every 2 minutes, a
shop description rewritten every 7 minutes, a new ERP article every 30 minutes), and the jobs
run on their schedules (orders every 5 minutes, stock every 10, products every hour), reading
incrementally from the platforms' own (simulated) clocks. At the end the edits stop, the jobs
run until nothing is left to write, and both sides must agree: every article's fields, every
stock count, every web order in the ERP exactly once. The process's memory (RSS) is sampled
every simulated hour.

CI runs a short profile (``tests/reliability/test_soak.py``); the full one is::

    python -m tests.reliability.soak --hours 24      # an embedded PostgreSQL of its own
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import psutil

from adapters.base import Adapter, Side
from adapters.sandbox import Sandbox, sandbox
from canonical.fields import to_fields
from engine.cli.demo import DEMO_JOBS, DEMO_RULES
from engine.cycle.carried import compared_fields
from engine.cycle.run import run_cycle
from engine.orders.importer import run_orders
from engine.store.database import create_pool, database_url
from engine.store.migrate import migrate
from engine.store.state import Store
from rules.order_config import OrdersConfig

CONNECTION = "soak"
ORDERS = OrdersConfig(taxes={"FR": "VAT 20%"})
MEGABYTE = 1024 * 1024


class SoakReport(msgspec.Struct, kw_only=True):
    """What a soak did and how it ended."""

    hours: int
    minutes: int
    cycles: Counter[str]
    edits: Counter[str]
    orders_placed: int
    rss_mb: list[tuple[int, float]]
    """(simulated hour, resident memory in MB) after each simulated hour."""
    product_differences: dict[str, Any]
    stock_differences: dict[str, Any]
    orders_not_once: dict[str, int]
    dead_letters: list[str]
    conflicts: int
    seconds: float

    @property
    def converged(self) -> bool:
        return not (
            self.product_differences
            or self.stock_differences
            or self.orders_not_once
            or self.dead_letters
            or self.conflicts
        )


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, minutes: int = 1) -> None:
        self.moment += timedelta(minutes=minutes)


def rss_mb() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / MEGABYTE


async def _read(adapter: Adapter, kind: str) -> dict[str, dict[str, Any]]:
    snapshot = await adapter.snapshot(kind, None)
    adapter.rejected.clear()
    return {s.record.natural_key(): to_fields(s.record) for s in snapshot.records}


def _differences(
    erp: Mapping[str, dict[str, Any]], shop: Mapping[str, dict[str, Any]], fields: list[str]
) -> dict[str, Any]:
    differ: dict[str, Any] = {}
    for key in erp.keys() | shop.keys():
        if key not in erp or key not in shop:
            differ[key] = "missing on one side"
            continue
        bad = {
            f: (erp[key].get(f), shop[key].get(f))
            for f in fields
            if erp[key].get(f) != shop[key].get(f)
        }
        if bad:
            differ[key] = bad
    return differ


class Day:
    """The people working on both sides, minute by minute, and the jobs on their schedules."""

    def __init__(self, store: Store, box: Sandbox, clock: SimulatedClock, seed: int) -> None:
        self.store, self.box, self.clock = store, box, clock
        self.rng = random.Random(seed)
        self.adapters: dict[Side, Adapter] = box.open_adapters()
        self.plain = box.plain_articles()
        stocked = set(box.stocked_articles())
        self.sellable = [sku for sku in self.plain if sku in stocked]
        self.cycles: Counter[str] = Counter()
        self.edits: Counter[str] = Counter()
        self.placed: list[str] = []
        self.created = 0

    async def job(self, name: str, *, full: bool = False) -> int:
        """Run one job; returns how many writes it made."""
        self.cycles[name] += 1
        if name == "orders":
            result = await run_orders(
                self.store, connection=CONNECTION, adapters=self.adapters, config=ORDERS, full=full
            )
        else:
            job = DEMO_JOBS[name]
            result = await run_cycle(
                self.store,
                connection=CONNECTION,
                job_name=name,
                job=job,
                rules=DEMO_RULES[job.kind],
                adapters=self.adapters,
                full=full,
            )
        counts = result.counts
        return int(
            counts.get("writes_erp", 0) + counts.get("writes_shop", 0) + counts.get("imported", 0)
        )

    def people_work(self, minute: int) -> None:
        box, rng = self.box, self.rng
        sku = rng.choice(self.plain)
        box.set_erp_price(sku, box.erp_price(sku) + rng.choice((-1, 1)) * rng.randint(1, 9))
        self.edits["erp price"] += 1
        if minute % 3 == 0:
            box.receive_in_erp(rng.choice(self.sellable), rng.randint(1, 12))
            self.edits["erp receipt"] += 1
        if minute % 2 == 0:
            order = box.shop_store.add_order(
                [(rng.choice(self.sellable), rng.randint(1, 2))],
                status="processing",
                billing={
                    "first_name": "Soak",
                    "country": "FR",
                    "email": f"buyer{len(self.placed) % 25}@example.com",
                },
            )
            self.placed.append(str(order.number))
            self.edits["web order"] += 1
        if minute % 7 == 0:
            box.set_shop_description(rng.choice(self.plain), f"Rewritten at minute {minute}")
            self.edits["shop description"] += 1
        if minute % 30 == 0:
            self.created += 1
            box.erp_store.add(
                "product.product",
                name=f"Soak article {self.created}",
                default_code=f"SOAK-{self.created:04d}",
                list_price=float(5 + self.created),
            )
            self.edits["erp new article"] += 1

    async def scheduled(self, minute: int) -> None:
        if minute % 5 == 0:
            await self.job("orders")
        if minute % 10 == 0:
            await self.job("stock")
        if minute % 60 == 0:
            await self.job("products")

    async def settle(self, passes: int = 6) -> None:
        """Run every job until a whole pass writes nothing."""
        for _ in range(passes):
            self.clock.advance()
            writes = 0
            for name in ("orders", "products", "stock"):
                writes += await self.job(name)
            if writes == 0:
                return


async def run_soak(
    store: Store,
    *,
    hours: int,
    products: int = 150,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> SoakReport:
    """Soak ``hours`` simulated hours against ``store``; returns the report."""
    started = time.perf_counter()
    # Simulated time starts after the sandbox was filled on the real clock: a platform clock
    # going backwards would hide its edits from incremental reads until the weekly full one.
    clock = SimulatedClock(datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1))
    async with sandbox(products=products, seed=seed, shop_share=0.8, typo_rate=0.02) as box:
        box.erp_store.clock = clock.now
        box.shop_store.clock = clock.now
        day = Day(store, box, clock, seed)
        for name in ("products", "stock", "orders"):
            await day.job(name, full=True)
        samples = [(0, rss_mb())]
        for minute in range(1, hours * 60 + 1):
            clock.advance()
            day.people_work(minute)
            await day.scheduled(minute)
            if minute % 60 == 0:
                samples.append((minute // 60, rss_mb()))
                if progress is not None:
                    progress(
                        f"hour {minute // 60:3d}: RSS {samples[-1][1]:7.1f} MB, "
                        f"cycles {sum(day.cycles.values())}, orders {len(day.placed)}"
                    )
        await day.settle()
        erp, shop = day.adapters["erp"], day.adapters["shop"]
        products_erp, products_shop = await _read(erp, "product"), await _read(shop, "product")
        stock_erp, stock_shop = await _read(erp, "stock"), await _read(shop, "stock")
        # A new ERP article's stock is not managed in the shop until someone switches it on:
        # the counts kept on both sides must agree.
        shared = stock_erp.keys() & stock_shop.keys()
        refs = Counter(
            str(row["client_order_ref"])
            for row in (
                box.erp_store.get("sale.order", rid) for rid in box.erp_store.find("sale.order", [])
            )
        )
        letters = await store.list_dead_letters(CONNECTION)
        conflicts = await store.list_conflicts(connection=CONNECTION)
        return SoakReport(
            hours=hours,
            minutes=hours * 60,
            cycles=day.cycles,
            edits=day.edits,
            orders_placed=len(day.placed),
            rss_mb=samples,
            product_differences=_differences(
                products_erp, products_shop, compared_fields("product", day.adapters)
            ),
            stock_differences=_differences(
                {k: v for k, v in stock_erp.items() if k in shared},
                {k: v for k, v in stock_shop.items() if k in shared},
                ["quantity"],
            ),
            orders_not_once={n: refs[n] for n in day.placed if refs[n] != 1},
            dead_letters=[f"{d.kind} {d.key} on {d.side}: {d.reason}" for d in letters],
            conflicts=len(conflicts),
            seconds=time.perf_counter() - started,
        )


async def _main(hours: int, products: int, seed: int) -> SoakReport:
    with tempfile.TemporaryDirectory(prefix="concord-soak-", ignore_cleanup_errors=True) as tmp:
        async with database_url(None, Path(tmp)) as url:
            pool = await create_pool(url)
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
                return await run_soak(
                    Store(pool),
                    hours=hours,
                    products=products,
                    seed=seed,
                    progress=lambda line: print(line, flush=True),
                )
            finally:
                await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Concord soak: simulated hours, both sides edited."
    )
    parser.add_argument("--hours", type=int, default=24, help="Simulated hours (default 24).")
    parser.add_argument("--products", type=int, default=150, help="ERP articles.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    report = asyncio.run(_main(args.hours, args.products, args.seed))
    print(msgspec.json.format(msgspec.json.encode(report)).decode())
    first, last = report.rss_mb[1 if len(report.rss_mb) > 2 else 0][1], report.rss_mb[-1][1]
    print(
        f"{report.hours} simulated hours in {report.seconds:.0f}s: "
        f"{sum(report.cycles.values())} cycles, {sum(report.edits.values())} edits, "
        f"{report.orders_placed} orders; RSS {first:.1f} -> {last:.1f} MB; "
        f"converged: {report.converged}"
    )
    sys.exit(0 if report.converged else 1)


if __name__ == "__main__":
    main()
