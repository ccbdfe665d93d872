"""Every imported order's money equals the shop's to the cent, on Odoo 17, 18 and 19.

Orders with fees, coupons, taxed shipping, unit prices of three decimals and guest orders
reusing e-mails go from the WooCommerce simulator into an Odoo simulator that rounds as Odoo
does (unit prices to the 'Product Price' precision, taxes per line or globally), under the
field names and APIs of each version. Every ERP total is compared with the shop's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_orders_sides import FRANCE, WITH_LINE_ARTICLES, Sides, open_sides, place, sale_orders

from adapters.base import PermanentError
from adapters.odoo.simulator.store import OdooStore
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import model as m
from engine.orders.importer import run_orders
from engine.store.orders import OrderStore
from engine.store.state import Store
from rules.order_config import OrdersConfig

RATES = {"standard": "VAT 20%", "reduced-rate": "VAT 5.5%"}
CONFIG = OrdersConfig(taxes={"FR": RATES, "BE": RATES}, **WITH_LINE_ARTICLES)
SETTINGS = [
    pytest.param((17, 0), "jsonrpc", "round_per_line", id="odoo17-jsonrpc-per-line"),
    pytest.param((18, 0), "jsonrpc", "round_globally", id="odoo18-jsonrpc-globally"),
    pytest.param((18, 1), "jsonrpc", "round_per_line", id="odoo18.1-jsonrpc-per-line"),
    pytest.param((19, 0), "json2", "round_per_line", id="odoo19-json2-per-line"),
    pytest.param((19, 0), "json2", "round_globally", id="odoo19-json2-globally"),
]
CHLOE = {**FRANCE, "first_name": "Chloé", "last_name": "Martin", "address_1": "2 quai Est"}
PAUL = {**FRANCE, "first_name": "Paul", "last_name": "Durand", "address_1": "9 rue Ouest"}
BRUSSELS = {**FRANCE, "country": "BE", "city": "Bruxelles", "address_1": "1 Grand-Place"}


async def run(store: Store, sides: Sides) -> Any:
    return await run_orders(
        store, connection="main", adapters=sides.adapters, config=CONFIG, full=False
    )


def price(shop: ShopStore, sku: str, regular_price: str, tax_class: str = "") -> None:
    item = shop.product_by_sku(sku)
    assert item is not None
    shop.edit_product(item.id, regular_price=regular_price, tax_class=tax_class)


def place_scenario(shop: ShopStore) -> list[int]:
    """Orders whose money an ERP does not reproduce by itself."""
    price(shop, "SKU-000003", "3.771")
    price(shop, "SKU-000004", "7.333", "reduced-rate")
    ship = [{"method_title": "Colissimo", "total": "4.90"}]
    chloe = {**CHLOE, "email": " Chloe@Example.com "}
    return [
        # 1,000 x 3.771: Odoo keeps 3.77 of the unit price, 1.00 short.
        place(shop, [("SKU-000003", 1000)]),
        place(
            shop,
            [("SKU-000004", 3), ("SKU-000002", 1)],
            shipping_lines=ship,
            fee_lines=[{"name": "Payment fee", "total": "1.50"}],
        ),
        place(
            shop,
            [("SKU-000003", 7), ("SKU-000002", 2)],
            shipping_lines=[{"method_title": "Express", "total": "5.95"}],
            coupon_lines=[{"code": "SPRING15", "percent": 15}],
        ),
        place(
            shop,
            [("SKU-000002", 1), ("SKU-000003", 3), ("SKU-000004", 2)],
            coupon_lines=[{"code": "FIVE", "amount": "5.00"}],
            fee_lines=[{"name": "Gift wrap", "total": "2.00", "tax_status": "none"}],
        ),
        place(
            shop,
            [("SKU-000004", 13)],
            coupon_lines=[{"code": "TEN", "percent": 10}],
            fee_lines=[{"name": "Loyalty", "total": "-2.00"}],
            shipping_lines=ship,
        ),
        # Guests reusing one e-mail, spelt three ways, two of them another person.
        place(shop, [("SKU-000003", 11)], billing=chloe),
        place(
            shop,
            [("SKU-000004", 1)],
            billing={**PAUL, "email": "CHLOE@example.com"},
            shipping=BRUSSELS,
            shipping_lines=ship,
        ),
        place(shop, [("SKU-000002", 3)], billing={**PAUL, "email": "chloe@example.com "}),
        place(shop, [("SKU-000003", 333), ("SKU-000004", 7)], billing={**CHLOE, "email": "z@x.fr"}),
    ]


def erp_total(erp: OdooStore, number: int) -> str:
    [so] = sale_orders(erp, str(number))
    return f"{so['amount_total']:.2f}"


@pytest.mark.parametrize(("version", "protocol", "rounding"), SETTINGS)
async def test_every_erp_total_equals_the_shops_to_the_cent(
    store: Store, tmp_path: Path, version: tuple[int, int], protocol: str, rounding: str
) -> None:
    async with open_sides(tmp_path, version=version, protocol=protocol) as sides:
        erp = sides.erp
        [company] = erp.find("res.company", [])
        erp.edit("res.company", company, tax_calculation_rounding_method=rounding)
        known = erp.add("res.partner", name="Chloé Martin", email=" chloe@example.com")
        numbers = place_scenario(sides.shop)

        result = await run(store, sides)

        assert result.counts["imported"] == len(numbers), result.counts
        assert result.counts.get("held", 0) == 0
        totals = {n: (erp_total(erp, n), sides.shop.orders[n].total) for n in numbers}
        assert {n: t for n, t in totals.items() if t[0] != t[1]} == {}
        assert await store.list_dead_letters("main") == []

        # The version's own field names were written: every article line has its tax.
        [first] = sale_orders(erp, str(numbers[0]))
        lines = [erp.get("sale.order.line", i) for i in first["order_line"]]
        assert all(line[erp.tax_field] for line in lines)
        assert [(line["name"], line["price_unit"]) for line in lines[1:]] == [
            ("Rounding: VAT 20%", 1.0)
        ]
        assert lines[0]["price_unit"] == 3.77

        # One customer for the e-mail however spelt, never renamed by a guest's order.
        guests = [sale_orders(erp, str(n))[0] for n in numbers[5:8]]
        assert {so["partner_id"][0] for so in guests} == {known}
        assert erp.get("res.partner", known)["name"] == "Chloé Martin"
        chloe_once, paul_away, paul_home = guests
        assert chloe_once["partner_invoice_id"][0] != known  # another street than the partner's
        invoice = erp.get("res.partner", paul_away["partner_invoice_id"][0])
        delivery = erp.get("res.partner", paul_away["partner_shipping_id"][0])
        assert (invoice["name"], invoice["type"], invoice["parent_id"][0]) == (
            "Paul Durand",
            "invoice",
            known,
        )
        assert (delivery["type"], delivery["city"], delivery["parent_id"][0]) == (
            "delivery",
            "Bruxelles",
            known,
        )
        assert paul_home["partner_invoice_id"] == paul_away["partner_invoice_id"]  # reused

        again = await run(store, sides)
        assert again.counts.get("imported", 0) == 0
        assert all(len(sale_orders(erp, str(n))) == 1 for n in numbers)


async def test_a_total_the_erp_does_not_reproduce_holds_the_order_with_both_totals(
    store: Store, tmp_path: Path
) -> None:
    async with open_sides(tmp_path) as sides:
        erp = sides.erp
        # A pricing rule of the ERP's own (a custom module) adds a cent to every unit price.
        number = place(sides.shop, [("SKU-000002", 1)])

        def surcharge(model: str, row: dict[str, Any]) -> str | None:
            if model == "sale.order.line":
                row["price_unit"] = row.get("price_unit", 0.0) + 0.01
            return None

        erp.constraints.append(surcharge)

        held = await run(store, sides)

        assert held.counts["held"] == 1 and held.counts.get("imported", 0) == 0
        [letter] = await store.list_dead_letters("main")
        shop_total = sides.shop.orders[number].total
        assert f"totals {erp_total(erp, number)}" in letter.reason
        assert f"the shop's order {shop_total}" in letter.reason
        [so] = sale_orders(erp, str(number))
        assert so["state"] == "draft"  # never confirmed with the wrong money
        assert await OrderStore(store).pending("main") == []

        erp.constraints.clear()
        line = so["order_line"][0]
        erp.edit("sale.order.line", line, price_unit=10.0)  # corrected in the ERP
        later = await run(store, sides)
        assert later.counts["found_in_erp"] == 1
        assert sale_orders(erp, str(number))[0]["state"] == "sale"
        assert await store.list_dead_letters("main") == []


@pytest.mark.parametrize(
    ("version", "protocol"),
    [pytest.param((17, 0), "jsonrpc", id="jsonrpc"), pytest.param((19, 0), "json2", id="json2")],
)
async def test_an_odoo_refusal_holds_that_order_once_with_its_message_and_the_run_goes_on(
    store: Store, tmp_path: Path, version: tuple[int, int], protocol: str
) -> None:
    async with open_sides(tmp_path, version=version, protocol=protocol) as sides:
        erp = sides.erp
        refused = place(sides.shop, [("SKU-000002", 1)], billing={**PAUL, "email": "p@new.fr"})
        fine = place(sides.shop, [("SKU-000003", 2)])
        seen: list[str] = []

        def credit_limit(model: str, row: dict[str, Any]) -> str | None:
            if model == "sale.order" and row.get("client_order_ref") == str(refused):
                seen.append(row["client_order_ref"])
                return "Credit limit exceeded for this customer."
            return None

        erp.constraints.append(credit_limit)

        result = await run(store, sides)

        assert result.counts["imported"] == 1 and result.counts["held"] == 1
        assert len(sale_orders(erp, str(fine))) == 1 and sale_orders(erp, str(refused)) == []
        [letter] = await store.list_dead_letters("main")
        assert letter.key == str(refused)
        assert "ValidationError" in letter.reason and "Credit limit exceeded" in letter.reason
        assert seen == [str(refused)]  # a deterministic refusal is not asked again
        assert await OrderStore(store).pending("main") == []
        assert erp.find("res.partner", [["email", "=ilike", "p@new.fr"]]) == []  # undone

        later = await run(store, sides)
        assert later.counts["held"] == 1 and seen == [str(refused)] * 2


async def test_json2_against_an_odoo_before_19_says_to_use_jsonrpc(
    store: Store, tmp_path: Path
) -> None:
    async with open_sides(tmp_path, version=(18, 0), protocol="json2") as sides:
        place(sides.shop, [("SKU-000002", 1)])
        with pytest.raises(PermanentError, match=r"no JSON-2 API.*jsonrpc"):
            await run(store, sides)
        assert sale_orders(sides.erp, "1") == []


async def test_shipping_the_shop_did_not_tax_is_imported_untaxed_at_the_shops_total(
    store: Store, tmp_path: Path
) -> None:
    async with open_sides(tmp_path) as sides:
        erp, shop = sides.erp, sides.shop
        # California taxes goods, not shipping stated apart: the shop's rate for it has its
        # "shipping" box unticked, so WooCommerce charges no tax on the order's shipping line.
        erp.add("account.tax", name="CA 7.25%", amount=7.25, type_tax_use="sale", active=True)
        rate_id = 100 + len(shop.tax_rates)
        shop.tax_rates[rate_id] = m.TaxRate(
            id=rate_id, country="US", state="CA", rate="7.2500", name="CA", shipping=False
        )
        # The ERP's shipping article is taxed by default, as a merchant's usually is.
        vat20 = erp.find("account.tax", [["name", "=", "VAT 20%"]])
        erp.edit("product.product", erp.product_id("SHIP"), taxes_id=vat20)
        california = {**FRANCE, "country": "US", "state": "CA", "city": "Fresno"}
        number = place(
            shop,
            [("SKU-000002", 3)],
            billing={**california, "email": "ana@example.com"},
            shipping_lines=[{"method_title": "UPS Ground", "total": "9.95"}],
        )
        placed = shop.orders[number]
        assert placed.shipping_lines[0].total_tax == "0.00" and placed.total == "42.13"
        config = OrdersConfig(taxes={"US": "CA 7.25%"}, **WITH_LINE_ARTICLES)

        result = await run_orders(
            store, connection="main", adapters=sides.adapters, config=config, full=False
        )

        assert result.counts["imported"] == 1, await store.list_dead_letters("main")
        assert erp_total(erp, number) == placed.total
        [so] = sale_orders(erp, str(number))
        lines = {
            line["name"]: line for line in (erp.get("sale.order.line", i) for i in so["order_line"])
        }
        shipping = lines["Shipping: UPS Ground"]
        assert (shipping["price_unit"], shipping[erp.tax_field]) == (9.95, [])
        assert so["state"] == "sale"
