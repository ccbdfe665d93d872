"""The Odoo simulator's sale order amounts, computed the way Odoo computes them.

- ``price_unit``, ``discount`` and ``product_uom_qty`` are rounded on write to their decimal
  precision (``decimal.precision`` rows ``Product Price``, ``Discount``, ``Product Unit of
  Measure``; 2 digits each by default), as Odoo's float fields with ``digits`` do.
- A line's ``price_subtotal`` is ``quantity x price_unit x (1 - discount/100)`` rounded to the
  currency (cents).
- Taxes follow the company's ``tax_calculation_rounding_method``: ``round_per_line`` (Odoo's
  default) rounds each line's tax to the cent and sums them; ``round_globally`` sums each tax's
  unrounded amounts (on unrounded bases) over the order and rounds once.
- ``amount_total`` is ``amount_untaxed + amount_tax``.

Percent taxes excluded from the price only (what web orders are booked with).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.odoo.simulator.records import Records, Row

CENT = Decimal("0.01")
DIGITS = {
    ("sale.order.line", "price_unit"): "Product Price",
    ("sale.order.line", "discount"): "Discount",
    ("sale.order.line", "product_uom_qty"): "Product Unit of Measure",
}
"""Float fields rounded on write, and the decimal precision that says to how many digits."""
PER_LINE = "round_per_line"
GLOBALLY = "round_globally"


def _decimal(value: Any) -> Decimal:
    return Decimal(repr(float(value or 0)))


def digits(store: Records, name: str) -> int:
    """The digits of a decimal precision (2 when the database has no such row)."""
    for row in store.tables["decimal.precision"].values():
        if row.get("name") == name:
            return int(row.get("digits", 2))
    return 2


def rounded_on_write(store: Records, model: str, field: str, value: float) -> float:
    """``value`` as Odoo stores it in a float field with digits (half up)."""
    precision = DIGITS.get((model, field))
    if precision is None:
        return value
    step = Decimal(1).scaleb(-digits(store, precision))
    return float(_decimal(value).quantize(step, rounding=ROUND_HALF_UP))


def rounding_method(store: Records) -> str:
    companies = store.tables["res.company"]
    if not companies:
        return PER_LINE
    first = companies[min(companies)]
    return str(first.get("tax_calculation_rounding_method") or PER_LINE)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _rates(store: Records, line: Row) -> list[Decimal]:
    taxes = store.tables["account.tax"]
    return [_decimal(taxes[t].get("amount", 0)) for t in line.get(store.tax_field, [])]


def _base(line: Row) -> Decimal:
    quantity = _decimal(line.get("product_uom_qty", 1.0))
    price = _decimal(line.get("price_unit", 0.0))
    return quantity * price * (1 - _decimal(line.get("discount", 0.0)) / 100)


def line_amount(store: Records, line: Row, field: str) -> float:
    """``price_subtotal``, ``price_tax`` or ``price_total`` of one order line."""
    subtotal = _money(_base(line))
    if rounding_method(store) == PER_LINE:
        tax = sum((_money(subtotal * rate / 100) for rate in _rates(store, line)), Decimal(0))
    else:
        tax = sum((_base(line) * rate / 100 for rate in _rates(store, line)), Decimal(0))
    values = {"price_subtotal": subtotal, "price_tax": tax, "price_total": subtotal + tax}
    return float(_money(values[field]) if field != "price_tax" else values[field])


def order_amount(store: Records, order: Row, field: str) -> float:
    """``amount_untaxed``, ``amount_tax`` or ``amount_total`` of a sale order."""
    lines = [store.tables["sale.order.line"][i] for i in order.get("order_line", [])]
    untaxed = sum((_money(_base(line)) for line in lines), Decimal(0))
    per_line = rounding_method(store) == PER_LINE
    by_tax: dict[int, Decimal] = {}
    tax = Decimal(0)
    for line in lines:
        subtotal = _money(_base(line))
        for tid, rate in zip(line.get(store.tax_field, []), _rates(store, line), strict=True):
            if per_line:
                tax += _money(subtotal * rate / 100)
            else:
                by_tax[tid] = by_tax.get(tid, Decimal(0)) + _base(line) * rate / 100
    tax += sum((_money(amount) for amount in by_tax.values()), Decimal(0))
    values = {"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": untaxed + tax}
    return float(values[field])
