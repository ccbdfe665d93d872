"""A creation whose answer is lost on the way back (the write went through, a proxy answered
502) is never sent twice: not by the HTTP client's retries, and not by the next attempts while
Shopify's search, which trails writes, could still miss the product it made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import Create, Done, Failed, Update
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.uncertain import LostCreations
from adapters.simkit import serve
from canonical.fields import to_fields
from canonical.models import Product

TOKEN = "shpat_test"
SEARCH_LAG = 30.0
WINDOW = 120.0


def _creation(sku: str) -> Create:
    article = Product(sku=sku, name=f"Jug {sku} — ünï", price=Decimal("18.00"), active=True)
    return Create(key=sku, fields=to_fields(article))


@pytest.fixture
async def shop() -> AsyncIterator[tuple[Any, simulator.ManualClock, ShopifyAdapter]]:
    clock = simulator.ManualClock()
    app = simulator.create_app(products=5, seed=4, clock=clock, search_lag=SEARCH_LAG)
    async with serve(app) as url:
        adapter = ShopifyAdapter(
            ShopifySettings(
                url=url, access_token=TOKEN, location="Warehouse", overlap_seconds=WINDOW
            )
        )
        adapter.lost = LostCreations(WINDOW, clock=clock.time)
        try:
            yield app, clock, adapter
        finally:
            await adapter.aclose()


def _products_with(app: Any, sku: str) -> set[int]:
    store = simulator.shop_of(app).store
    return {v.product_id for v in store.variants.values() if v.sku == sku}


async def test_a_creation_whose_answer_is_lost_is_not_created_twice(
    shop: tuple[Any, simulator.ManualClock, ShopifyAdapter],
) -> None:
    app, clock, adapter = shop
    counters = simulator.shop_of(app).counters
    simulator.shop_of(app).lose_mutation_answers = 1

    [first] = await adapter.apply("product", [_creation("JUG-1")])
    assert isinstance(first, Failed) and first.transient
    assert "JUG-1: no answer to its creation" in first.reason
    assert "not created again" in first.reason
    [made] = _products_with(app, "JUG-1")  # the write went through, once
    assert counters["answers_lost"] == 1

    # At once, and while the search still misses the product: held, nothing sent.
    for seconds in (0.0, SEARCH_LAG - 1):
        clock.advance(seconds)
        [held] = await adapter.apply("product", [_creation("JUG-1")])
        assert isinstance(held, Failed) and held.transient and "uncertain" in held.reason
    assert _products_with(app, "JUG-1") == {made}

    # Once the search shows it, the lookup finds the product and the article is written over it.
    clock.advance(2)
    [done] = await adapter.apply("product", [_creation("JUG-1")])
    assert isinstance(done, Done) and done.ref == f"gid://shopify/Product/{made}"
    assert _products_with(app, "JUG-1") == {made}
    assert adapter.lost.held("JUG-1") is None


async def test_a_creation_never_made_is_created_after_the_window(
    shop: tuple[Any, simulator.ManualClock, ShopifyAdapter],
) -> None:
    app, clock, adapter = shop
    shop_state = simulator.shop_of(app)
    # The answer is lost and the write did not happen: as the shop sees it, nothing exists.
    adapter.lost.lost("JUG-2", "no answer to its creation")
    [held] = await adapter.apply("product", [_creation("JUG-2")])
    assert isinstance(held, Failed) and "uncertain" in held.reason
    clock.advance(WINDOW)
    [done] = await adapter.apply("product", [_creation("JUG-2")])
    assert isinstance(done, Done)
    assert len(_products_with(app, "JUG-2")) == 1
    assert shop_state.counters.get("answers_lost", 0) == 0


async def test_an_update_whose_answer_is_lost_is_sent_again_at_once(
    shop: tuple[Any, simulator.ManualClock, ShopifyAdapter],
) -> None:
    app, _, adapter = shop
    snapshot = await adapter.snapshot("product", None)
    some = snapshot.records[0]
    simulator.shop_of(app).lose_mutation_answers = 1
    renamed = Update(key=some.record.natural_key(), ref=some.ref, fields={"name": "Renamed"})
    # The same values sent twice change nothing: the HTTP client sends it again by itself.
    [done] = await adapter.apply("product", [renamed])
    assert isinstance(done, Done) and done.ref == some.ref
    assert simulator.shop_of(app).counters["answers_lost"] == 1
    store = simulator.shop_of(app).store
    assert store.products[int(some.ref.rsplit("/", 1)[1])].title == "Renamed"
