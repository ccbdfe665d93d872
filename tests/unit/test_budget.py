"""The request budget: lanes served by priority, throttle signals slow it down, it recovers."""

from __future__ import annotations

import asyncio

import pytest

from adapters.budget import HELD_BUCKETS, Budgets, RequestBudget, budget_for
from canonical.lanes import in_lane


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_queued_requests_are_served_by_lane_not_by_arrival() -> None:
    budget = RequestBudget("shop", requests_per_second=1000.0, max_concurrency=1)
    await budget.acquire("products")  # the one request in flight
    served: list[str] = []

    async def request(lane: str) -> None:
        async with budget.slot(lane):
            served.append(lane)

    tasks = []
    for lane in ("products", "products", "prices", "products", "stock", "orders"):
        tasks.append(asyncio.create_task(request(lane)))
        await asyncio.sleep(0)  # queued in this order
    assert budget.lanes["products"].waiting == 3
    budget.release()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

    assert served == ["orders", "stock", "prices", "products", "products", "products"]
    assert budget.lanes["orders"].overtook == 1
    assert budget.in_flight == 0


async def test_the_lane_comes_from_the_running_job() -> None:
    budget = RequestBudget("shop", requests_per_second=1000.0, max_concurrency=4)
    with in_lane("stock"):
        async with budget.slot():
            pass
    async with budget.slot():
        pass
    assert (budget.lanes["stock"].granted, budget.lanes["products"].granted) == (1, 1)


async def test_a_caller_giving_up_in_the_queue_keeps_no_turn() -> None:
    budget = RequestBudget("shop", requests_per_second=1000.0, max_concurrency=1)
    await budget.acquire("products")
    waiting = asyncio.create_task(budget.acquire("orders"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    budget.release()
    await asyncio.wait_for(budget.acquire("products"), timeout=5)
    assert budget.in_flight == 1
    assert budget.lanes["orders"].granted == 0


def test_a_throttle_signal_halves_the_rate_once_per_burst_then_it_recovers_gradually() -> None:
    clock = Clock()
    budget = RequestBudget(
        "shop", requests_per_second=20.0, max_concurrency=4, recovery=1.0, clock=clock
    )
    budget.throttle(retry_after=2.0)
    budget.throttle(retry_after=2.0)  # the same burst: the other requests in flight
    assert budget.current_rate() == 10.0
    clock.now += 1.0  # still paused: no recovery yet
    assert budget.current_rate() == 10.0
    clock.now += 3.0  # paused until +2 s, then 2 s at +1 request/s per second
    assert budget.current_rate() == pytest.approx(12.0)
    budget.throttle(retry_after=None)  # a new signal, later on
    assert budget.current_rate() == pytest.approx(6.0)
    clock.now += 60.0
    assert budget.current_rate() == 20.0  # back to the configured rate, never above


def test_clients_of_one_account_share_one_budget_within_a_worker() -> None:
    book = Budgets()
    with book.shared():
        first = budget_for("http://shop", requests_per_second=10.0, max_concurrency=4)
        second = budget_for("http://shop", requests_per_second=5.0, max_concurrency=8)
        other = budget_for("http://erp", requests_per_second=10.0, max_concurrency=4)
    assert first is second and first is not other
    assert (first.max_rate, first.max_concurrency) == (5.0, 4)  # the stricter limits
    assert sorted(b.account for b in book) == ["http://erp", "http://shop"]
    outside = budget_for("http://shop", requests_per_second=10.0, max_concurrency=4)
    assert outside is not first


async def test_each_request_is_counted_in_the_bucket_of_its_time_in_flight() -> None:
    clock = Clock()
    budget = RequestBudget("shop", requests_per_second=1000.0, max_concurrency=4, clock=clock)
    for took in (0.02, 0.2, 3.0, 120.0):
        async with budget.slot("stock"):
            clock.now += took
    counts = dict(zip((*HELD_BUCKETS, "longer"), budget.lanes["stock"].held_counts, strict=True))
    assert (counts[0.05], counts[0.25], counts[5.0], counts["longer"]) == (1, 1, 1, 1)
    assert sum(budget.lanes["stock"].held_counts) == 4
    assert budget.lanes["stock"].held_seconds == pytest.approx(123.22)
