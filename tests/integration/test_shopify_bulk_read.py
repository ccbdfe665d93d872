"""Full reads of a large catalogue through a bulk operation, against the simulator: the same
articles as page by page, a fraction of the points, and pages again when Shopify is busy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import Snapshot, TransientError
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.simkit import serve

TOKEN = "shpat_test"
PAGES = 10**6
"""A threshold no catalogue here reaches: read page by page."""


@pytest.fixture
async def shop() -> AsyncIterator[tuple[Any, str]]:
    app = simulator.create_app(products=60, seed=11)
    store = simulator.shop_of(app).store
    # More variants than a page carries with its product, and a variant Concord cannot read.
    wide = new_product(store, "Tee — ünïcode")
    for number in range(12):
        add_variant(
            store,
            wide,
            sku=f"TEE-{number:02d}",
            price=Decimal("19.90"),
            selected=[("Size", f"S{number}")],
        )
    store.index_product(wide)
    blank = new_product(store, "No SKU")
    add_variant(store, blank, sku=None, price=Decimal("1.00"))
    store.index_product(blank)
    async with serve(app) as url:
        yield app, url


def _adapter(url: str, bulk_read_above: int, version: str = "2026-01") -> ShopifyAdapter:
    return ShopifyAdapter(
        ShopifySettings(
            url=url,
            access_token=TOKEN,
            location="Warehouse",
            api_version=version,
            bulk_read_above=bulk_read_above,
            bulk_poll_seconds=0.05,
            restore_rate=1000,
        )
    )


async def _full_read(url: str, bulk_read_above: int, version: str = "2026-01") -> Any:
    adapter = _adapter(url, bulk_read_above, version)
    try:
        snapshot = await adapter.snapshot("product", None)
        return snapshot, adapter.rejected, adapter.client.points.spent
    finally:
        await adapter.aclose()


def _by_ref(snapshot: Snapshot) -> dict[str, Any]:
    return {s.ref: (s.record, s.modified_at) for s in snapshot.records}


async def test_a_bulk_read_gives_what_pages_give_for_a_fraction_of_the_points(
    shop: tuple[Any, str],
) -> None:
    app, url = shop
    bulk, bulk_rejected, bulk_points = await _full_read(url, bulk_read_above=0)
    paged, paged_rejected, paged_points = await _full_read(url, bulk_read_above=PAGES)
    operations = simulator.bulk_of(app).operations
    assert [(o.type, o.status) for o in operations.values()] == [("QUERY", "COMPLETED")]
    assert _by_ref(bulk) == _by_ref(paged)
    assert len(bulk.records) > 40 and bulk.complete and bulk.cursor == paged.cursor
    wide = [s.record for s in bulk.records if s.record.name == "Tee — ünïcode"]
    assert [len(r.variants) for r in wide] == [12]
    assert [ref for ref, _ in bulk_rejected] == [ref for ref, _ in paged_rejected]
    assert len(bulk_rejected) == 1 and "no SKU" in bulk_rejected[0][1]
    assert bulk_points * 10 < paged_points


async def test_a_busy_bulk_queue_means_reading_page_by_page(shop: tuple[Any, str]) -> None:
    app, url = shop
    operations = simulator.bulk_of(app)
    operations.hold = True  # another job's bulk query of this app stays running
    other = _adapter(url, bulk_read_above=0, version="2025-10")
    try:
        await other.client.execute(
            'mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }")'
            " { bulkOperation { id } userErrors { code } } }",
            cost=10,
        )
        [running] = operations.operations
        paged, _, _ = await _full_read(url, bulk_read_above=0, version="2025-10")
        expected, _, _ = await _full_read(url, bulk_read_above=PAGES, version="2025-10")
        assert _by_ref(paged) == _by_ref(expected)
        assert list(operations.operations) == [running]  # before 2026-01, one query at a time
    finally:
        operations.finish(running)
        await operations.wait(running)
        await other.aclose()


async def test_a_cancelled_bulk_read_fails_the_snapshot_to_be_tried_again(
    shop: tuple[Any, str],
) -> None:
    app, url = shop
    operations = simulator.bulk_of(app)
    operations.hold = True
    adapter = _adapter(url, bulk_read_above=0)
    try:
        reading = asyncio.create_task(adapter.snapshot("product", None))
        created = await operations.created()
        await adapter.client.execute(
            f'mutation {{ bulkOperationCancel(id: "gid://shopify/BulkOperation/{created}")'
            " { userErrors { message } } }",
            cost=10,
        )
        with pytest.raises(TransientError, match="CANCELED"):
            await reading
    finally:
        await adapter.aclose()


async def test_a_bulk_read_of_stock_gives_the_levels_pages_give(shop: tuple[Any, str]) -> None:
    app, url = shop
    counts = {}
    for above in (0, PAGES):
        adapter = _adapter(url, bulk_read_above=above)
        try:
            snapshot = await adapter.snapshot("stock", None)
            counts[above] = {s.ref: s.record for s in snapshot.records}
        finally:
            await adapter.aclose()
    assert counts[0] == counts[PAGES] and len(counts[0]) > 30
    operations = simulator.bulk_of(app).operations.values()
    assert [(o.type, o.status) for o in operations] == [("QUERY", "COMPLETED")]
    assert "inventoryLevel" in next(iter(operations)).query
