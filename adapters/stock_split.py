"""Where a counted quantity lands when an ERP keeps an article's stock in several places.

A warehouse's stock location often has locations below it (shelves, bins), and the ERP counts
all of them as the warehouse's stock. Setting that total to a new figure must not destroy how
the stock is spread: the difference is counted on the warehouse location itself, and only
what it cannot give up (its stock would go below zero) is taken from the places below, the
fullest first. The total read back is then exactly the figure written, even a negative one
(whether stock may go below zero is the engine's rule, not the ERP's): what the places below
cannot give is left, negative, on the main location.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

K = TypeVar("K")


def recount(
    wanted: Decimal, main: Decimal, below: Sequence[tuple[K, Decimal]]
) -> tuple[Decimal | None, list[tuple[K, Decimal]]]:
    """The new quantity of the main location (``None`` when it stays as it is) and the new
    quantities of the places ``below`` it that change, for a total of ``wanted``."""
    difference = wanted - main - sum((q for _, q in below), Decimal(0))
    if not difference:
        return None, []
    if main + difference >= 0:
        return main + difference, []
    missing = -(main + difference)
    changed: list[tuple[K, Decimal]] = []
    for key, quantity in sorted(below, key=lambda place: -place[1]):
        if missing <= 0 or quantity <= 0:
            continue
        taken = min(quantity, missing)
        changed.append((key, quantity - taken))
        missing -= taken
    return (-missing if main or missing else None), changed
