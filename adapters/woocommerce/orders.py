"""An order's status, notes and refunds in WooCommerce (the ``OrderFeedback`` capability).

``PUT /orders/{id} {"status"}`` moves an order (WooCommerce allows any status to any other);
``POST /orders/{id}/notes`` adds a note, mailed to the buyer when ``customer_note`` is true;
``POST /orders/{id}/refunds`` records a refund. Refunds always go with ``api_refund: false``:
the money was returned by the ERP or a person, and the default (``true``) would ask the
payment gateway to pay it back a second time. Nothing is restocked from here either: stock
belongs to the ERP, and the next stock sync brings it.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from adapters.base import PermanentError
from adapters.woocommerce.client import WooClient, error_of
from canonical.orders import ShopRefund


class _Refund(msgspec.Struct, kw_only=True):
    id: int
    amount: str = "0"
    reason: str = ""


class _Created(msgspec.Struct, kw_only=True):
    id: int


class _Note(msgspec.Struct, kw_only=True):
    id: int
    note: str = ""
    customer_note: bool = False


async def set_order_status(client: WooClient, ref: str, status: str) -> None:
    response = await client.http.request(
        "PUT",
        f"/orders/{int(ref)}",
        body=msgspec.json.encode({"status": status}),
        ok=(200, 400, 404),
    )
    if response.status != 200:
        raise PermanentError(f"order {ref}: status {status!r}: {error_of(response).reason()}")


async def add_order_note(client: WooClient, ref: str, note: str, *, customer: bool) -> None:
    body = {"note": note, "customer_note": customer, "added_by_user": False}
    answer = await client.post(f"/orders/{int(ref)}/notes", body, _Created)
    if not isinstance(answer, _Created):
        raise PermanentError(f"order {ref}: note refused: {answer.reason()}")


async def customer_notes(client: WooClient, ref: str) -> list[str]:
    """The texts of the order's customer notes (``GET /orders/{id}/notes?type=customer``)."""
    rejected: list[tuple[str, str]] = []
    rows = await client.list_all(f"/orders/{int(ref)}/notes", {"type": "customer"}, _Note, rejected)
    if rejected:
        raise PermanentError(f"order {ref}: unreadable notes: {rejected}")
    return [row.note for row in rows if row.customer_note]


async def list_refunds(client: WooClient, ref: str) -> list[ShopRefund]:
    rejected: list[tuple[str, str]] = []
    rows = await client.list_all(f"/orders/{int(ref)}/refunds", {}, _Refund, rejected)
    if rejected:
        raise PermanentError(f"order {ref}: unreadable refunds: {rejected}")
    return [ShopRefund(id=str(r.id), amount=Decimal(r.amount), reason=r.reason) for r in rows]


async def create_refund(client: WooClient, ref: str, amount: Decimal, reason: str) -> str:
    body = {
        "amount": f"{amount:f}",
        "reason": reason,
        "api_refund": False,
        "api_restock": False,
    }
    answer = await client.post(f"/orders/{int(ref)}/refunds", body, _Created)
    if not isinstance(answer, _Created):
        raise PermanentError(f"order {ref}: refund of {amount} refused: {answer.reason()}")
    return str(answer.id)
