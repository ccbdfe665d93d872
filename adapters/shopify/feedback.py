"""An order's status, notes and refunds in Shopify (the ``OrderFeedback`` capability).

Shopify has no status to write: it derives one from fulfilments, refunds and cancellation
(see :func:`adapters.shopify.orders.status_of`). So ``completed`` fulfils every open
fulfillment order of the order (``fulfillmentCreate``), ``cancelled`` cancels it
(``orderCancel``, waited for: Shopify cancels in a background job), and ``processing`` is
what a paid order already is: nothing is sent. Cancelling refunds nothing and restocks
nothing (stock belongs to the ERP; the next stock sync brings it); no mail goes to the buyer.

Notes: a Shopify order has one ``note``, seen by the merchant only (the buyer is never mailed
it, whatever ``customer`` says). Each note is one line of it, appended after what is there,
and a line already present is not added twice; :meth:`customer_notes` gives the lines back.

Refunds: ``refundCreate`` records what a refund returned through its ``transactions``; a
refund without transactions (and without lines, which Concord does not know) carries no
amount at all. So each refund is one transaction of kind ``REFUND`` through the ``manual``
gateway for the exact amount: Shopify records money returned outside it and asks no payment
provider to pay anything. Its ``note`` is the reason, read back by :meth:`list_refunds`.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.base import PermanentError, TransientError
from adapters.shopify import cost
from adapters.shopify.client import ShopifyClient, user_errors
from adapters.shopify.settings import ShopifySettings
from canonical.orders import ShopRefund

ORDER_GID = "gid://shopify/Order/"
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
"""Fulfillment order statuses ``fulfillmentCreate`` takes."""
DONE = frozenset({"CLOSED", "CANCELLED"})
STATUSES = ("processing", "completed", "cancelled")
MANUAL_GATEWAY = "manual"
CANCEL_NOTE = "Cancelled in the ERP by Concord"
_FULFILLMENT_ORDERS = 50
_JOB_ATTEMPTS = 30
_FIRST_POLL = 0.2

STATE = (
    "query OrderState($id: ID!) { order(id: $id) { id name note cancelledAt"
    f" fulfillmentOrders(first: {_FULFILLMENT_ORDERS}) {{ nodes {{ id status }}"
    " pageInfo { hasNextPage } } } }"
)
STATE_COST = cost.OBJECT + cost.connection_cost(_FULFILLMENT_ORDERS, cost.OBJECT)
BY_NAME = (
    "query OrderByName($query: String!) { orders(first: 2, query: $query) { nodes { id name } } }"
)
BY_NAME_COST = cost.connection_cost(2, cost.OBJECT)
REFUNDS = (
    "query OrderRefunds($id: ID!) { order(id: $id) { id"
    " refunds { id note totalRefundedSet { shopMoney { amount } } } } }"
)
REFUNDS_COST = 4 * cost.OBJECT
UPDATE_NOTE = (
    "mutation OrderNote($input: OrderInput!) { orderUpdate(input: $input) {"
    " order { id note } userErrors { field message } } }"
)
FULFIL = (
    "mutation Fulfil($fulfillment: FulfillmentInput!) {"
    " fulfillmentCreate(fulfillment: $fulfillment) {"
    " fulfillment { id status } userErrors { field message } } }"
)
CANCEL = (
    "mutation Cancel($orderId: ID!, $staffNote: String) { orderCancel(orderId: $orderId,"
    " reason: OTHER, refund: false, restock: false, notifyCustomer: false,"
    " staffNote: $staffNote) { job { id done } orderCancelUserErrors { field message code } } }"
)
JOB = "query CancelJob($id: ID!) { job(id: $id) { id done } }"
REFUND = (
    "mutation Refund($input: RefundInput!) { refundCreate(input: $input) {"
    " refund { id note totalRefundedSet { shopMoney { amount } } }"
    " userErrors { field message } } }"
)
MUTATION_COST = cost.MUTATION + 2 * cost.OBJECT


def _refused(what: str, payload: Any) -> PermanentError | None:
    problems = user_errors(payload)
    if not problems:
        return None
    return PermanentError(f"{what}: " + "; ".join(p.reason() for p in problems))


def note_lines(note: str | None) -> list[str]:
    """The lines of an order's note, each one note."""
    return [line.strip() for line in (note or "").splitlines() if line.strip()]


