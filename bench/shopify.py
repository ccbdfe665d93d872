"""Odoo -> Shopify on the Basic plan: the initial export and a resync, paid in points.

Shopify meters its Admin API in points (a bucket of 2,000 refilled at 100 a second on the
Basic plan), not requests. These scenarios run the README's default jobs (products, stock)
between an Odoo simulator seeded like the other scenarios (variants, services, archived
articles, padded and case-variant SKUs, unicode) and an empty Shopify simulator on that plan,
each in its own process, and report, besides the wall time:

- ``points_share``: the points spent (as the simulator charged them) over the points the plan
  made available during the scenario (the bucket it started with plus 100 a second): how much
  of the plan the run used;
- ``throttled``: ``THROTTLED`` answers (a query sent before the bucket covered it) and
  ``throttled_failures``: items that failed because of throttling (the target is 0).

Large catalogues go through bulk operations (bulk reads, staged bulk mutations), which
Shopify runs outside the bucket: their work does not show in ``points_share``, and the
simulator runs them as fast as its process allows, where Shopify takes its own time. While a
bulk mutation runs, the adapter writes what the bucket's spare points pay for call by call.
The note also gives the time the plan's points alone would need to write the same products
one ``productSet`` (10 points at least) each: what bulk mutations save.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp

from adapters.base import Adapter, Side
from adapters.registry import build_adapter
from adapters.shopify import cost
from bench.measure import Usage, measured
from bench.results import Row
from bench.setup import JOBS, erp_settings, export_credentials, run_job
from bench.simproc import EditRequest, SimHandle, simulator_process
from engine.cycle.run import CycleResult
from engine.store.state import Store

SHOPIFY_TOKEN_ENV = "CONCORD_BENCH_SHOPIFY_TOKEN"
SHOPIFY_TOKEN = "shpat_test"
"""The Shopify simulator's own test token: not anyone's secret."""
RESTORE_RATE = 100.0
BUCKET = 2000.0
NAMES = {
    7: "Odoo -> Shopify initial export, Basic plan (100 points/s)",
    8: "Odoo -> Shopify resync, 5% of ERP prices changed, Basic plan",
}


class ShopHandle(SimHandle):
    """The Shopify simulator's counters and bucket, beside the benchmark's routes."""

    async def points(self) -> tuple[float, float, int]:
        """(points charged so far, points in the bucket now, THROTTLED answers so far)."""
        body = await self._get("/__sim__/shopify/counters")
        counters: dict[str, Any] = body["counters"]
        bucket = body["buckets"].get(SHOPIFY_TOKEN, {"currentlyAvailable": BUCKET})
        return (
            float(counters.get("actual_points", 0)),
            float(bucket["currentlyAvailable"]),
            int(counters.get("throttled", 0)),
        )


def shopify_settings(url: str) -> dict[str, Any]:
    return {
        "type": "shopify",
        "url": url,
        "access_token_env": SHOPIFY_TOKEN_ENV,
        "location": "Warehouse",
        "restore_rate": RESTORE_RATE,
        "bucket_size": BUCKET,
        "overlap_seconds": 0,
        "bulk_poll_seconds": 0.2,
    }


@asynccontextmanager
async def shopify_adapters(erp_url: str, shop_url: str) -> AsyncIterator[dict[Side, Adapter]]:
    """The Odoo and Shopify adapters, built through the registry, closed on exit."""
    export_credentials()
    os.environ.setdefault(SHOPIFY_TOKEN_ENV, SHOPIFY_TOKEN)
    async with AsyncExitStack() as stack:
        adapters: dict[Side, Adapter] = {}
        for side, settings in (
            ("erp", erp_settings(erp_url)),
            ("shop", shopify_settings(shop_url)),
        ):
            adapter = build_adapter(settings, source="bench", path=f"bench.{side}")
            stack.push_async_callback(adapter.aclose)
            adapters[side] = adapter  # type: ignore[index]
        yield adapters


class ShopifyRunner:
    """Scenarios 7 and 8 at one catalogue size."""

    def __init__(
        self,
        store: Store,
        erp: SimHandle,
        shop: ShopHandle,
        *,
        size: int,
        seed: int,
        step: Callable[[str], None],
    ) -> None:
        self.store, self.erp, self.shop = store, erp, shop
        self.size, self.seed, self.step = size, seed, step
        self.connection = f"bench-shopify-{size}"

    async def _cycles(
        self, *, full: bool, dry_run: bool = False
    ) -> tuple[Usage, list[CycleResult]]:
        results: list[CycleResult] = []
        async with shopify_adapters(self.erp.url, self.shop.url) as adapters:
            with measured() as usage:
                for name in JOBS:
                    result = await run_job(
                        self.store, self.connection, name, adapters, full=full, dry_run=dry_run
                    )
                    results.append(result.kept())
        return usage, results

    async def _scenario(self, scenario: int, note: str = "") -> Row:
        self.step(f"{self.size}: {scenario}. {NAMES[scenario]}")
        spent, level, throttled = await self.shop.points()
        shop_cpu = (await self.shop.usage())["cpu"]
        requests = (await self.shop.stats())["requests"] + (await self.erp.stats())["requests"]
        usage, results = await self._cycles(full=True)
        spent_after, _, throttled_after = await self.shop.points()
        shop_cpu = (await self.shop.usage())["cpu"] - shop_cpu
        requests_after = (await self.shop.stats())["requests"] + (await self.erp.stats())[
            "requests"
        ]
        counts: dict[str, int] = {}
        for result in results:
            for name, value in result.counts.items():
                counts[name] = counts.get(name, 0) + value
        failures = [f for r in results for f in r.failures]
        throttled_failures = sum(
            "THROTTLED" in f.reason or "throttled" in f.reason for f in failures
        )
        available = level + RESTORE_RATE * usage.wall
        row = Row(
            size=self.size,
            scenario=scenario,
            name=NAMES[scenario],
            wall=usage.wall,
            records=self.size,
            records_per_second=self.size / usage.wall if usage.wall else 0.0,
            requests=requests_after - requests,
            throttled=throttled_after - throttled,
            cpu=usage.cpu,
            peak_rss_mb=usage.peak_rss_mb,
            failed=len(failures),
            conflicts=sum(len(r.conflicts) for r in results),
            counts=counts,
            allowed_rate=RESTORE_RATE,
            rate_share=(spent_after - spent) / available if available else None,
        )
        written = sum(
            r.counts.get("writes_shop", 0)
            for name, r in zip(JOBS, results, strict=True)
            if JOBS[name].kind == "product"
        )
        row.note = (
            f"{note}{'; ' if note else ''}{spent_after - spent:,.0f} points spent of "
            f"{available:,.0f} available; {throttled_failures} failures from throttling; "
            f"the Shopify simulator's CPU {shop_cpu:.1f} s (bulk operations run there); "
            f"call by call, its {written:,} product writes alone would need "
            f"{written * cost.MUTATION / RESTORE_RATE:,.0f} s of the plan's points"
        )
        if failures:
            row.note += "; first failure: " + failures[0].reason[:200]
        row.converged = await self._converged()
        return row

    async def _converged(self) -> bool:
        _, results = await self._cycles(full=True, dry_run=True)
        return not any(any(r.operations.values()) for r in results)

    async def run(self, scenarios: Sequence[int]) -> list[Row]:
        rows = [await self._scenario(7)]
        if 8 in scenarios:
            edited = await self.erp.edit(EditRequest(kind="resync", seed=self.seed + 3, share=0.05))
            rows.append(await self._scenario(8, f"{edited.changed} ERP prices changed"))
        return [r for r in rows if r.scenario in scenarios]


async def run_shopify(
    store: Store, *, size: int, seed: int, scenarios: Sequence[int], step: Callable[[str], None]
) -> list[Row]:
    """Scenarios 7 (and 8) at ``size``, each platform's simulator in its own process."""
    step(f"{size}: starting the Odoo and Shopify simulators")
    async with (
        simulator_process("odoo", products=size, seed=seed) as erp_url,
        simulator_process("shopify", products=0, seed=seed) as shop_url,
        aiohttp.ClientSession() as session,
    ):
        runner = ShopifyRunner(
            store,
            SimHandle(erp_url, session),
            ShopHandle(shop_url, session),
            size=size,
            seed=seed,
            step=step,
        )
        return await runner.run(scenarios)
