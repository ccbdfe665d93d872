"""What the review and status pages read and write, on the state store's pool.

Queries live in ``engine/store/sql/review.sql``. Resolutions from the pages carry the version of
each conflict as the reviewer saw it (its ``updated_at``): a conflict a cycle refreshed in between
(new ERP or shop value) is left open and reported, so nobody settles a value they never saw.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec
from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from canonical.errors import StoreError
from engine.store.health import DRIVER_ERRORS
from engine.store.queries import query
from engine.store.state import ConflictRow, RunRow, Store

Take = Literal["erp", "shop", "suggested"]
"""Which value a resolution takes: one side's, or the computed suggestion."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def version_of(row: ConflictRow) -> int:
    """The conflict's version as a page carries it: ``updated_at`` in whole microseconds."""
    return (row.updated_at - _EPOCH) // timedelta(microseconds=1)


def _moment(version: int | None) -> datetime | None:
    return None if version is None else _EPOCH + timedelta(microseconds=version)


class Target(msgspec.Struct, frozen=True):
    """A conflict to resolve, with the version the reviewer saw (``None``: not checked)."""

    id: int
    version: int | None = None


class Facet(msgspec.Struct, frozen=True):
    """How many conflicts are open for one connection, kind and field."""

    connection: str
    kind: str
    field: str
    open: int


class Event(msgspec.Struct, frozen=True):
    """One entry of the review trail."""

    id: int
    connection: str
    at: datetime
    actor: str
    action: str
    kind: str
    key: str
    field: str | None
    side: str | None
    conflict_id: int | None
    dead_letter_id: int | None
    detail: dict[str, Any]


class DeadLetter(msgspec.Struct, frozen=True):
    """An open dead letter with the last retry a person asked for."""

    id: int
    connection: str
    kind: str
    key: str
    side: str
    reason: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    retry_by: str | None
    retry_at: datetime | None

    @property
    def retry_pending(self) -> bool:
        """A retry was asked for and no cycle has failed on it since."""
        return self.retry_at is not None and self.retry_at > self.last_seen


class RunSeconds(msgspec.Struct, frozen=True):
    """How many finished runs of a job fell in one duration bucket, and their total seconds.

    ``bucket`` is the index of the first bound a run's duration does not exceed (the number of
    bounds for a run longer than them all)."""

    connection: str
    job: str
    bucket: int
    runs: int
    seconds: float


class Selection(msgspec.Struct, frozen=True):
    """Conflicts matching a filter: at most ``limit`` of them, and how many match in all."""

    rows: list[ConflictRow]
    matching: int


