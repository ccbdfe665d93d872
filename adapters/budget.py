"""One request budget per platform account, shared by every job of that account, served by lane.

A :class:`RequestBudget` caps how many requests are in flight and how many start per second. When
requests queue, the most urgent lane (:mod:`canonical.lanes`: orders, stock, prices, products) is
served first, so a long product export delays an order import by at most the requests already
in flight, never by the export's queue.

The rate adapts, additive-increase / multiplicative-decrease: a throttle signal (HTTP 429, or a
``Retry-After``) halves it (once per burst of signals) and pauses every lane for the announced
time; then it climbs back linearly, a little each second, up to the configured rate.

Adapters built for the same account share one budget through :class:`Budgets`: a worker makes
its own book current with :meth:`Budgets.shared` (and reads it for metrics); outside one, clients
of the same account in one process still share a budget while any of them is alive.

Across processes and machines, a budget given a :class:`GrantSource` (the workers of one database:
:mod:`engine.loop.budget_grants`) starts no request on its own allowance: it takes slices of the
account's one timeline of request slots from the source (a quarter of a second of requests at its
rate, each slice following the last one granted to any worker) and starts its requests evenly over
its slice, through its lanes. However many workers share the account, together they stay within its
rate.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import logging
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Protocol
from urllib.parse import urlsplit

import msgspec

from canonical.lanes import LANES, current_lane, priority

log = logging.getLogger("concord.budget")

SLICE_SECONDS = 0.25
"""How much of the shared timeline a worker takes at once: the longest a slice can go unused
when its worker runs out of requests, and about how often each busy worker asks for one."""


class GrantSource(Protocol):
    """The one timeline of request slots of each account, shared by every worker."""

    async def grant(self, account: str, seconds: float) -> float:
        """Take the next ``seconds`` of ``account``'s timeline; seconds from now to its start."""
        ...


