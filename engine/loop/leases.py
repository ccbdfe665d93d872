"""Schedules, claims and leases in Postgres: how several workers share the jobs of one database.

Every worker registers the slots it can run (:class:`Slot`: a job's usual run, or its periodic
full resync). To run one, a worker *claims* it in one transaction: the due slot row is locked
(``FOR UPDATE SKIP LOCKED``, so two workers never wait on each other or take the same row), the
job's lease row is taken if no live lease holds it, and a claim row records who took it. While
the job runs the worker renews the lease (:meth:`Leases.renew`); when it ends, the claim is
closed, the lease dropped and the slot's next due time set, in one transaction. A worker that
dies stops renewing: once its lease expires, the next claim takes the job over and marks the dead
worker's claim ``expired``. Claims are the lease history: they show who ran what, when.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from canonical.errors import StoreError
from engine.store.health import DRIVER_ERRORS
from engine.store.queries import query


class Slot(msgspec.Struct, frozen=True, kw_only=True):
    """Something a worker can run on a schedule: a job's usual run or its full resync."""

    connection: str
    slot: str
    """The job's name for its usual run, ``name:full`` for its full resync."""
    job: str
    """The job (and its lease): both slots of a job never run at once."""
    mode: str
    """``incremental`` or ``full``."""
    schedule: str
    first_after: float = 0.0
    """Seconds from registration to the first due time."""


class Claim(msgspec.Struct, kw_only=True):
    """A slot this worker holds the lease of."""

    id: int
    connection: str
    slot: str
    job: str
    mode: str
    schedule: str
    due_at: datetime
    claimed_at: datetime
    took_over: bool = False
    """The job's previous lease had expired while its worker was running it."""


class ClaimRow(msgspec.Struct, frozen=True):
    """One claim as recorded (the lease history)."""

    id: int
    connection: str
    job: str
    slot: str
    owner: str
    due_at: datetime
    claimed_at: datetime
    renewed_until: datetime
    finished_at: datetime | None
    outcome: str
    run_id: int | None
    error: str | None


class Leases:
    """The loop's state in Postgres, on the store's connection pool."""

    def __init__(self, pool: asyncpg.Pool, owner: str) -> None:
        self._pool = pool
        self.owner = owner

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[PoolConnectionProxy[Record]]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise StoreError(f"{operation}: {type(exc).__name__}: {exc}") from exc

    async def register(self, slots: Sequence[Slot]) -> None:
        """Record the slots (and their connections); due times already agreed on are kept."""
        async with self._connection("register schedules") as conn, conn.transaction():
            for name in sorted({s.connection for s in slots}):
                await conn.execute(query("ensure_connection"), name)
            await conn.execute(
                query("schedule_sync"),
                [s.connection for s in slots],
                [s.slot for s in slots],
                [s.job for s in slots],
                [s.mode for s in slots],
                [s.schedule for s in slots],
                [s.first_after for s in slots],
            )

    async def claim(self, slots: Sequence[Slot], lease_seconds: float) -> Claim | None:
        """Claim the most overdue of ``slots`` whose job is free; ``None`` when none is."""
        keys = ([s.connection for s in slots], [s.slot for s in slots])
        async with self._connection("claim a job") as conn, conn.transaction():
            for row in await conn.fetch(query("schedule_due"), *keys, 8):
                claim = await self._take(conn, row, lease_seconds)
                if claim is not None:
                    return claim
        return None

    async def _take(
        self, conn: PoolConnectionProxy[Record], row: Record, lease_seconds: float
    ) -> Claim | None:
        connection, job = row["connection"], row["job"]
        held = await conn.fetchrow(query("lease_lock"), connection, job)
        if held is not None and held["live"]:
            return None
        # A savepoint: a worker that inserted the same lease meanwhile wins, and this attempt
        # leaves no claim row behind.
        try:
            async with conn.transaction():
                new = await conn.fetchrow(
                    query("claim_insert"),
                    connection,
                    job,
                    row["slot"],
                    self.owner,
                    row["next_due"],
                    float(lease_seconds),
                )
                assert new is not None  # an insert ... returning always returns its row
                taken = await conn.fetchval(
                    query("lease_take"),
                    connection,
                    job,
                    self.owner,
                    float(lease_seconds),
                    new["id"],
                )
                if taken is None:
                    raise _LeaseRace
        except _LeaseRace:
            return None
        if held is not None and held["claim_id"] is not None:
            await conn.execute(query("claim_expire"), held["claim_id"])
        return Claim(
            id=new["id"],
            connection=connection,
            slot=row["slot"],
            job=job,
            mode=row["mode"],
            schedule=row["schedule"],
            due_at=row["next_due"],
            claimed_at=new["claimed_at"],
            took_over=held is not None,
        )

    async def renew(self, claim: Claim, lease_seconds: float) -> bool:
        """Extend the claim's lease; false when it was lost (expired and taken over)."""
        async with self._connection(f"renew the lease on {claim.job}") as conn:
            until = await conn.fetchval(
                query("lease_renew"), claim.connection, claim.job, claim.id, float(lease_seconds)
            )
        return until is not None

    async def finish(
        self,
        claim: Claim,
        *,
        outcome: str,
        run_id: int | None,
        error: str | None,
        next_due: Callable[[datetime], datetime],
    ) -> bool:
        """Close the claim, give the lease back and set the slot's next due time from the
        database's clock (``next_due(now)``); false when the claim had been taken over."""
        async with self._connection(f"finish {claim.slot}") as conn, conn.transaction():
            now = await conn.fetchval(query("claim_finish"), claim.id, outcome, run_id, error)
            if now is None:
                return False
            await conn.execute(query("lease_drop"), claim.connection, claim.job, claim.id)
            await conn.execute(
                query("schedule_set_next"), claim.connection, claim.slot, next_due(now)
            )
        return True

    async def wait_seconds(self, slots: Sequence[Slot]) -> float | None:
        """Seconds until the next of ``slots`` is due (0 when one is); ``None``: all are leased."""
        keys = ([s.connection for s in slots], [s.slot for s in slots])
        async with self._connection("read schedules") as conn:
            seconds: float | None = await conn.fetchval(query("schedule_wait"), *keys)
        return None if seconds is None else max(0.0, seconds)

    async def prune(self, keep_days: int) -> int:
        """Forget run history older than ``keep_days`` days; returns how many runs went."""
        async with self._connection("prune run history") as conn, conn.transaction():
            await conn.execute(query("claims_prune"), keep_days)
            status: str = await conn.execute(query("runs_prune"), keep_days)
        return int(status.split()[-1])

    async def history(self, connection: str | None = None) -> list[ClaimRow]:
        """Every claim recorded, oldest first."""
        async with self._connection("read claims") as conn:
            rows = await conn.fetch(query("claim_history"), connection)
        return [ClaimRow(**dict(row)) for row in rows]

    async def fetch(self, name: str, *args: Any) -> list[Record]:
        """Rows of one of the loop's named queries (for status and metrics)."""
        async with self._connection(name.replace("_", " ")) as conn:
            return list(await conn.fetch(query(name), *args))


class _LeaseRace(Exception):
    """Another worker took the lease between the check and the insert."""
