"""The Odoo adapter against the simulator over real HTTP, on both protocols."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from aiohttp import web

from adapters import simkit
from adapters.base import (
    Archive,
    AuthError,
    Create,
    Done,
    Failed,
    Seen,
    SnapshotInParts,
    Update,
)
from adapters.odoo.adapter import OdooAdapter, create
from adapters.odoo.simulator.app import create_app, store_of
from adapters.odoo.simulator.seed import warehouse_location
from adapters.simkit import Faults
from canonical.errors import ConfigError
from canonical.fields import to_fields
from canonical.models import Customer, Invoice, Order, Price, Product, Record, Stock

PROTOCOLS = ("json2", "jsonrpc")
R = TypeVar("R", bound=Record)


def records(seen: Sequence[Seen], kind: type[R]) -> list[R]:
    """The canonical records read, checked to be of ``kind``."""
    out = [s.record for s in seen]
    assert all(isinstance(r, kind) for r in out)
    return cast(list[R], out)


def settings(url: str, secrets: Path, protocol: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"url": url, "database": "odoo", "protocol": protocol, "_path": "erp"}
    base["requests_per_second"] = 1000
    if protocol == "json2":
        (secrets / "key").write_text(extra.pop("key", "odoo-test-key"))
        base["api_key_file"] = str(secrets / "key")
    else:
        (secrets / "password").write_text(extra.pop("password", "admin"))
        base |= {"login": "admin", "password_file": str(secrets / "password")}
    return base | extra


@asynccontextmanager
async def running(
    app: web.Application, tmp_path: Path, protocol: str = "json2", **extra: Any
) -> AsyncIterator[OdooAdapter]:
    async with simkit.serve(app) as url:
        adapter = create(settings(url, tmp_path, protocol, **extra), source="test.toml")
        try:
            yield adapter
        finally:
            await adapter.aclose()


def all_skus(seen: Sequence[Seen]) -> set[str]:
    skus: set[str] = set()
    for product in records(seen, Product):
        skus |= {v.sku for v in product.variants} if product.variants else {product.sku}
    return skus


def product_fields(sku: str, **changes: Any) -> dict[str, Any]:
    return to_fields(Product(sku=sku, name=f"Item {sku}", price=Decimal("9.90"))) | changes


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_refused_credentials_raise_auth_error(tmp_path: Path, protocol: str) -> None:
    wrong = {"key": "nope"} if protocol == "json2" else {"password": "nope"}
    async with running(create_app(products=5), tmp_path, protocol, **wrong) as adapter:
        with pytest.raises(AuthError):
            await adapter.snapshot("product", None)


async def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"erp\.protocol"):
        create(settings("http://x", tmp_path, "json2") | {"protocol": "soap"}, source="t.toml")
    with pytest.raises(ConfigError, match=r"erp\.api_key"):
        create({"url": "http://x", "database": "d", "api_key": "literal"}, source="t.toml")


async def test_full_product_read_in_parts_of_whole_templates(tmp_path: Path) -> None:
    app = create_app(products=300, seed=5)
    store = store_of(app)
    async with running(app, tmp_path, page_size=20) as adapter:
        assert isinstance(adapter, SnapshotInParts)
        parts: list[list[Seen]] = []

        async def take(part: list[Seen]) -> None:
            parts.append(list(part))
            part.clear()

        read = await adapter.snapshot_parts("product", None, take)
        whole = await adapter.snapshot("product", None)
    templates = len(store.tables["product.template"])
    # Parts of 4 pages of 20 templates, each template whole (with all its variants).
    assert [len(p) for p in parts] == [min(80, templates - 80 * i) for i in range(len(parts))]
    assert len(parts) > 2 and read.records == [] and read.complete
    flat = [s for p in parts for s in p]
    assert all_skus(flat) == set(store.by_code) == all_skus(whole.records)
    assert [s.record for s in flat] == [s.record for s in whole.records]
    newest = max(row["write_date"] for row in store.tables["product.product"].values())
    assert read.cursor == whole.cursor == newest


async def test_full_snapshot_is_complete_over_many_pages(tmp_path: Path) -> None:
    app = create_app(products=1200, seed=5)
    store = store_of(app)
    async with running(app, tmp_path, page_size=500) as adapter:
        snapshot = await adapter.snapshot("product", None)
    assert snapshot.complete
    assert all_skus(snapshot.records) == set(store.by_code)
    assert len(snapshot.records) == len(store.tables["product.template"])
    newest = max(row["write_date"] for row in store.tables["product.product"].values())
    assert snapshot.cursor == newest
    multi = [s for s in snapshot.records if isinstance(s.record, Product) and s.record.variants]
    assert multi and all(s.ref.startswith("tmpl-") for s in multi)
    [parent] = records(multi[:1], Product)
    variant = parent.variants[0]
    assert {a.name for a in variant.attributes} == {"Color", "Size"}
    assert variant.sku.startswith(parent.sku + "-")


async def test_product_mapping(tmp_path: Path) -> None:
    app = create_app(products=3, seed=1)
    store = store_of(app)
    pid = store.add(
        "product.product",
        name="Trail Boot",
        default_code="TB-1",
        list_price=129.9,
        standard_price=60,
        barcode="4006381333931",
        weight=1.25,
        description_sale="Waterproof",
        taxes_id=store.find("account.tax", [["name", "=", "VAT 20%"]]),
        categ_id=store.find("product.category", [["name", "=", "Boots"]])[0],
    )
    async with running(app, tmp_path) as adapter:
        [seen] = await adapter.fetch("product", ["TB-1"])
    assert seen.ref == str(pid)
    assert seen.record == Product(
        sku="TB-1",
        name="Trail Boot",
        short_description="Waterproof",
        price=Decimal("129.9"),
        cost=Decimal("60.0"),
        tax_code="VAT 20%",
        category=("All", "Shoes", "Boots"),
        weight=Decimal("1.25"),
        barcode="4006381333931",
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_incremental_sees_edits_and_nothing_else(tmp_path: Path, protocol: str) -> None:
    app = create_app(products=300, seed=2)
    store = store_of(app)
    async with running(app, tmp_path, protocol, overlap_seconds=0) as adapter:
        full = await adapter.snapshot("product", None)
        variant = store.product_id("SKU-000010")
        store.edit("product.product", variant, barcode="1234567890128")
        template_of = store.tables["product.product"][store.product_id("SKU-000020")]
        store.edit("product.template", template_of["product_tmpl_id"], list_price=1.5)
        changed = await adapter.snapshot("product", full.cursor)
        assert not changed.complete
        edited = {"SKU-000010", "SKU-000020"}
        seen = {p.sku: p for p in records(changed.records, Product)}
        assert edited <= set(seen)
        # Besides the edits, only what the cursor's own second holds, as the full read saw it.
        before = {p.sku: p for p in records(full.records, Product)}
        assert len(seen) <= len(edited) + 1
        assert all(seen[sku] == before[sku] for sku in set(seen) - edited)
        assert changed.cursor is not None and full.cursor is not None
        assert changed.cursor > full.cursor
        again = await adapter.snapshot("product", changed.cursor)
    # The cursor's own second is read again (an edit later in it would carry the same stamp):
    # only the two edits lie there.
    assert {p.sku for p in records(again.records, Product)} <= {"SKU-000010", "SKU-000020"}
    assert again.cursor == changed.cursor


async def test_overlap_reads_again_just_before_the_cursor(tmp_path: Path) -> None:
    app = create_app(products=50, seed=2)
    async with running(app, tmp_path, overlap_seconds=120) as adapter:
        full = await adapter.snapshot("price", None)
        again = await adapter.snapshot("price", full.cursor)
    # Seeded write dates step one minute: the last two minutes are read again.
    assert 1 <= len(again.records) <= 3
    assert again.cursor == full.cursor


async def test_invalid_rows_are_rejected_not_fatal(tmp_path: Path) -> None:
    app = create_app(products=10, seed=4)
    store = store_of(app)
    bad = store.add("product.product", name="No reference")
    store.add("res.partner", name="Broken", email="not-an-email")
    async with running(app, tmp_path) as adapter:
        products = await adapter.snapshot("product", None)
        customers = await adapter.snapshot("customer", None)
        rejected = list(adapter.rejected)
    assert len(all_skus(products.records)) == 10
    assert (f"product.product/{bad}", "no internal reference (default_code)") in rejected
    assert any(ref.startswith("res.partner/") for ref, _ in rejected)
    assert customers.records


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_create_is_idempotent_on_sku(tmp_path: Path, protocol: str) -> None:
    app = create_app(products=5, seed=3)
    store = store_of(app)
    async with running(app, tmp_path, protocol) as adapter:
        op = Create(key="NEW-1", fields=product_fields("NEW-1"))
        [first] = await adapter.apply("product", [op])
        count = len(store.tables["product.product"])
        changed = Create(key="NEW-1", fields=product_fields("NEW-1", name="Renamed"))
        [second] = await adapter.apply("product", [changed])
    assert isinstance(first, Done) and first == second
    assert len(store.tables["product.product"]) == count
    assert store.get("product.product", int(first.ref), "name")["name"] == "Renamed"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_one_bad_item_fails_alone(tmp_path: Path, protocol: str) -> None:
    app = create_app(products=5, seed=3)
    store = store_of(app)
    taken = store.get("product.product", store.product_id("SKU-000001"), "barcode")["barcode"]
    taken = taken or "4006381333931"
    store.edit("product.product", store.product_id("SKU-000001"), barcode=taken)
    operations = [
        Create(key="A-1", fields=product_fields("A-1")),
        Create(key="A-2", fields=product_fields("A-2", barcode=taken)),
        Create(key="A-3", fields=product_fields("A-3", tax_code="VAT 99%")),
        Create(key="A-4", fields=product_fields("A-4", category=["All", "New", "Shelf"])),
    ]
    async with running(app, tmp_path, protocol) as adapter:
        results = await adapter.apply("product", operations)
    assert [type(r) for r in results] == [Done, Failed, Failed, Done]
    assert [r.key for r in results] == ["A-1", "A-2", "A-3", "A-4"]
    assert isinstance(results[1], Failed) and "ValidationError" in results[1].reason
    assert "A-1" in store.by_code and "A-4" in store.by_code and "A-2" not in store.by_code
    category = store.get("product.product", store.product_id("A-4"), "categ_id")["categ_id"]
    assert category[1] == "All / New / Shelf"


async def test_updates_and_archive(tmp_path: Path) -> None:
    app = create_app(products=20, seed=3)
    store = store_of(app)
    one, two = store.product_id("SKU-000001"), store.product_id("SKU-000002")
    async with running(app, tmp_path) as adapter:
        results = await adapter.apply(
            "product",
            [
                Update(key="SKU-000001", ref=str(one), fields={"price": "5", "name": "Cheap"}),
                Update(key="SKU-000002", ref=str(two), fields={"price": "5", "name": "Cheap"}),
                Archive(key="SKU-000003", ref=str(store.product_id("SKU-000003"))),
            ],
        )
        snapshot = await adapter.snapshot("product", None)
    assert all(isinstance(r, Done) for r in results)
    by_sku = {p.sku: p for p in records(snapshot.records, Product)}
    assert by_sku["SKU-000001"].price == Decimal("5.0") and by_sku["SKU-000002"].name == "Cheap"
    assert by_sku["SKU-000003"].active is False


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_stock_write_moves_quantity(tmp_path: Path, protocol: str) -> None:
    app = create_app(products=0)
    store = store_of(app)
    location = warehouse_location(store)
    counted = store.add("product.product", name="Counted", default_code="ST-1")
    store.add("stock.quant", product_id=counted, location_id=location, inventory_quantity=3)
    store.tables["stock.quant"][store.quant_at[(counted, location)]]["quantity"] = 3.0
    fresh = store.add("product.product", name="Fresh", default_code="ST-2")
    async with running(app, tmp_path, protocol) as adapter:
        results = await adapter.apply(
            "stock",
            [
                Update(key="ST-1", ref=str(counted), fields={"quantity": "17"}),
                Create(key="ST-2", fields={"sku": "ST-2", "quantity": "5.5"}),
                Update(key="ST-404", ref="0", fields={"quantity": "1"}),
            ],
        )
        snapshot = await adapter.snapshot("stock", None)
    assert [type(r) for r in results] == [Done, Done, Failed]
    assert {s.sku: s.quantity for s in records(snapshot.records, Stock)} == {
        "ST-1": Decimal("17.0"),
        "ST-2": Decimal("5.5"),
    }
    assert (
        store.raw(
            "stock.quant",
            store.tables["stock.quant"][store.quant_at[(fresh, location)]],
            "quantity",
        )
        == 5.5
    )


async def test_stock_incremental_follows_quants(tmp_path: Path) -> None:
    app = create_app(products=40, seed=8)
    async with running(app, tmp_path, overlap_seconds=0) as adapter:
        full = await adapter.snapshot("stock", None)
        assert len(full.records) == 40
        await adapter.apply("stock", [Update(key="SKU-000007", ref="", fields={"quantity": "99"})])
        changed = await adapter.snapshot("stock", full.cursor)
    found = {s.sku: s for s in records(changed.records, Stock)}
    assert found.pop("SKU-000007") == Stock(sku="SKU-000007", quantity=Decimal("99.0"))
    # Besides it, at most the newest count, in the cursor's own second, as the full read saw it.
    assert len(found) <= 1
    assert set(found.values()) <= set(records(full.records, Stock))


async def test_prices_customers_orders_invoices(tmp_path: Path) -> None:
    app = create_app(products=100, seed=6)
    async with running(app, tmp_path) as adapter:
        prices = await adapter.snapshot("price", None)
        customers = await adapter.snapshot("customer", None)
        orders = await adapter.snapshot("order", None)
        invoices = await adapter.snapshot("invoice", None)
        [price] = await adapter.fetch("price", [Price(sku="SKU-000001", amount=Decimal(0)).key])
    assert len(prices.records) == 100 and records([price], Price)[0].sku == "SKU-000001"
    assert all(isinstance(s.record, Customer) and "@" in s.record.email for s in customers.records)
    numbers = {o.number for o in records(orders.records, Order)}
    assert "WEB-1000" in numbers and "S00002" in numbers
    order = next(o for o in records(orders.records, Order) if o.number == "WEB-1000")
    assert (
        isinstance(order, Order) and order.lines and order.customer_email.endswith("@example.com")
    )
    assert order.total == sum(line.total for line in order.lines)
    assert invoices.records and all(isinstance(s.record, Invoice) for s in invoices.records)
    assert {i.order_number for i in records(invoices.records, Invoice)} <= numbers


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_orders_import_exactly_once(tmp_path: Path, protocol: str) -> None:
    app = create_app(products=10, seed=3)
    store = store_of(app)
    fields = {
        "number": "WEB-77",
        "status": "sale",
        "currency": "EUR",
        "customer_email": "new.buyer@example.com",
        "created_at": "2025-03-01T10:00:00+00:00",
        "lines": [
            {"sku": "SKU-000001", "name": "Thing", "quantity": "2", "unit_price": "10",
             "subtotal": "20", "total": "24"},
        ],
    }  # fmt: skip
    async with running(app, tmp_path, protocol) as adapter:
        [first] = await adapter.apply("order", [Create(key="WEB-77", fields=fields)])
        [again] = await adapter.apply("order", [Create(key="WEB-77", fields=fields)])
        [seen] = await adapter.fetch("order", ["WEB-77"])
    assert isinstance(first, Done) and first == again
    assert len(store.find("sale.order", [["client_order_ref", "=", "WEB-77"]])) == 1
    [order] = records([seen], Order)
    assert order.status == "sale" and order.customer_email == "new.buyer@example.com"


async def test_server_errors_are_retried(tmp_path: Path) -> None:
    app = create_app(products=600, seed=3, faults=Faults(error_rate=0.3, seed=1))
    # One request in three fails: ten attempts make a request failing every one unlikely.
    async with running(app, tmp_path, page_size=100, max_attempts=10) as adapter:
        snapshot = await adapter.snapshot("product", None)
    assert len(all_skus(snapshot.records)) == 600
    assert app[simkit.STATS_KEY].errors > 0


async def test_throttling_is_retried(tmp_path: Path) -> None:
    app = create_app(products=600, seed=3, faults=Faults(rate_limit=30, retry_after=0.2))
    async with running(app, tmp_path, page_size=25) as adapter:
        stock = await adapter.snapshot("stock", None)
    assert len(stock.records) == 600
    assert app[simkit.STATS_KEY].throttled > 0


async def test_cut_short_replies_are_read_again(tmp_path: Path) -> None:
    app = create_app(products=200, seed=3, faults=Faults(truncate_rate=0.3, seed=2))
    async with running(app, tmp_path, page_size=50) as adapter:
        snapshot = await adapter.snapshot("price", None)
    assert len(snapshot.records) == 200 and app[simkit.STATS_KEY].truncated > 0


async def test_both_protocols_give_the_same_snapshot(tmp_path: Path) -> None:
    app = create_app(products=250, seed=11)
    snapshots = []
    for protocol in PROTOCOLS:
        async with running(app, tmp_path, protocol) as adapter:
            snapshots.append(
                [await adapter.snapshot(kind, None) for kind in ("product", "stock", "order")]
            )
    assert snapshots[0] == snapshots[1]
    assert all(s.records for s in snapshots[0])
