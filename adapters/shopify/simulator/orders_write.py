"""``orderUpdate`` (note, tags, email, address, attributes, metafields) and
``fulfillmentCreate`` on fulfillment orders, with tracking information."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.metafields import put
from adapters.shopify.simulator.orders_model import Fulfillment, index_order, orders_of
from adapters.shopify.simulator.orders_views import order_by_fulfillment_order, order_view
from adapters.shopify.simulator.store import Store, gid, parse_gid
from adapters.shopify.simulator.views import View


def _error(field: list[str], message: str) -> View:
    return {"field": field, "message": message}


def _line_refused(n: int, key: str, message: str) -> View:
    path = ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems"]
    return {"fulfillment": None, "userErrors": [_error([*path, str(n), key], message)]}


def order_update(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, input: dict[str, Any]) -> View:
        number = parse_gid(input["id"], "Order")
        order = None if number is None else orders_of(store).get(number)
        if order is None:
            return {"order": None, "userErrors": [_error(["id"], "Order does not exist")]}
        if "note" in input:
            order.note = input["note"]
        if input.get("tags") is not None:
            tags = [t.strip() for tag in input["tags"] for t in tag.split(",") if t.strip()]
            order.tags = sorted(set(tags), key=tags.index)
        if "email" in input:
            order.email = input["email"]
        if input.get("shippingAddress") is not None:
            address = dict(input["shippingAddress"])
            if "countryCode" in address:
                address["countryCodeV2"] = address.pop("countryCode")
            order.shipping_address = address
        if input.get("customAttributes") is not None:
            order.custom_attributes = [dict(a) for a in input["customAttributes"]]
        for row in input.get("metafields") or []:
            put(
                store,
                order.metafields,
                row.get("namespace") or "$app",
                row["key"],
                row["value"],
                row.get("type") or "single_line_text_field",
            )
        order.updated_at = store.now()
        index_order(store, order)
        store.emit("orders/updated", order.id)
        return {"order": order_view(store, order), "userErrors": []}

    return resolve


def fulfillment_create(store: Store) -> Any:
    def resolve(
        info: GraphQLResolveInfo, fulfillment: dict[str, Any], message: str | None = None
    ) -> View:
        groups = fulfillment["lineItemsByFulfillmentOrder"]
        if len(groups) != 1:
            problem = _error(
                ["fulfillment", "lineItemsByFulfillmentOrder"],
                "Fulfillment orders must belong to the same order and location.",
            )
            return {"fulfillment": None, "userErrors": [problem]}
        group = groups[0]
        number = parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder")
        order = None if number is None else order_by_fulfillment_order(store, number)
        if order is None:
            problem = _error(
                ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderId"],
                "Fulfillment order does not exist.",
            )
            return {"fulfillment": None, "userErrors": [problem]}
        remaining = {ln.id: ln.quantity - ln.refunded - ln.fulfilled for ln in order.lines}
        wanted: list[tuple[int, int]] = []
        rows = group.get("fulfillmentOrderLineItems")
        if rows is None:
            wanted = [(line_id, left) for line_id, left in remaining.items() if left > 0]
        else:
            for n, row in enumerate(rows):
                line_id = parse_gid(row["id"], "FulfillmentOrderLineItem")
                if line_id is None or line_id not in remaining:
                    return _line_refused(n, "id", "Fulfillment order line item does not exist.")
                if row["quantity"] <= 0 or row["quantity"] > remaining[line_id]:
                    return _line_refused(
                        n,
                        "quantity",
                        "Quantity must be between 1 and the line item's remaining quantity.",
                    )
                wanted.append((line_id, row["quantity"]))
        if not wanted:
            return {
                "fulfillment": None,
                "userErrors": [
                    _error(["fulfillment"], "The fulfillment order has no remaining quantity.")
                ],
            }
        by_id = {ln.id: ln for ln in order.lines}
        for line_id, quantity in wanted:
            line = by_id[line_id]
            line.fulfilled += quantity
            variant = store.variants.get(line.variant_id or 0)
            if variant is not None and line.location_id is not None:
                level = store.levels.get((variant.item_id, line.location_id))
                if level is not None:
                    level.quantities["committed"] -= min(quantity, level.quantities["committed"])
                    level.quantities["on_hand"] -= quantity
        tracking = fulfillment.get("trackingInfo") or {}
        numbers = tracking.get("numbers") or (
            [tracking["number"]] if tracking.get("number") else []
        )
        urls = tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else [])
        info_rows = [
            {
                "company": tracking.get("company"),
                "number": num,
                "url": urls[n] if n < len(urls) else None,
            }
            for n, num in enumerate(numbers)
        ]
        made = Fulfillment(store.new_id(), store.now(), wanted, info_rows)
        order.fulfillments.append(made)
        order.updated_at = made.created_at
        index_order(store, order)
        store.emit("fulfillments/create", order.id)
        store.emit("orders/updated", order.id)
        status = order.display_fulfillment_status()
        store.emit(
            "orders/fulfilled" if status == "FULFILLED" else "orders/partially_fulfilled", order.id
        )
        view = order_view(store, order)
        fulfilled = view["fulfillments"](info)
        return {
            "fulfillment": fulfilled[-1] | {"id": gid("Fulfillment", made.id)},
            "userErrors": [],
        }

    return resolve
