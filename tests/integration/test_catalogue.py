"""Catalogue rules end to end: plain ERP articles (in-memory ERP) become variable products in the
WooCommerce simulator, over real HTTP, with real PostgreSQL as state store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.base import Side
from adapters.memory.adapter import MemoryAdapter
from adapters.simkit import serve
from adapters.woocommerce import WooCommerceAdapter
from adapters.woocommerce.settings import AdapterSettings
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app, store_of
from canonical.models import Attribute, Price, Product, Stock
from engine.config import ConnectionConfig, JobConfig, parse_config
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store
from rules.transforms import Transforms

CONFIG = """
[connections.main.erp]
type = "memory"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "erp" }
[connections.main.rules.stock]
default = { owner = "erp" }
[connections.main.rules.price]
default = { owner = "erp" }

[connections.main.transforms.variants]
pattern = '^(?P<parent>M\\d+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z]+)$'
attributes = { colour = "Colour", size = "Size" }

[connections.main.transforms.categories]
levels = ["family", "sub_family", "range", "line"]
codes = ["family_code", "sub_family_code", "range_code", "line_code"]

[connections.main.transforms.taxes]
products = { VAT20 = "standard", VAT5 = "reduced-rate" }

[connections.main.transforms.prices]
groups = { Wholesale = "wholesale_customer" }

