"""Which shop orders go to the ERP, and the ERP-ready sale order each becomes (pure).

Shipping and fees go on lines of their own (the ``shipping_sku`` and ``fee_sku`` articles),
taxed only when the shop taxed them; coupons are in the lines' totals (as WooCommerce spreads
them), their codes in the note.
An order that cannot be imported faithfully (no e-mail, a line without SKU, no tax for its
destination country, discounts that do not add up, a tax the ERP does not have, a total its
lines do not make) raises :class:`OrderHeld` with a reason naming the order, the field and
the cause. It is held as a dead letter and tried again on
every run, so it goes through once the cause is fixed; it is never imported in part.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from canonical.models import Customer, FeeLine, Order, OrderLine, ShippingLine
from canonical.orders import ErpPricing, SaleLine, SaleOrder
from rules.order_amounts import AmountsError, fit_lines
from rules.order_config import OrdersConfig

_CENT = Decimal("0.01")
_PERCENT_PLACES = Decimal("0.0001")


class OrderHeld(ValueError):
    """The order cannot be imported as it is; the message says why."""


def is_importable(order: Order, config: OrdersConfig) -> bool:
    """The payment rule: a status listed in ``statuses``, or paid (when ``paid``), and never
    an excluded status or an order older than ``since``."""
    if order.status in config.exclude:
        return False
    if config.since and order.created_at < since_moment(config.since):
        return False
    if order.status in config.statuses:
        return True
    return config.paid and order.payment is not None and order.payment.paid_at is not None


def since_moment(text: str) -> datetime:
    """``since`` of the configuration (a day or an ISO moment) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def destination_country(order: Order) -> str:
    """Where the goods go: the shipping address's country, else the billing one."""
    for address in (order.shipping, order.billing):
        if address is not None and address.country.strip():
            return address.country.strip().upper()
    return ""


def reference_of(order: Order, config: OrdersConfig) -> str:
    """The external reference the ERP document carries: the shop's number, prefixed."""
    return f"{config.reference_prefix}{order.number}"


def _tax_code(config: OrdersConfig, order: Order, country: str, tax_class: str) -> str:
    mapping = config.taxes.get(country)
    if mapping is None:
        raise OrderHeld(
            f"order {order.number}: no tax mapping for destination country {country!r} "
            f"(add it to taxes in the connection's [orders] table)"
        )
    if isinstance(mapping, str):
        return mapping
    code = mapping.get(tax_class)
    if code is None:
        raise OrderHeld(
            f"order {order.number}: no tax mapping for tax class {tax_class!r} in "
            f"country {country!r} (known classes: {', '.join(sorted(mapping))})"
        )
    return code


def _shipping_tax(config: OrdersConfig, order: Order, country: str) -> str:
    """A per-class mapping may name a ``shipping`` class; otherwise shipping is standard."""
    mapping = config.taxes.get(country)
    if isinstance(mapping, dict) and "shipping" in mapping:
        return mapping["shipping"]
    return _tax_code(config, order, country, "standard")


def _line(config: OrdersConfig, order: Order, country: str, line: OrderLine) -> SaleLine:
    if not line.sku.strip():
        raise OrderHeld(f"order {order.number}: line {line.name!r} has no SKU")
    if line.quantity <= 0:
        raise OrderHeld(f"order {order.number}: line {line.sku} has quantity {line.quantity}")
    unit = line.subtotal / line.quantity
    discount = Decimal(0)
    if line.subtotal > 0 and line.total < line.subtotal:
        discount = ((line.subtotal - line.total) * 100 / line.subtotal).quantize(_PERCENT_PLACES)
    return SaleLine(
        sku=line.sku.strip(),
        name=line.name,
        quantity=line.quantity,
        unit_price=unit,
        discount_percent=discount,
        tax_code=_tax_code(config, order, country, line.tax_code or "standard"),
    )


