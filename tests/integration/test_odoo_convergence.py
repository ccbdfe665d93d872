"""Odoo <-> WooCommerce end to end (both simulators over real HTTP, real PostgreSQL): edits
settle by the right clock, stock kept on shelves converges, a category name with " / " stays
one category, and the cycle after each settles writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from convergence_law import README_RULES
from odoo_woo_pair import Pair, open_pair

from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.seed import warehouse_location
from adapters.odoo.simulator.store import OdooStore
from adapters.woocommerce.simulator import model as shop_model
from engine.cycle.run import CycleResult
from engine.store.state import Store

CONFIG = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "both", policy = "newest" }
create_in_shop = true
[connections.main.rules.stock]
default = { owner = "both", policy = "merge-delta" }

[connections.main.transforms.categories]
levels = ["category"]
root = "All"
"""
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Clock:
    """One wall clock for both platforms, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, CONFIG):
        opened.odoo.clock = opened.sim.clock = Clock()
        yield opened


def clock(pair: Pair) -> Clock:
    assert isinstance(pair.odoo.clock, Clock)
    return pair.odoo.clock


def shop_item(pair: Pair, sku: str) -> shop_model.Product | shop_model.Variation:
    item = pair.sim.product_by_sku(sku)
    assert item is not None, f"{sku} is not in the shop"
    return item


def article(odoo: OdooStore, sku: str, name: str, category: int | None = None) -> int:
    """A one-variant Odoo article; returns its template id."""
    vals: dict[str, Any] = {"name": name, "default_code": sku, "list_price": 19.9}
    if category is not None:
        vals["categ_id"] = category
    return odoo.add("product.template", **vals)


def variant_of(odoo: OdooStore, template: int) -> int:
    [variant] = odoo.tables["product.template"][template]["product_variant_ids"]
    return int(variant)


def count(odoo: OdooStore, product: int, location: int, quantity: float) -> None:
    quant = odoo.add(
        "stock.quant", product_id=product, location_id=location, inventory_quantity=quantity
    )
    call(odoo, "stock.quant", "action_apply_inventory", [quant], {}, {})


def shelf(odoo: OdooStore) -> int:
    [found] = odoo.find("stock.location", [["complete_name", "=", "WH/Stock/Shelf 1"]])
    return found


def idle(result: CycleResult) -> bool:
    return result.operations == {"erp": [], "shop": []} and not result.failures


async def test_newest_sees_an_edit_made_on_the_odoo_template(pair: Pair, store: Store) -> None:
    template = article(pair.odoo, "LAMP-1", "Lamp")
    first = await pair.cycle(store, "product")
    assert first.failures == [] and shop_item(pair, "LAMP-1").name == "Lamp"

    clock(pair).later(60)
    pair.sim.edit_product(shop_item(pair, "LAMP-1").id, name="Lamp (shop)")
    clock(pair).later(3)
    # The merchant edits the product form in Odoo: the template, not its variant.
    pair.odoo.edit("product.template", template, name="Desk lamp")
    clock(pair).later(60)

    result = await pair.cycle(store, "product")

    assert result.failures == []
    assert shop_item(pair, "LAMP-1").name == "Desk lamp"
    assert pair.odoo.tables["product.template"][template]["name"] == "Desk lamp"
    assert [op.key for op in result.operations["shop"]] == ["LAMP-1"]
    assert result.operations["erp"] == []
    clock(pair).later(60)
    assert idle(await pair.cycle(store, "product"))
    assert idle(await pair.cycle(store, "product", full=False))

    # The other way round, the shop's later edit wins over the template's.
    pair.odoo.edit("product.template", template, name="Desk lamp (Odoo)")
    clock(pair).later(3)
    pair.sim.edit_product(shop_item(pair, "LAMP-1").id, name="Reading lamp")
    clock(pair).later(60)
    result = await pair.cycle(store, "product")
    assert pair.odoo.tables["product.template"][template]["name"] == "Reading lamp"
    clock(pair).later(60)
    assert idle(await pair.cycle(store, "product"))


async def test_stock_on_shelves_converges_and_keeps_its_split(pair: Pair, store: Store) -> None:
    odoo = pair.odoo
    main = warehouse_location(odoo)
    mug = variant_of(odoo, article(odoo, "MUG-1", "Mug"))
    count(odoo, mug, main, 10)
    count(odoo, mug, shelf(odoo), 5)
    await pair.cycle(store, "product")

    first = await pair.cycle(store, "stock")

    assert first.failures == []
    assert shop_item(pair, "MUG-1").stock_quantity == 15
    clock(pair).later(60)
    assert idle(await pair.cycle(store, "stock"))

    # Counted in the shop: 12. Odoo's total becomes 12, the shelf keeps its 5.
    pair.sim.edit_product(shop_item(pair, "MUG-1").id, stock_quantity=12)
    clock(pair).later(60)
    counted = await pair.cycle(store, "stock")
    assert counted.failures == [] and len(counted.operations["erp"]) == 1
    on_hand = {
        odoo.display_name("stock.location", q["location_id"]): q["quantity"]
        for q in odoo.tables["stock.quant"].values()
        if q["product_id"] == mug
    }
    assert on_hand == {"WH/Stock": 7.0, "WH/Stock/Shelf 1": 5.0}
    clock(pair).later(60)
    assert idle(await pair.cycle(store, "stock"))
    assert idle(await pair.cycle(store, "stock", full=False))


async def test_a_category_named_with_a_slash_is_one_shop_category(pair: Pair, store: Store) -> None:
    odoo = pair.odoo
    [top] = odoo.find("product.category", [["name", "=", "All"]])
    bags = odoo.add("product.category", name="Sacs / Bagages", parent_id=top)
    article(odoo, "BAG-1", "Valise", bags)

    result = await pair.cycle(store, "product")

    assert result.failures == [] and result.rejected == []
    bag = shop_item(pair, "BAG-1")
    assert isinstance(bag, shop_model.Product)
    [term] = bag.categories
    category = pair.sim.categories[term.id]
    assert category.name == "Sacs / Bagages" and not category.parent
    assert "Sacs" not in {c.name for c in pair.sim.categories.values()}
    clock(pair).later(60)
    assert idle(await pair.cycle(store, "product"))


async def test_a_varied_odoo_catalogue_settles_in_one_resync(tmp_path: Path, store: Store) -> None:
    # Services, archived articles, padded unicode names, a category named with " / ": the
    # second full and incremental product cycles write nothing, archived articles are never
    # created in the shop.
    async for pair in open_pair(tmp_path, README_RULES, products=240, varied=True):
        odoo = pair.odoo
        services = [
            t for t in odoo.tables["product.template"].values() if t.get("type") == "service"
        ]
        assert services and any(
            t["active"] is False for t in odoo.tables["product.template"].values()
        )
        first = await pair.cycle(store, "product")
        assert first.failures == [] and first.rejected == [], (first.failures, first.rejected)
        archived = [
            row["default_code"]
            for row in odoo.tables["product.product"].values()
            if row["active"] is False
        ]
        assert archived and all(pair.sim.product_by_sku(sku) is None for sku in archived)
        service_skus = [
            odoo.tables["product.product"][v]["default_code"]
            for t in services
            if t["active"] is not False
            for v in t["product_variant_ids"]
        ]
        in_shop = [pair.sim.product_by_sku(sku) for sku in service_skus]
        assert in_shop and all(i is not None and not i.manage_stock for i in in_shop)
        for full in (True, False):
            again = await pair.cycle(store, "product", full=full)
            assert idle(again), (full, again.operations, again.failures)
