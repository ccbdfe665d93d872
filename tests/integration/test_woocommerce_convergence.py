"""What WooCommerce does on save and on read, and an idle cycle that writes nothing despite it.

An Odoo simulator (or the in-memory platform) as ERP and the WooCommerce simulator as shop, over
real HTTP, real PostgreSQL as state. Each test names the shop behaviour it guards against: a
variable product's parent answering ``regular_price: ""``, variation stock inside a product,
the default category, services, archived articles, trimmed names and SKUs, SKUs compared
without case, empty batches answered ``[]``, refused variations, HTML sanitised on save.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from integration.odoo_woo_pair import open_pair, shop_adapter

from adapters.base import Create, Done, Failed, Side, Update
from adapters.memory.adapter import MemoryAdapter
from adapters.odoo.simulator.store import OdooStore
from adapters.simkit import serve
from adapters.woocommerce import WooCommerceAdapter
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app as create_shop_app
from adapters.woocommerce.simulator import model as shop_model
from adapters.woocommerce.simulator import store_of as shop_store_of
from canonical.fields import to_fields
from canonical.models import Attribute, Product, Stock, Variant
from engine.config import JobConfig, parse_config
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store

RULES = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"
[connections.main.rules.product]
default = { owner = "erp" }
fields.price = { owner = "both", policy = "newest" }
[connections.main.rules.stock]
default = { owner = "erp" }
"""


@dataclass
class Pair:
    erp: Any
    shop: WooCommerceAdapter
    sim: ShopStore
    odoo: OdooStore | None = None

    async def cycle(self, store: Store, kind: str, *, full: bool = True) -> CycleResult:
        """One cycle of ``kind`` with every field both sides carry."""
        rules = parse_config(RULES, source="test.toml").connections["main"].rules
        adapters: dict[Side, Any] = {"erp": self.erp, "shop": self.shop}
        return await run_cycle(
            store,
            connection="main",
            job_name=kind,
            job=JobConfig(kind=kind),
            rules=rules[kind],
            adapters=adapters,
            full=full,
        )


@pytest.fixture
async def odoo_pair(tmp_path: Path) -> AsyncIterator[Pair]:
    """A seeded Odoo (templates with several variants among them) and an empty shop."""
    async for opened in open_pair(tmp_path, RULES, products=40):
        yield Pair(opened.erp, opened.shop, opened.sim, opened.odoo)


@pytest.fixture
async def memory_pair() -> AsyncIterator[Pair]:
    """The in-memory platform as ERP (records planted as an ERP adapter would read them)."""
    shop_app = create_shop_app(products=0)
    async with serve(shop_app) as shop_url:
        shop = shop_adapter(shop_url)
        try:
            yield Pair(MemoryAdapter(), shop, shop_store_of(shop_app))
        finally:
            await shop.aclose()


def _saved(sim: ShopStore) -> list[int]:
    """Ids of shop products and variations saved from now on."""
    saved: list[int] = []
    sim.listeners.append(lambda topic, record: saved.append(getattr(record, "id", 0)))
    return saved


def _templates_with_variants(odoo: OdooStore) -> dict[int, list[int]]:
    return {
        tid: row["product_variant_ids"]
        for tid, row in odoo.tables["product.template"].items()
        if len(row["product_variant_ids"]) > 1
    }


def _quiet(result: CycleResult) -> None:
    assert result.failures == [] and result.rejected == [] and result.conflicts == []
    assert result.operations == {"erp": [], "shop": []}


# -- 1: a variable product's parent has no price ------------------------------------------


async def test_a_variable_product_with_two_way_prices_never_zeroes_the_erp_price(
    odoo_pair: Pair, store: Store
) -> None:
    odoo = odoo_pair.odoo
    assert odoo is not None
    templates = _templates_with_variants(odoo)
    assert templates, "the seeded catalogue has templates with several variants"
    prices = {tid: odoo.tables["product.template"][tid]["list_price"] for tid in templates}

    first = await odoo_pair.cycle(store, "product")

    assert first.failures == [] and first.rejected == []
    for variants in templates.values():
        for variant in variants:
            sku = odoo.tables["product.product"][variant]["default_code"]
            variation = odoo_pair.sim.product_by_sku(sku)
            assert isinstance(variation, shop_model.Variation)
            assert Decimal(variation.regular_price) > 0
    parents = [p for p in odoo_pair.sim.products.values() if p.type == "variable"]
    assert len(parents) == len(templates)
    # The shop answers "" for a variable parent's price: "does not apply", not "no price".
    assert {p.regular_price for p in parents} == {""}

    saved = _saved(odoo_pair.sim)
    for full in (True, False):
        _quiet(await odoo_pair.cycle(store, "product", full=full))
    assert saved == []
    assert {tid: odoo.tables["product.template"][tid]["list_price"] for tid in templates} == prices


# -- 3: shapes of the shop that must compare equal when nothing changed -------------------


