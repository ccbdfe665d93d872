"""Orders as a checkout builds them: lines priced from the catalogue, taxes, totals, refunds."""

from __future__ import annotations

import secrets
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import (
    TAX_RATES,
    SimError,
    decimal_or_none,
    money,
)
from adapters.woocommerce.simulator.records import Records, Sellable
from adapters.woocommerce.simulator.tax_rates import apply_taxes, has_rates_for
from adapters.woocommerce.simulator.writes import apply_address, apply_meta

_ORDER_TEXT = (
    "customer_note",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "currency",
)


def build_order(store: Records, lines: list[dict[str, Any]], data: dict[str, Any]) -> m.Order:
    """A new ``pending`` order (not yet stored) from line specs and a REST-like body.

    A line names its article by ``product_id``/``variation_id`` or by ``sku``.
    """
    local, gmt = store.now()
    order_id = store.next_post_id()
    order = m.Order(
        id=order_id,
        number=str(order_id),
        order_key=f"wc_order_{secrets.token_hex(6)}",
        status="pending",
        date_created=local,
        date_created_gmt=gmt,
        date_modified=local,
        date_modified_gmt=gmt,
    )
    for spec in lines:
        order.line_items.append(_line(store, spec))
    for spec in data.get("coupon_lines") or []:
        _apply_coupon(store, order, spec)
    for spec in data.get("shipping_lines") or []:
        total = decimal_or_none(str(spec.get("total", "0"))) or Decimal(0)
        # Shipping is taxed at the standard rate (the "based on cart items" default for a
        # cart of standard-rate goods).
        rate_id, _, percent = TAX_RATES[""]
        tax = _cents(total * percent / 100)
        order.shipping_lines.append(
            m.ShippingLine(
                id=store.next_id("item"),
                method_title=str(spec.get("method_title", "")),
                method_id=str(spec.get("method_id", "")),
                total=money(total),
                total_tax=money(tax),
                taxes=[m.LineTax(id=rate_id, total=money(tax), subtotal="")],
            )
        )
    for spec in data.get("fee_lines") or []:
        order.fee_lines.append(_fee(store, spec))
    update_order_fields(store, order, data)
    if isinstance(data.get("customer_id"), int):
        order.customer_id = data["customer_id"]
    if has_rates_for(store, order):
        apply_taxes(store, order)  # the destination country's own rates (/taxes)
    else:
        recompute_totals(order)
    return order


def _cents(value: Decimal) -> Decimal:
    """Rounded to the cent, half up, as PHP's ``round`` does."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _fee(store: Records, spec: dict[str, Any]) -> m.FeeLine:
    total = decimal_or_none(str(spec.get("total", "0"))) or Decimal(0)
    tax_class = str(spec.get("tax_class", ""))
    status = str(spec.get("tax_status", "taxable"))
    rate_id, _, percent = TAX_RATES.get(tax_class, TAX_RATES[""])
    tax = _cents(total * percent / 100) if status == "taxable" else Decimal(0)
    return m.FeeLine(
        id=store.next_id("item"),
        name=str(spec.get("name", "")),
        tax_class=tax_class,
        tax_status=status,
        amount=money(total),
        total=money(total),
        total_tax=money(tax),
        taxes=[m.LineTax(id=rate_id, total=money(tax), subtotal="")] if tax else [],
    )


def _apply_coupon(store: Records, order: m.Order, spec: dict[str, Any]) -> None:
    """A coupon spread over the lines as WooCommerce does: ``percent`` off each line, or a
    fixed ``amount`` shared in proportion to the lines' subtotals (the cents left over go to
    the first lines). Each line's tax is then computed on its discounted total."""
    lines = order.line_items
    subtotals = [Decimal(line.total) for line in lines]
    if "percent" in spec:
        percent = Decimal(str(spec["percent"]))
        shares = [_cents(amount * percent / 100) for amount in subtotals]
    else:
        amount = min(Decimal(str(spec.get("amount", "0"))), sum(subtotals, Decimal(0)))
        whole = sum(subtotals, Decimal(0)) or Decimal(1)
        shares = [
            (amount * part / whole).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
            for part in subtotals
        ]
        left = amount - sum(shares, Decimal(0))
        for index in range(len(shares)):
            if left <= 0:
                break
            step = min(Decimal("0.01"), left)
            shares[index] += step
            left -= step
    discount = discount_tax = Decimal(0)
    for line, share in zip(lines, shares, strict=True):
        total = Decimal(line.total) - share
        _, _, percent = TAX_RATES.get(line.tax_class, TAX_RATES[""])
        old_tax = Decimal(line.total_tax)
        tax = _cents(total * percent / 100) if old_tax or percent == 0 else Decimal(0)
        line.total, line.total_tax = money(total), money(tax)
        for part in line.taxes:
            part.total = money(tax)
        discount += share
        discount_tax += old_tax - tax
    order.discount_total = money(Decimal(order.discount_total) + discount)
    order.discount_tax = money(Decimal(order.discount_tax) + discount_tax)
    order.coupon_lines.append(
        m.CouponLine(
            id=store.next_id("item"),
            code=str(spec.get("code", "")),
            discount=money(discount),
            discount_tax=money(discount_tax),
        )
    )


