"""Back to a Shopify shop: an Odoo order's shipping, invoice, cancellation and credit note."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_orders_sides import CONFIG, RATE, plant_line_articles, sale_orders

from adapters import simkit
from adapters.base import Adapter, Side
from adapters.odoo import adapter as odoo_adapter
from adapters.odoo.simulator.app import create_app as odoo_app
from adapters.odoo.simulator.app import store_of as odoo_store
from adapters.odoo.simulator.dispatch import call
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.simulator.orders_model import plant_order
from engine.orders.feedback import run_feedback
from engine.orders.importer import run_orders
from engine.store.state import Store


class Both:
    def __init__(self, erp: Any, shop: Any, adapters: dict[Side, Adapter]) -> None:
        self.erp, self.shop, self.adapters = erp, shop, adapters


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Both]:
    erp_app = odoo_app(products=20, seed=1)
    shop_app = simulator.create_app(products=0, clock=simulator.ManualClock())
    plant_line_articles(odoo_store(erp_app))
    (tmp_path / "odoo").write_text("odoo-test-key")
    async with AsyncExitStack() as stack:
        erp_url = await stack.enter_async_context(simkit.serve(erp_app))
        shop_url = await stack.enter_async_context(simkit.serve(shop_app))
        erp = odoo_adapter.create(
            {
                "url": erp_url,
                "database": "odoo",
                "api_key_file": str(tmp_path / "odoo"),
                "requests_per_second": RATE,
            },
            source="test.toml",
        )
        stack.push_async_callback(erp.aclose)
        shop = ShopifyAdapter(
            ShopifySettings(url=shop_url, access_token="shpat_test", location="Warehouse")
        )
        stack.push_async_callback(shop.aclose)
        yield Both(
            odoo_store(erp_app), simulator.shop_of(shop_app).store, {"erp": erp, "shop": shop}
        )


def place(store: Any, quantity: int = 2, shipping: Decimal = Decimal(0), **more: Any) -> Any:
    """A Shopify order of the ERP's SKU-000002 at 10.00 (``more`` as :func:`plant_order`)."""
    variant = store.variants.get(store.extra.get("fb_variant", 0))
    if variant is None:
        product = new_product(store, "Item SKU-000002")
        variant = add_variant(store, product, sku="SKU-000002", price=Decimal("10.00"))
        store.extra["fb_variant"] = variant.id
        [warehouse] = [loc for loc in store.locations.values() if loc.name == "Warehouse"]
        store.stock(variant.item_id, warehouse.id, 100)
    return plant_order(
        store, [(variant.id, quantity)], email="ana@example.com", shipping=shipping, **more
    )


async def feedback(store: Store, both: Both) -> dict[str, int]:
    result = await run_feedback(
        store, connection="main", adapters=both.adapters, config=CONFIG, full=False
    )
    return result.counts


async def test_erp_progress_reaches_shopify_once(store: Store, both: Both) -> None:
    shipped, cancelled, credited = (place(both.shop) for _ in range(3))
    imported = await run_orders(
        store, connection="main", adapters=both.adapters, config=CONFIG, full=False
    )
    assert imported.failures == [], imported.failures
    erp = both.erp
    so = {o.id: sale_orders(erp, o.name.lstrip("#"))[0] for o in (shipped, cancelled, credited)}
    carrier = erp.add("delivery.carrier", name="Colissimo")
    [picking] = erp.find("stock.picking", [["sale_id", "=", so[shipped.id]["id"]]])
    erp.edit("stock.picking", picking, state="done", carrier_id=carrier, carrier_tracking_ref="6A1")
    call(erp, "sale.order", "action_cancel", [so[cancelled.id]["id"]], {}, {})
    credit = erp.add(
        "account.move",
        move_type="out_refund",
        invoice_origin=so[credited.id]["name"],
        amount_total=5.25,
        partner_id=so[credited.id]["partner_id"][0],
        ref="Damaged box",
    )
    call(erp, "account.move", "action_post", [credit], {}, {})

    counts = await feedback(store, both)

    assert counts["shipments"] == 1 and counts["failed"] == 0
    [parcel] = shipped.fulfillments
    assert parcel.tracking == [{"company": "Colissimo", "number": "6A1", "url": None}]
    assert shipped.display_fulfillment_status() == "FULFILLED"
    assert "6A1" in (shipped.note or "") and "Colissimo" in (shipped.note or "")
    assert cancelled.cancelled_at is not None and cancelled.refunds == []
    [refund] = credited.refunds
    assert refund.amount == Decimal("5.25") and erp.get("account.move", credit)["name"] in (
        refund.note or ""
    )

    again = await feedback(store, both)

    assert again.get("notes", 0) == again.get("statuses", 0) == 0
    assert again.get("shipments", 0) == again.get("refunds_to_shop", 0) == 0
    assert len(shipped.fulfillments) == 1 and len(credited.refunds) == 1
