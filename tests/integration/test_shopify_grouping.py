"""Plain Odoo articles grouped into one Shopify product with variants: each variant carries its
own article's price, cost and weight, written once and idle afterwards, and a cost changed on
one article in Odoo reaches its variant alone. Both simulators over real HTTP, real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from odoo_shopify_pair import SHOPIFY_RULES, Pair, open_pair

from adapters.odoo.simulator.app import create_app as create_odoo_app
from adapters.odoo.simulator.app import store_of as odoo_store_of
from engine.store.state import Store

GROUPED = (
    SHOPIFY_RULES
    + """
[connections.main.transforms.variants]
pattern = '^(?P<parent>MUG\\d+)-(?P<size>[SML])$'
attributes = { size = "Size" }
"""
)
ARTICLES = {  # SKU: (price, cost, weight in kg)
    "MUG1-S": (9.5, 3.1, 0.25),
    "MUG1-M": (11.0, 3.6, 0.35),
    "MUG1-L": (12.5, 4.25, 0.5),
}


@pytest.fixture(params=["pages", "bulk"])
async def pair(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    odoo_app = create_odoo_app(products=0)
    odoo = odoo_store_of(odoo_app)
    for sku, (price, cost, weight) in ARTICLES.items():
        odoo.add(
            "product.template",
            name=f"Mug {sku[-1]}",
            default_code=sku,
            list_price=price,
            standard_price=cost,
            weight=weight,
        )
    async for opened in open_pair(tmp_path, odoo_app, bulk=request.param == "bulk", config=GROUPED):
        yield opened


def _held(pair: Pair) -> dict[str, tuple[Decimal, Decimal | None, float]]:
    """Each Shopify variant's price, cost and weight (kg), by SKU."""
    held = {}
    for variant in pair.sim.variants.values():
        assert variant.weight_unit == "KILOGRAMS"
        held[variant.sku] = (Decimal(variant.price), variant.cost, variant.weight)
    return held


async def test_grouped_articles_give_each_variant_its_own_cost_and_weight(
    pair: Pair, store: Store
) -> None:
    first = await pair.cycle(store, "product")
    assert first.failures == [] and first.rejected == [], first.counts
    assert first.counts["created_shop"] == 1  # one product, three variants
    assert _held(pair) == {
        sku: (Decimal(str(price)).quantize(Decimal("0.01")), Decimal(str(cost)), weight)
        for sku, (price, cost, weight) in ARTICLES.items()
    }
    await pair.assert_settled(store, "product")
    # One article's cost changed in Odoo: its variant alone changes, once.
    [medium] = pair.odoo.find("product.product", [["default_code", "=", "MUG1-M"]])
    pair.odoo.edit("product.product", medium, standard_price=3.95)
    changed = await pair.cycle(store, "product", full=False)
    assert changed.failures == [] and changed.counts.get("writes_shop") == 1, changed.counts
    held = _held(pair)
    assert held["MUG1-M"][1] == Decimal("3.95")
    assert held["MUG1-S"][1:] == (Decimal("3.1"), 0.25)
    await pair.assert_settled(store, "product")
