"""Sale order lines that make the ERP's total equal the shop's to the cent (pure).

An ERP recomputes a document's money from its lines with its own rounding: the unit price
kept to a few decimals (Odoo's ``Product Price`` precision, 2 by default: 1,000 x 3.771 is
booked as 1,000 x 3.77, 1.00 short), taxes rounded per line or once per document, cents
everywhere. The shop rounded its own way. So, with the ERP's :class:`ErpPricing`:

1. unit prices and discounts are rounded as the ERP will round them (what is sent is what
   is stored);
2. what that rounding loses on the lines of a tax is put back as one **rounding line** per tax
   (``Rounding: VAT 20%``), taxed like them, so the tax base stays the shop's;
3. the total the ERP will compute is predicted; a remaining difference (the shop rounded its
   taxes differently: per line against per document) becomes one untaxed rounding line. More
   than a cent a line is no rounding: the order is held (an amount is missing or wrong).

A rounding line carries the ``rounding_sku`` article when one is configured. :func:`erp_total`
is the prediction, the same arithmetic as the ERP's (see
``adapters/odoo/simulator/sale_amounts.py`` for Odoo's); the engine still compares the ERP's
own total after every import.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from canonical.orders import ErpPricing, SaleLine

CENT = Decimal("0.01")
ROUNDING = "Rounding"


class AmountsError(ValueError):
    """The lines cannot be priced for this ERP (a tax code it does not have)."""


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _places(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _rate(pricing: ErpPricing, code: str | None) -> Decimal:
    if code is None:
        return Decimal(0)
    rate = pricing.tax_rates.get(code)
    if rate is None:
        raise AmountsError(
            f"the ERP has no tax {code!r} (its taxes: {', '.join(sorted(pricing.tax_rates))})"
        )
    return rate


def _base(line: SaleLine) -> Decimal:
    return line.quantity * line.unit_price * (1 - line.discount_percent / 100)


def erp_total(lines: Sequence[SaleLine], pricing: ErpPricing) -> Decimal:
    """The grand total the ERP computes for these lines (already rounded as it rounds)."""
    untaxed = sum((money(_base(line)) for line in lines), Decimal(0))
    if pricing.per_line:
        tax = sum(
            (money(money(_base(line)) * _rate(pricing, line.tax_code) / 100) for line in lines),
            Decimal(0),
        )
    else:
        by_code: dict[str | None, Decimal] = {}
        for line in lines:
            amount = _base(line) * _rate(pricing, line.tax_code) / 100
            by_code[line.tax_code] = by_code.get(line.tax_code, Decimal(0)) + amount
        tax = sum((money(amount) for amount in by_code.values()), Decimal(0))
    return untaxed + tax


def fit_lines(
    priced: Sequence[tuple[SaleLine, Decimal]],
    shop_total: Decimal,
    pricing: ErpPricing,
    *,
    rounding_sku: str | None,
) -> tuple[SaleLine, ...]:
    """The lines to send: each ``(line, net)`` pair is a line and the shop's amount for it
    before tax; rounded for the ERP, with the rounding lines that make its total
    ``shop_total``."""
    out: list[SaleLine] = []
    lost: dict[str | None, Decimal] = {}
    for line, net in priced:
        _rate(pricing, line.tax_code)
        sent = msgspec.structs.replace(
            line,
            unit_price=_places(line.unit_price, pricing.price_digits),
            discount_percent=_places(line.discount_percent, pricing.discount_digits),
        )
        out.append(sent)
        difference = net - money(_base(sent))
        if difference:
            lost[line.tax_code] = lost.get(line.tax_code, Decimal(0)) + difference
    for code, amount in sorted(lost.items(), key=lambda item: item[0] or ""):
        if amount:
            out.append(_rounding(amount, code, rounding_sku))
    remainder = shop_total - erp_total(out, pricing)
    if abs(remainder) > CENT * len(out):
        # More than the cent each line's tax rounding may account for: not a rounding.
        raise AmountsError(
            f"total {shop_total} is not what its lines make with the ERP's taxes "
            f"({shop_total - remainder}): a tax mapped to another rate than the shop "
            "charged, or an amount missing"
        )
    if remainder:
        out.append(_rounding(remainder, None, rounding_sku))
    return tuple(out)


def _rounding(amount: Decimal, code: str | None, sku: str | None) -> SaleLine:
    return SaleLine(
        sku=sku,
        name=f"{ROUNDING}: {code}" if code else ROUNDING,
        quantity=Decimal(1),
        unit_price=amount,
        tax_code=code,
    )