async def test_variations_with_stock_in_another_order_than_the_erps_do_not_drift(
    odoo_pair: Pair, store: Store
) -> None:
    odoo = odoo_pair.odoo
    assert odoo is not None
    templates = _templates_with_variants(odoo)
    codes = [
        [odoo.tables["product.product"][v]["default_code"] for v in variants]
        for variants in templates.values()
    ]
    assert any(skus != sorted(skus) for skus in codes), "Odoo's variant order is not by SKU"
    await odoo_pair.cycle(store, "product")
    stock = await odoo_pair.cycle(store, "stock")
    assert stock.failures == []
    managed = [v for v in odoo_pair.sim.variations.values() if v.manage_stock]
    assert managed, "the stock job gave the variations their stock"

    saved = _saved(odoo_pair.sim)
    _quiet(await odoo_pair.cycle(store, "product"))
    assert saved == []


SERVICE = Product(sku="INSTALL", name="Installation", price=Decimal(80), service=True)
MUG = Product(sku="MUG-1", name="Mug", price=Decimal("9.5"), category=("Kitchen",))
ARCHIVED = Product(sku="OLD-1", name="Discontinued", price=Decimal(5), active=False)


async def test_services_archived_articles_and_the_default_category(
    memory_pair: Pair, store: Store
) -> None:
    platform = memory_pair.erp.platform
    for record in (SERVICE, MUG, ARCHIVED, Stock(sku="MUG-1", quantity=Decimal(12))):
        platform.put(record)

    created = await memory_pair.cycle(store, "product")
    stock = await memory_pair.cycle(store, "stock")

    assert created.failures == [] and stock.failures == []
    sim = memory_pair.sim
    service = sim.product_by_sku("INSTALL")
    assert isinstance(service, shop_model.Product)
    assert service.virtual is True and service.manage_stock is False
    assert service.stock_status == "instock"
    # Saved without category, it went to the shop's default one, which reads as none.
    assert [c.slug for c in service.categories] == ["uncategorized"]
    assert sim.product_by_sku("OLD-1") is None, "an archived article is never created"
    mug = sim.product_by_sku("MUG-1")
    assert mug is not None and mug.manage_stock and mug.stock_quantity == 12

    saved = _saved(sim)
    for kind in ("product", "stock"):
        _quiet(await memory_pair.cycle(store, kind))
    assert saved == []

    platform.edit("product", "MUG-1", active=False)
    archived = await memory_pair.cycle(store, "product")
    assert archived.failures == []
    assert mug.status == "private", "archived later: hidden from customers, kept for staff"
    _quiet(await memory_pair.cycle(store, "product"))


# -- 12: trimmed names and SKUs, SKUs compared without case --------------------------------


async def test_padded_names_and_skus_converge_and_case_twins_are_held(
    odoo_pair: Pair, store: Store
) -> None:
    odoo = odoo_pair.odoo
    assert odoo is not None
    odoo.add("product.template", name="  Padded mug ", default_code=" PAD-1 ", list_price=7.5)
    odoo.add("product.template", name="Case mug", default_code="CASE-001", list_price=8.0)
    odoo.add("product.template", name="Other case mug", default_code="case-001", list_price=9.0)

    first = await odoo_pair.cycle(store, "product")

    padded = odoo_pair.sim.product_by_sku("PAD-1")
    assert padded is not None and padded.sku == "PAD-1" and padded.name == "Padded mug"
    upper = odoo_pair.sim.product_by_sku("CASE-001")
    assert isinstance(upper, shop_model.Product)
    holders = {p.id for p in odoo_pair.sim.products.values() if p.sku.lower() == "case-001"}
    assert holders == {upper.id}
    # One of the twins is in the shop, untouched by the other; the other is held, naming both.
    assert (upper.sku, upper.name) in (("CASE-001", "Case mug"), ("case-001", "Other case mug"))
    [held] = first.failures
    assert "sku_collision" in held.reason
    assert "'CASE-001'" in held.reason and "'case-001'" in held.reason

    saved = _saved(odoo_pair.sim)
    again = await odoo_pair.cycle(store, "product")
    assert [f.key for f in again.failures] == [held.key]
    assert [op.key for op in again.operations["shop"]] == [held.key]
    assert saved == []


async def _call(pair: Pair, method: str, path: str, body: Any = None, **params: str) -> Any:
    """One raw REST call to the simulated shop: (status, decoded answer)."""
    response = await pair.shop.http.request(
        method,
        path,
        params=params or None,
        body=None if body is None else msgspec.json.encode(body),
        ok=(200, 201, 400),
    )
    return response.status, msgspec.json.decode(response.body)


async def test_the_simulator_trims_and_compares_skus_as_woocommerce_does(
    memory_pair: Pair,
) -> None:
    status, made = await _call(
        memory_pair, "POST", "/products", {"name": "  Spaced \n", "sku": "  CASE-001 "}
    )
    assert status == 201 and (made["name"], made["sku"]) == ("Spaced", "CASE-001")
    status, error = await _call(memory_pair, "POST", "/products", {"name": "T", "sku": "case-001"})
    assert status == 400 and error["code"] == "product_invalid_sku"
    assert error["data"]["resource_id"] == made["id"]
    _, found = await _call(memory_pair, "GET", "/products", sku="case-001")
    assert [p["id"] for p in found] == [made["id"]]
    status, empty = await _call(memory_pair, "POST", "/products/batch", {"create": []})
    assert status == 200 and empty == []
    assert len(memory_pair.sim.products) == 1


