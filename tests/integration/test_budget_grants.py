"""The shared request timeline in Postgres: slices granted back to back, whoever asks."""

from __future__ import annotations

import asyncio

from adapters.budget import RequestBudget
from engine.loop.budget_grants import PostgresGrants
from engine.store.state import Store


async def test_slices_of_one_account_follow_each_other_and_other_accounts_are_apart(
    store: Store,
) -> None:
    grants = PostgresGrants(store.pool)
    first = await grants.grant("https://shop.example/wp-json/wc/v3", 2.0)
    second = await grants.grant("https://shop.example/wp-json/wc/v3", 2.0)
    other = await grants.grant("https://other.example/wp-json/wc/v3", 2.0)
    assert first <= 0.0 < second <= 2.0  # the second slice starts where the first ends
    assert second - first > 1.5
    assert other <= 0.0  # another account has its own timeline


async def test_budgets_of_three_workers_take_turns_on_one_timeline(store: Store) -> None:
    grants = PostgresGrants(store.pool)
    budgets = [
        RequestBudget("acct", requests_per_second=20, max_concurrency=4, grants=grants)
        for _ in range(3)
    ]

    async def send(budget: RequestBudget, count: int) -> None:
        for _ in range(count):
            async with budget.slot():
                pass

    await asyncio.gather(*(send(budget, 10) for budget in budgets))
    async with store.pool.acquire() as conn:
        taken = await conn.fetchval("select grants from concord_budget where account = 'acct'")
    # 30 requests at 20/s in slices of 5: at least 6 slices, every one from the shared row.
    assert sum(b.slices for b in budgets) == taken >= 6
    assert all(b.slices >= 2 for b in budgets)
