"""Cycles between the Odoo and WooCommerce simulators while they misbehave on purpose.

Each profile switches on one kind of fault (``adapters/simkit.py``) on both simulators, makes
edits on both sides, and runs the product and stock jobs. The cycle completes; every record is
then either the same on both sides or parked as a dead letter with its reason; base never holds
a value a failed push did not deliver (checked against what the platforms hold); once the
faults stop, the next cycles clear every dead letter. Retries are bounded and back off: with
every write refused, the shop serves no more requests than the retry limits allow, and the
pushes are spaced by growing delays (or by the announced Retry-After).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import pytest
from reliability_support import field_differences, read_side

from adapters import simkit
from adapters.base import (
    SIDES,
    Adapter,
    Capabilities,
    ItemResult,
    Operation,
    Seen,
    Side,
    Snapshot,
)
from adapters.odoo.simulator.dispatch import call
from adapters.registry import build_adapter
from adapters.sandbox import Sandbox, sandbox
from canonical.fields import to_fields
from engine.cli.demo import DEMO_JOBS, DEMO_RULES
from engine.cycle.carried import compared_fields, drop, uncarried
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store

CONNECTION = "faults"
HTTP_ATTEMPTS = 2
PROFILES: dict[str, simkit.Faults] = {
    "5xx-10pct": simkit.Faults(error_rate=0.10, seed=1),
    "429-storm": simkit.Faults(rate_limit=15.0, retry_after=0.2),
    "timeouts": simkit.Faults(timeout_rate=0.04, hang_seconds=2.0, seed=2),
    "truncated-json": simkit.Faults(truncate_rate=0.10, seed=3),
    "slow-pages": simkit.Faults(latency=0.03),
}


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with sandbox(products=120, seed=9, shop_share=0.7, typo_rate=0.05) as running:
        yield running


def build(box: Sandbox, side: Side, **overrides: Any) -> Adapter:
    """An adapter of its own (the sandbox's filled the shop) that gives a hung request up
    after half a second."""
    settings = {**box.settings[side], "timeout": 0.5, **overrides}
    return build_adapter(settings, source="(faults)", path=side)


@pytest.fixture
async def adapters(box: Sandbox) -> AsyncIterator[dict[Side, Adapter]]:
    built = {side: build(box, side) for side in SIDES}
    try:
        yield built
    finally:
        for adapter in built.values():
            await adapter.aclose()


async def cycle(store: Store, adapters: Mapping[Side, Adapter], job_name: str) -> CycleResult:
    job = DEMO_JOBS[job_name]
    return await run_cycle(
        store,
        connection=CONNECTION,
        job_name=job_name,
        job=job,
        rules=DEMO_RULES[job.kind],
        adapters=adapters,
        full=True,
    )


def edit_both_sides(box: Sandbox, round_: int) -> None:
    plain = box.plain_articles()
    for sku in plain[round_ * 10 : round_ * 10 + 8]:
        box.set_erp_price(sku, (box.erp_price(sku) + Decimal("2.5")).quantize(Decimal("0.01")))
    for sku in plain[-(round_ + 1) * 4 : -round_ * 4 or None]:
        box.set_shop_description(sku, f"Shop copy {round_}")
    for sku in box.stocked_articles()[round_ * 6 : round_ * 6 + 5]:
        box.receive_in_erp(sku, 7)


async def check_synced_or_parked(store: Store, adapters: Mapping[Side, Adapter]) -> dict[str, str]:
    """Every product agrees on both sides or has a dead letter with a reason; base holds, for
    each parked record, what the side its write failed on still holds. Returns the letters."""
    erp = await read_side(adapters["erp"], "product")
    shop = await read_side(adapters["shop"], "product")
    letters = {
        (d.key, d.side): d.reason
        for d in await store.list_dead_letters(CONNECTION)
        if d.kind == "product"
    }
    assert all(reason.strip() for reason in letters.values()), letters
    parked = {key for key, _ in letters}
    compared = compared_fields("product", adapters)
    left_out = uncarried("product", adapters)
    differ = field_differences(erp, shop, compared)
    assert differ.keys() <= parked, {k: v for k, v in differ.items() if k not in parked}
    stored = await store.load_records(CONNECTION, "product")
    for key, record in stored.items():
        if record.fields is None:
            continue
        for side in ("erp", "shop"):
            held = erp if side == "erp" else shop
            if key not in held:
                continue
            read = to_fields(held[key])
            drop(read, left_out)  # variant fields one side cannot carry, as the base has them
            values = {f: v for f, v in read.items() if f in compared}
            base = {f: v for f, v in record.fields.items() if f in compared}
            if (key, side) in letters or key not in parked:
                # A write that failed left base at what that side still holds; a record with
                # nothing parked has base, ERP and shop equal.
                assert base == {f: values.get(f) for f in base}, (key, side, base, values)
    return {f"{side} {key}": reason for (key, side), reason in letters.items()}


@pytest.mark.parametrize("profile", list(PROFILES))
async def test_cycles_complete_under_faults_and_nothing_is_lost(
    store: Store,
    box: Sandbox,
    adapters: dict[Side, Adapter],
    profile: str,
    record_property: Any,
) -> None:
    await cycle(store, adapters, "products")  # a clean start: matched, created, typos reverted
    await cycle(store, adapters, "stock")
    box.reset_stats()
    faults = PROFILES[profile]
    for app in (box.erp_app, box.shop_app):
        simkit.set_faults(app, faults)
    parked: dict[str, str] = {}
    for round_ in range(2):
        edit_both_sides(box, round_)
        for job in ("products", "stock"):
            result = await cycle(store, adapters, job)  # completes: no exception
            assert result.run_id is not None
        parked |= await check_synced_or_parked(store, adapters)
    injected = {side: box.stats(side) for side in ("erp", "shop")}
    record_property("injected", {s: repr(v) for s, v in injected.items()})
    record_property("parked", len(parked))
    served = sum(s.errors + s.throttled + s.timeouts + s.truncated for s in injected.values())
    assert served > 0 or profile == "slow-pages", injected

    for app in (box.erp_app, box.shop_app):
        simkit.set_faults(app, simkit.Faults())
    for job in ("products", "stock", "products"):
        await cycle(store, adapters, job)
    assert await store.list_dead_letters(CONNECTION) == []
    assert await check_synced_or_parked(store, adapters) == {}


async def test_fractional_stock_is_refused_item_by_item_and_the_batch_goes_through(
    store: Store, box: Sandbox, adapters: dict[Side, Adapter]
) -> None:
    await cycle(store, adapters, "products")
    await cycle(store, adapters, "stock")
    stocked = box.stocked_articles()
    bad, good = stocked[:3], stocked[3:12]
    erp = box.erp_store
    for sku in bad:
        product = erp.product_id(sku)
        quant = next(q for (p, _), q in erp.quant_at.items() if p == product)
        erp.edit("stock.quant", quant, inventory_quantity=2.5)
        call(erp, "stock.quant", "action_apply_inventory", [quant], {}, {})
    for sku in good:
        box.receive_in_erp(sku, 4)
    before = {sku: box.shop_stock(sku) for sku in stocked[:12]}

    result = await cycle(store, adapters, "stock")

    failed = {f.key: f.reason for f in result.failures}
    assert failed.keys() == set(bad), failed
    assert all("whole" in reason for reason in failed.values()), failed
    assert all(box.shop_stock(sku) == before[sku] + 4 for sku in good)
    stored = await store.load_records(CONNECTION, "stock")
    for sku in bad:  # base did not move to a value the shop never took
        fields = stored[sku].fields
        assert fields is not None and Decimal(str(fields["quantity"])) == before[sku]
    letters = {d.key: d.reason for d in await store.list_dead_letters(CONNECTION)}
    assert letters.keys() == set(bad)


class RefusingWrites:
    """The shop's adapter, with the simulator switched to refuse everything once writing
    starts (reads went through), and the moment of each write attempt recorded."""

    def __init__(self, inner: Adapter, app: Any, faults: simkit.Faults) -> None:
        self.inner, self.app, self.faults = inner, app, faults
        self.attempts: list[float] = []
        self.rejected = inner.rejected

    @property
    def capabilities(self) -> Capabilities:
        return self.inner.capabilities

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        return await self.inner.snapshot(kind, since)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        return await self.inner.fetch(kind, keys)

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        if not self.attempts:
            simkit.set_faults(self.app, self.faults)
        self.attempts.append(time.monotonic())
        return await self.inner.apply(kind, operations)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(
    "fault",
    [simkit.Faults(error_rate=1.0), simkit.Faults(rate_limit=0.001, retry_after=0.3)],
    ids=["5xx", "429-retry-after"],
)
async def test_retries_are_bounded_and_back_off_and_base_stays(
    store: Store, box: Sandbox, adapters: dict[Side, Adapter], fault: simkit.Faults
) -> None:
    await cycle(store, adapters, "products")
    changed = box.plain_articles()[:5]
    old = {sku: box.shop_store.product_by_sku(sku).regular_price for sku in changed}  # type: ignore[union-attr]
    for sku in changed:
        box.set_erp_price(sku, box.erp_price(sku) + 3)
    # The shop's client tries a request twice at most here (5 by default).
    shop = build(box, "shop", max_attempts=HTTP_ATTEMPTS)
    refusing = RefusingWrites(shop, box.shop_app, fault)
    box.reset_stats()

    try:
        result = await run_cycle(
            store,
            connection=CONNECTION,
            job_name="products",
            job=DEMO_JOBS["products"],
            rules=DEMO_RULES["product"],
            adapters={"erp": adapters["erp"], "shop": refusing},  # type: ignore[dict-item]
            full=True,
        )
    finally:
        await shop.aclose()

    pusher_attempts = 5  # engine.cycle.push.Pusher's default
    assert {f.key for f in result.failures} == set(changed)
    assert all("gave up after 5 attempts" in f.reason for f in result.failures)
    assert len(refusing.attempts) == pusher_attempts  # one batch, tried 5 times, no more
    stats = box.stats("shop")
    writes_seen = stats.errors + stats.throttled
    assert 0 < writes_seen <= pusher_attempts * HTTP_ATTEMPTS, stats
    gaps = [b - a for a, b in zip(refusing.attempts, refusing.attempts[1:], strict=False)]
    if fault.error_rate:
        # Exponential backoff with jitter: the n-th wait is at least half of 0.5 * 2**(n-1).
        assert all(gap >= 0.25 * 2**n for n, gap in enumerate(gaps)), gaps
    else:
        assert all(gap >= fault.retry_after for gap in gaps), gaps  # Retry-After honoured
    stored = await store.load_records(CONNECTION, "product")
    for sku in changed:
        fields = stored[sku].fields
        assert fields is not None and Decimal(fields["price"]) == Decimal(old[sku])
        assert box.shop_store.product_by_sku(sku).regular_price == old[sku]  # type: ignore[union-attr]
    letters = {d.key for d in await store.list_dead_letters(CONNECTION)}
    assert letters == set(changed)