def update_order_fields(store: Records, order: m.Order, data: dict[str, Any]) -> None:
    """The plain fields of an order body (status is handled by the store: it moves stock)."""
    for key in _ORDER_TEXT:
        if isinstance(data.get(key), str):
            setattr(order, key, data[key])
    for key in ("billing", "shipping"):
        if isinstance(data.get(key), dict):
            apply_address(getattr(order, key), data[key])
    if isinstance(data.get("meta_data"), list):
        apply_meta(store, order.meta_data, data["meta_data"])


def _line(store: Records, spec: dict[str, Any]) -> m.LineItem:
    item: Sellable | None = None
    if spec.get("variation_id"):
        item = store.variations.get(int(spec["variation_id"]))
    elif spec.get("product_id"):
        item = store.products.get(int(spec["product_id"]))
    elif spec.get("sku"):
        item = store.product_by_sku(str(spec["sku"]))
    if item is None:
        raise SimError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.")
    quantity = spec.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise SimError("woocommerce_rest_invalid_quantity", "Quantity must be positive.")
    price = decimal_or_none(item.price) or Decimal(0)
    subtotal = _cents(price * quantity)
    rate_id, _, percent = TAX_RATES.get(item.tax_class, TAX_RATES[""])
    tax = _cents(subtotal * percent / 100) if item.tax_status == "taxable" else Decimal(0)
    if isinstance(item, m.Variation):
        parent = store.products.get(item.parent_id)
        options = ", ".join(a.option for a in item.attributes)
        name = f"{parent.name if parent else ''} - {options}".strip(" -")
        product_id, variation_id = item.parent_id, item.id
    else:
        name, product_id, variation_id = item.name, item.id, 0
    return m.LineItem(
        id=store.next_id("item"),
        name=name,
        product_id=product_id,
        variation_id=variation_id,
        quantity=quantity,
        tax_class=item.tax_class,
        subtotal=money(subtotal),
        subtotal_tax=money(tax),
        total=money(subtotal),
        total_tax=money(tax),
        taxes=[m.LineTax(id=rate_id, total=money(tax), subtotal=money(tax))],
        meta_data=[],
        sku=item.sku,
        price=float(price),
    )