def one_line(text: str) -> str:
    return " ".join(text.split())


def cents(amount: Decimal, what: str) -> str:
    """``amount`` as Shopify's money text, refused unless a positive amount in cents."""
    try:
        exact = amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = None
    if exact is None or exact != amount or exact <= 0:
        raise PermanentError(f"{what}: {amount} is not a positive amount in cents")
    return f"{exact:f}"


class OrderFeedbackMixin:
    """:class:`adapters.base.OrderFeedback`, :class:`adapters.base.OrderNotes` and
    :class:`adapters.base.ShipmentTracking` for the Shopify adapter, which holds ``client``
    and ``settings``. ``ref`` is the order's gid (what snapshots give as its ref); an order
    number (``1001``) is found by name."""

    client: ShopifyClient
    settings: ShopifySettings

    async def _order_id(self, ref: str) -> str:
        if ref.startswith(ORDER_GID):
            return ref
        number = ref.strip().lstrip("#")
        if not number.isalnum():
            raise PermanentError(f"Shopify order {ref!r}: neither an order gid nor a number")
        search = f"name:'#{number}'"
        data = await self.client.execute(BY_NAME, {"query": search}, cost=BY_NAME_COST)
        found = [n for n in data["orders"]["nodes"] if str(n.get("name")) == f"#{number}"]
        if len(found) != 1:
            raise PermanentError(f"Shopify order {ref}: no such order")
        return str(found[0]["id"])

    async def _state(self, ref: str) -> dict[str, Any]:
        order_id = await self._order_id(ref)
        data = await self.client.execute(STATE, {"id": order_id}, cost=STATE_COST)
        order = data.get("order")
        if not order:
            raise PermanentError(f"Shopify order {ref}: no such order")
        return dict(order)

    # -- status -----------------------------------------------------------------------

    async def set_order_status(self, ref: str, status: str) -> None:
        """``completed``: fulfil what is open; ``cancelled``: cancel; ``processing``: none."""
        wanted = status.strip().lower()
        if wanted not in STATUSES:
            raise PermanentError(
                f"Shopify order {ref}: no status {status!r} can be set in Shopify"
                f" (it takes {', '.join(STATUSES)}; refunds go as refunds)"
            )
        if wanted == "processing":
            return
        order = await self._state(ref)
        if wanted == "cancelled":
            await self._cancel(ref, order)
        else:
            await self.fulfil(ref, None, None, order=order)

    async def fulfil(
        self,
        ref: str,
        carrier: str | None,
        number: str | None,
        *,
        order: dict[str, Any] | None = None,
    ) -> None:
        """Fulfil every open fulfillment order of the order, with the parcel's ``carrier``
        and tracking ``number`` when known; one fulfilled already is left."""
        order = order or await self._state(ref)
        name = order.get("name") or ref
        if order.get("cancelledAt"):
            raise PermanentError(f"Shopify order {name}: cancelled in Shopify, not fulfilled")
        page = order["fulfillmentOrders"]
        if page["pageInfo"].get("hasNextPage"):
            raise PermanentError(
                f"Shopify order {name}: more than {_FULFILLMENT_ORDERS} fulfillment orders"
            )
        tracking = {k: v for k, v in (("company", carrier), ("number", number)) if v}
        for node in page["nodes"]:
            state = node.get("status")
            if state in DONE:
                continue
            if state not in FULFILLABLE:
                raise PermanentError(
                    f"Shopify order {name}: fulfillment order {node['id']} is {state}"
                    " and cannot be fulfilled until it is released in Shopify"
                )
            fulfillment: dict[str, Any] = {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": node["id"]}],
                "notifyCustomer": False,
            }
            if tracking:
                fulfillment["trackingInfo"] = tracking
            data = await self.client.execute(
                FULFIL, {"fulfillment": fulfillment}, cost=MUTATION_COST
            )
            problem = _refused(f"Shopify order {name}: fulfilment", data.get("fulfillmentCreate"))
            if problem is not None:
                raise problem

    async def _cancel(self, ref: str, order: dict[str, Any]) -> None:
        name = order.get("name") or ref
        if order.get("cancelledAt"):
            return
        data = await self.client.execute(
            CANCEL, {"orderId": order["id"], "staffNote": CANCEL_NOTE}, cost=MUTATION_COST
        )
        payload = data.get("orderCancel") or {}
        problems = payload.get("orderCancelUserErrors") or []
        if problems:
            reasons = "; ".join(
                f"{p.get('code') or 'INVALID'}: {p.get('message', '')}" for p in problems
            )
            raise PermanentError(f"Shopify order {name}: cancellation refused: {reasons}")
        job = payload.get("job") or {}
        await self._wait_for(str(job.get("id") or ""), bool(job.get("done")), name)
        if not (await self._state(order["id"])).get("cancelledAt"):
            raise PermanentError(f"Shopify order {name}: its cancellation ended, not cancelled")

    async def _wait_for(self, job: str, done: bool, name: str) -> None:
        """Polled until done: nothing else tells when Shopify's job has run."""
        delay = _FIRST_POLL
        for _ in range(_JOB_ATTEMPTS):
            if done:
                return
            if not job:
                raise TransientError(f"Shopify order {name}: cancellation started without a job")
            data = await self.client.execute(JOB, {"id": job}, cost=cost.OBJECT)
            done = bool((data.get("job") or {}).get("done"))
            if not done:
                await asyncio.sleep(delay)
                delay = min(self.settings.bulk_poll_seconds, delay * 2)
        if not done:
            raise TransientError(f"Shopify order {name}: cancellation job {job} still running")

    # -- notes ------------------------------------------------------------------------

    async def add_order_note(self, ref: str, note: str, *, customer: bool) -> None:
        """Append ``note`` as a line of the order's note, unless a line already says it."""
        line = one_line(note)
        if not line:
            return
        order = await self._state(ref)
        lines = note_lines(order.get("note"))
        if line in lines:
            return
        kept = (order.get("note") or "").rstrip()
        text = f"{kept}\n{line}" if kept else line
        data = await self.client.execute(
            UPDATE_NOTE, {"input": {"id": order["id"], "note": text}}, cost=MUTATION_COST
        )
        problem = _refused(f"Shopify order {order.get('name') or ref}: note", data["orderUpdate"])
        if problem is not None:
            raise problem

    async def customer_notes(self, ref: str) -> list[str]:
        """The lines of the order's note (:class:`adapters.base.OrderNotes`)."""
        return note_lines((await self._state(ref)).get("note"))

    # -- refunds ----------------------------------------------------------------------

    async def list_refunds(self, ref: str) -> list[ShopRefund]:
        order_id = await self._order_id(ref)
        data = await self.client.execute(REFUNDS, {"id": order_id}, cost=REFUNDS_COST)
        order = data.get("order")
        if not order:
            raise PermanentError(f"Shopify order {ref}: no such order")
        return [
            ShopRefund(
                id=str(r["id"]),
                amount=Decimal(str(r["totalRefundedSet"]["shopMoney"]["amount"])),
                reason=r.get("note") or "",
            )
            for r in order.get("refunds") or []
        ]

    async def create_refund(self, ref: str, amount: Decimal, reason: str) -> str:
        """Record ``amount`` as refunded outside Shopify (see the module docstring)."""
        money = cents(amount, f"Shopify order {ref}: refund")
        order_id = await self._order_id(ref)
        transaction = {
            "orderId": order_id,
            "kind": "REFUND",
            "gateway": MANUAL_GATEWAY,
            "amount": money,
        }
        refund_input = {
            "orderId": order_id,
            "note": reason,
            "notify": False,
            "transactions": [transaction],
        }
        data = await self.client.execute(REFUND, {"input": refund_input}, cost=MUTATION_COST)
        payload = data.get("refundCreate")
        problem = _refused(f"Shopify order {ref}: refund of {money}", payload)
        if problem is not None:
            raise problem
        made = (payload or {}).get("refund") or {}
        if not made.get("id"):
            raise TransientError(f"Shopify order {ref}: refundCreate answered no refund")
        recorded = Decimal(str(made["totalRefundedSet"]["shopMoney"]["amount"]))
        if recorded != amount:
            raise PermanentError(
                f"Shopify order {ref}: refund {made['id']} recorded {recorded}, not {money}"
            )
        return str(made["id"])
