"""``orderCancel`` (an asynchronous job, read back through ``job(id:)``) and ``refundCreate``
(a refund whose amount is the sum of its transactions).

What Shopify refuses, this refuses in a 200 answer: an unknown order, an order cancelled
twice, a cancellation saying both or neither of ``refund`` and ``refundMethod``; a refund
transaction that is not of kind ``REFUND``, is not in cents, is not positive, names another
order, names a parent transaction this shop never made, or would refund more than the order
has left (unless ``allowOverRefunding``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.orders_model import Order, Refund, index_order, orders_of
from adapters.shopify.simulator.orders_views import order_view
from adapters.shopify.simulator.store import Store, gid, parse_gid
from adapters.shopify.simulator.views import View

MANUAL_GATEWAY = "manual"
"""The gateway of money returned outside Shopify (no payment provider is asked)."""


def _jobs(store: Store) -> dict[int, bool]:
    """Job number -> whether it has been looked at since it was started (then done)."""
    jobs: dict[int, bool] = store.extra.setdefault("jobs", {})
    return jobs


def _order(store: Store, value: str) -> Order | None:
    number = parse_gid(value, "Order")
    return None if number is None else orders_of(store).get(number)


def _cancel_refused(field: str, message: str, code: str) -> View:
    problem = {"field": [field], "message": message, "code": code}
    return {
        "job": None,
        "orderCancelUserErrors": [problem],
        "userErrors": [{"field": [field], "message": message}],
    }


def _release(store: Store, order: Order, *, restock: bool) -> None:
    """The stock an unfulfilled cancelled order held: back to available when restocked,
    otherwise gone from hand as well (the merchant keeps it out of sale)."""
    for line in order.lines:
        open_quantity = line.quantity - line.refunded - line.fulfilled
        variant = store.variants.get(line.variant_id or 0)
        if open_quantity <= 0 or variant is None or line.location_id is None:
            continue
        level = store.levels.get((variant.item_id, line.location_id))
        if level is None:
            continue
        level.quantities["committed"] -= min(open_quantity, level.quantities["committed"])
        if restock:
            level.quantities["available"] += open_quantity
        else:
            level.quantities["on_hand"] -= open_quantity
        level.updated_at = store.now()


def order_cancel(store: Store) -> Any:
    def resolve(
        info: GraphQLResolveInfo,
        orderId: str,
        reason: str,
        restock: bool,
        refund: bool | None = None,
        refundMethod: dict[str, Any] | None = None,
        notifyCustomer: bool = False,
        staffNote: str | None = None,
    ) -> View:
        order = _order(store, orderId)
        if order is None:
            return _cancel_refused("orderId", "Order does not exist", "NOT_FOUND")
        if order.cancelled_at is not None:
            return _cancel_refused("orderId", "Order has already been cancelled", "INVALID")
        if (refund is None) == (refundMethod is None):
            return _cancel_refused(
                "refundMethod", "Specify exactly one of refund and refundMethod", "INVALID"
            )
        method = refundMethod or {}
        refunding = bool(refund) or bool(
            method.get("originalPaymentMethodsRefund") or method.get("storeCreditRefund")
        )
        now = store.now()
        left = order.total() - order.refunded()
        if refunding and left > 0:
            order.refunds.append(Refund(store.new_id(), now, staffNote, [], left))
            store.emit("refunds/create", order.id)
        _release(store, order, restock=restock)
        order.cancelled_at = now
        order.cancel_reason = reason
        order.closed = True
        order.updated_at = now
        index_order(store, order)
        store.emit("orders/cancelled", order.id)
        store.emit("orders/updated", order.id)
        job = store.new_id()
        _jobs(store)[job] = False
        return {
            "job": {"id": gid("Job", job), "done": False},
            "orderCancelUserErrors": [],
            "userErrors": [],
        }

    return resolve


def job_query(store: Store) -> Any:
    """``job(id:)``: a job is done once looked at after it was started (no waiting in tests)."""

    def resolve(info: GraphQLResolveInfo, id: str) -> View | None:
        number = parse_gid(id, "Job")
        jobs = _jobs(store)
        if number is None or number not in jobs:
            return None
        jobs[number] = True
        return {"id": id, "done": True}

    return resolve


def _refund_refused(field: list[str], message: str) -> View:
    return {"order": None, "refund": None, "userErrors": [{"field": field, "message": message}]}


def _cents(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def refund_create(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, input: dict[str, Any]) -> View:
        order = _order(store, input["orderId"])
        if order is None:
            return _refund_refused(["orderId"], "Order does not exist")
        total = Decimal("0.00")
        for n, row in enumerate(input.get("transactions") or []):
            where = ["transactions", str(n)]
            if row["kind"] != "REFUND":
                return _refund_refused([*where, "kind"], "Transaction kind must be refund")
            if row["orderId"] != input["orderId"]:
                return _refund_refused([*where, "orderId"], "Transaction is for another order")
            if row.get("parentId") is not None:
                return _refund_refused([*where, "parentId"], "Parent transaction does not exist")
            if row["gateway"] != MANUAL_GATEWAY:
                return _refund_refused(
                    [*where, "gateway"],
                    "A refund through a payment gateway needs its parent transaction",
                )
            amount = _cents(row["amount"])
            if amount is None or amount <= 0:
                return _refund_refused(
                    [*where, "amount"], "Amount must be a positive amount in cents"
                )
            total += amount
        left = order.total() - order.refunded()
        if total > left and not input.get("allowOverRefunding"):
            return _refund_refused(
                ["transactions"], f"Refund amount {total} is more than the {left} refundable"
            )
        now = store.now()
        made = Refund(store.new_id(), now, input.get("note"), [], total)
        order.refunds.append(made)
        order.updated_at = now
        index_order(store, order)
        store.emit("refunds/create", order.id)
        store.emit("orders/updated", order.id)
        view = order_view(store, order)
        return {"order": view, "refund": view["refunds"](info)[-1], "userErrors": []}

    return resolve
