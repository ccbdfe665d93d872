"""One simulated shop's state and settings: its store, plan, buckets of points and counters.

The HTTP face (:mod:`.app`) and the parts it installs (bulk operations, webhooks, control
routes, optional features) all work on a :class:`Shop`; it lives here, apart from the app,
so that those parts name it without importing the app that installs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.shopify.simulator.cost import Bucket
from adapters.shopify.simulator.store import Store

SUPPORTED_VERSIONS = ("2025-04", "2025-07", "2025-10", "2026-01", "2026-04")
DEPRECATED_VERSIONS = ("2025-04",)


class AnswerLost(Exception):
    """Raised by a resolver whose request is to be answered 502 Bad Gateway, as a failing
    proxy between the app and Shopify would."""


@dataclass
class Settings:
    """What differs between shops (plans) and between test scenarios."""

    access_token: str = "shpat_test"
    app_secret: str = "shpss_test"
    shop_domain: str = "concord-test.myshopify.com"
    versions: tuple[str, ...] = SUPPORTED_VERSIONS
    deprecated: tuple[str, ...] = DEPRECATED_VERSIONS
    bucket_size: float = 2000.0
    restore_rate: float = 100.0
    """Points per second: Standard plan 100, Advanced 200, Plus 1000, enterprise 2000."""
    max_query_cost: int = 1000
    extra_tokens: tuple[str, ...] = ()
    """Further accepted access tokens (another app's, with its own bucket)."""
    public_url: str = ""
    """Base URL of the simulator outside a request (set by whoever serves it)."""
    webhook_version: str = "2026-01"
    """The API version webhook payloads are rendered in (the app's setting)."""
    webhook_retry_delays: tuple[float, ...] = (60, 120, 240, 480, 960, 1920, 3600, 7200)
    """Seconds before each retry of a failed delivery (8 retries over about 4 hours)."""


@dataclass
class Shop:
    """Everything behind one simulated shop; tests reach it through :func:`shop_of`."""

    store: Store
    settings: Settings
    buckets: dict[str, Bucket] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    query_root: dict[str, Any] = field(default_factory=dict)
    mutation_root: dict[str, Any] = field(default_factory=dict)
    lose_mutation_answers: int = 0
    """The next this many mutations are carried out, then answered 502 Bad Gateway: the
    answer lost on the way back, as when a proxy times out on a write that went through."""
    fail_bulk_polls: int = 0
    """The next this many requests reading a bulk operation (``node(id:)``, the poll of a
    client waiting for it) are answered 502 Bad Gateway; the operation runs on regardless."""

    def bucket(self, token: str) -> Bucket:
        if token not in self.buckets:
            self.buckets[token] = Bucket(
                self.settings.bucket_size, self.settings.restore_rate, self.store.clock
            )
        return self.buckets[token]

    def count(self, name: str, by: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by
