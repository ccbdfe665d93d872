"""The state the order import keeps in Postgres: intents, webhook deliveries, audit findings.

Each intent step is its own committed transaction, on purpose: the intent must be durable
*before* the ERP create, and its completion durable right after. A settled intent and the
order's link are written together, so a record is either pending or imported with its refs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import msgspec
from asyncpg.pool import PoolConnectionProxy

from canonical.errors import StoreError
from engine.store.health import DRIVER_ERRORS
from engine.store.queries import query
from engine.store.state import Store

KIND = "order"


class Intent(msgspec.Struct, frozen=True, kw_only=True):
    """The intent to import one shop order, keyed by its number."""

    key: str
    state: str
    erp_ref: str | None = None
    shop_ref: str | None = None
    payload: Any = None
    """What the intent will create (a :class:`~canonical.orders.SaleOrder` as builtins)."""
    reference: str | None = None
    """The ERP reference the order is created under (when read without the payload)."""


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One discrepancy the audit found."""

    connection: str
    kind: str
    key: str
    problem: str
    detail: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None


def idempotency_key(connection: str, shop_ref: str) -> str:
    """The one key of importing shop order ``shop_ref`` on ``connection``."""
    return f"{connection}/order/{shop_ref}"


class OrderStore:
    """Intents, deliveries and findings of the order import, on the state store's pool."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = store.pool

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[PoolConnectionProxy[Any]]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise StoreError(f"{operation}: {type(exc).__name__}: {exc}") from exc

    # -- intents ----------------------------------------------------------------------------

    async def begin(self, connection: str, key: str, shop_ref: str, payload: Any) -> Intent:
        """Write the intent to import ``key`` and commit it; a done intent comes back as is."""
        async with self._connection(f"write the intent for order {key}") as conn:
            row = await conn.fetchrow(
                query("intent_begin"),
                connection,
                KIND,
                key,
                idempotency_key(connection, shop_ref),
                payload,
                shop_ref,
            )
            if row is None:
                row = await conn.fetchrow(query("intent_get"), connection, KIND, key)
        assert row is not None
        return Intent(key=key, state=row["state"], erp_ref=row["erp_ref"], shop_ref=shop_ref)

    async def done(self, connection: str, key: str, shop_ref: str, erp_ref: str) -> None:
        """Settle the intent: the order is ``erp_ref`` in the ERP. Links it in the same
        transaction."""
        async with (
            self._connection(f"settle the intent for order {key}") as conn,
            conn.transaction(),
        ):
            await conn.execute(query("intent_done"), connection, KIND, key, erp_ref)
            await conn.execute(
                query("upsert_links"), connection, KIND, [key], [erp_ref], [shop_ref]
            )

    async def failed(self, connection: str, key: str, reason: str) -> None:
        """The ERP refused the order: nothing was created, the intent is no longer pending."""
        async with self._connection(f"record the refusal of order {key}") as conn:
            await conn.execute(query("intent_failed"), connection, KIND, key, reason)

    @asynccontextmanager
    async def exclusive(self, connection: str, shop_ref: str) -> AsyncIterator[bool]:
        """Hold the lock on importing one order for the block; yields false (and holds
        nothing) when another worker is importing it. A killed worker's lock goes with its
        database session."""
        lock = idempotency_key(connection, shop_ref)
        try:
            conn = await self._pool.acquire()
        except DRIVER_ERRORS as exc:
            raise StoreError(f"lock order {shop_ref}: {type(exc).__name__}: {exc}") from exc
        try:
            held = bool(await conn.fetchval(query("order_try_lock"), lock))
            try:
                yield held
            finally:
                if held:
                    await conn.fetchval(query("order_unlock"), lock)
        finally:
            await self._pool.release(conn)

    async def pending(self, connection: str) -> list[Intent]:
        """Intents a stopped run left between their write and their settling."""
        async with self._connection("list pending intents") as conn:
            rows = await conn.fetch(query("intents_pending"), connection, KIND)
        return [
            Intent(key=r["key"], state="pending", shop_ref=r["shop_ref"], payload=r["payload"])
            for r in rows
        ]

    async def of_keys(self, connection: str, keys: Sequence[str]) -> dict[str, Intent]:
        """The intents of these orders, whatever their state."""
        async with self._connection("read intents") as conn:
            rows = await conn.fetch(query("intents_of_keys"), connection, KIND, list(keys))
        return {
            r["key"]: Intent(
                key=r["key"],
                state=r["state"],
                erp_ref=r["erp_ref"],
                shop_ref=r["shop_ref"],
                reference=r["reference"],
            )
            for r in rows
        }

    async def imported_since(self, connection: str, since: datetime) -> list[Intent]:
        """Orders imported (or settled) since ``since``."""
        async with self._connection("list imported orders") as conn:
            rows = await conn.fetch(query("intents_done_since"), connection, KIND, since)
        return [
            Intent(key=r["key"], state="done", erp_ref=r["erp_ref"], shop_ref=r["shop_ref"])
            for r in rows
        ]

    async def counts(self, connection: str) -> dict[str, int]:
        """Intents per state."""
        async with self._connection("count intents") as conn:
            rows = await conn.fetch(query("intents_count"), connection, KIND)
        return {r["state"]: r["count"] for r in rows}

    # -- webhook deliveries -------------------------------------------------------------------

    async def claim_delivery(
        self, connection: str, delivery_id: str, topic: str, resource_id: str | None
    ) -> bool:
        """True the first time ``delivery_id`` is seen on ``connection``, false after."""
        await self.store.ensure_connection(connection)
        async with self._connection("record a webhook delivery") as conn:
            row = await conn.fetchval(
                query("webhook_delivery_claim"), connection, delivery_id, topic, resource_id
            )
        return row is not None

    async def release_delivery(self, connection: str, delivery_id: str) -> None:
        """Forget a delivery that could not be handled, so a redelivery is taken again."""
        async with self._connection("forget a webhook delivery") as conn:
            await conn.execute(query("webhook_delivery_release"), connection, delivery_id)

    async def prune_deliveries(self, days: int) -> None:
        async with self._connection("prune webhook deliveries") as conn:
            await conn.execute(query("webhook_deliveries_prune"), days)

    # -- audit findings -----------------------------------------------------------------------

    async def record_findings(self, connection: str, findings: Sequence[Finding]) -> None:
        """Open or refresh ``findings``; close the open ones of the kind not found again."""
        keys = [f.key for f in findings]
        problems = [f.problem for f in findings]
        async with self._connection("record audit findings") as conn, conn.transaction():
            await conn.execute(query("findings_close_others"), connection, KIND, keys, problems)
            if findings:
                await conn.execute(
                    query("findings_upsert"),
                    connection,
                    KIND,
                    keys,
                    problems,
                    [f.detail for f in findings],
                )

    async def findings(self, connection: str | None = None) -> list[Finding]:
        """Open findings, oldest first."""
        async with self._connection("list audit findings") as conn:
            rows = await conn.fetch(query("findings_list"), connection)
        return [Finding(**dict(r)) for r in rows]
