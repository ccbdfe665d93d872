"""Convergence: after a successful cycle, the next one writes nothing and reports no drift.

Odoo simulator <-> WooCommerce simulator over real HTTP, real PostgreSQL as state, with the
README's default rules (no field list): every field both adapters expose takes part, and a
field one of them cannot carry must not read as a change.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from convergence_law import IDLE, README_RULES, writes
from odoo_woo_pair import Pair, open_pair

from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.store import OdooStore
from engine.store.state import Store


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, README_RULES):
        yield opened


def _tax(odoo: OdooStore, name: str) -> int:
    [found] = odoo.find("account.tax", [["name", "=", name]])
    return found


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


def _edit_both_sides(pair: Pair, rng: random.Random) -> None:
    """What people do between two cycles: ERP prices and names, shop descriptions, stock
    received in the ERP and sold (or counted) in the shop."""
    odoo, sim = pair.odoo, pair.sim
    templates = [
        rid
        for rid, row in odoo.tables["product.template"].items()
        if row.get("active") is not False
    ]
    for rid in rng.sample(templates, 8):
        price = round(rng.uniform(5, 300), 2)
        call(odoo, "product.template", "write", [rid], {"vals": {"list_price": price}}, {})
    for rid in rng.sample(templates, 3):
        name = odoo.tables["product.template"][rid]["name"]
        call(
            odoo, "product.template", "write", [rid], {"vals": {"name": f"  {name} Ünïcode  "}}, {}
        )
    simple = [p for p in sim.products.values() if p.type == "simple"]
    for item in rng.sample(simple, 4):
        item.description = f"<p>Edited in the shop {rng.randrange(1000)}</p>"
        sim.touch(item)
    stocked = [p for p in simple if p.manage_stock and p.stock_quantity is not None]
    for item in rng.sample(stocked, 4):
        assert item.stock_quantity is not None
        item.stock_quantity = max(0, item.stock_quantity - rng.randrange(1, 3))
        sim.touch(item)
    for quant in rng.sample(sorted(odoo.tables["stock.quant"]), 4):
        row = odoo.tables["stock.quant"][quant]
        call(
            odoo,
            "stock.quant",
            "write",
            [quant],
            {"vals": {"inventory_quantity": row.get("quantity", 0.0) + rng.randrange(1, 10)}},
            {},
        )
        call(odoo, "stock.quant", "action_apply_inventory", [quant], {}, {})


async def test_after_any_successful_cycle_the_next_writes_nothing(
    tmp_path: Path, store: Store
) -> None:
    # The README's configuration, every field both platforms carry, a varied catalogue
    # (variants, services, archived articles, padded unicode names, shelves), and three rounds
    # of edits on both sides: after each successful round, the next full and the next
    # incremental cycle of each job write nothing and report no drift.
    rng = random.Random(20261204)
    async for pair in open_pair(tmp_path, README_RULES, products=300, varied=True):
        for round_ in range(4):
            if round_:
                _edit_both_sides(pair, rng)
            for kind in ("product", "stock"):
                # Full: with the test's zero overlap, an incremental read could miss an edit
                # made in the second of the cursor (Odoo's write_date has whole seconds).
                done = await pair.cycle(store, kind)
                assert done.failures == [] and done.rejected == [], (round_, kind, done.counts)
            for kind in ("product", "stock"):
                for full in (True, False):
                    again = await pair.cycle(store, kind, full=full)
                    assert writes(again) == IDLE, (round_, kind, full, again.operations)
                    assert again.conflicts == [] or kind == "product", again.conflicts
        assert len(pair.sim.variations) > 20
