"""Convergence for Odoo -> Shopify: after a successful cycle, the next full and incremental
cycles write nothing and report no drift (the README's rules, every field both carry).

The Odoo simulator and the Shopify simulator over real HTTP, real PostgreSQL as state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from convergence_law import IDLE, writes
from odoo_shopify_pair import Pair, open_pair

from adapters.odoo.simulator.app import create_app as create_odoo_app
from adapters.odoo.simulator.dispatch import call
from engine.store.state import Store


@pytest.fixture(params=["pages", "bulk"])
async def pair(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    """The two sides; the shop's full reads page by page, or by bulk operations."""
    odoo_app = create_odoo_app(products=40, varied=True)
    async for opened in open_pair(tmp_path, odoo_app, bulk=request.param == "bulk"):
        yield opened


async def test_after_a_successful_product_cycle_the_next_writes_nothing(
    pair: Pair, store: Store
) -> None:
    first = await pair.cycle(store, "product")
    assert first.failures == [] and first.rejected == [], first.counts
    assert first.counts["created_shop"] > 0
    await pair.assert_settled(store, "product")
    # An ERP price and name change goes out once, then the cycles are idle again.
    templates = [
        rid
        for rid, row in pair.odoo.tables["product.template"].items()
        if row.get("active") is not False and len(row.get("product_variant_ids") or []) <= 1
    ]
    call(pair.odoo, "product.template", "write", templates[:2], {"vals": {"list_price": 77.7}}, {})
    call(
        pair.odoo, "product.template", "write", templates[2:3], {"vals": {"name": " Renamed "}}, {}
    )
    edited = await pair.cycle(store, "product")
    assert edited.failures == [] and edited.counts.get("writes_shop", 0) >= 3, edited.counts
    await pair.assert_settled(store, "product")


async def test_after_a_successful_stock_cycle_the_next_writes_nothing(
    pair: Pair, store: Store
) -> None:
    assert (await pair.cycle(store, "product")).failures == []
    first = await pair.cycle(store, "stock")
    assert first.failures == [] and first.rejected == [], first.counts
    assert first.counts.get("writes_shop", 0) > 0  # the ERP's counts went out
    await pair.assert_settled(store, "stock")


async def test_an_article_shopify_answers_unreadably_is_held_not_taken_for_gone(
    pair: Pair, store: Store
) -> None:
    assert (await pair.cycle(store, "product")).failures == []
    simple = next(
        v
        for v in pair.sim.variants.values()
        if len(pair.sim.product_variants(pair.sim.products[v.product_id])) == 1
    )
    sku, good = simple.sku, simple.price
    agreed = (await store.load_records("main", "product"))[sku]
    simple.price = Decimal("NaN")  # what no shop answers as a number

    held = await pair.cycle(store, "product")

    assert sku not in {op.key for ops in held.operations.values() for op in ops}, held.counts
    assert [r.key for r in held.rejected] == [sku] and "price" in held.rejected[0].reason
    assert (await store.load_records("main", "product"))[sku].fields == agreed.fields
    simple.price = good
    assert writes(await pair.cycle(store, "product")) == IDLE


async def test_cost_and_weight_go_out_once_and_a_weight_kept_in_grams_is_no_change(
    pair: Pair, store: Store
) -> None:
    first = await pair.cycle(store, "product")
    assert first.failures == [] and first.rejected == [], first.counts
    rows = {r["default_code"]: r for r in pair.odoo.tables["product.product"].values()}
    simple = [
        v
        for v in pair.sim.variants.values()
        if len(pair.sim.product_variants(pair.sim.products[v.product_id])) == 1
    ]
    # The ERP's cost and weight (kilograms) are what the shop holds.
    for variant in simple:
        row = rows[variant.sku]
        assert variant.cost == Decimal(str(row["standard_price"])).quantize(Decimal("0.01"))
        assert (variant.weight, variant.weight_unit) == (row["weight"], "KILOGRAMS")
    # The merchant shows one weight in grams: the same weight, nothing to write.
    grams, other = simple[0], simple[1]
    grams.weight = float(Decimal(repr(grams.weight)) * 1000)  # as typed: 370, not 370.00000001
    grams.weight_unit = "GRAMS"
    pair.sim.touch_product(pair.sim.products[grams.product_id])
    await pair.assert_settled(store, "product")
    # Another weight edited in the shop is drift from the ERP's: put back once, in kilograms.
    kilograms = other.weight
    other.weight, other.weight_unit = 2.0, "POUNDS"
    pair.sim.touch_product(pair.sim.products[other.product_id])
    reverted = await pair.cycle(store, "product")
    assert reverted.failures == [] and reverted.counts.get("writes_shop") == 1, reverted.counts
    assert (other.weight, other.weight_unit) == (kilograms, "KILOGRAMS")
    await pair.assert_settled(store, "product")


async def test_a_variants_own_cost_and_weight_the_erp_does_not_read_stay_as_the_shop_has_them(
    pair: Pair, store: Store
) -> None:
    """Odoo's variants are read without cost or weight: those Shopify's variants hold are the
    merchant's, never a change, and a write of the product for another field keeps them."""
    assert (await pair.cycle(store, "product")).failures == []
    product = next(p for p in pair.sim.products.values() if len(p.variant_ids) > 1)
    variant = pair.sim.variants[product.variant_ids[0]]
    variant.cost, variant.weight, variant.weight_unit = Decimal("3.10"), 120.0, "GRAMS"
    pair.sim.touch_product(product)
    await pair.assert_settled(store, "product")
    # The ERP raises the template's price: its variants are written, their weights kept.
    template = next(
        rid
        for rid, row in pair.odoo.tables["product.template"].items()
        if variant.sku
        in {
            pair.odoo.tables["product.product"][v]["default_code"]
            for v in row.get("product_variant_ids") or []
        }
    )
    call(pair.odoo, "product.template", "write", [template], {"vals": {"list_price": 88.8}}, {})
    edited = await pair.cycle(store, "product")
    assert edited.failures == [] and edited.counts.get("writes_shop") == 1, edited.counts
    assert variant.price == Decimal("88.80")
    assert (variant.cost, variant.weight, variant.weight_unit) == (
        Decimal("3.10"),
        0.12,
        "KILOGRAMS",
    )
    await pair.assert_settled(store, "product")
