"""What crosses the ERP boundary when web orders are imported and followed up.

A shop :class:`~canonical.models.Order` is turned (by :mod:`rules.order_rules`) into a
:class:`SaleOrder`: ERP-ready, with the tax code of every line already chosen and the
shipping as a line of its own. The ERP answers with :class:`ErpOrder` (what exists under an
external reference) and :class:`OrderProgress` (where an imported order stands: delivery,
invoices, credit notes), which go back to the shop.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from canonical.models import Address, Customer, Payment


class SaleLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a sale order: an article by SKU, or a line without article (``sku`` None)."""

    sku: str | None
    name: str
    quantity: Decimal
    unit_price: Decimal
    """Before the discount; tax excluded unless the order's ``prices_include_tax``."""
    discount_percent: Decimal = Decimal(0)
    tax_code: str | None = None
    """The ERP's own tax code (an Odoo ``account.tax`` name), chosen by the tax mapping."""
    is_shipping: bool = False


class SaleOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A web order ready to be created in the ERP, under ``reference`` (its external ref)."""

    reference: str
    customer: Customer
    created_at: datetime
    currency: str
    lines: tuple[SaleLine, ...]
    shipping_address: Address | None = None
    prices_include_tax: bool = False
    payment: Payment | None = None
    note: str = ""
    total: Decimal | None = None
    """The shop's grand total, which the ERP document's total must equal to the cent."""


class ErpPricing(msgspec.Struct, frozen=True, kw_only=True):
    """How the ERP computes a sale order's amounts, so lines can be sent that reproduce the
    shop's to the cent."""

    tax_rates: dict[str, Decimal]
    """Tax code -> percent (``VAT 20%`` -> ``20``); percent taxes excluded from the price."""
    price_digits: int = 2
    """Decimals kept of a unit price (Odoo: the ``Product Price`` decimal precision)."""
    discount_digits: int = 2
    per_line: bool = True
    """Taxes rounded on each line then summed (Odoo's ``round_per_line``), or summed then
    rounded once per tax (``round_globally``)."""


class ErpOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A sale order found in the ERP under an external reference."""

    reference: str
    ref: str
    """The ERP's own id of the document."""
    state: str
    """The ERP's state (Odoo: ``draft``, ``sent``, ``sale``, ``done``, ``cancel``)."""
    name: str = ""
    created_at: datetime | None = None
    duplicates: tuple[str, ...] = ()
    """Ids of other documents carrying the same reference (never made by Concord on purpose)."""
    total: Decimal | None = None
    """The document's grand total as the ERP computed it (``None``: the ERP does not say)."""


class InvoiceInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A posted customer invoice of an imported order."""

    number: str
    total: Decimal
    state: str
    pdf_url: str | None = None


class CreditNote(msgspec.Struct, frozen=True, kw_only=True):
    """A posted credit note (refund) of an imported order."""

    number: str
    amount: Decimal
    reason: str = ""
    shop_refund: str | None = None
    """The shop refund it was made from, when Concord made it (so it is not sent back)."""


class OrderProgress(msgspec.Struct, frozen=True, kw_only=True):
    """Where an imported order stands in the ERP."""

    reference: str
    ref: str
    state: str
    """The ERP state, ``shipped`` when every delivery is done (before the order is locked)."""
    carrier: str | None = None
    tracking_number: str | None = None
    invoices: tuple[InvoiceInfo, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()


class ShopRefund(msgspec.Struct, frozen=True, kw_only=True):
    """A refund recorded in the shop."""

    id: str
    amount: Decimal
    reason: str = ""