def recompute_totals(order: m.Order) -> None:
    """Totals and tax lines from the lines, shipping and fees, as ``calculate_totals`` does
    (taxes rounded per line, WooCommerce's default)."""
    by_rate: dict[int, Decimal] = {}
    shipping_by_rate: dict[int, Decimal] = {}
    taxed: list[m.LineItem | m.FeeLine] = [*order.line_items, *order.fee_lines]
    for line in taxed:
        for tax in line.taxes:
            by_rate[tax.id] = by_rate.get(tax.id, Decimal(0)) + Decimal(tax.total)
    for shipping_line in order.shipping_lines:
        for tax in shipping_line.taxes:
            shipping_by_rate[tax.id] = shipping_by_rate.get(tax.id, Decimal(0)) + Decimal(tax.total)
    items = sum((Decimal(line.total) for line in order.line_items), Decimal(0))
    fees = sum((Decimal(fee.total) for fee in order.fee_lines), Decimal(0))
    shipping = sum((Decimal(s.total) for s in order.shipping_lines), Decimal(0))
    cart_tax = sum(by_rate.values(), Decimal(0))
    shipping_tax = sum(shipping_by_rate.values(), Decimal(0))
    order.tax_lines = []
    for rate_id in sorted(set(by_rate) | set(shipping_by_rate)):
        _, label, percent = next(rate for rate in TAX_RATES.values() if rate[0] == rate_id)
        order.tax_lines.append(
            m.TaxLine(
                id=rate_id + 1000,
                rate_code=f"FR-{label.upper().replace(' ', '-')}-{rate_id}",
                rate_id=rate_id,
                label=label,
                compound=False,
                tax_total=money(by_rate.get(rate_id, Decimal(0))),
                shipping_tax_total=money(shipping_by_rate.get(rate_id, Decimal(0))),
                rate_percent=float(percent),
            )
        )
    order.shipping_total = money(shipping)
    order.shipping_tax = money(shipping_tax)
    order.cart_tax = money(cart_tax)
    order.total_tax = money(cart_tax + shipping_tax)
    order.total = money(items + fees + shipping + cart_tax + shipping_tax)


def create_refund(store: Records, order: m.Order, data: dict[str, Any]) -> m.Refund:
    """A refund of ``order`` per ``POST /orders/{id}/refunds``; restocks when asked."""
    if data.get("api_refund", True):
        # No gateway here can refund automatically, like most offline payment methods.
        raise SimError(
            "woocommerce_rest_cannot_create_order_refund",
            "The payment gateway for this order does not support automatic refunds.",
            status=500,
        )
    refunded = sum((-Decimal(r.total) for r in order.refunds), Decimal(0))
    lines: list[m.RefundLine] = []
    restock: list[tuple[m.LineItem, int]] = []
    line_sum = Decimal(0)
    for spec in data.get("line_items") or []:
        line = next((li for li in order.line_items if li.id == spec.get("id")), None)
        if line is None:
            raise SimError("woocommerce_rest_invalid_order_item", "Invalid order item ID.")
        amount = Decimal(str(spec.get("refund_total", 0))) + sum(
            (Decimal(str(t.get("refund_total", 0))) for t in spec.get("refund_tax") or []),
            Decimal(0),
        )
        line_sum += amount
        quantity = int(spec.get("quantity", 0))
        lines.append(
            m.RefundLine(
                id=store.next_id("item"),
                name=line.name,
                product_id=line.product_id,
                variation_id=line.variation_id,
                quantity=-quantity,
                subtotal=money(-amount),
                total=money(-amount),
                total_tax="0.00",
                sku=line.sku,
                price=line.price,
            )
        )
        if data.get("api_restock", True) and quantity:
            restock.append((line, quantity))
    given = decimal_or_none(str(data["amount"])) if "amount" in data else line_sum
    if given is None:
        raise SimError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
    amount = given
    if amount <= 0 or amount > Decimal(order.total) - refunded:
        raise SimError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
    for line, quantity in restock:
        item = store.item(line.variation_id or line.product_id)
        if item is not None:
            store.move_stock(item, quantity)
    local, gmt = store.now()
    refund = m.Refund(
        id=store.next_post_id(),
        date_created=local,
        date_created_gmt=gmt,
        amount=money(amount),
        reason=str(data.get("reason", "")),
        line_items=lines,
    )
    store.refunds.setdefault(order.id, []).insert(0, refund)
    order.refunds.insert(0, m.RefundRef(id=refund.id, reason=refund.reason, total=money(-amount)))
    if refunded + amount >= Decimal(order.total):
        store.set_order_status(order.id, "refunded")
    else:
        store.touch(order)
        store.emit("order.updated", order)
    return refund
