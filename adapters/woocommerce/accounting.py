"""WooCommerce orders and refunds as the books read them (``AccountingSource``).

``GET /orders?modified_after=`` lists the orders changed since a moment (a payment or a
refund changes the order, so every order paid or refunded since then is among them), with
each line's taxes by rate id and the order's ``tax_lines`` giving each rate's percent and total.
A line's rate is the percent of the rate that taxed it (a line whose tax is zero is untaxed).
``GET /orders/{id}/refunds`` gives the refunds' dates, for the orders whose ``refunds`` list is
not empty. An order that cannot be read as the shop charged it (two taxes on one line, an
amount that is not a number) is left out and reported in ``rejected``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from adapters.woocommerce import mapping
from adapters.woocommerce.client import WooClient
from adapters.woocommerce.schema import Address
from rules.accounting.documents import (
    AmountKind,
    RefundDocument,
    SaleAmount,
    SaleDocument,
    TaxTotal,
)


class _Tax(msgspec.Struct, kw_only=True):
    id: int
    total: str = "0"


class _Taxed(msgspec.Struct, kw_only=True):
    name: str = ""
    method_title: str = ""
    total: str = "0"
    taxes: list[_Tax] = []


class _TaxLine(msgspec.Struct, kw_only=True):
    rate_id: int
    rate_code: str = ""
    rate_percent: int | float = 0
    tax_total: str = "0"
    shipping_tax_total: str = "0"


class _RefundRef(msgspec.Struct, kw_only=True):
    id: int


class _Order(msgspec.Struct, kw_only=True):
    id: int
    number: str = ""
    status: str = ""
    currency: str = ""
    date_created_gmt: str | None = None
    date_paid_gmt: str | None = None
    total: str = "0"
    billing: Address | None = None
    shipping: Address | None = None
    payment_method: str = ""
    payment_method_title: str = ""
    transaction_id: str = ""
    line_items: list[_Taxed] = []
    shipping_lines: list[_Taxed] = []
    fee_lines: list[_Taxed] = []
    tax_lines: list[_TaxLine] = []
    refunds: list[_RefundRef] = []


class _Refund(msgspec.Struct, kw_only=True):
    id: int
    date_created_gmt: str | None = None
    amount: str = "0"
    reason: str = ""


def _money(text: str | int | float, what: str) -> Decimal:
    return mapping.decimal(text, what) or Decimal(0)


def _amount(
    order: _Order, kind: AmountKind, item: _Taxed, percents: dict[int, Decimal]
) -> SaleAmount:
    charged = [t for t in item.taxes if _money(t.total, "tax") != 0]
    if len(charged) > 1:
        raise mapping.Unreadable(f"{kind} {item.name or item.method_title!r} has several taxes")
    rate = percents.get(charged[0].id, Decimal(0)) if charged else Decimal(0)
    label = item.name or item.method_title or kind
    return SaleAmount(kind=kind, label=label, net=_money(item.total, f"{kind} total"), rate=rate)


def to_document(order: _Order, refunds: list[_Refund]) -> SaleDocument:
    """One order and its refunds; raises :class:`mapping.Unreadable`."""
    created = mapping.gmt(order.date_created_gmt)
    if created is None:
        raise mapping.Unreadable("no creation date")
    percents = {t.rate_id: Decimal(str(t.rate_percent)) for t in order.tax_lines}
    amounts = [
        *(_amount(order, "goods", item, percents) for item in order.line_items),
        *(_amount(order, "shipping", item, percents) for item in order.shipping_lines),
        *(_amount(order, "fee", item, percents) for item in order.fee_lines),
    ]
    taxes = [
        TaxTotal(
            rate=percents[t.rate_id],
            amount=_money(t.tax_total, "tax_total") + _money(t.shipping_tax_total, "shipping tax"),
            code=t.rate_code,
        )
        for t in order.tax_lines
    ]
    billing, shipping = order.billing or Address(), order.shipping or Address()
    documents = []
    for refund in refunds:
        when = mapping.gmt(refund.date_created_gmt)
        if when is None:
            raise mapping.Unreadable(f"refund {refund.id} has no date")
        documents.append(
            RefundDocument(
                ref=str(refund.id),
                created_at=when,
                amount=_money(refund.amount, "refund amount"),
                reason=refund.reason,
            )
        )
    return SaleDocument(
        ref=str(order.id),
        number=order.number or str(order.id),
        status=order.status,
        currency=order.currency,
        created_at=created,
        paid_at=mapping.gmt(order.date_paid_gmt),
        customer_email=billing.email.strip(),
        customer_name=f"{billing.first_name} {billing.last_name}".strip(),
        company=billing.company.strip(),
        country=(shipping.country or billing.country).strip().upper(),
        gateway=order.payment_method,
        gateway_title=order.payment_method_title,
        transaction_id=order.transaction_id,
        total=_money(order.total, "total"),
        amounts=tuple(amounts),
        taxes=tuple(taxes),
        refunds=tuple(sorted(documents, key=lambda r: (r.created_at, r.ref))),
    )


async def sales_documents(
    client: WooClient, since: datetime, rejected: list[tuple[str, str]]
) -> list[SaleDocument]:
    """The orders changed since ``since`` with their refunds (see the module's doc)."""
    params = {
        "orderby": "id",
        "order": "asc",
        "status": "any",
        "modified_after": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "dates_are_gmt": "true",
    }
    orders = await client.list_all("/orders", params, _Order, rejected)
    refunded = [o for o in orders if o.refunds]
    lists = await asyncio.gather(
        *(client.list_all(f"/orders/{o.id}/refunds", {}, _Refund, rejected) for o in refunded)
    )
    refunds = {o.id: found for o, found in zip(refunded, lists, strict=True)}
    documents = []
    for order in orders:
        try:
            documents.append(to_document(order, refunds.get(order.id, [])))
        except mapping.Unreadable as exc:
            rejected.append((str(order.id), f"order {order.number or order.id}: {exc}"))
    return documents
