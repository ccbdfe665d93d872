"""Stock available to sell, and a sale landing in the shop between the snapshot and the push."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal

import msgspec
import pytest

from adapters.base import Capabilities, ItemResult, Operation, Seen, Side, Snapshot
from adapters.memory.adapter import MemoryAdapter
from adapters.simkit import serve
from adapters.woocommerce import WooCommerceAdapter
from adapters.woocommerce.settings import AdapterSettings
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app, store_of
from canonical.models import Order, Stock
from engine.config import JobConfig
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store
from rules.policy import FieldRule, KindRules
from rules.transforms import Transforms

OWNED_BY_ERP = KindRules(default=FieldRule(owner="erp"))
AVAILABLE = msgspec.convert({"stock": {"available": True}}, Transforms)


class RacingShop:
    """The WooCommerce adapter, with a hook run once just before its next write: whatever the
    hook does to the shop happens between the cycle's snapshot and its push."""

    def __init__(self, inner: WooCommerceAdapter, before_write: Callable[[], None]) -> None:
        self.inner = inner
        self.rejected = inner.rejected
        self._before_write: Callable[[], None] | None = before_write

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        return await self.inner.snapshot(kind, since)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        return await self.inner.fetch(kind, keys)

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        hook, self._before_write = self._before_write, None
        if hook is not None:
            hook()
        return await self.inner.apply(kind, operations)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Shop(msgspec.Struct):
    adapter: WooCommerceAdapter
    sim: ShopStore


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    app = create_app(products=0)
    async with serve(app) as url:
        adapter = WooCommerceAdapter(
            AdapterSettings(url=url, consumer_key="ck_test", consumer_secret="cs_test")
        )
        try:
            yield Shop(adapter, store_of(app))
        finally:
            await adapter.aclose()


async def stock_cycle(store: Store, erp: MemoryAdapter, shop: object) -> CycleResult:
    adapters: dict[Side, object] = {"erp": erp, "shop": shop}
    return await run_cycle(
        store,
        connection="main",
        job_name="stock",
        job=JobConfig(kind="stock"),
        rules=OWNED_BY_ERP,
        adapters=adapters,  # type: ignore[arg-type]
        full=True,
        transforms=AVAILABLE,
    )


def quantity(sim: ShopStore, sku: str) -> int | None:
    item = sim.product_by_sku(sku)
    assert item is not None
    return item.stock_quantity


async def test_a_sale_during_the_cycle_is_carried_over_not_overwritten(
    shop: Shop, store: Store
) -> None:
    sim = shop.sim
    sim.add_product(sku="MUG", name="Mug", regular_price="9", manage_stock=True, stock_quantity=10)
    sim.add_product(sku="CUP", name="Cup", regular_price="4", manage_stock=True, stock_quantity=6)
    erp = MemoryAdapter()
    erp.platform.put(Stock(sku="MUG", quantity=Decimal(10)))
    erp.platform.put(Stock(sku="CUP", quantity=Decimal(6)))
    await stock_cycle(store, erp, shop.adapter)
    # A web order the ERP has not imported yet: the shop took 2 mugs out of its count.
    sim.add_order([("MUG", 2)], status="processing")
    # The warehouse receives 5 mugs and 1 cup.
    erp.platform.edit("stock", "MUG", quantity="15")
    erp.platform.edit("stock", "CUP", quantity="7")
    racing = RacingShop(
        shop.adapter, lambda: sim.add_order([("MUG", 1)], status="processing", email="b@x.org")
    )

    result = await stock_cycle(store, erp, racing)

    # Planned from the snapshot: 15 - 2 = 13 (the shop had 8); the shop sold one more before
    # the write, so 12 is written: 15 in the warehouse less the 3 not yet imported.
    assert [(op.key, op.fields["quantity"]) for op in result.operations["shop"]] == [
        ("CUP", "7"),
        ("MUG", "13"),
    ]
    assert result.failures == []
    assert quantity(sim, "MUG") == 12
    assert quantity(sim, "CUP") == 7

    settled = await stock_cycle(store, erp, shop.adapter)

    assert settled.operations == {"erp": [], "shop": []}
    assert quantity(sim, "MUG") == 12


async def test_an_imported_order_is_no_longer_taken_off_the_erp_stock(
    shop: Shop, store: Store
) -> None:
    sim = shop.sim
    sim.add_product(sku="MUG", name="Mug", regular_price="9", manage_stock=True, stock_quantity=10)
    erp = MemoryAdapter()
    erp.platform.put(Stock(sku="MUG", quantity=Decimal(10)))
    await stock_cycle(store, erp, shop.adapter)
    order = sim.add_order([("MUG", 4)], status="on-hold")

    pending = await stock_cycle(store, erp, shop.adapter)

    assert pending.operations == {"erp": [], "shop": []}  # 10 - 4 pending = the shop's 6
    # The order is imported: the ERP holds it and its stock went down by 4.
    seen = await shop.adapter.fetch("order", [order.number])
    assert isinstance(seen[0].record, Order)
    erp.platform.put(seen[0].record)
    erp.platform.edit("stock", "MUG", quantity="6")

    imported = await stock_cycle(store, erp, shop.adapter)

    assert imported.operations == {"erp": [], "shop": []}
    assert quantity(sim, "MUG") == 6


def test_available_to_sell_refuses_merge_delta_on_stock() -> None:
    from canonical.errors import ConfigError
    from engine.config import parse_config

    text = """
[connections.main.erp]
type = "memory"
[connections.main.shop]
type = "memory"
[connections.main.rules.stock]
default = { owner = "both", policy = "merge-delta" }
[connections.main.transforms.stock]
available = true
"""
    with pytest.raises(ConfigError, match=r"transforms\.stock\.available.*count an unimported"):
        parse_config(text, source="t.toml")