class ReviewStore:
    """The review pages' queries, on the pool of a :class:`engine.store.state.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @asynccontextmanager
    async def _connection(self, operation: str) -> AsyncIterator[PoolConnectionProxy[Record]]:
        try:
            async with self.store.pool.acquire() as conn:
                yield conn
        except DRIVER_ERRORS as exc:
            raise StoreError(f"{operation}: {type(exc).__name__}: {exc}") from exc

    async def conflicts(
        self,
        *,
        connection: str | None = None,
        kind: str | None = None,
        field: str | None = None,
        status: str | None = "open",
        search: str | None = None,
        limit: int = 500,
    ) -> Selection:
        """Conflicts by connection, kind, key and field; ``search`` is a substring of the key,
        the field or any of the three values, ignoring case. ``None`` filters nothing."""
        pattern = f"%{_escape_like(search)}%" if search else None
        async with self._connection("list conflicts for review") as conn:
            rows = await conn.fetch(
                query("review_conflicts"), connection, kind, field, status, pattern, limit
            )
        matching = rows[0]["matching"] if rows else 0
        conflicts = [
            ConflictRow(**{k: v for k, v in row.items() if k != "matching"}) for row in rows
        ]
        return Selection(rows=conflicts, matching=matching)

    async def facets(self) -> list[Facet]:
        """Open conflicts counted by connection, kind and field."""
        async with self._connection("count conflicts for review") as conn:
            rows = await conn.fetch(query("review_facets"))
        return [Facet(**dict(row)) for row in rows]

    async def resolve(self, targets: Sequence[Target], *, take: Take, by: str) -> list[int]:
        """Resolve ``targets`` to a side's value or the suggestion; returns the ids resolved.

        Left out: conflicts no longer open, changed since their version, or (for
        ``suggested``) without a suggestion.
        """
        if take not in ("erp", "shop", "suggested"):
            raise ValueError(f"take must be erp, shop or suggested, not {take!r}")
        ids, versions = _columns(targets)
        async with self._connection("resolve conflicts") as conn:
            rows = await conn.fetch(query("review_resolve_side"), ids, versions, take, by)
        return sorted(row[0] for row in rows)

    async def resolve_to_values(
        self, values: Iterable[tuple[Target, Any]], *, by: str
    ) -> list[int]:
        """Resolve each target to its typed value, in one transaction; returns the ids resolved."""
        groups: dict[bytes, tuple[Any, list[Target]]] = {}
        for target, value in values:
            encoded = msgspec.json.encode(value)
            groups.setdefault(encoded, (value, []))[1].append(target)
        done: list[int] = []
        async with self._connection("resolve conflicts to values") as conn, conn.transaction():
            for value, targets in groups.values():
                ids, versions = _columns(targets)
                rows = await conn.fetch(query("review_resolve_value"), ids, versions, value, by)
                done.extend(row[0] for row in rows)
        return sorted(done)

    async def history(self, conflict_id: int) -> list[Event]:
        """The review trail of one conflict, oldest first."""
        async with self._connection(f"history of conflict {conflict_id}") as conn:
            rows = await conn.fetch(query("review_conflict_history"), conflict_id)
        return [Event(**dict(row)) for row in rows]

    async def recent_events(self, connection: str | None = None, limit: int = 50) -> list[Event]:
        """The latest resolutions, applications and retries, newest first."""
        async with self._connection("recent review events") as conn:
            rows = await conn.fetch(query("review_recent_events"), connection, limit)
        return [Event(**dict(row)) for row in rows]

    async def dead_letters(
        self, connection: str | None = None, limit: int | None = 500
    ) -> list[DeadLetter]:
        """Open dead letters, oldest first, with the last retry asked for (``limit`` None:
        all of them)."""
        async with self._connection("list dead letters for review") as conn:
            rows = await conn.fetch(query("review_dead_letters"), connection, limit)
        return [DeadLetter(**dict(row)) for row in rows]

    async def count_dead_letters(self) -> int:
        """How many dead letters are open."""
        async with self._connection("count dead letters") as conn:
            count: int = await conn.fetchval(query("review_count_dead_letters"))
        return count

    async def request_retry(self, ids: Sequence[int], *, by: str) -> list[int]:
        """Mark open dead letters for retry; returns the ids marked.

        The next cycle of the letter's job reads the record again from both sides and, if the
        write is still needed, pushes it again (the cycle does so for every open dead letter);
        the mark records who asked and when, and the status page shows whether a cycle has
        tried since.
        """
        async with self._connection("request retries") as conn:
            rows = await conn.fetch(query("review_request_retry"), list(ids), by)
        return sorted(row[0] for row in rows)

    async def run_seconds(self, bounds: Sequence[float]) -> list[RunSeconds]:
        """The finished runs of every job counted per duration bucket (``bounds`` ascending)."""
        async with self._connection("run durations") as conn:
            rows = await conn.fetch(query("review_run_seconds"), list(bounds))
        return [RunSeconds(**dict(row)) for row in rows]

    async def last_runs(self) -> list[RunRow]:
        """The latest run of every job that ever ran."""
        async with self._connection("last runs") as conn:
            rows = await conn.fetch(query("review_last_runs"))
        return [RunRow(**dict(row)) for row in rows]


def _columns(targets: Sequence[Target]) -> tuple[list[int], list[datetime | None]]:
    return [t.id for t in targets], [_moment(t.version) for t in targets]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
