"""Creations whose answer was lost, held until Shopify's search can say whether they exist.

A ``productSet`` without an id creates a product. When its answer never comes (a timeout, a
dropped connection, a bulk mutation that failed or returned no line for it), the product may
exist or not. A creation is only sent after its SKU was looked up, but that lookup goes through
Shopify's search, which trails writes by seconds: sent again at once, an article that was in
fact created would be created a second time. :class:`LostCreations` remembers such articles
and holds a new creation of each (a transient failure naming the wait) until the search has
had ``window`` seconds (the adapter's ``overlap_seconds``, its measure of that lag) to catch
up; after it the lookup is trusted again and finds the product, or lets the creation go.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.base import Failed


class LostCreations:
    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._lost: dict[str, float] = {}
        """SKU -> when its creation's answer was lost."""

    def lost(self, key: str, reason: str) -> Failed:
        """Remember that ``key``'s creation may have landed; its transient failure."""
        self._lost[key] = self._clock()
        return Failed(
            key=key,
            reason=f"{key}: {reason}; whether Shopify created it is known once its search "
            f"catches up ({self.window:.0f} s), and it is not created again before",
            transient=True,
        )

    def held(self, key: str) -> Failed | None:
        """The failure holding a new creation of ``key`` back (None: it may be sent)."""
        since = self._lost.get(key)
        if since is None:
            return None
        waited = self._clock() - since
        if waited >= self.window:
            del self._lost[key]
            return None
        return Failed(
            key=key,
            reason=f"{key}: uncertain: the answer to its creation was lost {waited:.0f} s ago; "
            f"it is looked up again after {self.window:.0f} s, when Shopify's search shows "
            "whether it exists",
            transient=True,
        )

    def found(self, key: str) -> None:
        """``key``'s product was found (or written): nothing is uncertain about it any more."""
        self._lost.pop(key, None)
