"""The request budgets of every worker on one database, shared through PostgreSQL.

Each platform account has one row, its timeline of request slots (``concord_budget``). A worker's
budget (:class:`adapters.budget.RequestBudget`) takes the next slice of it in one statement, which
moves the row's ``next_free`` past the slice (the row lock orders concurrent takers), and starts
that slice's requests itself, through its priority lanes. Several workers on one account thus
take turns on one timeline: together they never go faster than its rate, and a worker with
nothing to send takes no slice.
"""

from __future__ import annotations

import asyncpg

from canonical.errors import StoreError
from engine.store.health import DRIVER_ERRORS
from engine.store.queries import query


class PostgresGrants:
    """A :class:`adapters.budget.GrantSource` on the store's connection pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def grant(self, account: str, seconds: float) -> float:
        try:
            async with self._pool.acquire() as conn:
                offset: float = await conn.fetchval(query("budget_grant"), account, seconds)
        except DRIVER_ERRORS as exc:
            raise StoreError(f"take a share of {account}'s budget: {exc}") from exc
        return offset
