"""Held orders as a merchant reads them: every one with its reason, and how many per reason.

A held order is an open dead letter of kind ``order``. Its reason names the order and the
values at fault (``order 1042: no tax mapping for destination country 'US'``); the reason's
*kind* is the same sentence with the order, quoted values and numbers left out, so orders held
for the same cause count together (``no tax mapping for destination country '…'``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import msgspec

KIND = "order"
_ORDER = re.compile(r"\border [^\s:]+: ")
_QUOTED = re.compile(r"(?<!\w)'[^']*'(?!\w)|\"[^\"]*\"")
"""A quoted value; an apostrophe inside a word (the shop's) opens none."""
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")
_LONGEST = 120


class _Letter(Protocol):
    @property
    def connection(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def first_seen(self) -> datetime: ...
    @property
    def last_seen(self) -> datetime: ...


class HeldOrder(msgspec.Struct, frozen=True, kw_only=True):
    connection: str
    number: str
    reason: str
    kind_of_reason: str
    attempts: int
    first_seen: datetime
    last_seen: datetime


class HeldOrders(msgspec.Struct, frozen=True, kw_only=True):
    """Every held order, oldest first, and the count per kind of reason (most first)."""

    count: int
    by_reason: dict[str, int]
    orders: list[HeldOrder]


def reason_kind(reason: str) -> str:
    """The reason without the order, quoted values and numbers."""
    text = _ORDER.sub("", reason.strip().splitlines()[0] if reason.strip() else "")
    text = _NUMBER.sub("#", _QUOTED.sub("'…'", text))
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…"


def held_orders(letters: Iterable[_Letter]) -> HeldOrders:
    """The held orders among open dead letters."""
    orders = [
        HeldOrder(
            connection=letter.connection,
            number=letter.key,
            reason=letter.reason,
            kind_of_reason=reason_kind(letter.reason),
            attempts=letter.attempts,
            first_seen=letter.first_seen,
            last_seen=letter.last_seen,
        )
        for letter in letters
        if letter.kind == KIND
    ]
    counted = Counter(order.kind_of_reason for order in orders)
    return HeldOrders(
        count=len(orders),
        by_reason=dict(sorted(counted.items(), key=lambda item: (-item[1], item[0]))),
        orders=orders,
    )


def held_lines(held: HeldOrders) -> list[str]:
    """For a terminal: the count per reason, then every held order with its reason."""
    if not held.count:
        return ["held orders: none"]
    lines = [f"held orders: {held.count}"]
    lines += [f"  {count:>5} x {kind}" for kind, count in held.by_reason.items()]
    lines += [
        f"  held order {o.connection}/{o.number} (x{o.attempts}, since "
        f"{o.first_seen:%Y-%m-%d %H:%M}): {o.reason}"
        for o in held.orders
    ]
    return lines
