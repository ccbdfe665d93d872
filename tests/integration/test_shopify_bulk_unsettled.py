"""A bulk mutation Concord lost track of after it started (a poll failed) goes on running on
Shopify's side: its creations are not sent again while it runs, however long, and once it
has ended its result says which products it made, so each article exists once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import Create, Done, Failed, ItemResult, TransientError
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
COUNT = 25
"""Articles per batch: more than ``bulk_write_above`` (20), so written by a bulk mutation."""
BLANK = "VASE-003"
"""Refused by Shopify (a blank title)."""

Shop = tuple[Any, simulator.ManualClock, ShopifyAdapter]


def _creations() -> list[Create]:
    made = []
    for number in range(COUNT):
        sku = f"VASE-{number:03d}"
        name = "" if sku == BLANK else f"Vase {number} — ünï"
        article = Product(sku=sku, name=name, price=Decimal("24.00"), active=True)
        made.append(Create(key=sku, fields=to_fields(article)))
    return made


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    clock = simulator.ManualClock()
    app = simulator.create_app(products=5, seed=4, clock=clock, search_lag=SEARCH_LAG)
    async with serve(app) as url:
        adapter = ShopifyAdapter(
            ShopifySettings(
                url=url,
                access_token=TOKEN,
                location="Warehouse",
                overlap_seconds=WINDOW,
                bulk_poll_seconds=0.05,
                calls_beside_bulk=False,
                # A failed poll fails at once rather than after the HTTP client's backoff.
                max_attempts=1,
            )
        )
        adapter.lost = LostCreations(WINDOW, clock=clock.time)
        try:
            yield app, clock, adapter
        finally:
            await adapter.aclose()


def _products_of(app: Any) -> dict[str, set[int]]:
    """SKU -> the products holding a variant with it, of the articles written here."""
    found: dict[str, set[int]] = {}
    for variant in simulator.shop_of(app).store.variants.values():
        if variant.sku and variant.sku.startswith("VASE-"):
            found.setdefault(variant.sku, set()).add(variant.product_id)
    return found


async def _lose_track_of_a_bulk_mutation(app: Any, adapter: ShopifyAdapter) -> int:
    """A batch's bulk mutation started, held created, its first poll failed; later bulk
    operations run through at once, so that a creation sent again would show."""
    operations = simulator.bulk_of(app)
    operations.hold = True
    simulator.shop_of(app).fail_bulk_polls = 1
    with pytest.raises(TransientError, match="may still be running"):
        await adapter.apply("product", _creations())
    operation: int = await operations.created()
    operations.hold = False
    assert simulator.shop_of(app).counters["bulk_polls_failed"] == 1
    return operation


def _reasons(results: list[ItemResult]) -> list[str]:
    assert all(isinstance(r, Failed) and r.transient for r in results), results
    return [r.reason for r in results if isinstance(r, Failed)]


async def test_a_bulk_mutation_still_running_after_a_failed_poll_creates_each_article_once(
    shop: Shop,
) -> None:
    app, clock, adapter = shop
    operations = simulator.bulk_of(app)
    operation = await _lose_track_of_a_bulk_mutation(app, adapter)
    name = f"gid://shopify/BulkOperation/{operation}"
    operations.start(operation)
    await operations.wait_running(operation)

    # Long after the search's window, the operation still runs: nothing is sent again.
    clock.advance(WINDOW + 1)
    results = await adapter.apply("product", _creations())
    assert _products_of(app) == {}
    reasons = _reasons(results)
    assert all(f"bulk operation {name}" in r and "still running (RUNNING)" in r for r in reasons)
    # Its status unknown, the same: held, the operation asked about once for the batch.
    simulator.shop_of(app).fail_bulk_polls = 2
    reasons = _reasons(await adapter.apply("product", _creations()))
    assert all(name in r and "its status unknown" in r for r in reasons)
    assert simulator.shop_of(app).fail_bulk_polls == 1
    simulator.shop_of(app).fail_bulk_polls = 0
    assert list(operations.operations) == [operation]
    assert _products_of(app) == {}

    # It completes; the search does not show its products yet, its result does.
    operations.finish(operation)
    assert (await operations.wait(operation)).status == "COMPLETED"
    made = _products_of(app)
    assert len(made) == COUNT - 1 and all(len(p) == 1 for p in made.values())
    results = await adapter.apply("product", _creations())
    done = {r.key: r.ref for r in results if isinstance(r, Done)}
    assert done == {sku: f"gid://shopify/Product/{min(p)}" for sku, p in made.items()}
    [refused] = [r for r in results if isinstance(r, Failed)]
    assert refused.key == BLANK and "Title can't be blank" in refused.reason

    clock.advance(WINDOW)
    results = await adapter.apply("product", _creations())
    assert {r.key for r in results if isinstance(r, Done)} == set(made)
    assert _products_of(app) == made


async def test_a_cancelled_bulk_mutation_lets_its_creations_go_a_window_after_it_ended(
    shop: Shop,
) -> None:
    app, clock, adapter = shop
    operation = await _lose_track_of_a_bulk_mutation(app, adapter)
    clock.advance(WINDOW + 1)
    await adapter.client.execute(
        "mutation Cancel($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }",
        {"id": f"gid://shopify/BulkOperation/{operation}"},
        cost=10,
    )
    # Ended without a result: what it made, if anything, the search shows within the window.
    reasons = _reasons(await adapter.apply("product", _creations()))
    assert all("uncertain: the answer to its creation was lost 0 s ago" in r for r in reasons)
    clock.advance(WINDOW)
    results = await adapter.apply("product", _creations())
    assert sum(isinstance(r, Done) for r in results) == COUNT - 1
    made = _products_of(app)
    assert len(made) == COUNT - 1 and all(len(p) == 1 for p in made.values())