HELD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds (seconds) of the buckets :attr:`LaneStats.held_counts` counts requests in."""


class LaneStats(msgspec.Struct, kw_only=True):
    """What one lane of a budget has used (for metrics and measurements)."""

    granted: int = 0
    """Requests let through."""
    waiting: int = 0
    """Requests queued right now."""
    wait_seconds: float = 0.0
    """Total time requests spent queued."""
    max_wait: float = 0.0
    """Longest time one request spent queued."""
    held_seconds: float = 0.0
    """Total time requests held their turn (were in flight), through :meth:`RequestBudget.slot`."""
    max_held: float = 0.0
    """Longest time one request was in flight."""
    held_counts: list[int] = msgspec.field(default_factory=lambda: [0] * (len(HELD_BUCKETS) + 1))
    """Requests by time in flight: how many fell in each bucket of :data:`HELD_BUCKETS` (the
    first bound not below their time; the last count: longer than every bound)."""
    overtook: int = 0
    """Requests let through ahead of a less urgent lane's request queued earlier: the lanes at
    work (a first-come, first-served queue would leave this at 0)."""


class RequestBudget:
    """Requests per second and in flight for one account, with priority lanes and adaptive rate."""

    def __init__(
        self,
        account: str,
        *,
        requests_per_second: float,
        max_concurrency: int,
        min_rate: float | None = None,
        recovery: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        grants: GrantSource | None = None,
    ) -> None:
        self.account = account
        self.max_rate = max(requests_per_second, 0.001)
        self.max_concurrency = max(1, max_concurrency)
        self.rate = self.max_rate
        self.min_rate = min(self.max_rate, min_rate if min_rate is not None else 0.5)
        # Requests per second regained per second without a throttle signal: from half the
        # configured rate back to all of it in about ten seconds.
        self.recovery = recovery if recovery is not None else max(0.05, self.max_rate / 20)
        self.in_flight = 0
        self.throttled = 0
        self.lanes = {lane: LaneStats() for lane in LANES}
        self._clock = clock
        now = clock()
        self._tokens = min(self._capacity(), 1.0)
        self._updated = now
        self._paused_until = now
        self._last_decrease = float("-inf")
        self._queue: list[tuple[int, int, str, float, asyncio.Future[None]]] = []
        # Per priority, the waiting requests oldest first: whether a grant overtook an older
        # request of a less urgent lane is then a look at a few queue fronts, not a scan of
        # the queue (tens of thousands of entries on a large catalogue's read).
        self._waiting: list[deque[tuple[int, asyncio.Future[None]]]] = [deque() for _ in LANES]
        self._sequence = 0
        self._timer: asyncio.TimerHandle | None = None
        self._grants = grants
        self.slices = 0
        """Slices of the shared timeline taken (with a grant source)."""
        self._permits: deque[float] = deque()
        """With a grant source: when each request granted, not started yet, may start."""
        self._granting: asyncio.Task[None] | None = None

    def _capacity(self) -> float:
        # A one-second bucket: bursts no larger than one second's allowance.
        return max(1.0, self.rate)

    def limit_to(self, requests_per_second: float, max_concurrency: int) -> None:
        """Lower the limits to these, if they are lower (a second client of the same account)."""
        self.max_rate = min(self.max_rate, max(requests_per_second, 0.001))
        self.rate = min(self.rate, self.max_rate)
        self.max_concurrency = min(self.max_concurrency, max(1, max_concurrency))

    async def acquire(self, lane: str | None = None) -> None:
        """Wait for a request's turn in ``lane`` (default: the current job's); the caller must
        :meth:`release` when the request is done. Prefer :meth:`slot`."""
        lane = lane or current_lane.get()
        stats = self.lanes.setdefault(lane, LaneStats())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sequence += 1
        queued_at = self._clock()
        heapq.heappush(self._queue, (priority(lane), self._sequence, lane, queued_at, future))
        self._waiting[priority(lane)].append((self._sequence, future))
        stats.waiting += 1
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # let through just as the caller gave up
            else:
                future.cancel()
            raise
        finally:
            stats.waiting -= 1

    def release(self) -> None:
        """A request let through by :meth:`acquire` is done."""
        self.in_flight -= 1
        self._dispatch()

    @asynccontextmanager
    async def slot(self, lane: str | None = None) -> AsyncIterator[None]:
        """Hold a request's turn in ``lane`` (default: the current job's) for the block."""
        lane = lane or current_lane.get()
        await self.acquire(lane)
        granted = self._clock()
        try:
            yield
        finally:
            held = self._clock() - granted
            stats = self.lanes[lane]
            stats.held_seconds += held
            stats.max_held = max(stats.max_held, held)
            stats.held_counts[bisect.bisect_left(HELD_BUCKETS, held)] += 1
            self.release()

    def current_rate(self) -> float:
        """Requests per second allowed now (below the configured rate after throttling)."""
        self._refill(self._clock())
        return self.rate

    def throttle(self, retry_after: float | None) -> None:
        """The platform said "too many requests": slow down, and pause for ``retry_after``."""
        now = self._clock()
        self._refill(now)
        self.throttled += 1
        # One burst of 429s is one signal: the requests in flight all see it at once.
        if now - self._last_decrease >= max(1.0, 1.0 / self.rate):
            self.rate = max(self.min_rate, self.rate / 2)
            self._last_decrease = now
        pause = retry_after if retry_after is not None else 1.0 / self.rate
        self._paused_until = max(self._paused_until, now + pause)
        self._tokens = min(self._tokens, 0.0)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        # The rate climbs back only once the pause is over.
        recovering = max(0.0, now - max(self._updated, self._paused_until))
        self._updated = now
        if self.rate < self.max_rate:
            self.rate = min(self.max_rate, self.rate + self.recovery * recovering)
        self._tokens = min(self._capacity(), self._tokens + elapsed * self.rate)

    def _dispatch(self) -> None:
        now = self._clock()
        self._refill(now)
        while self._queue and self.in_flight < self.max_concurrency:
            head = self._queue[0]
            if head[4].done():  # its caller gave up
                heapq.heappop(self._queue)
                continue
            if now < self._paused_until:
                self._wake_at(self._paused_until - now)
                return
            if self._grants is not None:
                # Slots left unused well past their time belong to the past: no bursts later.
                while self._permits and self._permits[0] < now - SLICE_SECONDS:
                    self._permits.popleft()
                if not self._permits:
                    self._take_slice()
                    return
                if self._permits[0] > now:
                    self._wake_at(self._permits[0] - now)
                    return
                self._permits.popleft()
            elif self._tokens < 1.0:
                self._wake_at((1.0 - self._tokens) / self.rate)
                return
            else:
                self._tokens -= 1.0
            level, sequence, lane, queued_at, future = heapq.heappop(self._queue)
            self.in_flight += 1
            self._count_grant(lane, sequence, now - queued_at)
            future.set_result(None)
            self._oldest_waiting(level)  # its lane's front is now done: dropped

    def _take_slice(self) -> None:
        if self._granting is None:
            self._granting = asyncio.get_running_loop().create_task(self._slice())

    async def _slice(self) -> None:
        """Take the next slice of the account's timeline: its requests become permits."""
        assert self._grants is not None
        rate = self.current_rate()
        count = max(1, round(rate * SLICE_SECONDS))
        try:
            offset = await self._grants.grant(self.account, count / rate)
        except Exception as exc:  # the source's own errors (its database unreachable)
            log.warning("%s: no share of the request budget (%s); asking again", self.account, exc)
            await asyncio.sleep(1.0)
        else:
            self.slices += 1
            start = self._clock() + max(0.0, offset)
            self._permits.extend(start + i / rate for i in range(count))
        finally:
            self._granting = None
            self._dispatch()

    def _count_grant(self, lane: str, sequence: int, waited: float) -> None:
        stats = self.lanes[lane]
        stats.granted += 1
        stats.wait_seconds += waited
        stats.max_wait = max(stats.max_wait, waited)
        mine = priority(lane)
        if any(self._oldest_waiting(p) < sequence for p in range(mine + 1, len(LANES))):
            stats.overtook += 1

    def _oldest_waiting(self, level: int) -> float:
        """The sequence number of the oldest request still waiting at priority ``level``."""
        waiting = self._waiting[level]
        while waiting and waiting[0][1].done():  # granted, or its caller gave up
            waiting.popleft()
        return waiting[0][0] if waiting else float("inf")

    def _wake_at(self, delay: float) -> None:
        if self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(delay, 0.001), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch()


