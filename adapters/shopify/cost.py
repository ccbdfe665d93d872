"""Query cost: Shopify's leaky bucket of points, mirrored on our side, and pages planned to fit.

Shopify charges a GraphQL query its *requested* cost before running it (scalars 0, objects 1,
a connection 2 plus ``first`` times one node; a mutation 10) and refunds what it did not use.
The bucket holds ``maximumAvailable`` points and refills at ``restoreRate`` points per second
(100 on the Basic plan). Every answer reports the bucket in ``extensions.cost.throttleStatus``;
:class:`PointBudget` keeps that state, reserves a query's requested cost before it is sent and
waits while the bucket cannot cover it, so queries are not sent only to come back ``THROTTLED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import msgspec

CONNECTION = 2
OBJECT = 1
MUTATION = 10
MAX_PAGE = 250
"""Most nodes a connection gives per page (``first`` above it is refused)."""


class ThrottleStatus(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    maximum_available: float
    currently_available: float
    restore_rate: float


class Cost(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    requested_query_cost: float | None = None
    actual_query_cost: float | None = None
    throttle_status: ThrottleStatus | None = None


def connection_cost(first: int, node: int) -> int:
    """Requested cost of a connection of ``first`` nodes each costing ``node``."""
    return CONNECTION + first * node


def page_size(node: int, limit: float, *, overhead: int = 0) -> int:
    """The largest ``first`` (1..250) whose connection, plus ``overhead``, costs at most
    ``limit`` points."""
    fits = int((limit - overhead - CONNECTION) // max(node, 1))
    return max(1, min(MAX_PAGE, fits))


def wait_for(requested: float, available: float, restore_rate: float) -> float:
    """Seconds until a bucket holding ``available`` points can pay ``requested``."""
    deficit = requested - available
    if deficit <= 0:
        return 0.0
    return deficit / max(restore_rate, 0.001)


class PointBudget:
    """Our mirror of the shop's bucket: what is left, refilled at the restore rate.

    Reservations are taken locally as soon as a query is about to go, so concurrent queries do
    not overbook; each answer's ``throttleStatus`` then replaces the estimate (the shop's own
    count is the truth: other workers of the same app spend from the same bucket)."""

    def __init__(
        self,
        maximum: float,
        restore_rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self._clock = clock
        self._level = maximum
        self._at = clock()
        self._lock = asyncio.Lock()
        self._observed = asyncio.Event()
        """Set by each answer: a waiter recomputes at once, since a query charged less than it
        requested gives the difference back (often most of it)."""
        self.spent = 0.0
        """Points the shop charged (actual costs), for measurements."""

    def available(self) -> float:
        now = self._clock()
        self._level = min(self.maximum, self._level + (now - self._at) * self.restore_rate)
        self._at = now
        return self._level

    def delay(self, requested: float) -> float:
        """Seconds to wait before ``requested`` points are there (0: now)."""
        return wait_for(min(requested, self.maximum), self.available(), self.restore_rate)

    async def reserve(self, requested: float) -> None:
        """Wait until the bucket covers ``requested``, then take it. One waiter at a time, so
        the first in line is served first and a large query is not starved by small ones."""
        async with self._lock:
            delay = self.delay(requested)
            while delay > 0:
                # The bucket refills with time, and comes back at once when an answer in
                # flight is refunded: whichever comes first.
                self._observed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._observed.wait(), delay)
                delay = self.delay(requested)
            self._level -= min(requested, self.maximum)

    def observe(self, cost: Cost | None) -> None:
        """Take the shop's account of the bucket from an answer."""
        if cost is None:
            return
        if cost.actual_query_cost is not None:
            self.spent += cost.actual_query_cost
        status = cost.throttle_status
        if status is None:
            return
        self.maximum = status.maximum_available
        self.restore_rate = status.restore_rate
        self._level = min(self.maximum, status.currently_available)
        self._at = self._clock()
        self._observed.set()

    def throttled_for(self, cost: Cost | None) -> float:
        """After a ``THROTTLED`` answer: seconds until its requested cost is covered."""
        if cost is None or cost.requested_query_cost is None:
            return 1.0
        status = cost.throttle_status
        available = status.currently_available if status else self.available()
        rate = status.restore_rate if status else self.restore_rate
        return max(wait_for(cost.requested_query_cost, available, rate), 0.05)
