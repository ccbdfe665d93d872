"""A record an adapter rejects is not a record lost: an article agreed on both sides whose ERP
data turns bad is held for that cycle (its base kept, nothing archived or written on either
side), reported as a dead letter naming the record and the reason, and synced again once the
data is fixed. Odoo and WooCommerce simulators, the real cycle, real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.sandbox import Sandbox, sandbox
from adapters.woocommerce.simulator import model as wc
from engine.cli.demo import DEMO_JOBS, DEMO_RULES
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store

JOB = DEMO_JOBS["products"]


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with sandbox(products=12, seed=7, shop_share=0.0, typo_rate=0.0) as running:
        yield running


async def products(store: Store, box: Sandbox) -> CycleResult:
    return await run_cycle(
        store,
        connection="main",
        job_name="products",
        job=JOB,
        rules=DEMO_RULES["product"],
        adapters=box.open_adapters(),
        full=True,
    )


def shop_product(box: Sandbox, sku: str) -> wc.Product:
    item = box.shop_store.product_by_sku(sku)
    assert isinstance(item, wc.Product), item
    return item


def writes(result: CycleResult) -> list[str]:
    return [op.key for ops in result.operations.values() for op in ops]


async def test_an_agreed_article_whose_sku_is_repeated_in_the_erp_is_held_not_lost(
    store: Store, box: Sandbox
) -> None:
    first = await products(store, box)
    assert first.counts.get("created_shop", 0) > 0, first.counts
    erp = box.erp_store
    sku = box.plain_articles()[0]
    agreed = (await store.load_records("main", "product"))[sku].fields
    before = shop_product(box, sku)
    shop_state = (before.status, before.name, before.regular_price)
    original = erp.product_id(sku)
    template = erp.tables["product.product"][original]["product_tmpl_id"]
    price = box.erp_price(sku) + 1
    # Someone copies the article in Odoo, code and all, then edits the original: Odoo now
    # lists the copy first, and which of the two is the shop's article would be a guess.
    erp.unique_default_code = False
    twin = erp.add("product.product", name="Copy of the article", default_code=sku)
    erp.edit("product.template", template, list_price=float(price))

    held = await products(store, box)

    after = shop_product(box, sku)
    assert (after.status, after.name, after.regular_price) == shop_state
    assert sku not in writes(held), held.operations
    assert (await store.load_records("main", "product"))[sku].fields == agreed
    [letter] = [d for d in await store.list_dead_letters("main") if d.key == sku]
    assert letter.side == "erp"
    assert str(original) in letter.reason and str(twin) in letter.reason, letter.reason

    # The copy gets a code of its own: the article syncs again, its new price goes out.
    erp.edit("product.product", twin, default_code=f"{sku}-COPY")
    fixed = await products(store, box)
    assert sku in writes(fixed)
    assert shop_product(box, sku).regular_price == f"{price:.2f}"
    # Read whole from the ERP again, the article's ERP letter is cleared by that very cycle.
    assert all(d.key != sku for d in await store.list_dead_letters("main"))
    settled = await products(store, box)
    assert writes(settled) == [], settled.operations


async def test_an_agreed_article_whose_erp_sku_is_emptied_is_held_not_archived(
    store: Store, box: Sandbox
) -> None:
    await products(store, box)
    erp = box.erp_store
    sku = box.plain_articles()[0]
    agreed = (await store.load_records("main", "product"))[sku].fields
    before = shop_product(box, sku)
    original = erp.product_id(sku)
    # The code is cleared in Odoo by mistake: the article can no longer be matched, but it is
    # still the one linked to the shop's product, which must stay on sale.
    erp.edit("product.product", original, default_code=False)

    held = await products(store, box)

    assert sku not in writes(held), held.operations
    assert shop_product(box, sku).status == before.status == "publish"
    assert (await store.load_records("main", "product"))[sku].fields == agreed
    [letter] = [d for d in await store.list_dead_letters("main") if d.key == sku]
    assert letter.side == "erp", letter
    assert f"product.product/{original}" in letter.reason, letter.reason
    assert "default_code" in letter.reason, letter.reason

    erp.edit("product.product", original, default_code=sku)
    back = await products(store, box)
    assert writes(back) == [], back.operations
    assert all(d.key != sku for d in await store.list_dead_letters("main"))


async def test_an_agreed_product_whose_shop_sku_is_emptied_is_not_created_again(
    store: Store, box: Sandbox
) -> None:
    await products(store, box)
    sku = box.plain_articles()[0]
    product = shop_product(box, sku)
    count = len(box.shop_store.products)
    # Someone clears the SKU in WooCommerce: the product is still the article's, and
    # creating the article again would put it twice on sale.
    box.shop_store.edit_product(product.id, sku="")

    held = await products(store, box)

    assert held.counts.get("created_shop", 0) == 0, held.counts
    assert len(box.shop_store.products) == count
    assert sku not in writes(held), held.operations
    [letter] = [d for d in await store.list_dead_letters("main") if d.key == sku]
    assert letter.side == "shop" and str(product.id) in letter.reason, letter
