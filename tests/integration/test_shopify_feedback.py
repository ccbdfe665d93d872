"""The Shopify adapter's order feedback against the simulator: statuses, notes, refunds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import OrderFeedback, OrderNotes, PermanentError, ShipmentTracking
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.simulator.orders_model import Order as SimOrder
from adapters.shopify.simulator.orders_model import plant_order
from adapters.simkit import serve
from canonical.models import Order
from canonical.orders import ShopRefund

TOKEN = "shpat_test"
Shop = tuple[Any, ShopifyAdapter]


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    app = simulator.create_app(products=4, seed=3, clock=simulator.ManualClock())
    async with serve(app) as url:
        adapter = ShopifyAdapter(ShopifySettings(url=url, access_token=TOKEN, location="Warehouse"))
        try:
            yield app, adapter
        finally:
            await adapter.aclose()


def _store(app: Any) -> Any:
    return simulator.shop_of(app).store


def _order(app: Any, quantity: int = 2, stock: int = 10) -> SimOrder:
    store = _store(app)
    product = new_product(store, "Feedback article")
    variant = add_variant(store, product, sku=f"FB-{store.new_id()}", price=Decimal("12.50"))
    [warehouse] = [loc for loc in store.locations.values() if loc.name == "Warehouse"]
    store.stock(variant.item_id, warehouse.id, stock)
    return plant_order(store, [(variant.id, quantity)])


def _gid(order: SimOrder) -> str:
    return f"gid://shopify/Order/{order.id}"


async def _read(adapter: ShopifyAdapter, order: SimOrder) -> Order:
    [seen] = await adapter.fetch("order", [order.name.lstrip("#")])
    assert isinstance(seen.record, Order) and seen.ref == _gid(order)
    return seen.record


async def test_the_adapter_has_the_capabilities(shop: Shop) -> None:
    _, adapter = shop
    assert isinstance(adapter, OrderFeedback)
    assert isinstance(adapter, OrderNotes)
    assert isinstance(adapter, ShipmentTracking)


async def test_completed_fulfils_every_line_and_reads_back_completed(shop: Shop) -> None:
    app, adapter = shop
    order = _order(app, quantity=3)
    assert (await _read(adapter, order)).status == "processing"

    await adapter.set_order_status(_gid(order), "processing")  # nothing to do
    assert not order.fulfillments
    await adapter.set_order_status(_gid(order), "completed")

    assert order.display_fulfillment_status() == "FULFILLED"
    assert (await _read(adapter, order)).status == "completed"
    await adapter.set_order_status(_gid(order), "completed")  # closed already: left
    assert len(order.fulfillments) == 1


async def test_fulfilment_carries_the_tracking(shop: Shop) -> None:
    app, adapter = shop
    order = _order(app)

    await adapter.fulfil(_gid(order), "Colissimo", "6A12345678")
    await adapter.fulfil(_gid(order), "Colissimo", "6A12345678")

    [made] = order.fulfillments
    assert made.tracking == [{"company": "Colissimo", "number": "6A12345678", "url": None}]
    assert (await _read(adapter, order)).status == "completed"


async def test_cancel_refunds_and_restocks_nothing(shop: Shop) -> None:
    app, adapter = shop
    order = _order(app, quantity=2, stock=10)
    store = _store(app)
    [line] = order.lines
    level = store.levels[(store.variants[line.variant_id].item_id, line.location_id)]
    assert level.quantities["available"] == 8

    await adapter.set_order_status(_gid(order), "cancelled")
    await adapter.set_order_status(_gid(order), "cancelled")  # cancelled already: left

    assert order.cancelled_at is not None and order.cancel_reason == "OTHER"
    assert order.refunds == []
    assert level.quantities["available"] == 8 and level.quantities["committed"] == 0
    assert (await _read(adapter, order)).status == "cancelled"
    with pytest.raises(PermanentError, match="cancelled in Shopify"):
        await adapter.set_order_status(_gid(order), "completed")


async def test_notes_are_lines_of_the_order_note_never_twice(shop: Shop) -> None:
    app, adapter = shop
    order = _order(app)
    order.note = "Leave at the door"

    await adapter.add_order_note(_gid(order), "Invoice F-1 (25.00)", customer=True)
    await adapter.add_order_note(_gid(order), "Invoice F-1 (25.00)", customer=True)
    await adapter.add_order_note(_gid(order), "Your order has\nshipped.", customer=True)

    assert order.note == "Leave at the door\nInvoice F-1 (25.00)\nYour order has shipped."
    assert await adapter.customer_notes(_gid(order)) == [
        "Leave at the door",
        "Invoice F-1 (25.00)",
        "Your order has shipped.",
    ]
    by_number = order.name.lstrip("#")
    assert await adapter.customer_notes(by_number) == await adapter.customer_notes(_gid(order))


async def test_a_refund_is_recorded_to_the_cent_and_listed_back(shop: Shop) -> None:
    app, adapter = shop
    order = _order(app, quantity=2)  # 25.00 + 5.00 tax + 4.90 shipping + 0.98 its tax
    assert order.total() == Decimal("35.88")

    made = await adapter.create_refund(_gid(order), Decimal("7.35"), "Credit note RINV/1")

    assert await adapter.list_refunds(_gid(order)) == [
        ShopRefund(id=made, amount=Decimal("7.35"), reason="Credit note RINV/1")
    ]
    assert (await _read(adapter, order)).status == "processing"  # partly refunded
    await adapter.create_refund(_gid(order), Decimal("28.53"), "Credit note RINV/2")
    assert (await _read(adapter, order)).status == "refunded"
    assert sum(r.amount for r in await adapter.list_refunds(_gid(order))) == order.total()


async def test_refunds_that_cannot_be_recorded_are_refused(shop: Shop) -> None:
    app, adapter = shop
    order = _order(app)
    with pytest.raises(PermanentError, match="cents"):
        await adapter.create_refund(_gid(order), Decimal("1.005"), "x")
    with pytest.raises(PermanentError, match="cents"):
        await adapter.create_refund(_gid(order), Decimal("0"), "x")
    with pytest.raises(PermanentError, match="refundable"):
        await adapter.create_refund(_gid(order), Decimal("1000.00"), "x")
    assert order.refunds == []


async def test_unknown_orders_and_statuses_are_named(shop: Shop) -> None:
    app, adapter = shop
    missing = "gid://shopify/Order/999999"
    with pytest.raises(PermanentError, match="999999: no such order"):
        await adapter.set_order_status(missing, "completed")
    with pytest.raises(PermanentError, match="999999: no such order"):
        await adapter.add_order_note(missing, "hello", customer=True)
    with pytest.raises(PermanentError, match="999999: no such order"):
        await adapter.list_refunds(missing)
    with pytest.raises(PermanentError, match="order 4242: no such order"):
        await adapter.create_refund("4242", Decimal("1.00"), "x")
    order = _order(app)
    with pytest.raises(PermanentError, match=f"{order.id}.*'on-hold'"):
        await adapter.set_order_status(_gid(order), "on-hold")
