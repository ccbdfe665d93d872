"""The Tryton adapter's settings table, checked, with its password resolved.

::

    [connections.main.erp]
    type = "tryton"
    url = "https://erp.example.com"
    database = "shop"
    login = "concord"
    password_env = "TRYTON_PASSWORD"   # or password_file
    warehouse = "WH"                   # warehouse code or name whose stock is synchronised
    requests_per_second = 20
    max_concurrency = 2                # a Tryton worker is single-threaded per request
    overlap_seconds = 300              # read back this far behind the cursor
    timeout = 120                      # a 1,000-row page of computed prices can take seconds
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from canonical.errors import ConfigError
from canonical.secrets import read_secret


class TrytonSettings(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    database: str
    login: str
    password: str
    warehouse: str = "WH"
    requests_per_second: float = 20.0
    max_concurrency: int = 2
    overlap_seconds: float = 300.0
    timeout: float = 120.0
    max_attempts: int = 5
    page_size: int = 1000

    def __repr__(self) -> str:
        # The password never reaches a log through a repr.
        return f"TrytonSettings(url={self.url!r}, database={self.database!r}, ...)"


_NUMBERS: dict[str, tuple[type, float]] = {
    "requests_per_second": (float, 0.001),
    "max_concurrency": (int, 1),
    "overlap_seconds": (float, 0.0),
    "timeout": (float, 0.001),
    "max_attempts": (int, 1),
    "page_size": (int, 1),
}


def _text(settings: Mapping[str, Any], name: str, source: str, prefix: str, why: str) -> str:
    value = settings.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(source, f"{prefix}.{name}", f"missing: {why}")
    return value.strip()


def parse_settings(settings: Mapping[str, Any], *, source: str) -> TrytonSettings:
    """Check ``settings`` and read the password; errors name the exact key."""
    prefix = str(settings.get("_path", "erp"))
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(source, f"{prefix}.url", "missing or not an http(s) URL")
    database = _text(settings, "database", source, prefix, "the Tryton database name")
    login = _text(settings, "login", source, prefix, "the Tryton user's login")
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
    if "warehouse" in settings:
        values["warehouse"] = _text(settings, "warehouse", source, prefix, "a warehouse code")
    return TrytonSettings(
        url=url.rstrip("/"),
        database=database,
        login=login,
        password=read_secret(settings, "password", source=source, prefix=prefix),
        **values,
    )
