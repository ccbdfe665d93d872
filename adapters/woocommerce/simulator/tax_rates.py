"""Tax rates by country (``/taxes``) and the taxes of an order, as WooCommerce computes them.

The shop starts with three rates for any country (standard 20 %, reduced 5.5 %, zero), which
the orders to a country without rates of its own keep. ``POST /taxes`` adds a rate for one
country and tax class, as a merchant selling under the EU one-stop shop does for every
destination; such a rate is matched first for an order going to its country (the customer's
shipping address, else the billing one, as WooCommerce's default "tax based on the customer
shipping address"), and taxes shipping when its ``shipping`` flag is set (the default). Taxes
are rounded per line, half up, as with "round tax at subtotal level" off; the order's
``tax_lines`` total them per rate.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import msgspec

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import TAX_RATES, money
from adapters.woocommerce.simulator.records import Records


class _Rate(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    label: str
    percent: Decimal
    code: str
    shipping: bool


def _built_in(tax_class: str) -> _Rate:
    rate_id, label, percent = TAX_RATES.get(tax_class, TAX_RATES[""])
    return _Rate(
        id=rate_id,
        label=label,
        percent=percent,
        code=f"FR-{label.upper().replace(' ', '-')}-{rate_id}",
        shipping=True,
    )


def _of(row: m.TaxRate) -> _Rate:
    parts = [row.country, row.state, row.name.upper().replace(" ", "-") or "TAX", str(row.priority)]
    return _Rate(
        id=row.id,
        label=row.name or "Tax",
        percent=Decimal(row.rate),
        code="-".join(p for p in parts if p),
        shipping=row.shipping,
    )


def _slug(tax_class: str) -> str:
    return tax_class or "standard"


def rate_for(store: Records, country: str, tax_class: str) -> _Rate:
    """The rate applied to an item of ``tax_class`` going to ``country``."""
    rows = sorted(
        (
            r
            for r in store.tax_rates.values()
            if r.country == country and _slug(r.tax_class) == _slug(tax_class)
        ),
        key=lambda r: (r.priority, r.order, r.id),
    )
    return _of(rows[0]) if rows else _built_in(tax_class)


def _country(order: m.Order) -> str:
    return (order.shipping.country or order.billing.country or "").strip().upper()


def has_rates_for(store: Records, order: m.Order) -> bool:
    """Whether the tax table has rates of the order's destination country."""
    country = _country(order)
    return any(rate.country == country for rate in store.tax_rates.values())


def apply_taxes(store: Records, order: m.Order) -> None:
    """Tax every line (on its total after coupons), shipping line and fee of ``order`` at the
    rates of its destination; set its tax lines and totals."""
    country = _country(order)
    rates: dict[int, _Rate] = {}
    by_rate: dict[int, tuple[Decimal, Decimal]] = {}

    def charge(rate: _Rate, amount: Decimal, *, shipping: bool) -> list[m.LineTax]:
        tax = (amount * rate.percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        rates[rate.id] = rate
        items, ship = by_rate.get(rate.id, (Decimal(0), Decimal(0)))
        by_rate[rate.id] = (items, ship + tax) if shipping else (items + tax, ship)
        return [m.LineTax(id=rate.id, total=money(tax), subtotal=money(tax))]

    for line in order.line_items:
        item = store.item(line.variation_id or line.product_id)
        rate = rate_for(store, country, line.tax_class)
        taxable = item is None or item.tax_status == "taxable"
        line.taxes = charge(rate, Decimal(line.total) if taxable else Decimal(0), shipping=False)
        line.total_tax = line.subtotal_tax = line.taxes[0].total
    for ship in order.shipping_lines:
        rate = rate_for(store, country, "")
        ship.taxes = charge(rate, Decimal(ship.total), shipping=True) if rate.shipping else []
        ship.total_tax = ship.taxes[0].total if ship.taxes else "0.00"
    for fee in order.fee_lines:
        taxed = fee.tax_status == "taxable"
        rate = rate_for(store, country, fee.tax_class)
        fee.taxes = charge(rate, Decimal(fee.total), shipping=False) if taxed else []
        fee.total_tax = fee.taxes[0].total if fee.taxes else "0.00"
    order.tax_lines = [
        m.TaxLine(
            id=rate_id + 1000,
            rate_code=rates[rate_id].code,
            rate_id=rate_id,
            label=rates[rate_id].label,
            compound=False,
            tax_total=money(items),
            shipping_tax_total=money(ship),
            rate_percent=float(rates[rate_id].percent),
        )
        for rate_id, (items, ship) in sorted(by_rate.items())
    ]
    goods = sum((Decimal(line.total) for line in order.line_items), Decimal(0))
    shipping = sum((Decimal(s.total) for s in order.shipping_lines), Decimal(0))
    fees = sum((Decimal(f.total) for f in order.fee_lines), Decimal(0))
    cart_tax = sum((items for items, _ in by_rate.values()), Decimal(0))
    shipping_tax = sum((ship for _, ship in by_rate.values()), Decimal(0))
    order.shipping_total = money(shipping)
    order.shipping_tax = money(shipping_tax)
    order.cart_tax = money(cart_tax)
    order.total_tax = money(cart_tax + shipping_tax)
    order.total = money(goods + shipping + fees + cart_tax + shipping_tax)
