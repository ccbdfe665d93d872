"""The adapter's settings table, checked, with its secrets resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from canonical.errors import ConfigError
from canonical.secrets import read_secret


class AdapterSettings(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    consumer_key: str
    consumer_secret: str
    requests_per_second: float = 25.0
    max_concurrency: int = 4
    overlap_seconds: float = 120.0
    timeout: float = 30.0
    max_attempts: int = 5
    currency: str = "EUR"

    def __repr__(self) -> str:
        # Secrets never reach logs through a repr.
        return f"AdapterSettings(url={self.url!r}, ...)"


_NUMBERS: dict[str, tuple[type, float]] = {
    "requests_per_second": (float, 0.0),
    "max_concurrency": (int, 1),
    "overlap_seconds": (float, 0.0),
    "timeout": (float, 0.0),
    "max_attempts": (int, 1),
}


def parse_settings(settings: Mapping[str, Any], *, source: str) -> AdapterSettings:
    """Check ``settings`` and read the consumer key and secret; errors name the exact key."""
    prefix = str(settings.get("_path", "shop"))
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(source, f"{prefix}.url", "missing or not an http(s) URL")
    values: dict[str, Any] = {}
    for name, (kind, low) in _NUMBERS.items():
        if name not in settings:
            continue
        value = settings[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and not isinstance(value, int))
        ):
            raise ConfigError(source, f"{prefix}.{name}", f"must be a number, not {value!r}")
        if value < low or (low == 0.0 and name != "overlap_seconds" and value == 0):
            raise ConfigError(source, f"{prefix}.{name}", f"must be positive, not {value!r}")
        values[name] = kind(value)
    currency = settings.get("currency", "EUR")
    if not isinstance(currency, str) or len(currency) != 3:
        raise ConfigError(source, f"{prefix}.currency", "must be a three-letter ISO code")
    return AdapterSettings(
        url=url,
        consumer_key=read_secret(settings, "consumer_key", source=source, prefix=prefix),
        consumer_secret=read_secret(settings, "consumer_secret", source=source, prefix=prefix),
        currency=currency,
        **values,
    )
