"""Odoo's category path goes to Shopify as the product type and settles there; a path Shopify
could not give back as the same levels is refused naming the category, and kept.

The Odoo simulator and the Shopify simulator over real HTTP, real PostgreSQL as state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from odoo_shopify_pair import Pair, open_pair

from adapters.base import Adapter
from adapters.odoo.simulator.app import create_app as create_odoo_app
from canonical.models import Product
from engine.store.state import Store


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, create_odoo_app(products=40, varied=True), bulk=False):
        yield opened


async def categories(adapter: Adapter) -> dict[str, tuple[str, ...]]:
    snapshot = await adapter.snapshot("product", None)
    return {
        s.record.sku: s.record.category for s in snapshot.records if isinstance(s.record, Product)
    }


async def test_categories_go_out_as_the_product_type_and_settle(pair: Pair, store: Store) -> None:
    first = await pair.cycle(store, "product")
    assert first.failures == [] and first.rejected == [], first.counts
    erp, shop = await categories(pair.erp), await categories(pair.shop)
    assert set(shop) <= set(erp) and len(shop) > 10
    assert {sku: erp[sku] for sku in shop} == shop
    nested = [path for path in shop.values() if len(path) > 1]
    assert nested, "the catalogue has categories under others"
    assert any(" > " in p.product_type for p in pair.sim.products.values())
    await pair.assert_settled(store, "product")


async def test_a_category_shopify_would_not_give_back_is_refused_and_kept(
    pair: Pair, store: Store
) -> None:
    assert (await pair.cycle(store, "product")).failures == []
    shop_before = await categories(pair.shop)
    sku, path = next((sku, path) for sku, path in shop_before.items() if path)
    [leaf] = [
        rid for rid, row in pair.odoo.tables["product.category"].items() if row["name"] == path[-1]
    ]
    pair.odoo.edit("product.category", leaf, name="Mugs > Cups")
    refused = await pair.cycle(store, "product")
    assert refused.failures, refused.counts
    assert all("category" in f.reason and f.key in f.reason for f in refused.failures)
    assert sku in {f.key for f in refused.failures}
    # The shop keeps the category it had; the refusal waits for someone, named.
    assert (await categories(pair.shop))[sku] == path
    held = {letter.key for letter in await store.list_dead_letters("main")}
    assert sku in held
