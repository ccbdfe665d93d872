"""Shopify's throttle on variant creation, and what the adapter says while it holds.

A shop past 50,000 variants may create at most 1,000 new ones a day through the API
(``productCreate``, ``productSet``, ``productVariantsBulkCreate``...): past that, Shopify answers
HTTP 429, or, in a bulk mutation, an error on the line. That wait is a day long, not the
seconds of the points bucket, so it must not slow the connection's other requests (reads,
stock, prices): the client raises :class:`VariantLimitReached` instead of pausing the budget,
and :class:`VariantAllowance` holds every creation until the allowance comes back, failing
each one as transient with the time it is retried and how long the waiting articles take at
1,000 a day (the ETA a merchant plans a catalogue import on).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.base import Failed, TransientError

log = logging.getLogger("concord.shopify")
THRESHOLD = 50_000
PER_DAY = 1_000
DAY = 86_400.0
_MARKERS = ("variant creation", "variants per day", "variant limit")


def is_variant_limit(message: str) -> bool:
    """Whether Shopify's ``message`` is the variant-creation throttle (not the points one)."""
    lowered = message.lower()
    return any(marker in lowered for marker in _MARKERS)


class VariantLimitReached(TransientError):
    """Shopify refused to create variants until its daily allowance comes back."""


class VariantAllowance:
    """Whether variants can be created now, and the reason given for those held."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.until: float | None = None
        """When creations are tried again (None: not held)."""
        self.waiting: set[str] = set()
        """SKUs of the articles held since the throttle began."""

    def held(self) -> bool:
        if self.until is None:
            return False
        if self._clock() >= self.until:
            self.until = None
            self.waiting.clear()
            return False
        return True

    def reached(self, retry_after: float | None) -> None:
        """Shopify said the day's creations are used: hold creations for ``retry_after``
        seconds, or, when it gives none, until the next day (UTC) begins."""
        now = self._clock()
        wait = retry_after if retry_after is not None else DAY - now % DAY
        until = now + max(wait, 1.0)
        if self.until is None:
            log.warning(
                "Shopify: the shop creates no more variants today (%s a day past %s variants); "
                "creations wait until %s UTC",
                f"{PER_DAY:,}",
                f"{THRESHOLD:,}",
                _stamp(until),
            )
        self.until = max(self.until or 0.0, until)

    def refuse(self, key: str) -> Failed:
        """``key``'s creation held (transient): when it is retried, and the ETA of all held."""
        assert self.until is not None
        self.waiting.add(key)
        days = math.ceil(len(self.waiting) / PER_DAY)
        last = self.until + (days - 1) * DAY
        return Failed(
            key=key,
            reason=(
                f"{key}: variant_limit: Shopify creates at most {PER_DAY:,} variants a day in a "
                f"shop past {THRESHOLD:,} variants and today's are used; retried after "
                f"{_stamp(self.until)} UTC; {len(self.waiting):,} articles wait, at "
                f"{PER_DAY:,} a day the last is created about {_stamp(last)} UTC"
            ),
            transient=True,
        )


def _stamp(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%d %H:%M")
