"""Shipping lines are booked taxed as the shop taxed them (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from canonical.models import Address, Order, OrderLine, ShippingLine
from canonical.orders import ErpPricing
from rules.order_amounts import erp_total
from rules.order_config import OrdersConfig
from rules.order_rules import to_sale_order

CONFIG = OrdersConfig(
    taxes={"FR": "VAT 20%", "US": {"standard": "CA 7.25%", "shipping": "CA 7.25%"}},
    shipping_sku="SHIP",
)
PRICING = ErpPricing(tax_rates={"VAT 20%": Decimal(20), "CA 7.25%": Decimal("7.25")})


def order(country: str, rate: str, shipping: list[ShippingLine]) -> Order:
    """One article at 40.00 taxed at ``rate`` percent, and ``shipping``, as the shop totals it."""
    goods = Decimal("40.00")
    tax = (goods * Decimal(rate) / 100).quantize(Decimal("0.01"))
    total = goods + tax + sum((ship.total + ship.tax for ship in shipping), Decimal(0))
    return Order(
        number="1001",
        status="processing",
        currency="USD",
        customer_email="ana@example.com",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        lines=(
            OrderLine(
                sku="A",
                name="A",
                quantity=Decimal(1),
                unit_price=goods,
                subtotal=goods,
                total=goods,
                tax=tax,
            ),
        ),
        billing=Address(country=country),
        shipping_lines=tuple(shipping),
        shipping_total=sum((ship.total for ship in shipping), Decimal(0)),
        total=total,
    )


def test_shipping_the_shop_did_not_tax_is_booked_untaxed_and_the_total_is_the_shops() -> None:
    # California taxes goods, not shipping stated apart.
    web = order("US", "7.25", [ShippingLine(method="UPS Ground", total=Decimal("9.95"))])

    sale = to_sale_order(web, CONFIG, PRICING)

    [shipping] = [line for line in sale.lines if line.is_shipping]
    assert (shipping.sku, shipping.unit_price, shipping.tax_code) == (
        "SHIP",
        Decimal("9.95"),
        None,
    )
    assert [line.name for line in sale.lines] == ["A", "Shipping: UPS Ground"]  # no rounding
    assert erp_total(sale.lines, PRICING) == web.total == Decimal("52.85")


def test_taxed_shipping_keeps_the_mapped_code_beside_an_untaxed_one() -> None:
    web = order(
        "FR",
        "20",
        [
            ShippingLine(method="Colissimo", total=Decimal("5.00"), tax=Decimal("1.00")),
            ShippingLine(method="Free pick-up fee", total=Decimal("2.00")),
        ],
    )

    sale = to_sale_order(web, CONFIG, PRICING)

    assert [(line.name, line.tax_code) for line in sale.lines if line.is_shipping] == [
        ("Shipping: Colissimo", "VAT 20%"),
        ("Shipping: Free pick-up fee", None),
    ]
    assert erp_total(sale.lines, PRICING) == web.total == Decimal("56.00")
