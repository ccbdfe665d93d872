"""Webhook bodies: the REST resource shapes Shopify sends (snake_case, numeric ids beside
``admin_graphql_api_id``)."""

from __future__ import annotations

from typing import Any

from adapters.shopify.simulator.clock import iso
from adapters.shopify.simulator.orders_model import customers_of, orders_of
from adapters.shopify.simulator.store import Store, gid
from adapters.shopify.simulator.views import money


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
            "subtotal_price": money(order.subtotal()),
            "total_tax": money(order.tax()),
            "total_price": money(order.total()),
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
                    "quantity": line.quantity,
                    "price": money(line.unit_price),
                }
                for line in order.lines
            ],
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
