"""The contract's harness for Shopify: the simulator (``adapters/shopify/simulator``).

The simulator's clock runs in real time (its bucket refills as Shopify's does, so the
adapter's point budget is put to the test) and is moved forward by hand on top of it, so
cursors and overlaps are exact. Articles are planted as a person would in the admin: a product
with its default variant holding the SKU and the price.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import msgspec

from adapters import simkit
from adapters.base import Adapter
from adapters.http import HttpClient
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.products import products_query
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product

TOKEN = "shpat_test"


class MovableClock(simulator.Clock):
    """Real time plus what the harness moved it by."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class ShopifyHarness:
    remote = True
    simulated = True

    def __init__(self, app: Any, url: str, clock: MovableClock) -> None:
        self.app, self.url, self.clock = app, url, clock
        self.shop = simulator.shop_of(app)
        self.store = self.shop.store
        self.opened: list[ShopifyAdapter] = []
        self.adapter: Adapter = self.connect()
        _, self.page_size, _ = products_query(self.opened[0].client.query_limit)

    def connect(self, **settings: Any) -> Adapter:
        wrong = settings.pop("wrong_secret", False)
        values: dict[str, Any] = {
            "url": self.url,
            "access_token": "shpat_wrong" if wrong else TOKEN,
            "requests_per_second": 1000.0,
            "max_concurrency": 8,
            "overlap_seconds": 30.0,
            "restore_rate": 1000.0,
        }
        adapter = ShopifyAdapter(ShopifySettings(**(values | settings)))
        self.opened.append(adapter)
        return adapter

    async def seed(self, count: int) -> list[str]:
        skus = [f"C-{n:05d}" for n in range(1, count + 1)]
        for sku in skus:
            self.clock.advance(60)
            product = new_product(self.store, f"Article {sku}")
            add_variant(self.store, product, sku=sku, price=Decimal("9.90"))
            self.store.touch_product(product)
        return skus

    def _products_of(self, sku: str) -> list[Any]:
        ids = {v.product_id for v in self.store.variants.values() if v.sku == sku}
        return [self.store.products[i] for i in ids if i in self.store.products]

    async def rename(self, sku: str, name: str) -> None:
        self.clock.advance(3600)
        [product] = self._products_of(sku)
        product.title = name
        self.store.touch_product(product)

    async def holding(self, sku: str) -> int:
        return sum(1 for v in self.store.variants.values() if v.sku == sku)

    async def plant_without_sku(self) -> str:
        product = new_product(self.store, "Forgotten reference")
        add_variant(self.store, product, sku=None, price=Decimal("5.00"))
        self.store.touch_product(product)
        return simulator.gid("Product", product.id)

    def missing_ref(self) -> str:
        return simulator.gid("Product", 999999999)

    def set_faults(self, faults: simkit.Faults) -> None:
        simkit.set_faults(self.app, faults)

    async def served(self) -> simkit.Stats:
        client = HttpClient(self.url, requests_per_second=100, max_concurrency=1)
        try:
            response = await client.request("GET", "/__sim__/stats")
        finally:
            await client.aclose()
        return msgspec.json.decode(response.body, type=simkit.Stats)

    async def close(self) -> None:
        for adapter in self.opened:
            await adapter.aclose()


@asynccontextmanager
async def shopify(fixtures: Mapping[str, Any]) -> AsyncIterator[ShopifyHarness]:
    clock = MovableClock()
    app = simulator.create_app(
        clock=clock, settings=simulator.Settings(bucket_size=2000, restore_rate=1000)
    )
    async with simkit.serve(app) as url:
        harness = ShopifyHarness(app, url, clock)
        try:
            yield harness
        finally:
            await harness.close()
