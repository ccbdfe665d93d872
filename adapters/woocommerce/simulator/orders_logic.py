"""Orders as a checkout builds them: lines priced from the catalogue, taxes, totals, refunds."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import (
    TAX_RATES,
    SimError,
    decimal_or_none,
    money,
)
from adapters.woocommerce.simulator.writes import apply_address, apply_meta

if TYPE_CHECKING:
    from adapters.woocommerce.simulator.store import Sellable, Store

_ORDER_TEXT = (
    "customer_note",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "currency",
)


def build_order(store: Store, lines: list[dict[str, Any]], data: dict[str, Any]) -> m.Order:
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
    for spec in data.get("shipping_lines") or []:
        total = decimal_or_none(str(spec.get("total", "0"))) or Decimal(0)
        order.shipping_lines.append(
            m.ShippingLine(
                id=store.next_id("item"),
                method_title=str(spec.get("method_title", "")),
                method_id=str(spec.get("method_id", "")),
                total=money(total),
                total_tax="0.00",
            )
        )
    update_order_fields(store, order, data)
    if isinstance(data.get("customer_id"), int):
        order.customer_id = data["customer_id"]
    recompute_totals(order)
    return order


def update_order_fields(store: Store, order: m.Order, data: dict[str, Any]) -> None:
    """The plain fields of an order body (status is handled by the store: it moves stock)."""
    for key in _ORDER_TEXT:
        if isinstance(data.get(key), str):
            setattr(order, key, data[key])
    for key in ("billing", "shipping"):
        if isinstance(data.get(key), dict):
            apply_address(getattr(order, key), data[key])
    if isinstance(data.get("meta_data"), list):
        apply_meta(store, order.meta_data, data["meta_data"])


def _line(store: Store, spec: dict[str, Any]) -> m.LineItem:
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
    subtotal = price * quantity
    rate_id, _, percent = TAX_RATES.get(item.tax_class, TAX_RATES[""])
    tax = subtotal * percent / 100 if item.tax_status == "taxable" else Decimal(0)
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
    """Totals and tax lines from the lines, as ``calculate_totals`` does."""
    by_rate: dict[int, Decimal] = {}
    for line in order.line_items:
        for tax in line.taxes:
            by_rate[tax.id] = by_rate.get(tax.id, Decimal(0)) + Decimal(tax.total)
    items = sum((Decimal(line.total) for line in order.line_items), Decimal(0))
    shipping = sum((Decimal(s.total) for s in order.shipping_lines), Decimal(0))
    cart_tax = sum(by_rate.values(), Decimal(0))
    order.tax_lines = []
    for rate_id, amount in sorted(by_rate.items()):
        _, label, percent = next(rate for rate in TAX_RATES.values() if rate[0] == rate_id)
        order.tax_lines.append(
            m.TaxLine(
                id=rate_id + 1000,
                rate_code=f"FR-{label.upper().replace(' ', '-')}-{rate_id}",
                rate_id=rate_id,
                label=label,
                compound=False,
                tax_total=money(amount),
                shipping_tax_total="0.00",
                rate_percent=float(percent),
            )
        )
    order.shipping_total = money(shipping)
    order.cart_tax = money(cart_tax)
    order.total_tax = money(cart_tax)
    order.total = money(items + shipping + cart_tax)


def create_refund(store: Store, order: m.Order, data: dict[str, Any]) -> m.Refund:
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
