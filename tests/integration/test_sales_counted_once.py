"""A web sale leaves the ERP's stock once: through the imported order's delivery.

The shop takes a sale out of its own count at once; the ERP when it delivers the imported order.
Concord must neither write the shop's drop into the ERP as a stock adjustment (the delivery
would take the same units out again) nor put the units back on sale in the shop between the
import and the delivery (Odoo's on-hand count has not moved yet then).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from odoo_woo_pair import Pair, open_pair

from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.seed import warehouse_location
from canonical.errors import ConfigError
from engine.config import parse_config
from engine.orders.importer import run_orders
from engine.store.state import Store

CONFIG = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "erp" }
[connections.main.rules.stock]
default = { owner = "erp" }

[connections.main.transforms.stock]
available = true

[connections.main.orders]
taxes = { FR = "VAT 20%" }
"""
FRANCE = {"first_name": "Ana", "last_name": "Lima", "country": "FR", "city": "Lyon"}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, CONFIG):
        yield opened


def on_hand(pair: Pair, sku: str) -> float:
    [product] = pair.odoo.find("product.product", [["default_code", "=", sku]])
    return sum(
        pair.odoo.get("stock.quant", q, "quantity")["quantity"]
        for q in pair.odoo.find("stock.quant", [["product_id", "=", product]])
    )


def in_shop(pair: Pair, sku: str) -> int | None:
    item = pair.sim.product_by_sku(sku)
    assert item is not None
    return item.stock_quantity


async def idle_stock_cycle(pair: Pair, store: Store) -> None:
    result = await pair.cycle(store, "stock")
    assert result.failures == [] and result.rejected == []
    assert result.operations == {"erp": [], "shop": []}


async def test_the_erp_stock_drops_once_per_unit_sold(pair: Pair, store: Store) -> None:
    odoo = pair.odoo
    template = odoo.add("product.template", name="Mug", default_code="MUG-1", list_price=12.0)
    [variant] = odoo.get("product.template", template, "product_variant_ids")["product_variant_ids"]
    quant = odoo.add(
        "stock.quant",
        product_id=variant,
        location_id=warehouse_location(odoo),
        inventory_quantity=10,
    )
    call(odoo, "stock.quant", "action_apply_inventory", [quant], {}, {})
    assert (await pair.cycle(store, "product")).counts["created_shop"] == 1
    await pair.cycle(store, "stock")
    assert in_shop(pair, "MUG-1") == 10

    order = pair.sim.add_order(
        [("MUG-1", 3)],
        status="processing",
        billing={**FRANCE, "email": "ana@example.com"},
        payment_method="stripe",
        payment_method_title="Card",
    )
    assert in_shop(pair, "MUG-1") == 7
    await idle_stock_cycle(pair, store)  # 10 in the ERP, 3 not imported yet: the shop's 7

    imported = await run_orders(
        store,
        connection="main",
        adapters=pair.adapters(),
        config=pair.connection.orders,
        full=True,
    )
    assert imported.counts.get("imported") == 1, imported.counts
    # Imported, not delivered: the ERP still holds the 3 mugs, and they stay off sale.
    await idle_stock_cycle(pair, store)
    assert (on_hand(pair, "MUG-1"), in_shop(pair, "MUG-1")) == (10, 7)

    [sale] = odoo.find("sale.order", [["client_order_ref", "like", order.number]])
    pickings = odoo.get("sale.order", sale, "picking_ids")["picking_ids"]
    call(odoo, "stock.picking", "button_validate", pickings, {}, {})

    await idle_stock_cycle(pair, store)
    assert (on_hand(pair, "MUG-1"), in_shop(pair, "MUG-1")) == (7, 7)


def test_orders_with_stock_merged_both_ways_are_refused() -> None:
    text = CONFIG.replace(
        'default = { owner = "erp" }\n\n[connections.main.transforms.stock]',
        'default = { owner = "both", policy = "merge-delta" }\n\n[connections.main.transforms.x]',
    ).replace("[connections.main.transforms.x]\navailable = true\n", "")
    with pytest.raises(ConfigError, match=r"rules\.stock: .*as a stock adjustment"):
        parse_config(text, source="t.toml")
