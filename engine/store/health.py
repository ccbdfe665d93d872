"""Whether the state store's server answers: watched, reported once, waited for, revived.

A :class:`StoreHealth` keeps one connection of its own to the server (outside the pool) and
pings it every few seconds, and at once when that connection drops (the server was stopped or
killed) or a user of the store saw an operation fail (:meth:`StoreHealth.suspect`). When the
server stops answering, it logs one line, ``database unreachable since <time>, retrying``, and
reconnects with back-off (restarting the embedded server when it is Concord's own), then one line
when it is back. Meanwhile work that must not outlive the store runs under
:meth:`StoreHealth.while_reachable`: it is cancelled the moment the server is lost (a cycle stops
pushing writes it could never commit) and :class:`StoreUnreachable` says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg

from canonical.errors import StoreError

log = logging.getLogger("concord.database")

T = TypeVar("T")

DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # A pooled connection whose server died under a cancelled query is left mid-operation;
    # the next use says so with this error, which is the same server failure.
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
"""What the driver raises when the server fails or goes away."""


class StoreUnreachable(StoreError):
    """Work stopped because the state store's server went away; nothing of it was committed."""

    def __init__(self, since: datetime) -> None:
        super().__init__(
            f"the database became unreachable at {since:%H:%M:%S} UTC: stopped at once, "
            "nothing of this run was committed"
        )
        self.since = since


class StoreHealth:
    """The reachability of the server at ``url``; ``revive`` restarts it when it is ours."""

    def __init__(
        self,
        url: str,
        *,
        revive: Callable[[], Awaitable[bool]] | None = None,
        ping_every: float = 2.0,
        ping_timeout: float = 5.0,
        max_backoff: float = 5.0,
        remind_every: float = 300.0,
    ) -> None:
        self.url = url
        self._revive = revive
        self.ping_every = ping_every
        self.ping_timeout = ping_timeout
        self.max_backoff = max_backoff
        self.remind_every = remind_every
        self.lost_since: datetime | None = None
        """When the server stopped answering; ``None`` while it answers."""
        self.outages = 0
        self._lost = asyncio.Event()
        self._back = asyncio.Event()
        self._back.set()
        self._check = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    @property
    def reachable(self) -> bool:
        return self.lost_since is None

    @asynccontextmanager
    async def watching(self, *, recover: bool = True) -> AsyncIterator[StoreHealth]:
        """Watch the server for the duration of the block. Without ``recover`` (a one-off
        command, which ends on :class:`StoreUnreachable`), a loss is neither logged nor
        retried: the command's own error says it."""
        task = asyncio.create_task(self._watch(recover))
        try:
            yield self
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await self._disconnect()

    def suspect(self) -> None:
        """An operation on the store failed: check the server now."""
        self._check.set()

    async def answers(self) -> bool:
        """Whether the server answers right now (false at once while it is known lost)."""
        if not self.reachable:
            return False
        try:
            conn = await asyncpg.connect(self.url, timeout=self.ping_timeout)
        except DRIVER_ERRORS:
            return False
        conn.terminate()
        return True

    async def wait_reachable(self) -> None:
        """Return once the server answers (at once when it does)."""
        await self._back.wait()

    async def while_reachable(self, work: Awaitable[T]) -> T:
        """Await ``work``, cancelled the moment the server is lost (:class:`StoreUnreachable`)."""
        task = asyncio.ensure_future(work)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                return task.result()
            task.cancel()
            await asyncio.wait({task})
            assert self.lost_since is not None
            raise StoreUnreachable(self.lost_since)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
                await asyncio.wait({task})

    async def _watch(self, recover: bool) -> None:
        while True:
            if not await self._ping():
                self._mark_lost(logged=recover)
                if not recover:
                    return
                await self._recover()
                continue
            self._check.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._check.wait(), timeout=self.ping_every)

    async def _ping(self) -> bool:
        try:
            if self._conn is None or self._conn.is_closed():
                await self._disconnect()
                self._conn = await asyncpg.connect(self.url, timeout=self.ping_timeout)
                self._conn.add_termination_listener(lambda _conn: self._check.set())
            await self._conn.fetchval("select 1", timeout=self.ping_timeout)
        except DRIVER_ERRORS:
            await self._disconnect()
            return False
        return True

    def _mark_lost(self, *, logged: bool) -> None:
        self.lost_since = datetime.now(UTC)
        self.outages += 1
        self._back.clear()
        self._lost.set()
        if logged:
            log.error(
                "database unreachable since %s, retrying", self.lost_since.strftime("%H:%M:%S UTC")
            )

    async def _recover(self) -> None:
        assert self.lost_since is not None
        delay, revived = 0.2, False
        started = reminded = time.monotonic()
        while True:
            if self._revive is not None:
                revived = await self._revive() or revived
            if await self._ping():
                break
            if time.monotonic() - reminded >= self.remind_every:
                reminded = time.monotonic()
                log.error(
                    "database still unreachable since %s, retrying",
                    self.lost_since.strftime("%H:%M:%S UTC"),
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        log.warning(
            "database reachable again after %.1fs%s",
            time.monotonic() - started,
            " (the embedded server was restarted)" if revived else "",
        )
        self.lost_since = None
        self._lost.clear()
        self._back.set()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


def watched(health: StoreHealth | None) -> AbstractAsyncContextManager[object]:
    """A one-off command's watch on the store (nothing without one): see
    :meth:`StoreHealth.watching` with ``recover=False``."""
    return nullcontext() if health is None else health.watching(recover=False)


async def while_reachable(health: StoreHealth | None, work: Awaitable[T]) -> T:
    """``work``, stopped the moment the store is lost (see :meth:`StoreHealth.while_reachable`)."""
    return await (work if health is None else health.while_reachable(work))
