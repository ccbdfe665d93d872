"""The order import against the WooCommerce and Odoo simulators over HTTP, on real Postgres."""

from __future__ import annotations

from typing import Any

import msgspec
from test_orders_sides import CONFIG, FRANCE, Sides, place, sale_orders, sides, variant

from canonical.orders import SaleOrder
from engine.orders.importer import run_orders
from engine.store.orders import OrderStore
from engine.store.state import Store
from rules.order_config import OrdersConfig
from rules.order_rules import to_sale_order

__all__ = ["sides"]  # the fixture, shared


async def run(store: Store, sides: Sides, config: OrdersConfig = CONFIG, **kw: Any) -> Any:
    kw.setdefault("full", False)
    return await run_orders(store, connection="main", adapters=sides.adapters, config=config, **kw)


async def test_a_paid_order_becomes_one_confirmed_sale_order(store: Store, sides: Sides) -> None:
    boot = variant(sides.erp)
    number = place(
        sides.shop,
        [("SKU-000002", 2), (boot, 1)],
        shipping={**FRANCE, "address_1": "1 rue X"},
        shipping_lines=[{"method_title": "Colissimo", "total": "5.00"}],
        transaction_id="tx_77",
        customer_note="Leave at the door",
        # A 10% coupon, which WooCommerce spreads over the lines.
        coupon_lines=[{"code": "TEN", "percent": 10}],
    )

    result = await run(store, sides)

    assert result.counts["imported"] == 1, result.counts
    [so] = sale_orders(sides.erp, str(number))
    assert so["state"] == "sale"
    partner = sides.erp.get("res.partner", so["partner_id"][0])
    assert partner["email"] == "ana@example.com" and partner["name"] == "Ana Lima"
    lines = [sides.erp.get("sale.order.line", i) for i in so["order_line"]]
    by_name = {line["name"]: line for line in lines}
    first = next(
        line for line in lines if line["product_id"] and "SKU-000002" in line["product_id"][1]
    )
    assert first["product_uom_qty"] == 2 and first["price_unit"] == 10.0
    assert first["discount"] == 10.0
    assert any(line["product_id"] and boot in line["product_id"][1] for line in lines)
    shipping = by_name["Shipping: Colissimo"]
    assert "[SHIP]" in shipping["product_id"][1] and shipping["price_unit"] == 5.0
    vat20 = sides.erp.find("account.tax", [["name", "=", "VAT 20%"]])
    assert all(line[sides.erp.tax_field] == vat20 for line in lines)
    assert (
        "Leave at the door" in so["note"]
        and "Credit card (stripe), transaction tx_77" in so["note"]
        and "Coupons: TEN" in so["note"]
    )
    assert so["amount_untaxed"] == 18.0 + 10.8 + 5.0
    assert f"{so['amount_total']:.2f}" == sides.shop.orders[number].total == "40.56"

    again = await run(store, sides, full=True)
    assert again.counts.get("imported", 0) == 0 and again.counts["already_imported"] == 1
    assert len(sale_orders(sides.erp, str(number))) == 1
    intents = await OrderStore(store).of_keys("main", [str(number)])
    assert intents[str(number)].state == "done"
    assert intents[str(number)].erp_ref == str(so["id"])


async def test_a_shipping_line_without_an_erp_article_holds_the_order_naming_the_setting(
    store: Store, sides: Sides
) -> None:
    number = place(
        sides.shop,
        [("SKU-000002", 1)],
        shipping_lines=[{"method_title": "Colissimo", "total": "5.00"}],
    )
    without = msgspec.structs.replace(CONFIG, shipping_sku=None)

    result = await run(store, sides, config=without)

    assert result.counts.get("imported", 0) == 0 and result.counts["held"] == 1, result.counts
    assert sale_orders(sides.erp, str(number)) == []
    [letter] = result.failures
    reason = letter.reason
    assert "line 2" in reason and "'Shipping: Colissimo'" in reason
    assert "[orders] shipping_sku" in reason

    result = await run(store, sides, full=True)
    assert result.counts["imported"] == 1, result.counts
    assert len(sale_orders(sides.erp, str(number))) == 1


