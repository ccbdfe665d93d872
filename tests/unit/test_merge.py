"""merge-delta arithmetic: base + (erp - base) + (shop - base), floored at zero."""

from __future__ import annotations

from typing import Any

import pytest

from rules.merge import merge_delta

CASES: list[tuple[str, Any, Any, Any, Any]] = [
    ("ints: received 10 in ERP, sold 3 in shop", 10, 20, 7, 17),
    ("ints: nothing changed", 4, 4, 4, 4),
    ("ints: only the shop sold", 10, 10, 8, 8),
    ("decimal strings", "10.5", "12", "9.25", "10.75"),
    ("decimal strings: result is whole", "1.5", "2.5", "1.5", "2.5"),
    ("decimal strings: trailing zeros dropped", "1.25", "2.5", "1.75", "3"),
    ("decimal strings: large counts", "100000", "100250", "99990", "100240"),
    ("floor: oversold on both sides (ints)", 5, 1, 2, 0),
    ("floor: oversold on both sides (decimal strings)", "5", "1.5", "2", "0"),
    ("floor: exactly zero", 5, 2, 3, 0),
    ("mixed: int ERP count keeps a fraction it cannot hold as int", 10, 12, "8.5", "10.5"),
    ("non-number text", "10", "abc", "9", None),
    ("None base", None, 3, 4, None),
    ("None ERP", 3, None, 4, None),
    ("list value", 3, [4], 4, None),
    ("not finite", "1", "NaN", "2", None),
    ("infinite", "1", "Infinity", "2", None),
    ("bool base refused", True, 3, 4, None),
    ("bool ERP refused", 1, True, 0, None),
    ("bool shop refused", 1, 2, False, None),
]


@pytest.mark.parametrize(
    ("base", "erp", "shop", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_merge_delta(base: Any, erp: Any, shop: Any, expected: Any) -> None:
    merged = merge_delta(base, erp, shop)
    assert merged == expected
    assert type(merged) is type(expected)
