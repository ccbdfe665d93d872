"""``concord demo`` over HTTP between the simulators, and its convergence check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.base import Adapter, Side
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform
from canonical.models import Product, Stock
from engine.cli.demo import DemoDiverged, DemoRound, check_converged, run_demo
from engine.store.state import Store


async def test_demo_runs_over_http_and_converges(store: Store) -> None:
    first, week = await run_demo(store, products=150, seed=2)
    assert first.requests["erp"] > 0 and first.requests["shop"] > 0
    assert first.results["products"].counts["created_shop"] > 0
    assert week.results["products"].counts["drift"] > 0
    assert week.results["stock"].counts["writes_erp"] > 0  # shop sales merged into the ERP
    held = {(c.key, c.field) for c in week.results["products"].conflicts}
    assert held and {field for _, field in held} == {"description"}
    assert {(c.key, c.field) for c in await store.list_conflicts(connection="demo")} == held


async def test_convergence_check_fails_loudly_naming_what_differs() -> None:
    erp, shop = MemoryPlatform(), MemoryPlatform()
    for platform, price in ((erp, "10"), (shop, "10.5")):
        platform.put(Product(sku="A-1", name="Mug", price=Decimal(price)))
        platform.put(Stock(sku="A-1", quantity=Decimal(3)))
    adapters: dict[Side, Adapter] = {"erp": MemoryAdapter(erp), "shop": MemoryAdapter(shop)}
    with pytest.raises(
        DemoDiverged, match=r"product A-1: ERP / shop differ on price: '10' / '10.5'"
    ):
        await check_converged(adapters, [DemoRound(title="t", results={})])
