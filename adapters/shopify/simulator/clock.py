"""Time for the simulated shop: real by default, driven by hand in tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock seconds since the epoch. The leaky bucket, timestamps and the search index
    all read the same clock, so a test that advances it moves them together."""

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)


class ManualClock(Clock):
    """A clock that moves only when told to (:meth:`advance`)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def iso(moment: datetime) -> str:
    """Shopify's DateTime form: UTC, second precision, ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
