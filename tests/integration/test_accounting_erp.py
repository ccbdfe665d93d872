"""Booked entries posted into Odoo's journals (``account.move``) exactly once, over HTTP to the
Odoo simulator, read from the WooCommerce simulator, on real Postgres."""

from __future__ import annotations

from collections import Counter
from datetime import date

from accounting_month import chart, place_month
from test_orders_sides import Sides, sides

from engine.accounting.job import run_booking
from engine.store.state import Store
from rules.accounting.chart import AccountingConfig

__all__ = ["sides"]  # the fixture, shared
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def plant_chart(sides: Sides, config: AccountingConfig, *, leave_out: str = "") -> None:
    """Odoo's journals and accounts under the codes the books use."""
    erp = sides.erp
    for code in {config.sales_journal, *(g.journal for g in config.gateways.values())}:
        erp.add("account.journal", code=code, name=f"Journal {code}")
    accounts = {
        config.customer_account,
        config.shipping_account,
        config.fees_account,
        config.rounding_debit,
        config.rounding_credit,
        *(a for v in config.vat.values() for a in (v.sales, v.vat)),
        *(g.clearing for g in config.gateways.values()),
    }
    for code in sorted(accounts - {leave_out}):
        erp.add("account.account", code=code, name=f"Account {code}")


def moves(sides: Sides) -> list[dict[str, object]]:
    erp = sides.erp
    return [
        erp.get("account.move", i) for i in erp.find("account.move", [["move_type", "=", "entry"]])
    ]


async def book(store: Store, sides: Sides, config: AccountingConfig) -> dict[str, int]:
    result = await run_booking(
        store,
        connection="main",
        adapters=sides.adapters,
        config=config,
        start=NOVEMBER[0],
        end=NOVEMBER[1],
        today=date(2026, 12, 4),
    )
    return result.counts


async def test_every_booked_entry_is_posted_once_and_a_missing_account_holds_it(
    store: Store, sides: Sides
) -> None:
    place_month(sides.shop, 60, seed=11)
    config = chart(erp=True, erp_reference_prefix="WEB/")
    belgian_vat = config.vat["BE:21"].vat
    plant_chart(sides, config, leave_out=belgian_vat)

    first = await book(store, sides, config)

    held = [d for d in await store.list_dead_letters("main") if d.side == "erp"]
    assert held and all(belgian_vat in d.reason and "no account" in d.reason for d in held)
    assert first["posted_to_erp"] == first["booked"] - len(held)
    posted = moves(sides)
    assert all(m["state"] == "posted" for m in posted)
    refs = Counter(str(m["ref"]) for m in posted)
    assert set(refs.values()) == {1} and all(r.startswith("WEB/") for r in refs)
    for move in posted:
        lines = [sides.erp.get("account.move.line", i) for i in move["line_ids"]]  # type: ignore[attr-defined]
        assert (
            round(sum(line["debit"] for line in lines), 2)
            == round(sum(line["credit"] for line in lines), 2)
            > 0
        )

    sides.erp.add("account.account", code=belgian_vat, name="TVA BE 21")
    second = await book(store, sides, config)

    assert second.get("booked", 0) == 0 and second["posted_to_erp"] == len(held)
    assert [d for d in await store.list_dead_letters("main") if d.side == "erp"] == []
    refs = Counter(str(m["ref"]) for m in moves(sides))
    assert set(refs.values()) == {1} and len(refs) == first["booked"]

    third = await book(store, sides, config)
    assert third.get("posted_to_erp", 0) == 0 and len(moves(sides)) == first["booked"]
