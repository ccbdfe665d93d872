"""The Shopify adapter against the simulator: stock compare-and-set, points and throttling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.base import Create, Done, Update
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.simulator.orders_model import plant_customer, plant_order
from adapters.shopify.simulator.store import Metafield
from adapters.simkit import serve
from canonical.fields import to_fields
from canonical.models import Attribute, Order, Product, Stock, Variant

TOKEN = "shpat_test"


@pytest.fixture
async def shop() -> AsyncIterator[tuple[Any, ShopifyAdapter]]:
    app = simulator.create_app(
        products=12, seed=4, settings=simulator.Settings(bucket_size=400, restore_rate=200)
    )
    async with serve(app) as url:
        adapter = ShopifyAdapter(
            ShopifySettings(url=url, access_token=TOKEN, location="Warehouse", max_query_cost=400)
        )
        try:
            yield app, adapter
        finally:
            await adapter.aclose()


def _plant(app: Any, sku: str, quantity: int) -> int:
    store = simulator.shop_of(app).store
    product = new_product(store, f"Article {sku}")
    variant = add_variant(store, product, sku=sku, price=Decimal("4.50"))
    [warehouse] = [loc for loc in store.locations.values() if loc.name == "Warehouse"]
    store.stock(variant.item_id, warehouse.id, quantity)
    store.touch_product(product)
    return int(variant.item_id)


def _available(app: Any, item: int) -> int:
    store = simulator.shop_of(app).store
    [warehouse] = [loc for loc in store.locations.values() if loc.name == "Warehouse"]
    return int(store.levels[(item, warehouse.id)].quantities["available"])


def _sizes(sku: str, price: Decimal, sizes: tuple[str, ...]) -> tuple[Variant, ...]:
    return tuple(
        Variant(
            sku=f"{sku}-{size}",
            attributes=(Attribute(name="Size", value=size),),
            price=price,
            active=True,
        )
        for size in sizes
    )


async def test_a_sale_between_read_and_write_is_kept(shop: tuple[Any, ShopifyAdapter]) -> None:
    app, adapter = shop
    item = _plant(app, "CAS-1", 10)
    snapshot = await adapter.snapshot("stock", None)
    counts = {s.record.natural_key(): s.record for s in snapshot.records}
    assert counts["CAS-1"] == Stock(sku="CAS-1", quantity=Decimal(10))
    # A sale in the shop after the read: the write's compare-and-set finds the count stale.
    store = simulator.shop_of(app).store
    [warehouse] = [loc for loc in store.locations.values() if loc.name == "Warehouse"]
    store.stock(item, warehouse.id, 7)
    [result] = await adapter.apply(
        "stock", [Update(key="CAS-1", ref=str(item), fields={"quantity": "15"})]
    )
    assert isinstance(result, Done)
    assert _available(app, item) == 12  # 15 wanted, less the 3 sold meanwhile


async def test_reads_stay_within_the_points_and_wait_out_throttling(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    app, adapter = shop
    bucket = simulator.shop_of(app).buckets
    snapshot = await adapter.snapshot("product", None)
    assert len(snapshot.records) >= 10
    assert all(isinstance(s.record, Product) for s in snapshot.records)
    bucket[TOKEN].drain(400)  # another app of the shop spent every point
    # A search for everything changed since long ago: its first request is a full page.
    again = await adapter.snapshot("product", "2000-01-01T00:00:00Z")
    assert {s.ref for s in again.records} == {s.ref for s in snapshot.records}
    counters = simulator.shop_of(app).counters
    assert counters.get("max_cost_exceeded", 0) == 0
    # The drained bucket answered THROTTLED once; the wait for the deficit was enough.
    assert adapter.client.throttled == counters.get("throttled", 0) == 1
    assert adapter.client.points.spent > 0
    assert adapter.client.underpriced == 0  # every page planned at what Shopify charges


async def test_orders_and_customers_read_to_the_cent(shop: tuple[Any, ShopifyAdapter]) -> None:
    app, adapter = shop
    store = simulator.shop_of(app).store
    item = _plant(app, "ORD-1", 10)
    variant = store.variant_of_item(item)
    assert variant is not None
    buyer = plant_customer(store, "ada@example.com")
    order = plant_order(store, [(variant.id, 3)], customer=buyer)
    orders = await adapter.snapshot("order", None)
    [seen] = [s for s in orders.records if isinstance(s.record, Order) and s.record.lines]
    placed = seen.record
    assert isinstance(placed, Order)
    assert placed.number == order.name.lstrip("#")
    [line] = placed.lines
    assert (line.sku, line.quantity, line.unit_price) == ("ORD-1", Decimal(3), Decimal("4.50"))
    assert placed.total == order.total() and placed.total.as_tuple().exponent == -2
    assert placed.tax_total > 0 and placed.status == "processing"
    assert placed.customer_email == "ada@example.com"
    [again] = await adapter.fetch("order", [placed.number])
    assert again.record == placed
    customers = await adapter.fetch("customer", ["ADA@example.com"])
    assert [c.record.natural_key() for c in customers] == ["ada@example.com"]
    assert adapter.client.underpriced == 0


async def test_a_deprecated_api_version_is_logged_once(
    shop: tuple[Any, ShopifyAdapter], caplog: pytest.LogCaptureFixture
) -> None:
    _, current = shop
    settings = msgspec.structs.replace(current.settings, api_version="2025-04")
    adapter = ShopifyAdapter(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="concord.shopify"):
            await adapter.snapshot("product", None)
            await adapter.snapshot("customer", None)
    finally:
        await adapter.aclose()
    warnings = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert len(warnings) == 1 and "2025-04" in warnings[0]
    assert len(adapter.client.deprecations) == 1
    assert TOKEN not in caplog.text
    await current.snapshot("product", None)
    assert current.client.deprecations == set()  # a current version is not


async def test_a_product_with_variants_reads_back_under_its_own_sku(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    """Shopify keeps SKUs on variants only: the product's own is kept in a metafield, so the
    next snapshot finds the article under the key the ERP gave it (not a variant's)."""
    app, adapter = shop
    boot = Product(
        sku="BOOT",
        name="Boot — ünïcode",
        active=True,
        variants=_sizes("BOOT", Decimal("59.00"), ("38", "40")),
    )
    [made] = await adapter.apply("product", [Create(key="BOOT", fields=to_fields(boot))])
    assert isinstance(made, Done), made
    fresh = ShopifyAdapter(adapter.settings)
    try:
        snapshot = await fresh.snapshot("product", None)
        [seen] = [s for s in snapshot.records if s.ref == made.ref]
        assert seen.record.natural_key() == "BOOT"
        assert isinstance(seen.record, Product)
        assert [v.sku for v in seen.record.variants] == ["BOOT-38", "BOOT-40"]
        renamed = Update(key="BOOT", ref=made.ref, fields={"name": "Boot"})
        assert isinstance((await fresh.apply("product", [renamed]))[0], Done)
    finally:
        await fresh.aclose()
    product = simulator.shop_of(app).store.products[int(made.ref.rsplit("/", 1)[1])]
    assert [(f.namespace, f.key, f.value) for f in product.metafields] == [
        ("concord", "sku", "BOOT")
    ]


async def test_a_simple_product_given_variants_keeps_its_sku_and_the_merchants_metafields(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    """A simple product that gains variants would read back under its first variant's SKU:
    its own is kept in the metafield, without replacing the merchant's other metafields."""
    app, adapter = shop
    coat = Product(sku="COAT", name="Coat", price=Decimal("80.00"), active=True)
    [made] = await adapter.apply("product", [Create(key="COAT", fields=to_fields(coat))])
    assert isinstance(made, Done), made
    store = simulator.shop_of(app).store
    product = store.products[int(made.ref.rsplit("/", 1)[1])]
    assert product.metafields == []
    now = product.updated_at
    product.metafields.append(
        Metafield(
            id=991,
            namespace="custom",
            key="care",
            value="Dry clean",
            type="single_line_text_field",
            created_at=now,
            updated_at=now,
        )
    )
    sized = msgspec.structs.replace(
        coat,
        price=None,
        variants=_sizes("COAT", Decimal("80.00"), ("M", "L")),
    )
    change = Update(key="COAT", ref=made.ref, fields=to_fields(sized))
    assert isinstance((await adapter.apply("product", [change]))[0], Done)
    assert sorted((f.namespace, f.key, f.value) for f in product.metafields) == [
        ("concord", "sku", "COAT"),
        ("custom", "care", "Dry clean"),
    ]
    fresh = ShopifyAdapter(adapter.settings)
    try:
        snapshot = await fresh.snapshot("product", None)
    finally:
        await fresh.aclose()
    [seen] = [s for s in snapshot.records if s.ref == made.ref]
    assert seen.record.natural_key() == "COAT"
    assert isinstance(seen.record, Product)
    assert [v.sku for v in seen.record.variants] == ["COAT-L", "COAT-M"]
