"""The state store: the only place the sync cycle reads and writes Postgres.

A cycle reads what it needs with a few queries (:meth:`Store.load_records`,
:meth:`Store.load_cursors`, :meth:`Store.load_conflicts`), decides in memory, and writes
everything it changed with :meth:`Store.commit`: one transaction, one statement per kind of
change and per 5,000 records (arrays bound as parameters and unnested in SQL). So a cycle
either leaves its whole mark or none. Driver errors become :class:`StoreError` naming the
operation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import msgspec
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from adapters.base import SIDES, Side
from canonical.errors import StoreError
from engine.store.fencing import FencedOut, current_fence
from engine.store.health import DRIVER_ERRORS, StoreHealth
from engine.store.queries import query
from engine.store.rows import (
    CommitBatch,
    ConflictRow,
    DeadLetterRow,
    NewConflict,
    NewDeadLetter,
    ResolutionSource,
    RunRow,
    StoredRecord,
)

__all__ = [
    "CommitBatch",
    "ConflictNotOpen",
    "ConflictRow",
    "DeadLetterRow",
    "NewConflict",
    "NewDeadLetter",
    "RunRow",
    "Store",
    "StoredRecord",
    "UnknownConflict",
]

_CLOSING = frozenset({"applied", "dismissed"})
_SOURCES = frozenset({"erp", "shop", "value"})
_json = msgspec.json.Encoder()


class UnknownConflict(ValueError):
    """No conflict has this id."""


class ConflictNotOpen(ValueError):
    """The conflict was already resolved, applied or dismissed."""


class Store:
    """Concord's state in Postgres, on a pool made by :func:`engine.store.database.create_pool`."""

    def __init__(self, pool: asyncpg.Pool, *, health: StoreHealth | None = None) -> None:
        self._pool = pool
        self.health = health
        """The server's reachability, watched by long-running commands (``concord run``)."""

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool, shared with the stores of other topics (orders, webhooks)."""
        return self._pool

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[PoolConnectionProxy[Record]]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise StoreError(f"{operation}: {type(exc).__name__}: {exc}") from exc

    async def ensure_connection(self, name: str) -> None:
        """Register the connection ``name``; every other row refers to it."""
        async with self._connection("ensure connection") as conn:
            await conn.execute(query("ensure_connection"), name)

    async def load_records(
        self, connection: str, kind: str, keys: Collection[str] | None = None
    ) -> dict[str, StoredRecord]:
        """Base and links of every record of ``kind`` (or of those with ``keys``), by key, in
        one query."""
        async with self._connection(f"load {kind} records") as conn:
            if keys is None:
                rows = await conn.fetch(query("load_records"), connection, kind)
            else:
                rows = await conn.fetch(
                    query("load_records_for_keys"), connection, kind, list(keys)
                )
        return {row[0]: StoredRecord(*row) for row in rows}

    async def load_index(self, connection: str, kind: str) -> dict[str, StoredRecord]:
        """Links and seen digests of every record of ``kind``, without the base's fields
        (``fields`` is None in each): what a full cycle needs before it knows what changed."""
        async with self._connection(f"load {kind} index") as conn:
            rows = await conn.fetch(query("load_index"), connection, kind)
        return {row[0]: StoredRecord(*row) for row in rows}

    async def keys_of_refs(
        self, connection: str, kind: str, refs: Collection[tuple[Side, str]]
    ) -> dict[tuple[Side, str], str]:
        """The keys of the linked records these (side, ref) pairs belong to, where linked."""
        wanted = {side: sorted({ref for s, ref in refs if s == side}) for side in SIDES}
        async with self._connection(f"look up {kind} refs") as conn:
            rows = await conn.fetch(
                query("keys_of_refs"), connection, kind, wanted["erp"], wanted["shop"]
            )
        found: dict[tuple[Side, str], str] = {}
        for row in rows:
            for side in SIDES:
                ref = row[f"{side}_ref"]
                if ref is not None and (side, ref) in refs:
                    found[(side, ref)] = row["key"]
        return found

    async def load_cursors(self, connection: str, job: str) -> dict[str, str]:
        """Where ``job`` stopped reading, by side."""
        async with self._connection(f"load cursors of {job}") as conn:
            rows = await conn.fetch(query("load_cursors"), connection, job)
        return {row["side"]: row["value"] for row in rows}

    async def load_conflicts(
        self, connection: str, kind: str
    ) -> dict[tuple[str, str], ConflictRow]:
        """Open and resolved (not yet applied) conflicts of ``kind``, by (key, field)."""
        async with self._connection(f"load {kind} conflicts") as conn:
            rows = await conn.fetch(query("load_conflicts"), connection, kind)
        return {(row["key"], row["field"]): ConflictRow(**dict(row)) for row in rows}

    async def commit(self, batch: CommitBatch) -> int:
        """Write everything a cycle changed in one transaction; returns the run's id.

        Each kind of change is one statement over arrays per :data:`ROWS_PER_STATEMENT`
        records, so round trips grow a thousandth as fast as the records, and the rows' text
        is built one statement at a time (all of a 30,000-article export's base at once
        was the cycle's peak of memory). On any error nothing is written. Inside a job run by
        the loop, the commit is fenced (:mod:`engine.store.fencing`): :class:`FencedOut` when the
        job's lease went to a newer claim.
        """
        closing = _dedupe((key, field, s) for key, field, s in batch.conflicts_closed)
        bad = sorted({status for _, _, status in closing.values()} - _CLOSING)
        if bad:
            raise ValueError(f"a conflict is closed as applied or dismissed, not {bad}")
        head = (batch.connection, batch.kind)
        # (query, rows, the columns sent as JSON text)
        steps: list[tuple[str, Sequence[tuple[Any, ...]], tuple[int, ...]]] = []
        if batch.base_deletes:
            steps.append(("delete_base", [(key,) for key in sorted(set(batch.base_deletes))], ()))
        if batch.base_updates:
            steps.append(("merge_base", _merged(batch.base_updates), (1,)))
        if batch.links:
            steps.append(("upsert_links", _merged_links(batch.links), ()))
        if batch.seen:
            steps.append(("set_seen", _last_per_key(batch.seen), ()))
        if closing:
            steps.append(("close_conflicts", list(closing.values()), ()))
        if batch.conflicts_found:
            found = _dedupe(
                (c.key, c.field, c.base, c.erp, c.shop, c.reason, c.suggested)
                for c in batch.conflicts_found
            )
            steps.append(("upsert_conflicts", list(found.values()), (2, 3, 4)))
        if batch.dead_letters_cleared:
            cleared = {(key, side): (key, side) for key, side in batch.dead_letters_cleared}
            steps.append(("clear_dead_letters", list(cleared.values()), ()))
        if batch.dead_letters:
            letters = _dedupe((d.key, d.side, d.operation, d.reason) for d in batch.dead_letters)
            steps.append(("upsert_dead_letters", list(letters.values()), (2,)))
        operation = f"commit {batch.job} ({batch.kind})"
        fence = current_fence.get()
        async with self._connection(operation) as conn, conn.transaction():
            if fence is not None:
                holder = await conn.fetchval(query("fence_check"), fence.connection, fence.job)
                if holder != fence.token:
                    raise FencedOut(fence, holder)
            for name, rows, json_columns in steps:
                for start in range(0, len(rows), ROWS_PER_STATEMENT):
                    part = rows[start : start + ROWS_PER_STATEMENT]
                    await conn.execute(query(name), *head, *_columns(part, json_columns))
            if batch.cursors:
                await conn.execute(
                    query("upsert_cursors"),
                    batch.connection,
                    batch.job,
                    list(batch.cursors),
                    list(batch.cursors.values()),
                )
            run_id: int = await conn.fetchval(
                query("insert_run"),
                batch.connection,
                batch.job,
                batch.mode,
                batch.started_at,
                batch.status,
                batch.counts,
                batch.error,
            )
        return run_id

    async def record_failed_run(
        self,
        connection: str,
        job: str,
        mode: str,
        started_at: datetime,
        error: str,
        counts: dict[str, int] | None = None,
    ) -> int:
        """Record a run that failed before its commit: only the run row, nothing else changes."""
        async with self._connection(f"record failed run of {job}") as conn:
            run_id: int = await conn.fetchval(
                query("insert_run"),
                connection,
                job,
                mode,
                started_at,
                "failed",
                counts or {},
                error,
            )
        return run_id

    async def list_conflicts(
        self,
        connection: str | None = None,
        kind: str | None = None,
        status: str | None = "open",
        search: str | None = None,
        limit: int = 500,
    ) -> list[ConflictRow]:
        """Conflicts for review, oldest first. ``None`` filters nothing; ``search`` matches a
        substring of the key or the field name, ignoring case."""
        pattern = f"%{_escape_like(search)}%" if search else None
        async with self._connection("list conflicts") as conn:
            rows = await conn.fetch(
                query("list_conflicts"), connection, kind, status, pattern, limit
            )
        return [ConflictRow(**dict(row)) for row in rows]

    async def get_conflict(self, id: int) -> ConflictRow | None:
        """The conflict ``id``, or ``None`` when there is none."""
        async with self._connection(f"get conflict {id}") as conn:
            row = await conn.fetchrow(query("get_conflict"), id)
        return None if row is None else ConflictRow(**dict(row))

    async def resolve_conflict(
        self, id: int, *, source: ResolutionSource, value: Any, by: str
    ) -> ConflictRow:
        """Record a person's choice on an open conflict; the next cycle applies it.

        ``source`` says where ``value`` came from: the ERP's value, the shop's, or typed in.
        Raises :class:`UnknownConflict` or :class:`ConflictNotOpen` (both ``ValueError``).
        """
        if source not in _SOURCES:
            raise ValueError(f"source must be one of {sorted(_SOURCES)}, not {source!r}")
        async with self._connection(f"resolve conflict {id}") as conn:
            row = await conn.fetchrow(query("resolve_conflict"), id, value, source, by)
            if row is None:
                current = await conn.fetchrow(query("get_conflict"), id)
                if current is None:
                    raise UnknownConflict(f"there is no conflict {id}")
                raise ConflictNotOpen(
                    f"conflict {id} is {current['status']}; only an open conflict can be resolved"
                )
        return ConflictRow(**dict(row))

    async def count_open_conflicts(self, connection: str | None = None) -> int:
        """How many conflicts wait for a person (for ``connection``, or everywhere)."""
        async with self._connection("count open conflicts") as conn:
            count: int = await conn.fetchval(query("count_open_conflicts"), connection)
        return count

    async def list_runs(self, connection: str | None = None, limit: int = 20) -> list[RunRow]:
        """The most recent runs, newest first."""
        async with self._connection("list runs") as conn:
            rows = await conn.fetch(query("list_runs"), connection, limit)
        return [RunRow(**dict(row)) for row in rows]

    async def list_dead_letters(
        self, connection: str | None = None, status: str = "open"
    ) -> list[DeadLetterRow]:
        """Dead letters with ``status`` (``open`` or ``cleared``), oldest first."""
        async with self._connection("list dead letters") as conn:
            rows = await conn.fetch(query("list_dead_letters"), connection, status)
        return [DeadLetterRow(**dict(row)) for row in rows]

    async def acquire_lease(self, connection: str, job: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease on ``job`` for ``seconds``; false when another owner holds it."""
        async with self._connection(f"acquire lease on {job}") as conn:
            holder = await conn.fetchval(
                query("acquire_lease"), connection, job, owner, float(seconds)
            )
        return holder is not None

    async def release_lease(self, connection: str, job: str, owner: str) -> None:
        """Give the lease on ``job`` back, if ``owner`` still holds it."""
        async with self._connection(f"release lease on {job}") as conn:
            await conn.execute(query("release_lease"), connection, job, owner)


def _dedupe(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows by their first two columns, the last one winning: an upsert may touch a row once."""
    return {row[:2]: row for row in rows}


ROWS_PER_STATEMENT = 1000
"""Rows sent in one statement of a commit: the text of 5,000 base rows at once, with its
copies in the driver, was a commit's peak of memory (about 30 MB), for round trips that cost
little on the same machine."""


def _distinct(rows: Sequence[tuple[Any, ...]]) -> bool:
    """Whether no two rows have one key. A cycle's rows always do not: then they go as they
    are, rather than through a copy of every row (at 300,000 articles, tens of MB each)."""
    keys = {row[0] for row in rows}
    return len(keys) == len(rows)


_Row = TypeVar("_Row", bound=tuple[Any, ...])


def _last_per_key(rows: Sequence[_Row]) -> Sequence[_Row]:
    if _distinct(rows):
        return rows
    return list({row[0]: row for row in rows}.values())


def _merged(updates: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    if _distinct(updates):
        return updates
    merged: dict[str, dict[str, Any]] = {}
    for key, fields in updates:
        merged[key] = {**merged[key], **fields} if key in merged else fields
    return list(merged.items())


def _merged_links(
    links: list[tuple[str, str | None, str | None]],
) -> list[tuple[str, str | None, str | None]]:
    if _distinct(links):
        return links
    merged: dict[str, tuple[str, str | None, str | None]] = {}
    for key, erp_ref, shop_ref in links:
        _, old_erp, old_shop = merged.get(key, (key, None, None))
        merged[key] = (
            key,
            old_erp if erp_ref is None else erp_ref,
            old_shop if shop_ref is None else shop_ref,
        )
    return list(merged.values())


def _columns(rows: Iterable[tuple[Any, ...]], json_columns: tuple[int, ...]) -> tuple[Any, ...]:
    """Rows turned into one list per column, for unnest(); JSON columns encoded as text."""
    columns: list[list[Any]] = []
    for row in rows:
        if not columns:
            columns = [[] for _ in row]
        for index, value in enumerate(row):
            if index in json_columns and value is not None:
                value = _json.encode(value).decode()
            columns[index].append(value)
    return tuple(columns)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