def _fee(config: OrdersConfig, order: Order, country: str, fee: FeeLine) -> SaleLine:
    """A fee on its own line (the ``fee_sku`` article), taxed with its class when taxable."""
    code = _tax_code(config, order, country, fee.tax_code) if fee.tax_code is not None else None
    return SaleLine(
        sku=config.fee_sku,
        name=f"Fee: {fee.name}" if fee.name else "Fee",
        quantity=Decimal(1),
        unit_price=fee.total,
        tax_code=code,
    )


def _shipping(config: OrdersConfig, order: Order, country: str, shipping: ShippingLine) -> SaleLine:
    """A shipping line on its own line (the ``shipping_sku`` article), taxed only when the
    shop taxed it: a destination that does not tax shipping, or a tax-exempt rate, charged
    none, and the ERP adding its tax would make another total than the shop's."""
    taxed = shipping.tax != 0
    return SaleLine(
        sku=config.shipping_sku,
        name=f"Shipping: {shipping.method}" if shipping.method else "Shipping",
        quantity=Decimal(1),
        unit_price=shipping.total,
        tax_code=_shipping_tax(config, order, country) if taxed else None,
        is_shipping=True,
    )


def _note(order: Order) -> str:
    parts = [order.note.strip()] if order.note.strip() else []
    if order.coupons:
        parts.append(f"Coupons: {', '.join(order.coupons)}")
    if order.payment is not None:
        payment = order.payment
        text = f"Payment: {payment.title or payment.method} ({payment.method})"
        if payment.transaction_id:
            text += f", transaction {payment.transaction_id}"
        parts.append(text)
    return "\n".join(parts)


def to_sale_order(
    order: Order, config: OrdersConfig, pricing: ErpPricing | None = None
) -> SaleOrder:
    """The sale order to create for ``order``; raises :class:`OrderHeld` with the reason.

    With the ERP's ``pricing``, unit prices are rounded as the ERP rounds them and rounding
    lines make its total the shop's (:mod:`rules.order_amounts`)."""
    email = order.customer_email.strip().lower()
    if "@" not in email:
        raise OrderHeld(
            f"order {order.number}: customer_email {order.customer_email!r} is not "
            "an e-mail address; the customer cannot be matched"
        )
    if not order.lines:
        raise OrderHeld(f"order {order.number}: no lines")
    country = destination_country(order)
    if not country:
        raise OrderHeld(f"order {order.number}: no country in the shipping or billing address")
    priced = [(_line(config, order, country, line), line.total) for line in order.lines]
    line_discounts = sum((line.subtotal - line.total for line in order.lines), Decimal(0))
    if abs(line_discounts - order.discount_total) > _CENT:
        raise OrderHeld(
            f"order {order.number}: discount_total {order.discount_total} is not the sum of the "
            f"line discounts ({line_discounts}); an order-level discount cannot be split safely"
        )
    priced += [
        (_shipping(config, order, country, shipping), shipping.total)
        for shipping in order.shipping_lines
        if shipping.total
    ]
    priced += [
        (_fee(config, order, country, fee), fee.total) for fee in order.fee_lines if fee.total
    ]
    lines = tuple(line for line, _ in priced)
    if pricing is not None:
        try:
            lines = fit_lines(priced, order.total, pricing, rounding_sku=config.rounding_sku)
        except AmountsError as exc:
            raise OrderHeld(f"order {order.number}: {exc}") from None
    billing = order.billing
    customer = Customer(
        email=email,
        first_name=billing.first_name if billing else "",
        last_name=billing.last_name if billing else "",
        company=billing.company if billing else "",
        phone=billing.phone if billing else "",
        billing=billing,
        shipping=order.shipping,
    )
    return SaleOrder(
        reference=reference_of(order, config),
        customer=customer,
        created_at=order.created_at,
        currency=order.currency,
        lines=lines,
        shipping_address=order.shipping,
        # Canonical line and shipping amounts are before tax (WooCommerce gives them so; the
        # Shopify adapter takes included tax out).
        prices_include_tax=False,
        payment=order.payment,
        note=_note(order),
        total=order.total,
    )
