"""Convergence: after a successful cycle, the next one writes nothing and reports no drift.

Odoo simulator <-> WooCommerce simulator over real HTTP, real PostgreSQL as state, with the
README's default rules (no field list): every field both adapters expose takes part, and a
field one of them cannot carry must not read as a change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from odoo_woo_pair import Pair, open_pair

from adapters.odoo.store import OdooStore
from engine.cycle import CycleResult
from engine.store import Store

README_RULES = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "erp" }
fields.description = { owner = "both", policy = "manual" }
create_in_shop = true
when_erp_lost = "archive"
when_shop_lost = "report"

[connections.main.rules.stock]
default = { owner = "both", policy = "merge-delta" }
"""


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, README_RULES):
        yield opened


def _tax(odoo: OdooStore, name: str) -> int:
    [found] = odoo.find("account.tax", [["name", "=", name]])
    return found


def writes(result: CycleResult) -> dict[str, int]:
    """What a cycle wrote or would have, and what it found wrong."""
    counts = result.counts
    return {
        name: counts.get(name, 0)
        for name in ("writes_erp", "writes_shop", "drift", "failed_erp", "failed_shop")
    }


IDLE = {"writes_erp": 0, "writes_shop": 0, "drift": 0, "failed_erp": 0, "failed_shop": 0}


async def test_cost_and_erp_tax_codes_never_read_as_shop_changes(pair: Pair, store: Store) -> None:
    # WooCommerce has no cost price, and keeps tax classes rather than the ERP's tax codes:
    # without a taxes transform neither can be read back as written.
    for n in range(1, 6):
        pair.odoo.add(
            "product.template",
            name=f"Mug {n}",
            default_code=f"MUG-{n}",
            list_price=9.9 + n,
            standard_price=4.25 + n,
            taxes_id=[_tax(pair.odoo, "VAT 20%")],
        )

    first = await pair.cycle(store, "product")
    assert first.failures == [] and first.rejected == []
    assert first.counts["created_shop"] == 5

    again = await pair.cycle(store, "product")
    assert writes(again) == IDLE
    since = await pair.cycle(store, "product", full=False)
    assert writes(since) == IDLE
    # The ERP's cost is untouched, and was never sent to the shop.
    costs = {
        row["default_code"]: row["standard_price"]
        for rid in pair.odoo.find("product.product", [["default_code", "like", "MUG-"]])
        if (row := pair.odoo.get("product.product", rid, "default_code", "standard_price"))
    }
    assert costs == {f"MUG-{n}": pytest.approx(4.25 + n) for n in range(1, 6)}
