"""Orders, customers and fulfillment orders as GraphQL objects, and their root queries."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.clock import iso
from adapters.shopify.simulator.connection import SortKey, paginate
from adapters.shopify.simulator.orders_model import (
    Customer,
    LineItem,
    Order,
    ShippingLine,
    customers_of,
    orders_of,
)
from adapters.shopify.simulator.reads import NODE_LOADERS, searched
from adapters.shopify.simulator.store import Store, gid, parse_gid
from adapters.shopify.simulator.views import View, metafield_fields, money, variant_view


def bag(amount: Decimal, currency: str = "EUR") -> View:
    one = {"amount": money(amount), "currencyCode": currency}
    return {"shopMoney": one, "presentmentMoney": dict(one)}


def address_view(owner: int, address: dict[str, Any] | None) -> View | None:
    if address is None:
        return None
    name = " ".join(p for p in (address.get("firstName"), address.get("lastName")) if p)
    return {"id": gid("MailingAddress", owner), "name": name or None, **address}


def tax_line_views(taxes: list[tuple[str, Decimal, Decimal]], currency: str) -> list[View]:
    return [
        {
            "title": title,
            "rate": float(rate),
            "ratePercentage": float(rate * 100),
            "priceSet": bag(amount, currency),
        }
        for title, rate, amount in taxes
    ]


def shipping_line_view(order: Order, line: ShippingLine) -> View:
    # Prices as charged: tax included when the order's taxesIncluded (no shipping discounts
    # here, so original and discounted are the same).
    return {
        "id": gid("ShippingLine", line.id),
        "title": line.title,
        "code": line.code,
        "source": "shopify",
        "custom": False,
        "isRemoved": False,
        "originalPriceSet": bag(line.price, order.currency),
        "discountedPriceSet": bag(line.price, order.currency),
        "taxLines": tax_line_views(line.tax_lines, order.currency),
    }


def line_view(store: Store, order: Order, line: LineItem) -> View:
    variant = store.variants.get(line.variant_id or 0)
    current = line.quantity - line.refunded
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", line.id),
        "sku": line.sku,
        "name": line.title,
        "title": line.title,
        "quantity": line.quantity,
        "currentQuantity": current,
        "unfulfilledQuantity": max(0, current - line.fulfilled),
        "variant": None if variant is None else (lambda info: variant_view(store, variant)),
        "originalUnitPriceSet": bag(line.unit_price, order.currency),
        "discountedUnitPriceSet": bag(line.unit_price, order.currency),
        "originalTotalSet": bag(line.unit_price * line.quantity, order.currency),
        "taxLines": tax_line_views(line.tax_lines, order.currency),
        "taxable": bool(line.tax_lines),
        "requiresShipping": variant.requires_shipping if variant else True,
    }


def fulfillment_order_view(store: Store, order: Order) -> View:
    def lines(info: GraphQLResolveInfo, **args: Any) -> View:
        return paginate(
            order.lines,
            args,
            lambda line: (line.id,),
            lambda line: {
                "id": gid("FulfillmentOrderLineItem", line.id),
                "totalQuantity": line.quantity - line.refunded,
                "remainingQuantity": max(0, line.quantity - line.refunded - line.fulfilled),
                "lineItem": line_view(store, order, line),
                "sku": line.sku,
            },
        )

    remaining = sum(max(0, ln.quantity - ln.refunded - ln.fulfilled) for ln in order.lines)
    return {
        "__typename": "FulfillmentOrder",
        "id": gid("FulfillmentOrder", order.fulfillment_order_id),
        "status": "OPEN" if remaining else "CLOSED",
        "orderId": gid("Order", order.id),
        "orderName": order.name,
        "lineItems": lines,
    }


def order_view(store: Store, order: Order) -> View:
    currency = order.currency
    customer = customers_of(store).get(order.customer_id or 0)

    def refunds(info: GraphQLResolveInfo, first: int | None = None) -> list[View]:
        chosen = order.refunds if first is None else order.refunds[:first]
        by_id = {line.id: line for line in order.lines}
        return [
            {
                "__typename": "Refund",
                "id": gid("Refund", one.id),
                "createdAt": iso(one.created_at),
                "note": one.note,
                "totalRefundedSet": bag(one.amount, currency),
                "refundLineItems": lambda info, r=one, **args: paginate(
                    r.lines,
                    args,
                    lambda row: (row[0],),
                    lambda row: {
                        "id": None,
                        "lineItem": line_view(store, order, by_id[row[0]]),
                        "quantity": row[1],
                        "restockType": row[2],
                        "restocked": row[2] != "NO_RESTOCK",
                        "subtotalSet": bag(by_id[row[0]].unit_price * row[1], currency),
                    },
                ),
            }
            for one in chosen
        ]

    def fulfillments(info: GraphQLResolveInfo, first: int | None = None) -> list[View]:
        chosen = order.fulfillments if first is None else order.fulfillments[:first]
        return [
            {
                "__typename": "Fulfillment",
                "id": gid("Fulfillment", one.id),
                "name": f"{order.name}-F{n}",
                "status": one.status,
                "createdAt": iso(one.created_at),
                "updatedAt": iso(one.created_at),
                "trackingInfo": list(one.tracking),
                "totalQuantity": sum(q for _, q in one.lines),
                "order": lambda info: order_view(store, order),
            }
            for n, one in enumerate(chosen, start=1)
        ]

    return {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": None if order.cancelled_at is None else iso(order.cancelled_at),
        "cancelReason": order.cancel_reason,
        "closed": order.closed,
        "email": order.email,
        "note": order.note,
        "tags": sorted(order.tags),
        "sourceName": "web",
        "currencyCode": currency,
        "taxesIncluded": order.taxes_included,
        "customer": None if customer is None else (lambda info: customer_view(store, customer)),
        "billingAddress": address_view(order.id, order.billing_address),
        "shippingAddress": address_view(order.id + 1, order.shipping_address),
        "customAttributes": list(order.custom_attributes),
        "lineItems": lambda info, **args: paginate(
            order.lines, args, lambda ln: (ln.id,), lambda ln: line_view(store, order, ln)
        ),
        "shippingLines": lambda info, **args: paginate(
            order.shipping_lines,
            args,
            lambda ship: (ship.id,),
            lambda ship: shipping_line_view(order, ship),
        ),
        "subtotalPriceSet": bag(order.subtotal(), currency),
        "totalTaxSet": bag(order.tax(), currency),
        "totalShippingPriceSet": bag(order.shipping, currency),
        "totalDiscountsSet": bag(Decimal(0), currency),
        "totalPriceSet": bag(order.total(), currency),
        "currentTotalPriceSet": bag(order.total() - order.refunded(), currency),
        "totalRefundedSet": bag(order.refunded(), currency),
        "displayFinancialStatus": order.display_financial_status(),
        "displayFulfillmentStatus": order.display_fulfillment_status(),
        "refunds": refunds,
        "fulfillments": fulfillments,
        "fulfillmentOrders": lambda info, **args: paginate(
            [order],
            args,
            lambda o: (o.fulfillment_order_id,),
            lambda o: fulfillment_order_view(store, o),
        ),
        **metafield_fields(order.metafields),
    }


def customer_view(store: Store, customer: Customer) -> View:
    count = sum(1 for o in orders_of(store).values() if o.customer_id == customer.id)
    addresses = [address_view(customer.id + n, a) for n, a in enumerate(customer.addresses)]
    return {
        "__typename": "Customer",
        "id": gid("Customer", customer.id),
        "legacyResourceId": str(customer.id),
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "displayName": f"{customer.first_name} {customer.last_name}".strip() or customer.email,
        "phone": customer.phone,
        "note": customer.note,
        "tags": sorted(customer.tags),
        "createdAt": iso(customer.created_at),
        "updatedAt": iso(customer.updated_at),
        "numberOfOrders": str(count),
        "defaultAddress": addresses[0] if addresses else None,
        "addresses": lambda info, first=None: addresses if first is None else addresses[:first],
        **metafield_fields(customer.metafields),
    }


def _order_key(sort: str) -> Callable[[Order], SortKey]:
    match sort:
        case "UPDATED_AT":
            return lambda o: (o.updated_at.timestamp(), o.id)
        case "CREATED_AT" | "PROCESSED_AT":
            return lambda o: (o.created_at.timestamp(), o.id)
        case "ORDER_NUMBER":
            return lambda o: (o.number, o.id)
        case "TOTAL_PRICE":
            return lambda o: (float(o.total()), o.id)
        case _:
            return lambda o: (o.id,)


def query_fields(store: Store) -> View:
    def orders(info: GraphQLResolveInfo, **args: Any) -> View:
        chosen = searched(store, "Order", args.get("query"))
        rows = [o for o in orders_of(store).values() if chosen is None or o.id in chosen]
        key = _order_key(args.get("sortKey") or "PROCESSED_AT")
        rows.sort(key=key)
        return paginate(rows, args, key, lambda o: order_view(store, o))

    def customers(info: GraphQLResolveInfo, **args: Any) -> View:
        chosen = searched(store, "Customer", args.get("query"))
        rows = [c for c in customers_of(store).values() if chosen is None or c.id in chosen]
        sort = args.get("sortKey") or "ID"
        key: Callable[[Customer], SortKey] = (
            (lambda c: (c.updated_at.timestamp(), c.id))
            if sort == "UPDATED_AT"
            else (lambda c: (c.created_at.timestamp(), c.id))
            if sort == "CREATED_AT"
            else (lambda c: (c.id,))
        )
        rows.sort(key=key)
        return paginate(rows, args, key, lambda c: customer_view(store, c))

    def one(kind: str) -> Callable[..., View | None]:
        def resolve(info: GraphQLResolveInfo, id: str) -> View | None:
            number = parse_gid(id, kind)
            return None if number is None else NODE_LOADERS[kind](store, number)

        return resolve

    return {
        "orders": orders,
        "customers": customers,
        "order": one("Order"),
        "customer": one("Customer"),
        "fulfillmentOrder": one("FulfillmentOrder"),
    }


def _load_order(store: Store, number: int) -> View | None:
    order = orders_of(store).get(number)
    return None if order is None else order_view(store, order)


def _load_customer(store: Store, number: int) -> View | None:
    customer = customers_of(store).get(number)
    return None if customer is None else customer_view(store, customer)


def order_by_fulfillment_order(store: Store, number: int) -> Order | None:
    return next((o for o in orders_of(store).values() if o.fulfillment_order_id == number), None)


def _load_fulfillment_order(store: Store, number: int) -> View | None:
    order = order_by_fulfillment_order(store, number)
    return None if order is None else fulfillment_order_view(store, order)


NODE_LOADERS.update(
    {"Order": _load_order, "Customer": _load_customer, "FulfillmentOrder": _load_fulfillment_order}
)
