"""The whole cycle on real PostgreSQL, between two in-memory platforms.

Named two-sided stories: what each side holds, what a cycle must do, and what must be true after.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.base import Side, Snapshot
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform
from canonical.models import Product, Stock
from engine.config import JobConfig
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store
from rules.policy import FieldRule, KindRules

PRODUCTS = JobConfig(kind="product")
STOCK = JobConfig(kind="stock")
RULES = KindRules(
    default=FieldRule(owner="erp"),
    fields={"description": FieldRule(owner="both", policy="manual")},
)
STOCK_RULES = KindRules(default=FieldRule(owner="both", policy="merge-delta"))


def product(sku: str, price: str = "10", name: str | None = None, **extra: object) -> Product:
    return Product(sku=sku, name=name or f"Article {sku}", price=Decimal(price), **extra)  # type: ignore[arg-type]


class Pair:
    """An ERP and a shop, in memory, behind the real adapter boundary."""

    def __init__(self) -> None:
        self.erp = MemoryAdapter(MemoryPlatform())
        self.shop = MemoryAdapter(MemoryPlatform())

    @property
    def adapters(self) -> dict[Side, MemoryAdapter]:
        return {"erp": self.erp, "shop": self.shop}

    async def cycle(
        self,
        store: Store,
        *,
        full: bool = True,
        job: JobConfig = PRODUCTS,
        rules: KindRules = RULES,
        dry_run: bool = False,
    ) -> CycleResult:
        return await run_cycle(
            store,
            connection="c",
            job_name=job.kind,
            job=job,
            rules=rules,
            adapters=dict(self.adapters),
            full=full,
            dry_run=dry_run,
        )


@pytest.fixture
def pair() -> Pair:
    return Pair()


async def test_first_run_matches_by_sku_and_creates_only_what_is_missing(
    pair: Pair, store: Store
) -> None:
    for sku in ("A", "B", "C"):
        pair.erp.platform.put(product(sku))
    pair.shop.platform.put(product("A"))
    pair.shop.platform.put(product("B", price="12"))  # a typo on an ERP-owned field

    result = await pair.cycle(store)

    assert pair.shop.platform.keys("product") == {"A", "B", "C"}
    assert result.counts["created_shop"] == 1
    assert pair.shop.platform.fields("product", "B")["price"] == "10"
    stored = await store.load_records("c", "product")
    assert set(stored) == {"A", "B", "C"}
    assert stored["C"].shop_ref == pair.shop.platform.records["product"]["C"].ref
    assert stored["A"].erp_ref == pair.erp.platform.records["product"]["A"].ref


async def test_a_second_cycle_after_a_successful_one_writes_nothing(
    pair: Pair, store: Store
) -> None:
    for sku in ("A", "B"):
        pair.erp.platform.put(product(sku))
    await pair.cycle(store)
    writes_before = pair.shop.apply_calls + pair.erp.apply_calls

    again = await pair.cycle(store)

    assert again.operations == {"erp": [], "shop": []}
    assert pair.shop.apply_calls + pair.erp.apply_calls == writes_before


async def test_refused_item_becomes_a_dead_letter_and_base_waits_for_it(
    pair: Pair, store: Store
) -> None:
    for sku in ("A", "B"):
        pair.erp.platform.put(product(sku))
        pair.shop.platform.put(product(sku))
    await pair.cycle(store)
    pair.erp.platform.edit("product", "A", price="11")
    pair.erp.platform.edit("product", "B", price="22")
    pair.shop.refuse["A"] = "product_invalid_price: price is locked"

    result = await pair.cycle(store)

    assert pair.shop.platform.fields("product", "B")["price"] == "22"  # the batch went on
    assert [(f.key, f.reason) for f in result.failures] == [
        ("A", "product_invalid_price: price is locked")
    ]
    stored = await store.load_records("c", "product")
    assert stored["A"].fields is not None and stored["A"].fields["price"] == "10"
    assert stored["B"].fields is not None and stored["B"].fields["price"] == "22"
    letters = await store.list_dead_letters("c")
    assert [(d.key, d.side, d.reason) for d in letters] == [
        ("A", "shop", "product_invalid_price: price is locked")
    ]

    del pair.shop.refuse["A"]
    await pair.cycle(store, full=False)

    assert pair.shop.platform.fields("product", "A")["price"] == "11"
    assert await store.list_dead_letters("c") == []


async def test_a_dead_letter_whose_record_agrees_now_is_cleared_without_a_write(
    pair: Pair, store: Store
) -> None:
    pair.erp.platform.put(product("A"))
    pair.shop.platform.put(product("A"))
    await pair.cycle(store)
    pair.erp.platform.edit("product", "A", price="11")
    pair.shop.refuse["A"] = "product_invalid_price: price is locked"
    await pair.cycle(store)
    assert [d.key for d in await store.list_dead_letters("c")] == ["A"]
    # The merchant fixed it by hand in the shop: nothing is left to write.
    del pair.shop.refuse["A"]
    pair.shop.platform.edit("product", "A", price="11")

    result = await pair.cycle(store, full=False)

    assert result.operations == {"erp": [], "shop": []}
    assert await store.list_dead_letters("c") == []
    assert [d.key for d in await store.list_dead_letters("c", status="cleared")] == ["A"]


async def test_transient_failures_are_retried_within_the_cycle(pair: Pair, store: Store) -> None:
    pair.erp.platform.put(product("A"))
    pair.shop.transient_failures = 2

    result = await pair.cycle(store)

    assert pair.shop.platform.keys("product") == {"A"}
    assert result.failures == []
    assert pair.shop.apply_calls == 3


async def test_a_crash_before_commit_leaves_base_untouched_and_the_next_cycle_converges(
    pair: Pair, store: Store
) -> None:
    pair.erp.platform.put(product("A"))
    await pair.cycle(store)
    base_before = await store.load_records("c", "product")
    pair.erp.platform.edit("product", "A", price="15")
    pair.erp.platform.put(product("NEW"))
    pair.shop.crash = RuntimeError("power cut")  # dies while pushing, before the commit

    with pytest.raises(RuntimeError, match="power cut"):
        await pair.cycle(store)

    assert await store.load_records("c", "product") == base_before
    runs = await store.list_runs("c")
    assert runs[0].status == "failed" and "power cut" in (runs[0].error or "")

    await pair.cycle(store)
    assert pair.shop.platform.keys("product") == {"A", "NEW"}
    assert pair.shop.platform.fields("product", "A")["price"] == "15"


async def test_incremental_cycle_reads_only_edits_and_matches_new_records_by_key(
    pair: Pair, store: Store
) -> None:
    for sku in ("A", "B"):
        pair.erp.platform.put(product(sku))
    await pair.cycle(store)
    pair.erp.platform.edit("product", "A", price="30")
    # Created in both by hand since the last cycle: must be matched, not duplicated.
    pair.erp.platform.put(product("C", price="5"))
    pair.shop.platform.put(product("C", price="5"))
    shop_c_ref = pair.shop.platform.records["product"]["C"].ref

    result = await pair.cycle(store, full=False)

    assert result.counts["read_erp"] == 2  # A and C, not B
    assert pair.shop.platform.fields("product", "A")["price"] == "30"
    assert pair.shop.platform.records["product"]["C"].ref == shop_c_ref
    assert result.counts.get("created_shop", 0) == 0
    assert (await store.load_records("c", "product"))["C"].shop_ref == shop_c_ref


async def test_conflict_is_held_until_resolved_then_applied_to_both_sides(
    pair: Pair, store: Store
) -> None:
    pair.erp.platform.put(product("A", description="old"))
    pair.shop.platform.put(product("A", description="old"))
    await pair.cycle(store)
    pair.erp.platform.edit("product", "A", description="from purchasing")
    pair.shop.platform.edit("product", "A", description="from marketing")

    found = await pair.cycle(store)
    assert [(c.key, c.field, c.reason) for c in found.conflicts] == [
        ("A", "description", "changed on both sides")
    ]
    assert pair.erp.platform.fields("product", "A")["description"] == "from purchasing"
    assert pair.shop.platform.fields("product", "A")["description"] == "from marketing"

    held = await pair.cycle(store, full=False)
    assert held.operations == {"erp": [], "shop": []}
    [row] = await store.list_conflicts(connection="c")

    await store.resolve_conflict(row.id, source="shop", value=row.shop, by="tester")
    await pair.cycle(store, full=False)

    assert pair.erp.platform.fields("product", "A")["description"] == "from marketing"
    assert await store.list_conflicts(connection="c") == []
    [closed] = await store.list_conflicts(connection="c", status="applied")
    assert closed.resolved_by == "tester" and closed.resolution == "from marketing"
    stored = await store.load_records("c", "product")
    assert stored["A"].fields is not None
    assert stored["A"].fields["description"] == "from marketing"


async def test_stock_sold_in_shop_and_received_in_erp_is_merged(pair: Pair, store: Store) -> None:
    pair.erp.platform.put(Stock(sku="A", quantity=Decimal(10)))
    pair.shop.platform.put(Stock(sku="A", quantity=Decimal(10)))
    await pair.cycle(store, job=STOCK, rules=STOCK_RULES)
    pair.erp.platform.edit("stock", "A", quantity="30")  # received 20
    pair.shop.platform.edit("stock", "A", quantity="7")  # sold 3

    await pair.cycle(store, job=STOCK, rules=STOCK_RULES, full=False)

    assert pair.erp.platform.fields("stock", "A")["quantity"] == "27"
    assert pair.shop.platform.fields("stock", "A")["quantity"] == "27"


async def test_duplicate_sku_in_shop_is_rejected_and_the_rest_syncs(
    pair: Pair, store: Store
) -> None:
    pair.erp.platform.put(product("A"))
    pair.erp.platform.put(product("B", price="20"))
    pair.shop.platform.put(product("B", price="21"))
    # A second shop record claiming SKU B: the platform's data is broken.
    pair.shop.platform.put_fields(
        "product", "B-copy", {**pair.shop.platform.fields("product", "B")}
    )
    pair.shop.platform.records["product"]["B-copy"].fields["sku"] = "B"

    result = await pair.cycle(store)

    assert [(r.side, r.key) for r in result.rejected] == [("shop", "B")]
    assert "used by several records" in result.rejected[0].reason
    assert pair.shop.platform.keys("product") == {"A", "B", "B-copy"}  # nothing created for B
    assert pair.shop.platform.fields("product", "B")["price"] == "21"  # nor overwritten
    letters = await store.list_dead_letters("c")
    assert [(d.key, d.side) for d in letters] == [("B", "shop")]


async def test_dry_run_writes_nothing_anywhere(pair: Pair, store: Store) -> None:
    pair.erp.platform.put(product("A"))
    sequence = pair.shop.platform.sequence

    result = await pair.cycle(store, dry_run=True)

    assert [op.key for op in result.operations["shop"]] == ["A"]
    assert pair.shop.platform.sequence == sequence
    assert await store.load_records("c", "product") == {}
    assert await store.list_runs("c") == []


async def test_record_gone_from_the_erp_is_archived_in_the_shop(pair: Pair, store: Store) -> None:
    for sku in ("A", "B"):
        pair.erp.platform.put(product(sku))
    await pair.cycle(store)
    pair.erp.platform.remove("product", "B")

    result = await pair.cycle(store)

    assert result.counts["archived"] == 1
    assert pair.shop.platform.fields("product", "B")["active"] is False
    assert (await pair.cycle(store)).operations == {"erp": [], "shop": []}


class AlwaysFullAdapter(MemoryAdapter):
    """A platform with no modification filter: every read is a full one (WooCommerce's
    customers list, for one)."""

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        return await super().snapshot(kind, None)


async def test_incremental_cycle_against_a_side_that_always_reads_in_full(store: Store) -> None:
    pair = Pair()
    pair.shop = AlwaysFullAdapter(MemoryPlatform())
    for sku in ("A", "B", "C"):
        pair.erp.platform.put(product(sku, description="same"))
    await pair.cycle(store)
    pair.erp.platform.edit("product", "A", price="30")
    pair.shop.platform.edit("product", "B", description="shop wording")

    result = await pair.cycle(store, full=False)

    assert result.conflicts == []
    assert pair.shop.platform.fields("product", "A")["price"] == "30"
    assert pair.erp.platform.fields("product", "B")["description"] == "shop wording"
    assert result.counts.get("created_erp", 0) == result.counts.get("created_shop", 0) == 0
    assert (await pair.cycle(store, full=False)).operations == {"erp": [], "shop": []}
