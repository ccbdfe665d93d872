"""Latency profiles: what a real platform's server takes to answer, added by a simulator.

On loopback the simulators answer in a fraction of a millisecond, so a benchmark there measures
Concord's CPU. A merchant's WooCommerce (PHP, WordPress loaded at every request) and Odoo (its
ORM, one PostgreSQL transaction per call) take far longer, and that is what a merchant waits
for. A profile is a fixed cost per request plus a cost per item read and per item written; the
simulator in :mod:`bench.simproc` sleeps for it before answering, so many requests in flight
overlap as they would on a server with several workers. The figures and where they come from
are in bench/README.md ("Latency profiles").
"""

from __future__ import annotations

from typing import Any

import msgspec


class Latency(msgspec.Struct, frozen=True, kw_only=True):
    """Seconds a server adds to each request: ``request`` whatever it asks, plus ``read`` per
    item in a list it answers and ``write`` per item it creates, updates or deletes."""

    request: float = 0.0
    read: float = 0.0
    write: float = 0.0

    @property
    def zero(self) -> bool:
        return not (self.request or self.read or self.write)

    def cost(self, read: int, written: int) -> float:
        return self.request + self.read * read + self.write * written


NONE = Latency()
PROFILES = {
    # A page of 100 products in 0.25 s, a batch of 100 writes in 2.1 s, one PUT in 0.12 s.
    "woocommerce": Latency(request=0.1, read=0.0015, write=0.02),
    # A search_read of 500 records in 0.18 s, a write of one record in 0.035 s.
    "odoo": Latency(request=0.03, read=0.0003, write=0.005),
}
"""Each platform's profile (``real`` in the benchmark's tables)."""

_BATCH_KEYS = ("create", "update", "delete")
_ODOO_READS = ("search_read", "read", "search", "search_count", "fields_get", "read_group")


def _decoded(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None


def _listed(body: bytes) -> int:
    """Items in a JSON array answer (1 for any other answer)."""
    try:
        return len(msgspec.json.decode(body, type=list[msgspec.Raw]))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return 1


def odoo_items(path: str, body: bytes, answer: bytes) -> tuple[int, int]:
    """(items read, items written) of one Odoo JSON-2 call."""
    method = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if method in _ODOO_READS:
        return _listed(answer), 0
    asked = _decoded(body)
    if isinstance(asked, dict):
        for key in ("ids", "vals_list"):
            value = asked.get(key)
            if isinstance(value, list):
                return 0, max(1, len(value))
    return 0, 1


def woocommerce_items(method: str, body: bytes, answer: bytes) -> tuple[int, int]:
    """(items read, items written) of one WooCommerce REST request."""
    if method == "GET":
        return _listed(answer), 0
    asked = _decoded(body)
    if isinstance(asked, dict) and any(key in asked for key in _BATCH_KEYS):
        count = sum(len(v) for k in _BATCH_KEYS if isinstance(v := asked.get(k), list))
        return 0, max(1, count)
    return 0, 1