# -- 4: nothing to write, nothing sent ---------------------------------------------------


VARIABLE = Product(
    sku="TEE",
    name="Tee",
    variants=(
        Variant(sku="TEE-M", attributes=(Attribute(name="Size", value="M"),), price=Decimal(12)),
        Variant(sku="TEE-S", attributes=(Attribute(name="Size", value="S"),), price=Decimal(10)),
    ),
)


async def test_updates_with_nothing_to_write_send_no_batch(memory_pair: Pair) -> None:
    adapter = memory_pair.shop
    [made] = await adapter.apply("product", [Create(key="TEE", fields=to_fields(VARIABLE))])
    assert isinstance(made, Done)
    saved = _saved(memory_pair.sim)
    unchanged = [
        Update(key="TEE", ref=made.ref, fields={"variants": to_fields(VARIABLE)["variants"]})
    ]
    # 100 such items once made 100 failures: an empty batch answered [] that did not decode.
    results = await adapter.apply("product", unchanged * 100)
    assert results == [Done(key="TEE", ref=made.ref)] * 100
    assert saved == []


# -- 8: a refused variation fails its own product only ------------------------------------


async def test_a_refused_variation_fails_its_product_and_the_batch_goes_on(
    memory_pair: Pair,
) -> None:
    sim = memory_pair.sim
    sim.add_product(sku="TAKEN-S", name="A plain product holding a variant's SKU")
    clashing = Product(
        sku="CLASH",
        name="Clash",
        variants=(
            Variant(sku="TAKEN-S", attributes=(Attribute(name="Size", value="S"),)),
            Variant(sku="CLASH-M", attributes=(Attribute(name="Size", value="M"),)),
        ),
    )
    ops = [
        Create(key="CLASH", fields=to_fields(clashing)),
        Create(key="TEE", fields=to_fields(VARIABLE)),
    ]

    clash, tee = await memory_pair.shop.apply("product", ops)

    assert isinstance(clash, Failed)
    assert "variation TAKEN-S" in clash.reason and "product_invalid_sku" in clash.reason
    assert isinstance(tee, Done)
    parent = sim.products[int(tee.ref)]
    assert sorted(sim.variations[v].sku for v in parent.variations) == ["TEE-M", "TEE-S"]
    # The clashing product's other variation was still written.
    assert isinstance(sim.product_by_sku("CLASH-M"), shop_model.Variation)


# -- 13: texts as the shop stores them ---------------------------------------------------


async def test_descriptions_round_trip_and_what_the_shop_would_strip_is_held(
    memory_pair: Pair, store: Store
) -> None:
    platform = memory_pair.erp.platform
    rich = Product(
        sku="RICH-1",
        name="Salt & pepper mill",
        description="<h2>Grinds</h2>\n<p>Salt & pepper, <strong>ceramic</strong>.</p>",
        short_description="Ceramic mill",
        price=Decimal(20),
    )
    unsafe = Product(
        sku="UNSAFE-1",
        name="Widget",
        description='<p>Nice</p><script>alert("x")</script>',
        price=Decimal(5),
    )
    platform.put(rich)
    platform.put(unsafe)

    first = await memory_pair.cycle(store, "product")

    stored = memory_pair.sim.product_by_sku("RICH-1")
    assert isinstance(stored, shop_model.Product)
    assert stored.short_description == "Ceramic mill"
    assert "&amp; pepper" in stored.description and "<strong>ceramic</strong>" in stored.description
    assert stored.name == "Salt &amp; pepper mill"  # kses on save; read back as plain text
    assert memory_pair.sim.product_by_sku("UNSAFE-1") is None
    [held] = first.failures
    assert held.key == "UNSAFE-1" and "description holds <script>" in held.reason

    saved = _saved(memory_pair.sim)
    again = await memory_pair.cycle(store, "product")
    assert [f.key for f in again.failures] == ["UNSAFE-1"]
    assert saved == []
    [seen] = await memory_pair.shop.fetch("product", ["RICH-1"])
    assert seen.record == msgspec.structs.replace(rich, tax_code="standard")  # the shop's class


async def test_the_simulator_renders_descriptions_in_view_context_only(memory_pair: Pair) -> None:
    text = 'Plain text.<script>x</script> <a href="javascript:go()" onclick="go()">go</a>'
    _, made = await _call(memory_pair, "POST", "/products", {"name": "A & B", "description": text})
    _, shown = await _call(memory_pair, "GET", f"/products/{made['id']}")
    _, kept = await _call(memory_pair, "GET", f"/products/{made['id']}", context="edit")
    assert kept["description"] == "Plain text.x <a>go</a>"
    assert shown["description"] == "<p>Plain text.x <a>go</a></p>\n"
    assert kept["name"] == "A &amp; B"
