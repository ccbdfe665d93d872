"""Catalogue rules end to end with a real ERP adapter: plain articles of the Odoo simulator become
variable products in the WooCommerce simulator, both over real HTTP, real PostgreSQL as state.

The Odoo side is kept the way an Odoo merchant keeps it: one template per article (so one
variant each), the category tree under Odoo's root "All", taxes by their Odoo names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from odoo_woo_pair import Pair, open_pair

from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.seed import warehouse_location
from adapters.odoo.simulator.store import OdooStore
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import model as shop_model
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
[connections.main.rules.price]
default = { owner = "erp" }

[connections.main.transforms.variants]
pattern = '^(?P<parent>TEE\\d+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z]+)$'
attributes = { colour = "Colour", size = "Size" }

[connections.main.transforms.categories]
levels = ["category"]
root = "All"

[connections.main.transforms.taxes]
products = { "VAT 20%" = "standard", "VAT 5.5%" = "reduced-rate" }

[connections.main.transforms.stock]
available = true
"""
OPTIONS = [("RED", "S"), ("RED", "M"), ("BLUE", "M")]
FAMILIES = ("Clothing", "Sport")
SUBS = ("Tops", "Bottoms")
RANGES = ("Summer", "Winter")
LINES = ("Basics", "Premium")
KINDS = ("product", "stock", "price")


