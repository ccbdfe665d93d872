"""Creations whose answer was lost, held until Shopify's search can say whether they exist.

A ``productSet`` without an id creates a product. When its answer never comes (a timeout, a
dropped connection, a bulk mutation that failed or returned no line for it), the product may
exist or not. A creation is only sent after its SKU was looked up, but that lookup goes through
Shopify's search, which trails writes by seconds: sent again at once, an article that was in
fact created would be created a second time. :class:`LostCreations` remembers such articles
and holds a new creation of each (a transient failure naming the wait) until the search has
had ``window`` seconds (the adapter's ``overlap_seconds``, its measure of that lag) to catch
up; after it the lookup is trusted again and finds the product, or lets the creation go.

A bulk mutation that failed after it started may go on running on Shopify's side for longer
than any window: its lines create products whenever it reaches them. Its creations are held
for as long as the operation is not seen ended (:meth:`LostCreations.in_bulk`,
:meth:`LostCreations.pending`); once it has ended, what its result shows settles them, and the
others wait the window from that moment, as the search may not show what it made yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from adapters.base import Failed


class LostCreations:
    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._lost: dict[str, float] = {}
        """SKU -> when its creation's answer was lost."""
        self._bulk: dict[str, _Running] = {}
        """Bulk operation id -> the creations it may still carry out."""
        self._bulk_of: dict[str, str] = {}
        """SKU -> the bulk operation that may still create it."""

    def lost(self, key: str, reason: str) -> Failed:
        """Remember that ``key``'s creation may have landed; its transient failure."""
        self._lost[key] = self._clock()
        return Failed(
            key=key,
            reason=f"{key}: {reason}; whether Shopify created it is known once its search "
            f"catches up ({self.window:.0f} s), and it is not created again before",
            transient=True,
        )

    def in_bulk(self, operation: str, lines: Mapping[int, str]) -> None:
        """Bulk ``operation``, not seen ended, may still create these SKUs (by line number)."""
        self._bulk[operation] = _Running(lines=dict(lines))
        self._bulk_of.update((key, operation) for key in lines.values())

    def pending(self, keys: Iterable[str]) -> dict[str, dict[int, str]]:
        """The bulk operations that may still create one of ``keys``, with their creations
        by line number: each to be asked once how it stands."""
        operations = sorted({self._bulk_of[k] for k in keys if k in self._bulk_of})
        return {o: self._still(o) for o in operations}

    def running(self, operation: str, status: str) -> None:
        """``operation`` was seen not ended (``status``: Shopify's, or why it is unknown)."""
        if operation in self._bulk:
            self._bulk[operation].status = status

    def ended(self, operation: str) -> None:
        """``operation`` has ended: the creations it did not settle wait the window from now."""
        now = self._clock()
        for key in self._still(operation).values():
            del self._bulk_of[key]
            self._lost[key] = now
        self._bulk.pop(operation, None)

    def _still(self, operation: str) -> dict[int, str]:
        """The lines of ``operation`` whose SKU nothing has settled since."""
        running = self._bulk.get(operation)
        lines = running.lines.items() if running else ()
        return {n: k for n, k in lines if self._bulk_of.get(k) == operation}

    def held(self, key: str) -> Failed | None:
        """The failure holding a new creation of ``key`` back (None: it may be sent)."""
        operation = self._bulk_of.get(key)
        if operation is not None:
            return Failed(
                key=key,
                reason=f"{key}: uncertain: bulk operation {operation}, which may create it, "
                f"is still running ({self._bulk[operation].status}); it is not created again "
                "before that operation has ended",
                transient=True,
            )
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
        """``key``'s product was found (or written), or its creation was refused: nothing is
        uncertain about it any more."""
        self._lost.pop(key, None)
        operation = self._bulk_of.pop(key, None)
        if operation is not None and not self._still(operation):
            del self._bulk[operation]


@dataclass
class _Running:
    lines: dict[int, str]
    """Line number -> the SKU that line creates."""
    status: str = "not seen ended"
