"""Bulk operations against the simulator: full reads of a large catalogue (the same articles
as page by page, a fraction of the points) and large batches of writes in one bulk mutation;
one call at a time again when Shopify runs as many bulk operations as it allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import Create, Done, Failed, Snapshot, TransientError
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.writes import SET_PRODUCT
from adapters.simkit import serve
from canonical.fields import to_fields
from canonical.models import Product

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


def _adapter(
    url: str, bulk_read_above: int, version: str = "2026-01", *, calls_beside_bulk: bool = False
) -> ShopifyAdapter:
    return ShopifyAdapter(
        ShopifySettings(
            url=url,
            access_token=TOKEN,
            location="Warehouse",
            api_version=version,
            bulk_read_above=bulk_read_above,
            bulk_poll_seconds=0.05,
            restore_rate=1000,
            calls_beside_bulk=calls_beside_bulk,
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
            "mutation Cancel($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }",
            {"id": f"gid://shopify/BulkOperation/{created}"},
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


def _creations(count: int, prefix: str) -> list[Create]:
    made = []
    for number in range(count):
        article = Product(
            sku=f"{prefix}-{number:03d}",
            name="" if number == 3 else f"Mug {number} — ☕",
            description="<p>Stoneware.</p>",
            price=Decimal("12.50"),
            sale_price=Decimal("9.99") if number % 2 else None,
            active=True,
        )
        made.append(Create(key=article.sku, fields=to_fields(article)))
    return made


async def test_a_large_batch_is_written_as_one_bulk_mutation(shop: tuple[Any, str]) -> None:
    app, url = shop
    adapter = _adapter(url, bulk_read_above=PAGES)
    try:
        results = await adapter.apply("product", _creations(30, "MUG"))
        again = await adapter.fetch("product", [f"MUG-{n:03d}" for n in range(30)])
    finally:
        await adapter.aclose()
    operations = simulator.bulk_of(app).operations.values()
    assert [(o.type, o.status) for o in operations] == [("MUTATION", "COMPLETED")]
    failed = [r for r in results if isinstance(r, Failed)]
    assert [r.key for r in failed] == ["MUG-003"] and "Title can't be blank" in failed[0].reason
    done = {r.key: r.ref for r in results if isinstance(r, Done)}
    assert len(done) == 29
    read = {s.record.sku: (s.ref, s.record) for s in again}
    assert {sku: ref for sku, (ref, _) in read.items()} == done
    assert read["MUG-001"][1].sale_price == Decimal("9.99")
    assert read["MUG-001"][1].price == Decimal("12.50")


async def test_spare_points_write_part_of_a_large_batch_beside_its_bulk_mutation(
    shop: tuple[Any, str],
) -> None:
    app, url = shop
    adapter = _adapter(url, bulk_read_above=PAGES, calls_beside_bulk=True)
    counters = simulator.shop_of(app).counters
    try:
        results = await adapter.apply("product", _creations(150, "BOWL"))
        sent = counters["graphql_requests"]
        again = await adapter.fetch("product", [f"BOWL-{n:03d}" for n in range(150)])
    finally:
        await adapter.aclose()
    [operation] = simulator.bulk_of(app).operations.values()
    # The bucket's spare points (2,000 less what the next SKU lookup asks for) paid for
    # some calls; the rest, more than a bulk mutation's threshold, went as its lines.
    assert (operation.type, operation.status) == ("MUTATION", "COMPLETED")
    assert 20 < operation.root_count < 150
    # One productSet per article written by call, and a handful besides: the lookup, the
    # location (asked for by every write at once, looked up once), the upload, the run,
    # its polls.
    assert sent <= (150 - operation.root_count) + 12
    failed = [r.key for r in results if isinstance(r, Failed)]
    assert failed == ["BOWL-003"]  # its blank title, refused by call as in bulk
    done = {r.key: r.ref for r in results if isinstance(r, Done)}
    assert len(done) == 149
    assert [r.key for r in results] == [f"BOWL-{n:03d}" for n in range(150)]
    assert {s.record.sku: s.ref for s in again} == done


async def test_a_busy_bulk_queue_means_writing_one_by_one(shop: tuple[Any, str]) -> None:
    app, url = shop
    operations = simulator.bulk_of(app)
    operations.hold = True  # another job's bulk mutation of this app stays running
    adapter = _adapter(url, bulk_read_above=PAGES, version="2025-10")
    try:
        operations.uploads["held"] = b""
        answer = await adapter.client.execute(
            "mutation Run($mutation: String!) { bulkOperationRunMutation(mutation: $mutation,"
            ' stagedUploadPath: "held") { userErrors { code message } } }',
            {"mutation": SET_PRODUCT},
            cost=10,
        )
        assert answer["bulkOperationRunMutation"]["userErrors"] == []
        [running] = operations.operations
        results = await adapter.apply("product", _creations(25, "CUP"))
        assert sum(isinstance(r, Done) for r in results) == 24
        assert list(operations.operations) == [running]
    finally:
        operations.finish(running)
        await operations.wait(running)
        await adapter.aclose()
