"""Tryton's JSON: decimals, dates, datetimes and bytes travel as tagged objects.

Tryton writes ``Decimal("9.5")`` as ``{"__class__": "Decimal", "decimal": "9.5"}`` and dates and
datetimes as their parts; plain JSON numbers would lose money to floats, so both directions go
through these tags. Datetimes are naive on the wire and UTC on the server's clock.
"""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

_GZIP_ABOVE = 1400
"""Request bodies larger than this are compressed (Tryton accepts gzip from a signed-in user)."""


def _tagged(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _untagged(obj: dict[str, Any]) -> Any:
    tag = obj.get("__class__")
    if tag is None:
        return obj
    if tag == "Decimal":
        return Decimal(obj["decimal"])
    if tag == "datetime":
        return datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj["hour"],
            obj["minute"],
            obj["second"],
            obj["microsecond"],
        )
    if tag == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if tag == "time":
        return time(obj["hour"], obj["minute"], obj["second"], obj["microsecond"])
    if tag == "timedelta":
        return timedelta(seconds=obj["seconds"])
    if tag == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def encode(payload: Any) -> bytes:
    """A request body in Tryton's JSON."""
    return json.dumps(payload, default=_tagged, separators=(",", ":")).encode()


def compress(body: bytes) -> tuple[bytes, dict[str, str]]:
    """``body`` gzipped when it is worth it, with the header saying so."""
    if len(body) <= _GZIP_ABOVE:
        return body, {}
    return gzip.compress(body, compresslevel=1), {"Content-Encoding": "gzip"}


def decode(body: bytes) -> Any:
    """A reply body with Tryton's tagged values turned into Python values."""
    return json.loads(body, object_hook=_untagged)
