"""Priority lanes: which job a platform request is made for, carried without passing it around.

All the jobs of one platform account share its request budget (:mod:`adapters.budget`). When
requests queue, the budget serves the most urgent lane first: orders, then stock, then prices,
then products. The worker sets the lane around a job with :func:`in_lane`; every request the job's
adapters make, in whatever task, reads it from :data:`current_lane` (asyncio copies context
variables into the tasks a job starts), so no adapter method needs a lane argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

LANES: tuple[str, ...] = ("orders", "stock", "prices", "products")
"""Lanes, most urgent first."""

_LANE_OF_KIND = {
    "order": "orders",
    "order_status": "orders",
    "invoice": "orders",
    "stock": "stock",
    "price": "prices",
}

current_lane: ContextVar[str] = ContextVar("concord_lane", default="products")
"""The lane of the job running in this context; outside any job, the least urgent one."""


def lane_of_kind(kind: str) -> str:
    """The lane of a job of ``kind``: products, customers and the rest ride the last lane."""
    return _LANE_OF_KIND.get(kind, "products")


def priority(lane: str) -> int:
    """0 for the most urgent lane; an unknown lane counts as the least urgent."""
    return LANES.index(lane) if lane in LANES else len(LANES) - 1


@contextmanager
def in_lane(lane: str) -> Iterator[None]:
    """Make the requests made inside the block (and in tasks it starts) use ``lane``."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r} (lanes: {', '.join(LANES)})")
    token = current_lane.set(lane)
    try:
        yield
    finally:
        current_lane.reset(token)
