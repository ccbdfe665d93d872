"""Stock available to sell (pure).

What the shop may sell is the ERP's stock minus what the shop has sold but the ERP does not
know yet: the lines of shop orders still waiting to be imported (statuses ``processing`` and
``on-hold``, the ones WooCommerce has already taken out of its own count). Subtracting them
keeps the shop from selling the same unit twice between a sale and its import.

When the shop has no compare-and-set, a stock write is checked against the shop's current
count just before it goes: if a sale landed since the snapshot, its quantity is carried over
(:func:`recompute`) instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal

import msgspec

from canonical.models import Order, Stock

SEEN_QUANTITY = "seen_quantity"
"""Extra field of a shop-bound stock update: the shop's count at the snapshot, for the
read-before-write check of shops without compare-and-set."""


class StockRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[connections.<name>.transforms.stock]``."""

    available: bool = True
    """Publish ERP stock minus the quantity in shop orders not yet imported into the ERP."""
    statuses: tuple[str, ...] = ("processing", "on-hold")
    """Shop order statuses whose quantity the shop has taken but the ERP may not know yet."""
    guard: bool = True
    """Re-read the shop's count right before a stock write and carry over a sale made since."""


def reserved(
    orders: Iterable[Order], imported: Collection[str], statuses: Collection[str]
) -> dict[str, Decimal]:
    """Quantity per SKU in orders with one of ``statuses`` whose number is not ``imported``."""
    out: dict[str, Decimal] = {}
    for order in orders:
        if order.status not in statuses or order.number in imported:
            continue
        for line in order.lines:
            sku = line.sku.strip()
            if sku:
                out[sku] = out.get(sku, Decimal(0)) + line.quantity
    return out


def available(stock: Stock, taken: Mapping[str, Decimal]) -> Stock:
    """``stock`` less the quantity shop orders took; it may go below zero, as the shop's own
    count does when it allowed backorders, so both sides keep telling the same story."""
    less = taken.get(stock.sku)
    if not less:
        return stock
    return msgspec.structs.replace(stock, quantity=stock.quantity - less)


def recompute(planned: Decimal, seen: Decimal, current: Decimal) -> Decimal:
    """The quantity to write when the shop moved from ``seen`` (at the snapshot) to
    ``current`` (just now): the planned value plus what happened in between."""
    return planned + (current - seen)
