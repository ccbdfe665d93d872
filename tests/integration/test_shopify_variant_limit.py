"""Shopify's variant-creation throttle (a shop past 50,000 variants creates 1,000 a day): the
creations it refuses are held as transient failures saying when they are retried and when the
last waiting one will be created; nothing is sent again until then, and the connection's
other requests are not slowed by the day-long ``Retry-After``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import Create, Done, Failed, Update
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.variant_limit import VariantAllowance
from adapters.simkit import serve
from canonical.fields import to_fields
from canonical.models import Product

TOKEN = "shpat_test"
ALLOWANCE = 2


def creation(sku: str) -> Create:
    article = Product(sku=sku, name=f"Mug {sku}", price=Decimal("12.50"), active=True)
    return Create(key=sku, fields=to_fields(article))


@pytest.fixture
async def shop() -> AsyncIterator[tuple[Any, simulator.ManualClock, ShopifyAdapter]]:
    clock = simulator.ManualClock()
    app = simulator.create_app(products=5, seed=3, clock=clock)
    store = simulator.shop_of(app).store
    # The shop is at the threshold already: every new variant counts against the day's.
    store.variant_threshold = len(store.variants)
    store.variants_per_day = ALLOWANCE
    async with serve(app) as url:
        adapter = ShopifyAdapter(
            ShopifySettings(
                url=url,
                access_token=TOKEN,
                location="Warehouse",
                bulk_write_above=3,
                calls_beside_bulk=False,
            )
        )
        adapter.allowance = VariantAllowance(clock=clock.time)
        try:
            yield app, clock, adapter
        finally:
            await adapter.aclose()


def _reason(result: Any) -> str:
    assert isinstance(result, Failed) and result.transient, result
    return result.reason


async def test_creations_past_the_allowance_wait_with_a_date(
    shop: tuple[Any, simulator.ManualClock, ShopifyAdapter],
) -> None:
    app, clock, adapter = shop
    counters = simulator.shop_of(app).counters
    results = [(await adapter.apply("product", [creation(f"NEW-{n}")]))[0] for n in range(3)]
    assert [type(r) for r in results[:ALLOWANCE]] == [Done] * ALLOWANCE
    reason = _reason(results[ALLOWANCE])
    assert reason.startswith("NEW-2: variant_limit:") and "1,000 variants a day" in reason
    assert "retried after 2026-01-02 00:00 UTC" in reason  # the next day of the shop's clock
    assert counters["variants_throttled"] == 1

    # Held: nothing is sent for creations, while updates and reads go on at full speed.
    held = await adapter.apply("product", [creation("NEW-3"), creation("NEW-4")])
    assert [r.key for r in held] == ["NEW-3", "NEW-4"]
    assert "3 articles wait" in _reason(held[1])
    assert counters["variants_throttled"] == 1
    assert adapter.client.http.budget.throttled == 0
    snapshot = await adapter.snapshot("product", None)
    [made] = [s for s in snapshot.records if s.record.natural_key() == "NEW-0"]
    renamed = Update(key="NEW-0", ref=made.ref, fields={"name": "Mug renamed"})
    assert isinstance((await adapter.apply("product", [renamed]))[0], Done)

    clock.advance(86_400)
    again = await adapter.apply("product", [creation("NEW-2")])
    assert isinstance(again[0], Done), again


async def test_a_bulk_mutation_past_the_allowance_holds_its_creations(
    shop: tuple[Any, simulator.ManualClock, ShopifyAdapter],
) -> None:
    _, _, adapter = shop
    results = await adapter.apply("product", [creation(f"BULK-{n}") for n in range(5)])
    done = [r for r in results if isinstance(r, Done)]
    held = [r for r in results if isinstance(r, Failed)]
    assert len(done) == ALLOWANCE and len(held) == 3
    assert all("variant_limit" in _reason(r) for r in held)
    assert adapter.allowance.held()
