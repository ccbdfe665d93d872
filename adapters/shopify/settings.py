"""The Shopify adapter's settings table, checked, with its access token resolved.

::

    [connections.main.shop]
    type = "shopify"
    shop = "my-shop.myshopify.com"     # or url = "https://my-shop.myshopify.com"
    api_version = "2026-01"
    access_token_env = "SHOPIFY_TOKEN" # or access_token_file
    location = "Main warehouse"        # location name or gid whose stock is synchronised
    restore_rate = 100                 # points per second of the plan (Basic 100, Advanced
                                       # 200, Plus 1000)
    bucket_size = 2000                 # points the bucket holds
    bulk_read_above = 250              # full reads of more products go by a bulk operation
    bulk_write_above = 20              # batches of more articles go by a bulk mutation
    calls_beside_bulk = true           # meanwhile, spare points write some call by call
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from canonical.errors import ConfigError
from canonical.secrets import read_secret

DEFAULT_VERSION = "2026-01"


class ShopifySettings(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    """The shop's base URL (``https://{shop}``), without the API path."""
    access_token: str
    api_version: str = DEFAULT_VERSION
    location: str | None = None
    restore_rate: float = 100.0
    bucket_size: float = 2000.0
    max_query_cost: float = 1000.0
    requests_per_second: float = 40.0
    max_concurrency: int = 4
    overlap_seconds: float = 120.0
    timeout: float = 60.0
    max_attempts: int = 6
    bulk_read_above: int = 250
    """A full read of a catalogue with more products runs as a bulk operation."""
    bulk_write_above: int = 20
    """A batch of more articles is written as one bulk mutation."""
    bulk_poll_seconds: float = 5.0
    """Longest wait between two looks at a running bulk operation."""
    calls_beside_bulk: bool = True
    """A batch written by a bulk mutation has as many of its articles written call by call
    as the bucket's spare points pay for (false: the whole batch in bulk, the points left to
    other apps of the shop)."""

    def __repr__(self) -> str:
        # The token never reaches a log through a repr.
        return f"ShopifySettings(url={self.url!r}, api_version={self.api_version!r}, ...)"

    @property
    def endpoint(self) -> str:
        return f"{self.url}/admin/api/{self.api_version}/graphql.json"


_NUMBERS: dict[str, tuple[type, float]] = {
    "restore_rate": (float, 0.001),
    "bucket_size": (float, 1.0),
    "max_query_cost": (float, 10.0),
    "requests_per_second": (float, 0.001),
    "max_concurrency": (int, 1),
    "overlap_seconds": (float, 0.0),
    "timeout": (float, 0.001),
    "max_attempts": (int, 1),
    "bulk_read_above": (int, 0),
    "bulk_write_above": (int, 0),
    "bulk_poll_seconds": (float, 0.01),
}


def _base_url(settings: Mapping[str, Any], source: str, prefix: str) -> str:
    url = settings.get("url")
    shop = settings.get("shop")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return url.rstrip("/")
    if isinstance(shop, str) and shop.strip() and "/" not in shop.strip():
        return f"https://{shop.strip()}"
    raise ConfigError(
        source, f"{prefix}.shop", "missing: the shop's domain (my-shop.myshopify.com) or url"
    )


def parse_settings(settings: Mapping[str, Any], *, source: str) -> ShopifySettings:
    """Check ``settings`` and read the access token; errors name the exact key."""
    prefix = str(settings.get("_path", "shop"))
    values: dict[str, Any] = {}
    for name, (kind, low) in _NUMBERS.items():
        if name not in settings:
            continue
        value = settings[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and not isinstance(value, int))
            or value < low
        ):
            raise ConfigError(
                source, f"{prefix}.{name}", f"must be a number >= {low}, not {value!r}"
            )
        values[name] = kind(value)
    version = settings.get("api_version", DEFAULT_VERSION)
    if not isinstance(version, str) or len(version) != 7 or version[4] != "-":
        raise ConfigError(source, f"{prefix}.api_version", "must look like 2026-01")
    beside = settings.get("calls_beside_bulk", True)
    if not isinstance(beside, bool):
        raise ConfigError(
            source, f"{prefix}.calls_beside_bulk", f"must be true or false, not {beside!r}"
        )
    location = settings.get("location")
    if location is not None and (not isinstance(location, str) or not location.strip()):
        raise ConfigError(source, f"{prefix}.location", "must be a location name or id")
    return ShopifySettings(
        url=_base_url(settings, source, prefix),
        access_token=read_secret(settings, "access_token", source=source, prefix=prefix),
        api_version=version,
        location=location.strip() if isinstance(location, str) else None,
        calls_beside_bulk=beside,
        **values,
    )
