"""The WooCommerce adapter against the simulator, over real loopback HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from adapters.base import (
    Adapter,
    Archive,
    AuthError,
    Create,
    Done,
    Failed,
    Operation,
    Seen,
    SnapshotInParts,
    TransientError,
    Update,
)
from adapters.http import HttpClient
from adapters.simkit import Faults, serve
from adapters.woocommerce import WooCommerceAdapter, create
from adapters.woocommerce.client import PER_PAGE, WINDOW
from adapters.woocommerce.settings import AdapterSettings
from adapters.woocommerce.simulator import Store, create_app, store_of
from canonical.errors import ConfigError
from canonical.fields import to_fields
from canonical.models import Attribute, Customer, Order, Product, Stock, Variant


@dataclass
class Shop:
    store: Store
    url: str
    adapter: WooCommerceAdapter


def _adapter(url: str, **overrides: Any) -> WooCommerceAdapter:
    settings: dict[str, Any] = {
        "url": url,
        "consumer_key": "ck_test",
        "consumer_secret": "cs_test",
        "requests_per_second": 500.0,
        "max_concurrency": 8,
        "max_attempts": 3,
    }
    settings.update(overrides)
    return WooCommerceAdapter(AdapterSettings(**settings))


@asynccontextmanager
async def running(
    products: int, faults: Faults | None = None, **overrides: Any
) -> AsyncIterator[Shop]:
    """A simulator with ``products`` products and an adapter connected to it."""
    app = create_app(products=products, seed=11, faults=faults)
    async with serve(app) as url:
        adapter = _adapter(url, **overrides)
        try:
            yield Shop(store_of(app), url, adapter)
        finally:
            await adapter.aclose()


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async with running(40) as s:
        yield s


def _skus(store: Store) -> set[str]:
    return {p.sku for p in store.products.values()}


def _stocked(store: Store) -> Any:
    return next(p for p in store.products.values() if p.type == "simple" and p.manage_stock)


async def test_is_an_adapter_with_woocommerce_limits(shop: Shop) -> None:
    assert isinstance(shop.adapter, Adapter)
    assert shop.adapter.capabilities.batch_size == 100
    assert shop.adapter.capabilities.incremental


async def test_refused_credentials_raise_auth_error(shop: Shop) -> None:
    adapter = _adapter(shop.url, consumer_secret="wrong")
    try:
        with pytest.raises(AuthError):
            await adapter.snapshot("product", None)
    finally:
        await adapter.aclose()


async def test_full_snapshot_reads_every_page_and_variation() -> None:
    async with running(750) as shop:
        snapshot = await shop.adapter.snapshot("product", None)
        assert snapshot.complete
        records = [s.record for s in snapshot.records]
        assert all(isinstance(r, Product) for r in records)
        assert {r.sku for r in records if isinstance(r, Product)} == _skus(shop.store)
        assert len(records) == 750
        variants = sum(len(r.variants) for r in records if isinstance(r, Product))
        assert variants == len(shop.store.variations) > 0
        assert snapshot.cursor == max(p.date_modified_gmt for p in shop.store.products.values())
        assert shop.adapter.rejected == []


async def test_snapshot_in_parts_hands_over_a_window_of_pages_at_a_time() -> None:
    # 1,050 products: the first page, a window of WINDOW pages, then the last two pages.
    async with running(1050) as shop:
        assert isinstance(shop.adapter, SnapshotInParts)
        parts: list[list[str]] = []

        async def take(part: list[Seen]) -> None:
            parts.append([s.record.natural_key() for s in part])
            part.clear()  # the engine empties what it took

        read = await shop.adapter.snapshot_parts("product", None, take)
        assert read.records == [] and read.complete
        assert [len(p) for p in parts] == [PER_PAGE, PER_PAGE * WINDOW, 150]
        keys = [key for part in parts for key in part]
        assert len(keys) == len(set(keys)) == 1050
        assert set(keys) == _skus(shop.store)
        assert read.cursor == max(p.date_modified_gmt for p in shop.store.products.values())
        whole = await shop.adapter.snapshot("product", None)
        assert [s.record.natural_key() for s in whole.records] == keys


async def test_stock_and_price_cover_products_and_variations(shop: Shop) -> None:
    stock = await shop.adapter.snapshot("stock", None)
    managed = [
        i
        for i in (*shop.store.products.values(), *shop.store.variations.values())
        if i.manage_stock and i.stock_quantity is not None
    ]
    by_sku = {s.record.natural_key(): s for s in stock.records}
    assert set(by_sku) == {i.sku for i in managed}
    variation = next(iter(shop.store.variations.values()))
    seen = by_sku[variation.sku]
    assert seen.ref == f"{variation.parent_id}/{variation.id}"
    assert seen.record == Stock(sku=variation.sku, quantity=Decimal(variation.stock_quantity or 0))
    prices = await shop.adapter.snapshot("price", None)
    priced = {p.record.natural_key().split("|")[0] for p in prices.records}
    assert variation.sku in priced
    assert not any(p.type == "variable" and p.sku in priced for p in shop.store.products.values())


async def test_incremental_sees_edits_and_not_the_rest(shop: Shop) -> None:
    first = await shop.adapter.snapshot("product", None)
    assert first.cursor is not None
    # Products modified within the overlap margin before the cursor come back again, harmlessly.
    margin = (datetime.fromisoformat(first.cursor) - timedelta(seconds=120)).isoformat()
    overlap = {p.sku for p in shop.store.products.values() if p.date_modified_gmt > margin}
    assert 0 < len(overlap) < 5
    simple = _stocked(shop.store)
    variation = next(iter(shop.store.variations.values()))
    shop.store.edit_product(simple.id, name="Renamed")
    shop.store.edit_product(variation.id, regular_price="99.5")
    later = await shop.adapter.snapshot("product", first.cursor)
    assert not later.complete
    records = {s.record.natural_key(): s.record for s in later.records}
    parent = shop.store.products[variation.parent_id]
    assert set(records) == {simple.sku, parent.sku} | overlap
    renamed, changed = records[simple.sku], records[parent.sku]
    assert isinstance(renamed, Product) and renamed.name == "Renamed"
    assert isinstance(changed, Product)
    variants = {v.sku: v for v in changed.variants}
    assert variants[variation.sku].price == Decimal("99.5")
    assert later.cursor is not None
    assert later.cursor > first.cursor
    quiet = await shop.adapter.snapshot("product", later.cursor)
    assert quiet.cursor == later.cursor
    assert {s.record.natural_key() for s in quiet.records} <= set(records)


async def test_invalid_records_are_rejected_not_fatal(shop: Shop) -> None:
    products = list(shop.store.products.values())
    no_sku, bad_price = products[0], next(p for p in products[1:] if p.type == "simple")
    shop.store.edit_product(no_sku.id, sku="")
    shop.store.edit_product(bad_price.id, regular_price="12,50 EUR")
    snapshot = await shop.adapter.snapshot("product", None)
    refs = {s.ref for s in snapshot.records}
    assert str(no_sku.id) not in refs and str(bad_price.id) not in refs
    assert len(snapshot.records) == len(products) - 2
    rejected = dict(shop.adapter.rejected)
    assert "no SKU" in rejected[str(no_sku.id)]
    assert "regular_price" in rejected[str(bad_price.id)]


NEW = Product(
    sku="NEW-1",
    name="Trail jacket",
    description="<p>Warm.</p>",
    price=Decimal("120"),
    tax_code="reduced-rate",
    category=("Clothing", "Rain wear"),
    weight=Decimal("0.8"),
    barcode="4006381333931",
    attributes=(Attribute(name="Material", value="Nylon"),),
    # Variants come back ordered by SKU.
    variants=(
        Variant(
            sku="NEW-1-M",
            attributes=(Attribute(name="Size", value="M"),),
            price=Decimal(125),
            stock=Decimal(6),
        ),
        Variant(
            sku="NEW-1-S",
            attributes=(Attribute(name="Size", value="S"),),
            price=Decimal(120),
            stock=Decimal(4),
        ),
    ),
)


async def test_create_round_trips_and_is_idempotent_on_sku(shop: Shop) -> None:
    before = len(shop.store.products)
    op = Create(key="NEW-1", fields=to_fields(NEW))
    [first] = await shop.adapter.apply("product", [op])
    [again] = await shop.adapter.apply("product", [op])  # as if the first answer was lost
    assert isinstance(first, Done) and isinstance(again, Done)
    assert first.ref == again.ref
    assert len(shop.store.products) == before + 1
    parent = shop.store.products[int(first.ref)]
    assert parent.type == "variable" and len(parent.variations) == 2
    assert {shop.store.variations[v].stock_quantity for v in parent.variations} == {4, 6}
    [seen] = await shop.adapter.fetch("product", ["NEW-1"])
    # Read back without the variants' stock, which the stock kind reads per SKU.
    unstocked = tuple(msgspec.structs.replace(v, stock=None) for v in NEW.variants)
    assert seen.record == msgspec.structs.replace(NEW, variants=unstocked)
    assert seen.ref == first.ref


async def test_per_item_errors_do_not_sink_the_batch(shop: Shop) -> None:
    taken = next(iter(shop.store.variations.values())).sku
    ops: list[Operation] = [
        Update(key="GHOST", ref="999999", fields={"name": "x"}),
        Create(key=taken, fields=to_fields(Product(sku=taken, name="Clash"))),
        Create(key="FRESH-1", fields=to_fields(Product(sku="FRESH-1", name="Fresh"))),
    ]
    ghost, clash, fresh = await shop.adapter.apply("product", ops)
    assert isinstance(ghost, Failed) and ghost.reason.startswith(
        "woocommerce_rest_product_invalid_id:"
    )
    # The SKU belongs to a variation, which the products batch cannot update.
    assert isinstance(clash, Failed)
    assert isinstance(fresh, Done) and shop.store.product_by_sku("FRESH-1") is not None


async def test_update_and_archive_products(shop: Shop) -> None:
    product = _stocked(shop.store)
    results = await shop.adapter.apply(
        "product",
        [
            Update(
                key=product.sku,
                ref=str(product.id),
                fields={"price": "10.5", "tax_code": "standard"},
            ),
            Archive(key="x", ref=str(next(p for p in shop.store.products if p != product.id))),
        ],
    )
    updated, archive = results
    assert isinstance(updated, Done) and isinstance(archive, Done)
    assert product.regular_price == "10.5" and product.tax_class == ""
    archived = shop.store.products[int(archive.ref)]
    assert archived.status == "private"  # hidden from customers, kept for the staff


async def test_stock_and_price_writes_reach_products_and_variations(shop: Shop) -> None:
    await shop.adapter.snapshot("stock", None)
    simple = _stocked(shop.store)
    variation = next(iter(shop.store.variations.values()))
    results = await shop.adapter.apply(
        "stock",
        [
            Update(key=simple.sku, ref=str(simple.id), fields={"quantity": "42"}),
            Create(
                key=variation.sku, fields={"sku": variation.sku, "quantity": "3", "location": ""}
            ),
            Update(key=simple.sku, ref=str(simple.id), fields={"quantity": "1.5"}),
            Create(key="NOPE", fields={"sku": "NOPE", "quantity": "1", "location": ""}),
        ],
    )
    assert [type(r) for r in results] == [Done, Done, Failed, Failed]
    linked = results[1]
    assert isinstance(linked, Done)
    assert linked.ref == f"{variation.parent_id}/{variation.id}"
    assert simple.stock_quantity == 42 and variation.stock_quantity == 3
    [price] = await shop.adapter.apply(
        "price",
        [Update(key=f"{variation.sku}|group:|1", ref=linked.ref, fields={"amount": "7.25"})],
    )
    assert isinstance(price, Done) and variation.regular_price == "7.25"
    fetched = await shop.adapter.fetch("stock", [variation.sku, simple.sku])
    quantities = {s.record.sku: s.record.quantity for s in fetched if isinstance(s.record, Stock)}
    assert quantities == {
        variation.sku: Decimal(3),
        simple.sku: Decimal(42),
    }


async def test_customer_create_is_idempotent_on_email(shop: Shop) -> None:
    fields = {
        "email": "eve@example.com",
        "first_name": "Eve",
        "last_name": "Doe",
        "company": "",
        "phone": "+33 1 23",
        "group": None,
        "billing": None,
        "shipping": None,
    }
    [first] = await shop.adapter.apply("customer", [Create(key="eve@example.com", fields=fields)])
    [again] = await shop.adapter.apply(
        "customer", [Create(key="eve@example.com", fields={**fields, "first_name": "Evelyn"})]
    )
    assert isinstance(first, Done) and isinstance(again, Done) and first.ref == again.ref
    assert len(shop.store.customers) == 1
    snapshot = await shop.adapter.snapshot("customer", None)
    [seen] = snapshot.records
    assert seen.record.natural_key() == "eve@example.com"
    assert isinstance(seen.record, Customer) and seen.record.first_name == "Evelyn"


async def test_orders_are_read_incrementally_and_never_written(shop: Shop) -> None:
    product = _stocked(shop.store)
    first = await shop.adapter.snapshot("order", None)
    assert first.records == [] and first.cursor is None
    order = shop.store.add_order([(product.sku, 2)], status="processing", email="bob@example.com")
    snapshot = await shop.adapter.snapshot("order", first.cursor)
    [seen] = snapshot.records
    record = seen.record
    assert isinstance(record, Order)
    assert record.number == order.number and record.status == "processing"
    assert record.customer_email == "bob@example.com"
    assert record.lines[0].sku == product.sku and record.lines[0].quantity == 2
    assert record.total == Decimal(order.total)
    [refused] = await shop.adapter.apply("order", [Update(key="1", ref="1", fields={})])
    assert isinstance(refused, Failed) and refused.reason.startswith("read_only")


async def _stats(url: str) -> dict[str, int]:
    client = HttpClient(url, requests_per_second=100, max_concurrency=1)
    try:
        response = await client.request("GET", "/__sim__/stats")
    finally:
        await client.aclose()
    stats: dict[str, int] = msgspec.json.decode(response.body)
    return stats


async def test_throttling_with_retry_after_is_retried_until_it_succeeds() -> None:
    # The shop allows 3 requests a second, the adapter is set to send 4: some get a 429.
    faults = Faults(rate_limit=3.0, retry_after=0.3)
    async with running(
        60, faults=faults, requests_per_second=4.0, max_concurrency=3, max_attempts=10
    ) as shop:
        snapshot = await shop.adapter.snapshot("stock", None)
        assert shop.adapter.http.throttled > 0
        assert (await _stats(shop.url))["throttled"] == shop.adapter.http.throttled
        managed = [
            i
            for i in (*shop.store.products.values(), *shop.store.variations.values())
            if i.manage_stock
        ]
        assert len(snapshot.records) == len(managed)


def _priced(store: Store) -> int:
    items = [
        *(p for p in store.products.values() if p.type != "variable"),
        *store.variations.values(),
    ]
    return sum(1 for i in items if i.regular_price)


async def test_truncated_bodies_are_retried_and_a_broken_shop_is_transient() -> None:
    async with running(600, faults=Faults(truncate_rate=0.1, seed=5)) as shop:
        snapshot = await shop.adapter.snapshot("price", None)
        assert len(snapshot.records) == _priced(shop.store)
        assert (await _stats(shop.url))["truncated"] > 0
    async with running(5, faults=Faults(truncate_rate=1.0)) as shop:
        with pytest.raises(TransientError, match="malformed"):
            await shop.adapter.snapshot("product", None)


async def test_requests_per_second_is_respected() -> None:
    async with running(150, requests_per_second=5.0, max_concurrency=4) as shop:
        started = time.monotonic()
        await shop.adapter.snapshot("customer", None)  # one request, drains nothing
        await shop.adapter.snapshot("product", None)
        elapsed = time.monotonic() - started
        sent = shop.adapter.http.requests_sent
        assert sent > 15
        # A one-second bucket lets at most 5 through at once, then 5 per second.
        assert sent <= 5 + 5 * elapsed + 1
        assert elapsed >= (sent - 6) / 5 * 0.9


async def test_factory_reads_secrets_and_names_bad_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("cs_test\n")
    monkeypatch.setenv("WC_KEY", "ck_test")
    settings = {
        "url": "https://shop.example",
        "consumer_key_env": "WC_KEY",
        "consumer_secret_file": str(secret),
        "_path": "connections.main.shop",
    }
    adapter = create(settings, source="concord.toml")
    try:
        assert adapter.settings.consumer_secret == "cs_test"
        assert adapter.settings.overlap_seconds == 120
        assert adapter.capabilities.requests_per_second == 25
    finally:
        await adapter.aclose()
    with pytest.raises(ConfigError, match=r"connections\.main\.shop\.consumer_key"):
        create({**settings, "consumer_key_env": None, "consumer_key": "x"}, source="concord.toml")
    with pytest.raises(ConfigError, match="max_concurrency"):
        create({**settings, "max_concurrency": "four"}, source="concord.toml")


async def test_a_batch_too_large_for_the_server_is_split_not_lost() -> None:
    # A shop behind a proxy refusing bodies over 300 kB; five articles of ~100 kB each.
    app = create_app(max_body=300_000)
    async with serve(app) as url:
        adapter = _adapter(url)
        try:
            ops: list[Operation] = [
                Create(
                    key=f"BIG-{n}",
                    fields=to_fields(
                        Product(sku=f"BIG-{n}", name=f"Big {n}", description="x" * 100_000)
                    ),
                )
                for n in range(5)
            ]
            results = await adapter.apply("product", ops)
            batches = (await _stats(url))["requests"]
        finally:
            await adapter.aclose()
    assert batches >= 3  # the whole refused, then at least two halves
    assert [type(r).__name__ for r in results] == ["Done"] * 5
    assert [r.key for r in results] == [f"BIG-{n}" for n in range(5)]
    assert {f"BIG-{n}" for n in range(5)} <= _skus(store_of(app))