async def test_customers_are_matched_by_email_never_duplicated(store: Store, sides: Sides) -> None:
    known = sides.erp.add("res.partner", name="Known Buyer", email="Known@Example.com")
    place(sides.shop, [("SKU-000002", 1)], billing={**FRANCE, "email": "known@example.com"})
    place(sides.shop, [("SKU-000003", 1)], billing={**FRANCE, "email": "new@example.com"})
    place(sides.shop, [("SKU-000004", 1)], billing={**FRANCE, "email": "NEW@example.com"})

    result = await run(store, sides)

    assert result.counts["imported"] == 3
    orders = [
        sides.erp.get("sale.order", i)
        for i in sides.erp.find("sale.order", [["client_order_ref", "!=", False]])
    ]
    partners = {
        o["client_order_ref"]: o["partner_id"][0] for o in orders if o["client_order_ref"].isdigit()
    }
    assert sorted(partners.values()).count(known) == 1
    assert len(set(partners.values())) == 2
    assert len(sides.erp.find("res.partner", [["email", "=ilike", "new@example.com"]])) == 1


async def test_an_unmapped_country_holds_the_order_until_it_is_mapped(
    store: Store, sides: Sides
) -> None:
    us = {"first_name": "Bo", "country": "US", "email": "bo@example.com"}
    number = str(place(sides.shop, [("SKU-000002", 1)], billing=us))

    held = await run(store, sides)

    assert held.counts["held"] == 1 and sale_orders(sides.erp, number) == []
    [letter] = await store.list_dead_letters("main")
    assert letter.key == number and "'US'" in letter.reason and "tax" in letter.reason
    assert (await OrderStore(store).of_keys("main", [number])) == {}

    mapped = msgspec.structs.replace(CONFIG, taxes={**CONFIG.taxes, "US": "VAT 20%"})
    later = await run(store, sides, config=mapped)

    assert later.counts["imported"] == 1
    assert len(sale_orders(sides.erp, number)) == 1
    assert await store.list_dead_letters("main") == []


async def test_unknown_sku_and_missing_email_are_held_with_their_reason(
    store: Store, sides: Sides
) -> None:
    sides.shop.add_product(sku="WEB-ONLY", name="Not in the ERP", regular_price="3.00")
    unknown = str(place(sides.shop, [("WEB-ONLY", 1), ("SKU-000002", 1)]))
    anonymous = str(place(sides.shop, [("SKU-000002", 1)], billing={**FRANCE, "email": ""}))
    fine = str(place(sides.shop, [("SKU-000003", 1)]))
    sides.shop.orders[int(anonymous)].billing.email = ""

    result = await run(store, sides)

    assert result.counts["imported"] == 1 and result.counts["held"] == 2
    reasons = {d.key: d.reason for d in await store.list_dead_letters("main")}
    assert "'WEB-ONLY'" in reasons[unknown]
    assert "e-mail" in reasons[anonymous]
    assert sale_orders(sides.erp, unknown) == [] and len(sale_orders(sides.erp, fine)) == 1
    intents = await OrderStore(store).of_keys("main", [unknown])
    assert intents[unknown].state == "failed"
    assert await OrderStore(store).pending("main") == []


async def test_only_orders_passing_the_payment_rule_are_imported(
    store: Store, sides: Sides
) -> None:
    unpaid = str(place(sides.shop, [("SKU-000002", 1)], status="pending"))
    on_hold = str(place(sides.shop, [("SKU-000002", 1)], status="on-hold"))
    completed = str(place(sides.shop, [("SKU-000002", 1)], status="completed"))
    cancelled = str(place(sides.shop, [("SKU-000002", 1)], status="cancelled"))

    result = await run(store, sides)

    assert result.counts["imported"] == 1 and result.counts["not_importable"] == 3
    assert len(sale_orders(sides.erp, completed)) == 1
    for number in (unpaid, on_hold, cancelled):
        assert sale_orders(sides.erp, number) == []


async def test_a_pending_intent_is_looked_up_before_any_create(store: Store, sides: Sides) -> None:
    """The state a crash between the ERP create and the commit leaves behind."""
    number = str(place(sides.shop, [("SKU-000002", 1)]))
    orders = OrderStore(store)
    await store.ensure_connection("main")
    order = (await sides.adapters["shop"].fetch("order", [number]))[0].record

    sale = to_sale_order(order, CONFIG)  # type: ignore[arg-type]
    await orders.begin("main", number, number, msgspec.to_builtins(sale))
    erp = sides.adapters["erp"]
    made = await erp.create_sale_order(msgspec.convert(msgspec.to_builtins(sale), SaleOrder))  # type: ignore[attr-defined]

    result = await run(store, sides)

    assert result.counts["recovered"] == 1 and result.counts["found_in_erp"] == 1
    assert result.counts.get("imported", 0) == 0
    [so] = sale_orders(sides.erp, number)
    assert str(so["id"]) == made.ref and so["state"] == "sale"
    assert await orders.pending("main") == []
