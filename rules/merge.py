"""Counter arithmetic for the ``merge-delta`` policy.

Stock is the typical counter: the ERP received 10 while the shop sold 3, so the new quantity is
base + 10 - 3 on both sides, never below zero. Values are canonical field values: numbers as
normalised decimal strings (see :mod:`canonical.fields`) or ints.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def as_number(value: Any) -> Decimal | None:
    """A canonical counter value as a number (None when it is not one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _spell_like(example: Any, number: Decimal) -> Any:
    # An int can only carry a whole result; truncating a fraction would lose stock silently.
    if isinstance(example, int) and number == number.to_integral_value():
        return int(number)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def merge_delta(base: Any, erp: Any, shop: Any) -> Any | None:
    """``base + (erp - base) + (shop - base)``, floored at zero, spelled like the inputs.

    Returns ``None`` when any value is not a number: the caller turns that into a conflict.
    """
    b, e, s = as_number(base), as_number(erp), as_number(shop)
    if b is None or e is None or s is None:
        return None
    merged = max(Decimal(0), e + s - b)
    return _spell_like(erp, merged)
