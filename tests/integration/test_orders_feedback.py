"""Back to the shop: ERP states, shipping, invoices and refunds, against both simulators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from test_orders_sides import CONFIG, Sides, place, sale_orders, sides

from adapters.odoo.simulator.dispatch import call
from adapters.woocommerce.simulator.orders_logic import create_refund
from engine.orders.feedback import run_feedback
from engine.orders.importer import run_orders
from engine.store.state import Store

__all__ = ["sides"]  # the fixture, shared


async def feedback(store: Store, sides: Sides) -> dict[str, int]:
    result = await run_feedback(
        store, connection="main", adapters=sides.adapters, config=CONFIG, full=False
    )
    return result.counts


def notes(sides: Sides, number: str) -> list[Any]:
    return list(reversed(sides.shop.notes.get(int(number), [])))


async def test_erp_progress_reaches_the_shop_once(store: Store, sides: Sides) -> None:
    shipped, cancelled, credited, refunded = (
        str(place(sides.shop, [("SKU-000002", 2)])) for _ in range(4)
    )
    await run_orders(store, connection="main", adapters=sides.adapters, config=CONFIG, full=False)
    erp = sides.erp
    so = {n: sale_orders(erp, n)[0] for n in (shipped, cancelled, credited, refunded)}

    carrier = erp.add("delivery.carrier", name="Colissimo")
    [picking] = erp.find("stock.picking", [["sale_id", "=", so[shipped]["id"]]])
    erp.edit(
        "stock.picking",
        picking,
        state="done",
        carrier_id=carrier,
        carrier_tracking_ref="6A12345678",
    )
    invoice = erp.add(
        "account.move",
        move_type="out_invoice",
        invoice_origin=so[shipped]["name"],
        amount_total=24.0,
        partner_id=so[shipped]["partner_id"][0],
        access_token="tok1",
    )
    call(erp, "account.move", "action_post", [invoice], {}, {})
    call(erp, "sale.order", "action_cancel", [so[cancelled]["id"]], {}, {})
    credit = erp.add(
        "account.move",
        move_type="out_refund",
        invoice_origin=so[credited]["name"],
        amount_total=5.0,
        partner_id=so[credited]["partner_id"][0],
        ref="Damaged box",
    )
    call(erp, "account.move", "action_post", [credit], {}, {})
    shop_refund = create_refund(
        sides.shop,
        sides.shop.orders[int(refunded)],
        {"amount": "3.00", "reason": "Late delivery", "api_refund": False},
    )

    counts = await feedback(store, sides)

    orders = sides.shop.orders
    assert orders[int(shipped)].status == "completed"
    texts = [n.note for n in notes(sides, shipped) if n.customer_note]
    tracking = next(t for t in texts if "6A12345678" in t)
    assert "Colissimo" in tracking
    invoice_name = erp.get("account.move", invoice)["name"]
    [invoice_note] = [t for t in texts if invoice_name in t]
    assert f"/my/invoices/{invoice}?report_type=pdf" in invoice_note and "tok1" in invoice_note
    assert orders[int(cancelled)].status == "cancelled"
    assert orders[int(credited)].status == "processing"
    [back] = sides.shop.refunds[int(credited)]
    credit_name = erp.get("account.move", credit)["name"]
    assert Decimal(back.amount) == Decimal("5.00") and credit_name in back.reason
    made = erp.find("account.move", [["ref", "=", f"shop refund {shop_refund.id}"]])
    assert len(made) == 1
    note = erp.get("account.move", made[0], "move_type", "state", "amount_total", "invoice_origin")
    assert (note["move_type"], note["state"], note["amount_total"]) == ("out_refund", "posted", 3.0)
    assert note["invoice_origin"] == so[refunded]["name"]
    assert counts["refunds_to_shop"] == 1 and counts["refunds_to_erp"] == 1

    again = await feedback(store, sides)

    assert again.get("notes", 0) == 0 and again.get("statuses", 0) == 0
    assert again.get("refunds_to_shop", 0) == 0 and again.get("refunds_to_erp", 0) == 0
    assert len(sides.shop.refunds[int(credited)]) == 1
    assert len(erp.find("account.move", [["move_type", "=", "out_refund"]])) == 2


async def test_a_shop_cancellation_after_import_cancels_the_erp_order_or_flags_it(
    store: Store, sides: Sides
) -> None:
    early, shipped, kept = (str(place(sides.shop, [("SKU-000002", 1)])) for _ in range(3))
    await run_orders(store, connection="main", adapters=sides.adapters, config=CONFIG, full=False)
    await feedback(store, sides)  # every order "processing" in the shop, as imported
    erp = sides.erp
    [picking] = erp.find("stock.picking", [["sale_id", "=", sale_orders(erp, shipped)[0]["id"]]])
    erp.edit("stock.picking", picking, state="done")
    await feedback(store, sides)  # the shipped one goes to completed
    for number in (early, shipped):
        sides.shop.set_order_status(int(number), "cancelled")

    counts = await feedback(store, sides)

    assert counts["cancelled_in_erp"] == 1
    assert sale_orders(erp, early)[0]["state"] == "cancel"
    assert (
        sale_orders(erp, shipped)[0]["state"] == "sale"
        and sale_orders(erp, kept)[0]["state"] == "sale"
    )
    [flag] = await store.list_dead_letters("main")
    assert flag.key == shipped and "cancelled in the shop" in flag.reason
    assert "shipped" in flag.reason
    orders = sides.shop.orders
    assert [orders[int(n)].status for n in (early, shipped, kept)] == [
        "cancelled",
        "cancelled",  # never put back to the ERP's state while a person settles it
        "processing",
    ]

    again = await feedback(store, sides)
    assert again.get("cancelled_in_erp", 0) == 0 and again.get("statuses", 0) == 0
    assert orders[int(shipped)].status == "cancelled"
    assert len(await store.list_dead_letters("main")) == 1
