"""Shopify orders with taxed shipping, taxes excluded from prices or included in them: the
simulator's shipping lines and totals, the canonical order read from them, and the Odoo sale
order imported from it, whose total is the shop's to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from shopify_sim_fixtures import running_shop
from test_orders_sides import CONFIG, sale_orders
from test_shopify_orders_feedback import Both, both, place

from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.simulator.orders_model import Order as SimOrder
from canonical.models import Order, ShippingLine, TaxLine
from engine.orders.importer import run_orders
from engine.store.state import Store

__all__ = ["both"]  # the fixture, imported to be used here

ORDER = """query($id: ID!) { order(id: $id) { taxesIncluded
  subtotalPriceSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } }
  totalShippingPriceSet { shopMoney { amount } } totalPriceSet { shopMoney { amount } }
  lineItems(first: 5) { nodes { taxLines { priceSet { shopMoney { amount } } } } }
  shippingLines(first: 5) { nodes { title code
    originalPriceSet { shopMoney { amount } } discountedPriceSet { shopMoney { amount } }
    taxLines { title rate ratePercentage priceSet { shopMoney { amount } } } } }
} }"""
INCLUDED = [pytest.param(False, id="taxes-excluded"), pytest.param(True, id="taxes-included")]
# 2 x 10.00 and Colissimo at 4.90, VAT 20%: added to the prices, or the part 20/120 of them
# (3.333... and 0.8166... rounded per tax line).
EXPECTED = {
    False: {"line_tax": "4.00", "ship_tax": "0.98", "total": "29.88"},
    True: {"line_tax": "3.33", "ship_tax": "0.82", "total": "24.90"},
}


def _gid(order: SimOrder) -> str:
    return f"gid://shopify/Order/{order.id}"


def _amount(bag: Any) -> str:
    return str(bag["shopMoney"]["amount"])


@pytest.mark.parametrize("included", INCLUDED)
async def test_simulator_orders_carry_shipping_lines_taxed_per_line(included: bool) -> None:
    async with running_shop(0) as shop:
        order = place(
            shop.shop.store,
            shipping=Decimal("4.90"),
            shipping_title="Colissimo",
            taxes_included=included,
        )
        data = (await shop.gql(ORDER, {"id": _gid(order)}))["order"]

        expected = EXPECTED[included]
        assert data["taxesIncluded"] is included
        [ship] = data["shippingLines"]["nodes"]
        assert (ship["title"], ship["code"]) == ("Colissimo", "colissimo")
        assert _amount(ship["discountedPriceSet"]) == _amount(ship["originalPriceSet"]) == "4.90"
        [tax] = ship["taxLines"]
        assert (tax["title"], tax["rate"], tax["ratePercentage"]) == ("VAT 20.00%", 0.2, 20.0)
        assert _amount(tax["priceSet"]) == expected["ship_tax"]
        [line] = data["lineItems"]["nodes"]
        assert _amount(line["taxLines"][0]["priceSet"]) == expected["line_tax"]
        taxes = Decimal(expected["line_tax"]) + Decimal(expected["ship_tax"])
        assert _amount(data["totalTaxSet"]) == str(taxes)
        assert _amount(data["subtotalPriceSet"]) == "20.00"
        assert _amount(data["totalShippingPriceSet"]) == "4.90"
        assert _amount(data["totalPriceSet"]) == expected["total"]
        added = Decimal(0) if included else taxes
        assert Decimal(expected["total"]) == Decimal("20.00") + Decimal("4.90") + added


async def test_simulator_shipping_lines_are_a_strict_connection() -> None:
    async with running_shop(0) as shop:
        order = place(shop.shop.store, shipping=Decimal("4.90"), shipping_taxable=False)
        query = "query($id: ID!) { order(id: $id) { shippingLines(first: 1) { %s } } }"
        data = await shop.gql(query % "nodes { taxLines { title } }", {"id": _gid(order)})
        assert data["order"]["shippingLines"]["nodes"] == [{"taxLines": []}]
        # REST's names, a list without its connection, no page size: refused as Shopify does.
        for selection in ("nodes { price }", "nodes { tax_lines { title } }", "title"):
            _, body = await shop.post(query % selection, {"id": _gid(order)})
            assert body.get("data") is None and body["errors"], selection
        _, body = await shop.post(
            "query($id: ID!) { order(id: $id) { shippingLines { nodes { title } } } }",
            {"id": _gid(order)},
        )
        assert "first or last" in body["errors"][0]["message"]


async def _imported(store: Store, both: Both, *, included: bool) -> tuple[SimOrder, Order]:
    """A Shopify order with taxed shipping, as the adapter reads it, after its import."""
    order = place(
        both.shop, shipping=Decimal("4.90"), shipping_title="Colissimo", taxes_included=included
    )
    shop = both.adapters["shop"]
    assert isinstance(shop, ShopifyAdapter)
    [read] = await shop.fetch("order", [order.name.lstrip("#")])
    assert isinstance(read.record, Order)
    assert shop.client.underpriced == 0  # the shipping lines' connection priced in
    result = await run_orders(
        store, connection="main", adapters=both.adapters, config=CONFIG, full=False
    )
    assert result.failures == [], result.failures
    assert result.counts["imported"] == 1 and result.counts.get("held", 0) == 0
    return order, read.record


@pytest.mark.parametrize("included", INCLUDED)
async def test_taxed_shipping_reaches_the_erp_and_its_total_is_the_shops(
    store: Store, both: Both, included: bool
) -> None:
    order, read = await _imported(store, both, included=included)

    expected = EXPECTED[included]
    line_tax, ship_tax = Decimal(expected["line_tax"]), Decimal(expected["ship_tax"])
    # Canonical amounts are before tax, whichever way the shop shows its prices.
    goods = Decimal("20.00") - line_tax if included else Decimal("20.00")
    carriage = Decimal("4.90") - ship_tax if included else Decimal("4.90")
    [line] = read.lines
    assert (line.subtotal, line.total, line.tax) == (goods, goods, line_tax)
    assert read.shipping_lines == (ShippingLine(method="Colissimo", total=carriage, tax=ship_tax),)
    assert read.tax_lines == (
        TaxLine(
            code="VAT 20.00%", label="VAT 20.00%", rate=Decimal(20), amount=line_tax + ship_tax
        ),
    )
    assert read.tax_total == line_tax + ship_tax and read.prices_include_tax is included
    assert read.total == order.total() == Decimal(expected["total"])
    assert goods + carriage + read.tax_total == read.total

    [so] = sale_orders(both.erp, order.name.lstrip("#"))
    assert f"{so['amount_total']:.2f}" == expected["total"]
    lines = [both.erp.get("sale.order.line", i) for i in so["order_line"]]
    [shipping] = [one for one in lines if one["name"].startswith("Shipping")]
    assert shipping["name"] == "Shipping: Colissimo"
    assert Decimal(str(shipping["price_unit"])) == read.shipping_total


async def test_shipping_shopify_did_not_tax_reaches_the_erp_untaxed(
    store: Store, both: Both
) -> None:
    # "Charge tax on shipping rates" off: the shipping line has no tax lines.
    order = place(both.shop, shipping=Decimal("4.90"), shipping_taxable=False)

    result = await run_orders(
        store, connection="main", adapters=both.adapters, config=CONFIG, full=False
    )

    assert result.counts["imported"] == 1, result.counts
    [so] = sale_orders(both.erp, order.name.lstrip("#"))
    assert f"{so['amount_total']:.2f}" == f"{order.total()}" == "28.90"
    lines = [both.erp.get("sale.order.line", i) for i in so["order_line"]]
    [shipping] = [one for one in lines if one["name"].startswith("Shipping")]
    assert (shipping["price_unit"], shipping[both.erp.tax_field]) == (4.9, [])
