"""``[connections.<name>.transforms]``: the catalogue rules a connection applies, checked together.

The rules themselves live beside this (variants, categories, taxes, prices, stock); the engine
applies them to each cycle's reads and writes (:mod:`engine.cycle.transforms`).
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from rules.categories import CategoryRule
from rules.policy import KindRules
from rules.prices import PriceRule
from rules.stock import StockRule
from rules.taxes import TaxRule
from rules.variants import VariantRule


class Transforms(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[connections.<name>.transforms]``: the catalogue rules of one connection."""

    variants: VariantRule | None = None
    categories: CategoryRule | None = None
    taxes: TaxRule | None = None
    prices: PriceRule | None = None
    stock: StockRule | None = None


def check_transforms(
    transforms: Transforms, rules: Mapping[str, KindRules]
) -> list[tuple[str, str]]:
    """Combinations of rules that cannot work together, as (key, reason)."""
    problems: list[tuple[str, str]] = []
    stock_rules = rules.get("stock")
    if transforms.stock is not None and transforms.stock.available and stock_rules is not None:
        rule = stock_rules.rule("quantity")
        if rule.owner != "erp" and rule.policy == "merge-delta":
            # A sale not yet imported is in both counts then: merging would take it twice.
            problems.append(
                (
                    "stock.available",
                    "stock available to sell needs the ERP to own stock quantity; "
                    "merge-delta would count an unimported sale twice",
                )
            )
    return problems
