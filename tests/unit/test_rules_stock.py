"""Named scenarios for stock available to sell and the read-before-write recomputation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from canonical.models import Order, OrderLine, Stock
from rules.stock import StockRule, available, recompute, reserved

STATUSES = StockRule().statuses


def order(number: str, status: str, *lines: tuple[str, int]) -> Order:
    return Order(
        number=number,
        status=status,
        currency="EUR",
        customer_email="a@b.c",
        created_at=datetime(2025, 6, 1, tzinfo=UTC),
        lines=tuple(
            OrderLine(
                sku=sku,
                name=sku,
                quantity=Decimal(qty),
                unit_price=Decimal(1),
                subtotal=Decimal(qty),
                total=Decimal(qty),
            )
            for sku, qty in lines
        ),
    )


@dataclass(frozen=True)
class Case:
    name: str
    erp: dict[str, int]
    orders: list[Order]
    expected: dict[str, int]
    imported: set[str] = field(default_factory=set)


CASES = [
    Case("no orders -> the ERP's stock", {"MUG": 10}, [], {"MUG": 10}),
    Case(
        "a processing order not imported -> taken off",
        {"MUG": 10},
        [order("1", "processing", ("MUG", 2))],
        {"MUG": 8},
    ),
    Case(
        "on-hold orders too, lines of one SKU added up",
        {"MUG": 10, "CUP": 3},
        [order("1", "on-hold", ("MUG", 2), ("CUP", 1)), order("2", "processing", ("MUG", 3))],
        {"MUG": 5, "CUP": 2},
    ),
    Case(
        "an imported order is in the ERP's stock already -> not taken twice",
        {"MUG": 10},
        [order("1", "processing", ("MUG", 2))],
        {"MUG": 10},
        imported={"1"},
    ),
    Case(
        "pending, completed or cancelled orders do not count",
        {"MUG": 10},
        [
            order("1", "pending", ("MUG", 1)),
            order("2", "completed", ("MUG", 1)),
            order("3", "cancelled", ("MUG", 1)),
        ],
        {"MUG": 10},
    ),
    Case(
        "oversold -> below zero, as the shop's own count with backorders",
        {"MUG": 1},
        [order("1", "processing", ("MUG", 3))],
        {"MUG": -2},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_stock_available_to_sell(case: Case) -> None:
    taken = reserved(case.orders, case.imported, STATUSES)
    got = {
        sku: available(Stock(sku=sku, quantity=Decimal(q)), taken).quantity
        for sku, q in case.erp.items()
    }
    assert got == {sku: Decimal(q) for sku, q in case.expected.items()}


@pytest.mark.parametrize(
    ("name", "planned", "seen", "current", "expected"),
    [
        ("nothing happened in the shop -> the plan", 13, 8, 8, 13),
        ("a sale of one landed -> one less", 13, 8, 7, 12),
        ("a return landed -> one more", 13, 8, 9, 14),
    ],
)
def test_read_before_write(name: str, planned: int, seen: int, current: int, expected: int) -> None:
    assert recompute(Decimal(planned), Decimal(seen), Decimal(current)) == expected