[connections.main.transforms.stock]
available = true
"""
OPTIONS = [("RED", "S"), ("RED", "M"), ("BLUE", "S")]
FAMILIES = [("CL", "Clothing"), ("SP", "Sport")]
SUBS = [("TO", "Tops"), ("BO", "Bottoms")]
RANGES = [("SU", "Summer"), ("WI", "Winter")]
LINES = [("BA", "Basics"), ("PR", "Premium")]


def _levels(n: int) -> dict[str, str]:
    picks = (FAMILIES[n % 2], SUBS[(n // 2) % 2], RANGES[(n // 4) % 2], LINES[(n // 8) % 2])
    names = ("family", "sub_family", "range", "line")
    out: dict[str, str] = {}
    for name, (code, label) in zip(names, picks, strict=True):
        out[name] = label
        out[f"{name}_code"] = code
    return out


def articles(models: int = 100) -> list[Product]:
    """``models`` x 3 plain ERP articles ``M001-RED-S`` ..., as an ERP lists them."""
    out = []
    for n in range(1, models + 1):
        for colour, size in OPTIONS:
            out.append(
                Product(
                    sku=f"M{n:03d}-{colour}-{size}",
                    name=f"Polo {n} {colour.title()} {size}",
                    description=f"Polo shirt number {n}",
                    price=Decimal(20 + n % 7) + Decimal("0.9"),
                    tax_code="VAT5" if n % 10 == 0 else "VAT20",
                    attributes=tuple(Attribute(name=k, value=v) for k, v in _levels(n).items()),
                )
            )
    return out


@dataclass
class Pair:
    erp: MemoryAdapter
    shop: WooCommerceAdapter
    sim: ShopStore
    connection: ConnectionConfig

    def adapters(self, shop: Any = None) -> dict[Side, Any]:
        return {"erp": self.erp, "shop": shop or self.shop}

    async def cycle(
        self, store: Store, kind: str, *, full: bool = True, shop: Any = None
    ) -> CycleResult:
        return await run_cycle(
            store,
            connection="main",
            job_name=kind,
            job=JobConfig(kind=kind),
            rules=self.connection.rules[kind],
            adapters=self.adapters(shop),
            full=full,
            transforms=self.connection.transforms,
        )


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    app = create_app(products=0)
    async with serve(app) as url:
        shop = WooCommerceAdapter(
            AdapterSettings(
                url=url,
                consumer_key="ck_test",
                consumer_secret="cs_test",
                requests_per_second=1000.0,
                max_concurrency=8,
            )
        )
        erp = MemoryAdapter()
        connection = parse_config(CONFIG, source="test.toml").connections["main"]
        try:
            yield Pair(erp, shop, store_of(app), connection)
        finally:
            await shop.aclose()


def _path(sim: ShopStore, category_id: int) -> tuple[str, ...]:
    names: list[str] = []
    current = sim.categories.get(category_id)
    while current is not None:
        names.append(current.name)
        current = sim.categories.get(current.parent)
    return tuple(reversed(names))


async def test_300_articles_become_100_variable_products_in_a_4_level_tree(
    pair: Pair, store: Store
) -> None:
    for article in articles(100):
        pair.erp.platform.put(article)
        pair.erp.platform.put(Stock(sku=article.sku, quantity=Decimal(7)))
        pair.erp.platform.put(Price(sku=article.sku, amount=article.price or Decimal(0)))
    pair.erp.platform.put(
        Price(sku="M001-RED-S", amount=Decimal("17.5"), customer="Anna@Example.com")
    )
    pair.erp.platform.put(Price(sku="M001-RED-M", amount=Decimal("16"), group="Wholesale"))

    products = await pair.cycle(store, "product")

    assert products.counts["read_erp"] == 300
    assert products.counts["created_shop"] == 100
    assert products.failures == [] and products.rejected == []
    sim = pair.sim
    assert len(sim.products) == 100
    assert {p.type for p in sim.products.values()} == {"variable"}
    assert all(len(p.variations) == 3 for p in sim.products.values())
    assert len(sim.variations) == 300
    polo = sim.product_by_sku("M001")
    assert polo is not None and polo.name == "Polo 1"
    assert [a.name for a in polo.attributes] == ["Colour", "Size"]
    assert polo.tax_class == ""
    assert sim.product_by_sku("M010").tax_class == "reduced-rate"  # type: ignore[union-attr]
    red_s = sim.product_by_sku("M001-RED-S")
    assert red_s is not None and red_s.regular_price == "21.9"
    # The tree: four levels, each category once (2 x 2 x 2 x 2 leaves, 30 in all); the
    # shop's own "Clothing" and "Sport" were adopted (given their codes), not duplicated.
    coded = [c for c in sim.categories.values() if c.slug[:2] in ("cl", "sp")]
    assert len(coded) == 2 + 4 + 8 + 16
    siblings = [(c.parent, c.name.lower()) for c in sim.categories.values()]
    assert len(siblings) == len(set(siblings))
    paths = {_path(sim, term.id) for p in sim.products.values() for term in p.categories}
    assert len(paths) == 16 and {len(path) for path in paths} == {4}
    assert _path(sim, polo.categories[0].id) == ("Sport", "Tops", "Summer", "Basics")
    assert {c.slug for c in sim.categories.values()} >= {"sp", "sp-to", "sp-to-su-ba"}

    stock = await pair.cycle(store, "stock")
    prices = await pair.cycle(store, "price")

    assert stock.failures == [] and prices.failures == []
    assert {v.stock_quantity for v in sim.variations.values()} == {7}
    meta = {e.key: e.value for e in red_s.meta_data}
    assert meta["_concord_price_customer_anna@example.com"] == "17.5"
    red_m = sim.product_by_sku("M001-RED-M")
    assert red_m is not None
    assert {e.key: e.value for e in red_m.meta_data} == {
        "_concord_price_group_wholesale_customer": "16"
    }

    again = [await pair.cycle(store, kind) for kind in ("product", "stock", "price")]
    assert [r.operations for r in again] == [{"erp": [], "shop": []}] * 3


def _load(pair: Pair, models: int) -> None:
    for article in articles(models):
        pair.erp.platform.put(article)


def _updated(sim: ShopStore) -> list[int]:
    """Ids of products and variations saved from now on."""
    saved: list[int] = []
    sim.listeners.append(
        lambda topic, record: saved.append(record.id) if topic == "product.updated" else None
    )
    return saved


async def test_a_change_to_one_article_touches_its_variation_only(pair: Pair, store: Store) -> None:
    _load(pair, 3)
    await pair.cycle(store, "product")
    saved = _updated(pair.sim)
    pair.erp.platform.edit("product", "M002-RED-M", price="30")

    result = await pair.cycle(store, "product")

    variation = pair.sim.product_by_sku("M002-RED-M")
    assert variation is not None and variation.regular_price == "30"
    assert saved == [variation.id]
    assert [op.key for op in result.operations["shop"]] == ["M002"]


def _by_model(sku: str, model: str, colour: str, size: str) -> Product:
    fields = {"model": model, "colour": colour, "size": size}
    return Product(
        sku=sku,
        name=f"Jacket {model}",
        price=Decimal(50),
        tax_code="VAT20",
        attributes=tuple(Attribute(name=k, value=v) for k, v in fields.items()),
    )


async def test_an_article_whose_model_changes_moves_to_its_new_product_with_its_stock(
    pair: Pair, store: Store
) -> None:
    pair.connection.transforms = msgspec.convert(
        {
            "variants": {"key": "model", "attributes": {"colour": "Colour", "size": "Size"}},
            "taxes": {"products": {"VAT20": "standard"}},
        },
        Transforms,
    )
    pair.erp.platform.put(_by_model("J-1", "JACKET", "Red", "S"))
    pair.erp.platform.put(_by_model("J-2", "JACKET", "Red", "M"))
    pair.erp.platform.put(_by_model("P-1", "PARKA", "Green", "L"))
    await pair.cycle(store, "product")
    before = pair.sim.product_by_sku("P-1")
    assert before is not None
    pair.sim.edit_product(before.id, manage_stock=True, stock_quantity=4)
    # The ERP files the parka's only article under the jacket model instead.
    pair.erp.platform.edit(
        "product",
        "P-1",
        attributes=[
            {"name": "model", "value": "JACKET"},
            {"name": "colour", "value": "Green"},
            {"name": "size", "value": "L"},
        ],
    )

    result = await pair.cycle(store, "product")

    assert result.failures == []
    jacket = pair.sim.product_by_sku("JACKET")
    assert jacket is not None
    assert sorted(pair.sim.variations[v].sku for v in jacket.variations) == ["J-1", "J-2", "P-1"]
    moved = pair.sim.product_by_sku("P-1")
    assert moved is not None and moved.parent_id == jacket.id  # type: ignore[union-attr]
    assert moved.stock_quantity == 4
    emptied = pair.sim.product_by_sku("PARKA")
    assert emptied is not None and emptied.status == "private" and emptied.variations == []
    again = await pair.cycle(store, "product")
    assert again.operations == {"erp": [], "shop": []}


async def test_a_renamed_erp_family_renames_the_shop_category(pair: Pair, store: Store) -> None:
    _load(pair, 2)
    await pair.cycle(store, "product")
    count = len(pair.sim.categories)
    for article in articles(2):
        if dict((a.name, a.value) for a in article.attributes)["family_code"] == "CL":
            renamed = [
                {"name": a.name, "value": "Apparel" if a.name == "family" else a.value}
                for a in article.attributes
            ]
            pair.erp.platform.edit("product", article.sku, attributes=renamed)

    result = await pair.cycle(store, "product")

    assert result.failures == []
    assert len(pair.sim.categories) == count
    clothing = next(c for c in pair.sim.categories.values() if c.slug == "cl")
    assert clothing.name == "Apparel"
    polo = pair.sim.product_by_sku("M002")
    assert polo is not None and _path(pair.sim, polo.categories[0].id)[0] == "Apparel"


async def test_an_unmapped_tax_code_holds_the_product_and_names_the_code(
    pair: Pair, store: Store
) -> None:
    _load(pair, 2)
    pair.erp.platform.edit("product", "M002-RED-M", tax_code="VAT7")

    result = await pair.cycle(store, "product")

    assert pair.sim.product_by_sku("M001") is not None
    assert pair.sim.product_by_sku("M002") is None
    assert [(r.key, r.reason) for r in result.rejected] == [
        ("M002", "article M002-RED-M: ERP tax code 'VAT7' is not mapped (mapped: VAT20, VAT5)")
    ]
    letters = await store.list_dead_letters("main")
    assert [(d.key, d.side) for d in letters] == [("M002", "erp")]
