"""Webhook bodies: the REST resource shapes Shopify sends (snake_case, numeric ids beside
``admin_graphql_api_id``).

An order's amounts are REST's: decimal strings beside a ``*_set`` of ``shop_money`` and
``presentment_money`` (one currency here). With ``taxes_included`` the prices (line items' and
shipping lines') hold their ``tax_lines``; ``tax_lines`` of the order sum them per title.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.shopify.simulator.clock import iso
from adapters.shopify.simulator.orders_model import Order, ShippingLine, customers_of, orders_of
from adapters.shopify.simulator.store import Store, gid
from adapters.shopify.simulator.views import money

Taxes = list[tuple[str, Decimal, Decimal]]


def _set(amount: Decimal, currency: str) -> dict[str, Any]:
    shown = {"amount": money(amount), "currency_code": currency}
    return {"shop_money": shown, "presentment_money": dict(shown)}


def _tax_lines(taxes: Taxes, currency: str) -> list[dict[str, Any]]:
    return [
        {
            "title": title,
            "rate": float(rate),
            "price": money(amount),
            "price_set": _set(amount, currency),
            "channel_liable": False,
        }
        for title, rate, amount in taxes
    ]


def _order_taxes(order: Order) -> Taxes:
    """The order's tax lines: its lines' and shipping lines' summed per title."""
    summed: dict[str, tuple[Decimal, Decimal]] = {}
    taxed = [line.tax_lines for line in order.lines]
    taxed += [ship.tax_lines for ship in order.shipping_lines]
    for title, rate, amount in (tax for taxes in taxed for tax in taxes):
        held = summed.get(title, (rate, Decimal(0)))[1]
        summed[title] = (rate, held + amount)
    return [(title, rate, amount) for title, (rate, amount) in summed.items()]


def _shipping_line(order: Order, ship: ShippingLine) -> dict[str, Any]:
    # No shipping discounts here: the discounted price is the price.
    return {
        "id": ship.id,
        "title": ship.title,
        "code": ship.code,
        "source": "shopify",
        "price": money(ship.price),
        "price_set": _set(ship.price, order.currency),
        "discounted_price": money(ship.price),
        "discounted_price_set": _set(ship.price, order.currency),
        "is_removed": False,
        "carrier_identifier": None,
        "phone": None,
        "requested_fulfillment_service_id": None,
        "discount_allocations": [],
        "tax_lines": _tax_lines(ship.tax_lines, order.currency),
    }


def payload(store: Store, topic: str, record_id: int) -> dict[str, Any]:
    resource = topic.split("/")[0]
    if resource in ("orders", "fulfillments", "refunds") and record_id in orders_of(store):
        order = orders_of(store)[record_id]
        customer = customers_of(store).get(order.customer_id or 0)
        return {
            "id": order.id,
            "admin_graphql_api_id": gid("Order", order.id),
            "name": order.name,
            "order_number": order.number,
            "email": order.email,
            "created_at": iso(order.created_at),
            "updated_at": iso(order.updated_at),
            "note": order.note,
            "tags": ", ".join(order.tags),
            "currency": order.currency,
            "financial_status": order.display_financial_status().lower(),
            "fulfillment_status": None
            if order.display_fulfillment_status() == "UNFULFILLED"
            else order.display_fulfillment_status().lower(),
            "taxes_included": order.taxes_included,
            "subtotal_price": money(order.subtotal()),
            "subtotal_price_set": _set(order.subtotal(), order.currency),
            "total_tax": money(order.tax()),
            "total_tax_set": _set(order.tax(), order.currency),
            "total_shipping_price_set": _set(order.shipping, order.currency),
            "total_price": money(order.total()),
            "total_price_set": _set(order.total(), order.currency),
            "tax_lines": _tax_lines(_order_taxes(order), order.currency),
            "customer": None
            if customer is None
            else {
                "id": customer.id,
                "email": customer.email,
                "admin_graphql_api_id": gid("Customer", customer.id),
            },
            "line_items": [
                {
                    "id": line.id,
                    "admin_graphql_api_id": gid("LineItem", line.id),
                    "variant_id": line.variant_id,
                    "sku": line.sku,
                    "title": line.title,
                    "name": line.title,
                    "quantity": line.quantity,
                    "price": money(line.unit_price),
                    "price_set": _set(line.unit_price, order.currency),
                    "total_discount": "0.00",
                    "taxable": bool(line.tax_lines),
                    "tax_lines": _tax_lines(line.tax_lines, order.currency),
                }
                for line in order.lines
            ],
            "shipping_lines": [_shipping_line(order, ship) for ship in order.shipping_lines],
        }
    if resource == "products" and record_id in store.products:
        product = store.products[record_id]
        return {
            "id": product.id,
            "admin_graphql_api_id": gid("Product", product.id),
            "title": product.title,
            "handle": product.handle,
            "status": product.status.lower(),
            "updated_at": iso(product.updated_at),
            "variants": [
                {"id": v.id, "sku": v.sku, "price": money(v.price), "inventory_item_id": v.item_id}
                for v in store.product_variants(product)
            ],
        }
    if resource == "inventory_levels":
        level = next((lv for lv in store.levels.values() if lv.id == record_id), None)
        if level is not None:
            return {
                "inventory_item_id": level.item_id,
                "location_id": level.location_id,
                "available": level.quantities["available"],
                "updated_at": iso(level.updated_at),
                "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{level.id}?inventory_item_id={level.item_id}",
            }
    if resource == "bulk_operations":
        operation = store.extra.get("bulk_operations", {}).get(record_id)
        if operation is not None:
            return {
                "admin_graphql_api_id": gid("BulkOperation", record_id),
                "completed_at": None
                if operation.completed_at is None
                else iso(operation.completed_at),
                "created_at": iso(operation.created_at),
                "error_code": "internal_server_error" if operation.status == "FAILED" else None,
                "status": operation.status.lower(),
                "type": operation.type.lower(),
            }
    return {"id": record_id}