def account_of(url: str) -> str:
    """An account's name from its API URL, without any credentials written in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


class Budgets:
    """The request budgets of one worker, by account; with ``grants``, each shares its account's
    timeline with the other workers (see :class:`GrantSource`)."""

    def __init__(self, grants: GrantSource | None = None) -> None:
        self._budgets: dict[str, RequestBudget] = {}
        self._grants = grants

    def budget(
        self, account: str, *, requests_per_second: float, max_concurrency: int
    ) -> RequestBudget:
        """The budget of ``account``, made on first use with these limits."""
        existing = self._budgets.get(account)
        if existing is None:
            existing = self._budgets[account] = RequestBudget(
                account,
                requests_per_second=requests_per_second,
                max_concurrency=max_concurrency,
                grants=self._grants,
            )
        else:
            existing.limit_to(requests_per_second, max_concurrency)
        return existing

    def __iter__(self) -> Iterator[RequestBudget]:
        return iter(list(self._budgets.values()))

    @contextmanager
    def shared(self) -> Iterator[Budgets]:
        """Make adapters built inside the block (and in tasks it starts) use this book."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


_current: ContextVar[Budgets | None] = ContextVar("concord_budgets", default=None)
_alive: weakref.WeakValueDictionary[str, RequestBudget] = weakref.WeakValueDictionary()


def budget_for(account: str, *, requests_per_second: float, max_concurrency: int) -> RequestBudget:
    """The budget a new client of ``account`` should use: from the current :class:`Budgets`,
    else one shared with the other live clients of the account in this process."""
    book = _current.get()
    if book is not None:
        return book.budget(
            account, requests_per_second=requests_per_second, max_concurrency=max_concurrency
        )
    budget = _alive.get(account)
    if budget is None:
        budget = RequestBudget(
            account, requests_per_second=requests_per_second, max_concurrency=max_concurrency
        )
        _alive[account] = budget
    else:
        budget.limit_to(requests_per_second, max_concurrency)
    return budget
