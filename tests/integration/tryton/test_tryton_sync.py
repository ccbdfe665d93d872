"""Tryton <-> WooCommerce end to end: a real Tryton, the WooCommerce simulator over HTTP, the
real cycle, order import and feedback on real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from integration.convergence_law import assert_idle
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import Sides, sides

from adapters.base import Create, TransientError, Update
from adapters.tryton.adapter import TrytonAdapter
from adapters.tryton.client import TrytonClient
from adapters.woocommerce.simulator import model as shop_model
from canonical.fields import to_fields
from canonical.models import Product
from engine.config import JobConfig
from engine.cycle.run import CycleResult, run_cycle
from engine.orders.feedback import run_feedback
from engine.orders.importer import run_orders
from engine.store.state import Store
from rules.order_config import OrdersConfig
from rules.policy import FieldRule, KindRules

__all__ = ["sides"]  # the fixture, shared

ERP_OWNS = KindRules(default=FieldRule(owner="erp"))
ORDERS = OrdersConfig(
    taxes={"FR": TAX_NAME},
    status_map={"processing": "processing", "shipped": "completed", "cancelled": "cancelled"},
)
FRANCE = {"first_name": "Ana", "last_name": "Lima", "country": "FR", "city": "Lyon"}


async def cycle(
    store: Store, sides: Sides, kind: str, *, full: bool = True, rules: KindRules = ERP_OWNS
) -> CycleResult:
    return await run_cycle(
        store,
        connection="main",
        job_name=kind,
        job=JobConfig(kind=kind),
        rules=rules,
        adapters=dict(sides.adapters),
        full=full,
    )


async def plant(erp: TrytonAdapter, stock: dict[str, int]) -> None:
    articles = [
        Create(
            key=sku,
            fields=to_fields(
                Product(sku=sku, name=f"Item {sku}", price=Decimal("10.5"), tax_code=TAX_NAME)
            ),
        )
        for sku in stock
    ]
    await erp.apply("product", articles)
    await erp.apply(
        "stock", [Update(key=s, ref="", fields={"quantity": str(q)}) for s, q in stock.items()]
    )


async def ship(rpc: TrytonClient, reference: str) -> None:
    """What the warehouse does: reserve, pick, pack, ship and close the delivery."""
    [sale] = await rpc.search_read("sale.sale", [["reference", "=", reference]], ["shipments"])
    for step in ("assign_try", "pick", "pack", "ship", "do"):
        await rpc.execute("stock.shipment.out", step, sale["shipments"])


async def test_articles_and_stock_go_out_an_order_comes_in_once_and_its_status_goes_back(
    store: Store, sides: Sides
) -> None:
    await plant(sides.erp, {"E2E-1": 5, "E2E-2": 8})

    products = await cycle(store, sides, "product")
    stock = await cycle(store, sides, "stock")

    assert not products.failures and not stock.failures, (products.failures, stock.failures)
    for sku, quantity in (("E2E-1", 5), ("E2E-2", 8)):
        item = sides.shop.product_by_sku(sku)
        assert item is not None and item.regular_price == "10.5"
        assert item.stock_quantity == quantity
    number = sides.shop.add_order(
        [("E2E-1", 2)],
        status="processing",
        billing={**FRANCE, "email": "ana@example.com"},
        payment_method="stripe",
    ).number

    first = await run_orders(
        store, connection="main", adapters=sides.adapters, config=ORDERS, full=True
    )
    again = await run_orders(
        store, connection="main", adapters=sides.adapters, config=ORDERS, full=True
    )

    assert first.counts["imported"] == 1, (first.counts, first.failures)
    assert again.counts.get("imported", 0) == 0
    found = await sides.erp.find_orders_by_reference([number])
    assert found[number].state == "processing" and found[number].duplicates == ()
    rpc = sides.tryton.client()
    try:
        [line] = await rpc.search_read(
            "sale.line", [["sale", "=", int(found[number].ref)]], ["product.code", "quantity"]
        )
        assert (line["product."]["code"], line["quantity"]) == ("E2E-1", 2.0)
        await ship(rpc, number)
    finally:
        await rpc.aclose()

    await run_feedback(store, connection="main", adapters=sides.adapters, config=ORDERS, full=True)

    order = next(o for o in sides.shop.orders.values() if o.number == number)
    assert order.status == "completed"


async def test_a_tryton_that_is_down_fails_the_cycle_cleanly_and_the_retry_completes_it(
    store: Store, sides: Sides
) -> None:
    await plant(sides.erp, {"DOWN-1": 3})
    await cycle(store, sides, "product")
    before = await store.load_records("main", "product")
    rpc = sides.tryton.client()
    try:
        [product] = await rpc.search("product.product", [["code", "=", "DOWN-1"]])
        [row] = await rpc.read("product.product", [product], ["template"])
        await rpc.execute(
            "product.template", "write", [row["template"]], {"list_price": Decimal("12")}
        )
    finally:
        await rpc.aclose()
    await sides.tryton.stop()
    try:
        with pytest.raises(TransientError):
            await cycle(store, sides, "product", full=False)
        assert await store.load_records("main", "product") == before
        shop_item = sides.shop.product_by_sku("DOWN-1")
        assert shop_item is not None and shop_item.regular_price == "10.5"
    finally:
        await sides.tryton.start()

    retried = await cycle(store, sides, "product", full=False)

    assert not retried.failures
    shop_item = sides.shop.product_by_sku("DOWN-1")
    assert shop_item is not None and shop_item.regular_price == "12"
    stored: dict[str, Any] = (await store.load_records("main", "product"))["DOWN-1"].fields or {}
    assert stored["price"] == "12"


async def test_a_category_the_shop_owns_replaces_the_article_s_category_in_tryton_and_settles(
    store: Store, sides: Sides
) -> None:
    rules = KindRules(default=FieldRule(owner="erp"), fields={"category": FieldRule(owner="shop")})
    made = Product(sku="RECAT-1", name="Tasse", price=Decimal("8"), category=("Cuisine", "Tasses"))
    await sides.erp.apply("product", [Create(key=made.sku, fields=to_fields(made))])
    assert not (await cycle(store, sides, "product", rules=rules)).failures
    rpc = sides.tryton.client()

    async def filed_in_tryton() -> list[str]:
        [row] = await rpc.search_read(
            "product.template", [["code", "=", "RECAT-1"]], ["categories.rec_name"]
        )
        return sorted(c["rec_name"] for c in row["categories."])

    shop = sides.shop
    item = shop.product_by_sku("RECAT-1")
    assert isinstance(item, shop_model.Product)
    bowls = shop_model.Category(id=shop.next_id("term"), name="Bols", slug="bols")
    shop.categories[bowls.id] = bowls
    moves = (
        (shop_model.Term(id=bowls.id, name=bowls.name, slug=bowls.slug), ["Bols"]),
        (shop.default_term(), []),  # the shop's "no category"
    )
    try:
        for term, expected in moves:
            item.categories = [term]
            shop.touch(item)

            moved = await cycle(store, sides, "product", rules=rules)

            assert moved.failures == [] and moved.counts.get("writes_erp") == 1, moved.counts
            assert await filed_in_tryton() == expected
            for full in (True, False):
                assert_idle(await cycle(store, sides, "product", full=full, rules=rules))
    finally:
        await rpc.aclose()