def _branch(n: int) -> tuple[str, ...]:
    """Model ``n``'s category below "All": one of 16 four-level paths."""
    return (FAMILIES[n % 2], SUBS[(n // 2) % 2], RANGES[(n // 4) % 2], LINES[(n // 8) % 2])


def _category(odoo: OdooStore, path: tuple[str, ...]) -> int:
    """The id of the Odoo category at ``path`` (top first), created level by level if missing."""
    parent: int | bool = False
    for name in path:
        found = odoo.find("product.category", [["name", "=", name], ["parent_id", "=", parent]])
        parent = found[0] if found else odoo.add("product.category", name=name, parent_id=parent)
    assert isinstance(parent, int)
    return parent


def _tax(odoo: OdooStore, name: str) -> int:
    [found] = odoo.find("account.tax", [["name", "=", name]])
    return found


def load_articles(odoo: OdooStore, models: int) -> None:
    """``models`` x 3 plain Odoo articles ``TEE001-RED-S`` ..., one template each, with stock."""
    location = warehouse_location(odoo)
    for n in range(1, models + 1):
        category = _category(odoo, ("All", *_branch(n)))
        tax = _tax(odoo, "VAT 5.5%" if n % 10 == 0 else "VAT 20%")
        for number, (colour, size) in enumerate(OPTIONS):
            template = odoo.add(
                "product.template",
                name=f"Tee {n} {colour.title()} {size}",
                default_code=f"TEE{n:03d}-{colour}-{size}",
                description_sale=f"Cotton tee number {n}",
                list_price=10 + n % 7 + 0.9,
                categ_id=category,
                taxes_id=[tax],
            )
            [variant] = odoo.get("product.template", template, "product_variant_ids")[
                "product_variant_ids"
            ]
            quant = odoo.add(
                "stock.quant",
                product_id=variant,
                location_id=location,
                inventory_quantity=5 + number,
            )
            call(odoo, "stock.quant", "action_apply_inventory", [quant], {}, {})


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, CONFIG):
        yield opened


def _path(sim: ShopStore, category_id: int) -> tuple[str, ...]:
    names: list[str] = []
    current = sim.categories.get(category_id)
    while current is not None:
        names.append(current.name)
        current = sim.categories.get(current.parent)
    return tuple(reversed(names))


def _parent(sim: ShopStore, sku: str) -> shop_model.Product:
    """The shop's (variable) product with this SKU."""
    found = sim.product_by_sku(sku)
    assert isinstance(found, shop_model.Product), f"no product {sku} in the shop"
    return found


def _saved(sim: ShopStore) -> list[int]:
    """Ids of shop products and variations saved from now on."""
    saved: list[int] = []
    sim.listeners.append(
        lambda topic, record: saved.append(record.id) if topic == "product.updated" else None
    )
    return saved


async def test_300_odoo_articles_become_100_variable_products_in_a_4_level_tree(
    pair: Pair, store: Store
) -> None:
    load_articles(pair.odoo, 100)
    shop_categories = set(pair.sim.categories)

    products = await pair.cycle(store, "product")

    assert products.failures == [] and products.rejected == []
    assert products.counts["read_erp"] == 300
    assert products.counts["created_shop"] == 100
    sim = pair.sim
    assert len(sim.products) == 100 and len(sim.variations) == 300
    assert {p.type for p in sim.products.values()} == {"variable"}
    assert all(len(p.variations) == 3 for p in sim.products.values())
    tee = _parent(sim, "TEE001")
    assert tee.name == "Tee 1"
    assert [(a.name, a.options) for a in tee.attributes] == [
        ("Colour", ["BLUE", "RED"]),
        ("Size", ["M", "S"]),
    ]
    red_s = sim.product_by_sku("TEE001-RED-S")
    assert red_s is not None and red_s.regular_price == "11.9"
    # Odoo's tax names became the shop's tax classes.
    assert tee.tax_class == ""
    assert _parent(sim, "TEE010").tax_class == "reduced-rate"
    # The tree: Odoo's four levels below "All", each category once, without "All"; the shop's
    # own top-level "Clothing" and "Sport" adopted, the 4 + 8 + 16 levels below them created.
    paths = {_path(sim, term.id) for p in sim.products.values() for term in p.categories}
    assert len(paths) == 16 and {len(path) for path in paths} == {4}
    assert len({path[:depth] for path in paths for depth in range(1, 5)}) == 2 + 4 + 8 + 16
    made = [c for c in sim.categories.values() if c.id not in shop_categories]
    assert len(made) == 4 + 8 + 16
    assert "All" not in {c.name for c in sim.categories.values()}
    siblings = [(c.parent, c.name.lower()) for c in sim.categories.values()]
    assert len(siblings) == len(set(siblings))
    assert _path(sim, tee.categories[0].id) == ("Sport", "Tops", "Summer", "Basics")

    stock = await pair.cycle(store, "stock")

    assert stock.failures == [] and stock.rejected == []
    variations = [sim.variations[v] for v in tee.variations]
    quantities = {v.sku: v.stock_quantity for v in variations}
    assert quantities == {"TEE001-RED-S": 5, "TEE001-RED-M": 6, "TEE001-BLUE-M": 7}
    assert {v.stock_quantity for v in sim.variations.values()} == {5, 6, 7}

    # Second product and stock cycles write nothing; the price job (its first run) finds every
    # variation's price already agreed with Odoo's list price.
    saved = _saved(sim)
    again = [await pair.cycle(store, kind) for kind in KINDS]
    assert [r.operations for r in again] == [{"erp": [], "shop": []}] * len(KINDS)
    assert [r.failures for r in again] == [[]] * len(KINDS)
    assert saved == []


async def test_a_price_change_on_one_odoo_article_resaves_its_variation_only(
    pair: Pair, store: Store
) -> None:
    load_articles(pair.odoo, 5)
    await pair.cycle(store, "product")
    saved = _saved(pair.sim)
    variant = pair.odoo.product_id("TEE002-RED-M")
    template = pair.odoo.tables["product.product"][variant]["product_tmpl_id"]
    pair.odoo.edit("product.template", template, list_price=30.5)

    result = await pair.cycle(store, "product", full=False)

    assert result.failures == [] and result.rejected == []
    variation = pair.sim.product_by_sku("TEE002-RED-M")
    assert variation is not None and variation.regular_price == "30.5"
    assert saved == [variation.id]
    assert [op.key for op in result.operations["shop"]] == ["TEE002"]
    untouched = pair.sim.product_by_sku("TEE002-RED-S")
    assert untouched is not None and untouched.regular_price == "12.9"
    again = await pair.cycle(store, "product", full=False)
    assert again.operations == {"erp": [], "shop": []}


async def test_an_odoo_tax_without_a_shop_class_holds_its_product_naming_the_tax(
    pair: Pair, store: Store
) -> None:
    load_articles(pair.odoo, 2)
    variant = pair.odoo.product_id("TEE002-BLUE-M")
    template = pair.odoo.tables["product.product"][variant]["product_tmpl_id"]
    pair.odoo.edit("product.template", template, taxes_id=[_tax(pair.odoo, "VAT 10%")])

    result = await pair.cycle(store, "product")

    assert pair.sim.product_by_sku("TEE001") is not None
    assert pair.sim.product_by_sku("TEE002") is None
    assert [(r.key, r.reason) for r in result.rejected] == [
        (
            "TEE002",
            "article TEE002-BLUE-M: ERP tax code 'VAT 10%' is not mapped "
            "(mapped: VAT 20%, VAT 5.5%)",
        )
    ]
    assert [(d.key, d.side) for d in await store.list_dead_letters("main")] == [("TEE002", "erp")]
