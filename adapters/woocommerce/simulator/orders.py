"""Routes for customers, orders, order notes and refunds."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import SimError
from adapters.woocommerce.simulator.orders_logic import (
    build_order,
    create_refund,
    update_order_fields,
)
from adapters.woocommerce.simulator.products import STORE_KEY
from adapters.woocommerce.simulator.rest import (
    PREFIX,
    batch,
    body_of,
    date_filter,
    forced,
    int_param,
    item_id,
    ordered,
    paginated,
    respond,
)
from adapters.woocommerce.simulator.store import ORDER_STATUSES, Store
from adapters.woocommerce.simulator.writes import apply_customer


def _store(request: web.Request) -> Store:
    return request.app[STORE_KEY]


# -- customers ----------------------------------------------------------------------------


def create_customer(store: Store, data: dict[str, Any]) -> m.Customer:
    email = data.get("email")
    if not isinstance(email, str) or not email.strip():
        raise SimError(
            "rest_missing_callback_param", "Missing parameter(s): email", params=["email"]
        )
    if store.customer_by_email(email) is not None:
        raise SimError(
            "registration-error-email-exists",
            "An account is already registered with your email address. Please log in.",
        )
    local, gmt = store.now()
    customer = m.Customer(
        id=store.next_id("user"),
        email="",
        date_created=local,
        date_created_gmt=gmt,
        date_modified=local,
        date_modified_gmt=gmt,
    )
    apply_customer(store, customer, data)
    customer.username = customer.username or customer.email.split("@")[0]
    store.customers[customer.id] = customer
    store.emit("customer.created", customer)
    return customer


def update_customer(store: Store, data: dict[str, Any]) -> m.Customer:
    customer = store.customers.get(data.get("id"))  # type: ignore[arg-type]
    if customer is None:
        raise SimError("woocommerce_rest_invalid_id", "Invalid resource ID.")
    apply_customer(store, customer, data)
    store.touch(customer)
    store.emit("customer.updated", customer)
    return customer


def delete_customer(store: Store, customer_id: Any) -> m.Customer:
    customer = store.customers.pop(customer_id, None)
    if customer is None:
        raise SimError("woocommerce_rest_invalid_id", "Invalid resource ID.")
    store.emit("customer.deleted", {"id": customer.id})
    return customer


async def list_customers(request: web.Request) -> web.Response:
    store = _store(request)
    records = (
        ordered(
            request,
            store.customers.values(),
            {
                "id": lambda c: c.id,
                "include": lambda c: c.id,
                "name": lambda c: c.last_name,
                "registered_date": lambda c: c.date_created_gmt,
            },
            "name",
        )
        if "orderby" in request.query
        else sorted(store.customers.values(), key=lambda c: c.id)
    )
    if "email" in request.query:
        wanted = request.query["email"].strip().lower()
        records = [c for c in records if c.email.lower() == wanted]
    if "role" in request.query and request.query["role"] != "all":
        records = [c for c in records if c.role == request.query["role"]]
    return paginated(request, records)


async def get_customer(request: web.Request) -> web.Response:
    customer = _store(request).customers.get(item_id(request))
    if customer is None:
        raise SimError("woocommerce_rest_invalid_id", "Invalid resource ID.", status=404)
    return respond(customer)


async def post_customer(request: web.Request) -> web.Response:
    return respond(create_customer(_store(request), await body_of(request)), status=201)


async def put_customer(request: web.Request) -> web.Response:
    data = await body_of(request)
    data["id"] = item_id(request)
    return respond(update_customer(_store(request), data))


async def del_customer(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported", "Customers do not support trashing.", status=501
        )
    return respond(delete_customer(_store(request), item_id(request)))


async def batch_customers(request: web.Request) -> web.Response:
    store = _store(request)
    return await batch(
        request,
        lambda data: create_customer(store, data),
        lambda data: update_customer(store, data),
        lambda customer_id: delete_customer(store, customer_id),
    )


# -- orders -------------------------------------------------------------------------------


def _status(data: dict[str, Any]) -> str | None:
    status = data.get("status")
    if status is None:
        return None
    if status not in ORDER_STATUSES:
        raise SimError(
            "rest_invalid_param",
            "Invalid parameter(s): status",
            params={"status": f"status is not one of {', '.join(sorted(ORDER_STATUSES))}."},
        )
    return str(status)


def create_order(store: Store, data: dict[str, Any]) -> m.Order:
    status = _status(data)
    order = build_order(store, list(data.get("line_items") or []), data)
    store.orders[order.id] = order
    store.emit("order.created", order)
    if data.get("set_paid"):
        # Payment completion reduces stock and moves the order on, as a gateway would.
        store.set_order_status(order.id, "processing")
    if status is not None and status != order.status:
        store.set_order_status(order.id, status)
    return order


def update_order(store: Store, data: dict[str, Any]) -> m.Order:
    order = store.orders.get(data.get("id"))  # type: ignore[arg-type]
    if order is None:
        raise SimError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    status = _status(data)
    update_order_fields(store, order, data)
    if data.get("set_paid") and order.status in ("pending", "failed"):
        store.set_order_status(order.id, "processing")
    if status is not None and status != order.status:
        store.set_order_status(order.id, status)
    else:
        store.touch(order)
        store.emit("order.updated", order)
    return order


def delete_order(store: Store, order_id: Any, force: bool = True) -> m.Order:
    order = store.orders.get(order_id)
    if order is None:
        raise SimError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    if force:
        del store.orders[order_id]
        store.emit("order.deleted", {"id": order.id})
    else:
        store.set_order_status(order.id, "trash")
    return order


def _order(request: web.Request, name: str = "id") -> m.Order:
    order = _store(request).orders.get(item_id(request, name))
    if order is None:
        raise SimError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", status=404)
    return order


async def list_orders(request: web.Request) -> web.Response:
    store = _store(request)
    records = ordered(
        request,
        store.orders.values(),
        {
            "date": lambda o: (o.date_created_gmt, o.id),
            "id": lambda o: o.id,
            "include": lambda o: o.id,
            "modified": lambda o: (o.date_modified_gmt, o.id),
        },
        "date",
    )
    statuses = {s for s in request.query.get("status", "any").split(",") if s}
    if "any" not in statuses:
        records = [o for o in records if o.status in statuses]
    else:
        records = [o for o in records if o.status != "trash"]
    if "customer" in request.query:
        customer = int_param(request, "customer", 0, 0, None)
        records = [o for o in records if o.customer_id == customer]
    if "product" in request.query:
        product = int_param(request, "product", 0, 0, None)
        records = [o for o in records if any(li.product_id == product for li in o.line_items)]
    dates = date_filter(request)
    if dates is not None:
        records = [o for o in records if dates(o)]
    return paginated(request, records)


async def get_order(request: web.Request) -> web.Response:
    return respond(_order(request))


async def post_order(request: web.Request) -> web.Response:
    return respond(create_order(_store(request), await body_of(request)), status=201)


async def put_order(request: web.Request) -> web.Response:
    data = await body_of(request)
    data["id"] = item_id(request)
    return respond(update_order(_store(request), data))


async def del_order(request: web.Request) -> web.Response:
    return respond(delete_order(_store(request), item_id(request), forced(request)))


async def batch_orders(request: web.Request) -> web.Response:
    store = _store(request)
    return await batch(
        request,
        lambda data: create_order(store, data),
        lambda data: update_order(store, data),
        lambda order_id: delete_order(store, order_id),
    )


# -- notes and refunds --------------------------------------------------------------------


async def list_notes(request: web.Request) -> web.Response:
    order = _order(request, "oid")
    notes = _store(request).notes.get(order.id, [])
    kind = request.query.get("type", "any")
    if kind == "customer":
        notes = [n for n in notes if n.customer_note]
    elif kind == "internal":
        notes = [n for n in notes if not n.customer_note]
    return respond(notes)


async def post_note(request: web.Request) -> web.Response:
    store = _store(request)
    order = _order(request, "oid")
    data = await body_of(request)
    if not isinstance(data.get("note"), str) or not data["note"]:
        raise SimError("rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
    note = store.add_note(order, data["note"], customer_note=bool(data.get("customer_note")))
    if data.get("added_by_user"):
        note.author = "admin"
    return respond(note, status=201)


def _note(request: web.Request) -> tuple[list[m.OrderNote], m.OrderNote]:
    order = _order(request, "oid")
    notes = _store(request).notes.get(order.id, [])
    wanted = item_id(request)
    note = next((n for n in notes if n.id == wanted), None)
    if note is None:
        raise SimError("woocommerce_rest_order_invalid_id", "Invalid resource ID.", status=404)
    return notes, note


async def get_note(request: web.Request) -> web.Response:
    return respond(_note(request)[1])


async def del_note(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported", "Notes do not support trashing.", status=501
        )
    notes, note = _note(request)
    notes.remove(note)
    return respond(note)


async def list_refunds(request: web.Request) -> web.Response:
    order = _order(request, "oid")
    return respond(_store(request).refunds.get(order.id, []))


async def post_refund(request: web.Request) -> web.Response:
    order = _order(request, "oid")
    refund = create_refund(_store(request), order, await body_of(request))
    return respond(refund, status=201)


def _refund(request: web.Request) -> tuple[list[m.Refund], m.Refund]:
    order = _order(request, "oid")
    refunds = _store(request).refunds.get(order.id, [])
    wanted = item_id(request)
    refund = next((r for r in refunds if r.id == wanted), None)
    if refund is None:
        raise SimError("woocommerce_rest_invalid_id", "Invalid resource ID.", status=404)
    return refunds, refund


async def get_refund(request: web.Request) -> web.Response:
    return respond(_refund(request)[1])


async def del_refund(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported", "Refunds do not support trashing.", status=501
        )
    refunds, refund = _refund(request)
    refunds.remove(refund)
    order = _order(request, "oid")
    order.refunds = [r for r in order.refunds if r.id != refund.id]
    return respond(refund)


def add_routes(app: web.Application) -> None:
    r = app.router
    p = PREFIX
    r.add_get(f"{p}/customers", list_customers)
    r.add_post(f"{p}/customers", post_customer)
    r.add_post(f"{p}/customers/batch", batch_customers)
    r.add_get(f"{p}/customers/{{id:\\d+}}", get_customer)
    r.add_put(f"{p}/customers/{{id:\\d+}}", put_customer)
    r.add_delete(f"{p}/customers/{{id:\\d+}}", del_customer)
    r.add_get(f"{p}/orders", list_orders)
    r.add_post(f"{p}/orders", post_order)
    r.add_post(f"{p}/orders/batch", batch_orders)
    r.add_get(f"{p}/orders/{{id:\\d+}}", get_order)
    r.add_put(f"{p}/orders/{{id:\\d+}}", put_order)
    r.add_delete(f"{p}/orders/{{id:\\d+}}", del_order)
    r.add_get(f"{p}/orders/{{oid:\\d+}}/notes", list_notes)
    r.add_post(f"{p}/orders/{{oid:\\d+}}/notes", post_note)
    r.add_get(f"{p}/orders/{{oid:\\d+}}/notes/{{id:\\d+}}", get_note)
    r.add_delete(f"{p}/orders/{{oid:\\d+}}/notes/{{id:\\d+}}", del_note)
    r.add_get(f"{p}/orders/{{oid:\\d+}}/refunds", list_refunds)
    r.add_post(f"{p}/orders/{{oid:\\d+}}/refunds", post_refund)
    r.add_get(f"{p}/orders/{{oid:\\d+}}/refunds/{{id:\\d+}}", get_refund)
    r.add_delete(f"{p}/orders/{{oid:\\d+}}/refunds/{{id:\\d+}}", del_refund)
