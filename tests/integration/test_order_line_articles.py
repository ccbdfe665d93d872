"""The ERP articles web orders' shipping, fee and rounding lines are booked on are not for sale:
the catalogue jobs leave them alone on both sides, however the rules read otherwise."""

from __future__ import annotations

from pathlib import Path

from convergence_law import IDLE, README_RULES, writes
from odoo_woo_pair import open_pair

from engine.store.state import Store

ORDERS = """
[connections.main.orders]
shipping_sku = "SHIP"
fee_sku = "FEE"
rounding_sku = "ROUND"
"""


async def test_shipping_fee_and_rounding_articles_never_reach_the_shop(
    tmp_path: Path, store: Store
) -> None:
    async for pair in open_pair(tmp_path, README_RULES + ORDERS):
        for sku, name in (("SHIP", "Shipping"), ("FEE", "Payment fee"), ("ROUND", "Rounding")):
            pair.odoo.add(
                "product.template", name=name, default_code=sku, type="service", list_price=0.0
            )
        pair.odoo.add("product.template", name="Mug", default_code="MUG-1", list_price=9.5)

        first = await pair.cycle(store, "product")

        assert first.failures == [] and first.counts["created_shop"] == 1
        assert sorted(p.sku for p in pair.sim.products.values()) == ["MUG-1"]
        stock = await pair.cycle(store, "stock")
        assert stock.failures == [] and stock.counts.get("writes_shop") == 1
        for kind in ("product", "stock"):
            for full in (True, False):
                assert writes(await pair.cycle(store, kind, full=full)) == IDLE, (kind, full)
        # The other kinds (customers, orders) keep every record: the e-mail of a customer
        # named SHIP is no article.
        assert pair.connection.rules_for("customer").skip_skus == frozenset()
        assert pair.connection.rules_for("price").skip_skus == {"SHIP", "FEE", "ROUND"}


async def test_without_order_import_the_line_articles_are_ordinary_articles(
    tmp_path: Path, store: Store
) -> None:
    disabled = ORDERS + "enabled = false\n"
    async for pair in open_pair(tmp_path, README_RULES + disabled):
        pair.odoo.add("product.template", name="Shipping", default_code="SHIP", type="service")

        first = await pair.cycle(store, "product")

        assert first.failures == [] and first.counts["created_shop"] == 1
        assert pair.sim.product_by_sku("SHIP") is not None
