"""What the shop says happened, as the books read it: paid orders and their refunds.

A shop adapter that serves the books (``AccountingSource`` in :mod:`engine.accounting.source`)
hands these over already in the shop's own figures: every amount before VAT with the rate the
shop charged on it, and the VAT the shop totalled per rate. The entries are made from these
figures alone, so the books say exactly what the shop charged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import msgspec

AmountKind = Literal["goods", "shipping", "fee"]


class SaleAmount(msgspec.Struct, frozen=True, kw_only=True):
    """One order line's amount before VAT, and the VAT rate (percent) the shop charged on it."""

    kind: AmountKind
    label: str
    net: Decimal
    rate: Decimal = Decimal(0)


class TaxTotal(msgspec.Struct, frozen=True, kw_only=True):
    """The VAT the shop charged at one rate on the whole order (lines, shipping and fees)."""

    rate: Decimal
    amount: Decimal
    code: str = ""
    """The shop's own name of the rate (WooCommerce's ``rate_code``), for messages."""


class RefundDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A refund of an order, as the shop recorded it (money back to the buyer)."""

    ref: str
    """The shop's id of the refund."""
    created_at: datetime
    amount: Decimal
    reason: str = ""


class SaleDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A web order with what the books need of it."""

    ref: str
    """The shop's id of the order (what the books are keyed by)."""
    number: str
    """The order number the buyer sees (the piece reference)."""
    status: str
    currency: str
    created_at: datetime
    paid_at: datetime | None
    customer_email: str
    customer_name: str = ""
    company: str = ""
    country: str = ""
    """Where the goods go: the shipping address's country, else the billing one."""
    gateway: str = ""
    """The payment method's id (``stripe``, ``ppcp-gateway``, ``bacs``)."""
    gateway_title: str = ""
    transaction_id: str = ""
    total: Decimal
    amounts: tuple[SaleAmount, ...] = ()
    taxes: tuple[TaxTotal, ...] = ()
    refunds: tuple[RefundDocument, ...] = ()
