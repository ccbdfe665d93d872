"""Small things every part of the simulator shares: the error type, time stamps, money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

SITE_TZ = timezone(timedelta(hours=1))
"""The shop's own time zone; local dates use it, ``*_gmt`` twins are UTC."""

TAX_RATES: dict[str, tuple[int, str, Decimal]] = {
    "": (1, "Standard", Decimal("20")),
    "reduced-rate": (2, "Reduced rate", Decimal("5.5")),
    "zero-rate": (3, "Zero rate", Decimal("0")),
}
"""Tax rate per tax class: (rate id, label, percent)."""


class SimError(Exception):
    """A REST error, rendered as ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(self, code: str, message: str, status: int = 400, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.data},
        }


def invalid_params(params: dict[str, str]) -> SimError:
    """WordPress's argument-validation error."""
    return SimError(
        "rest_invalid_param", f"Invalid parameter(s): {', '.join(params)}", params=params
    )


def stamp(moment: datetime) -> tuple[str, str]:
    """A moment as WooCommerce writes it: (site-local, GMT), ISO-8601 without offset."""
    moment = moment.astimezone(UTC).replace(microsecond=0)
    local = moment.astimezone(SITE_TZ).replace(tzinfo=None).isoformat()
    return local, moment.replace(tzinfo=None).isoformat()


def parse_moment(value: str, *, gmt: bool) -> datetime:
    """An ISO-8601 date from a request; without an offset it is GMT or site-local per ``gmt``."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if gmt else SITE_TZ)
    return moment


def money(value: Decimal) -> str:
    """Totals are strings with two decimals."""
    return f"{value.quantize(Decimal('0.01')):f}"


def decimal_or_none(value: str) -> Decimal | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_ENCODER = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    """JSON body of a response."""
    return _ENCODER.encode(value)
