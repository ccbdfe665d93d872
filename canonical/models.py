"""Canonical records: the shapes every adapter converts to and from.

Rules and the decision only ever see these shapes. Money is ``Decimal`` (never float), quantities
are ``Decimal`` too because ERPs keep fractional units (metres, kilograms). Each kind names its
natural key, the field that matches records across the two sides on a first run.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import msgspec


class Record(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """Base of every canonical record. ``KIND`` names it, ``KEY`` names its natural-key field.

    Records (and their parts below) hold only immutable values, so they can be part of no
    reference cycle: ``gc=False`` keeps them out of the garbage collector's sight, which would
    otherwise walk a whole catalogue's records on each of its passes, and saves its header in
    each of them."""

    KIND: ClassVar[str]
    KEY: ClassVar[str]

    def natural_key(self) -> str:
        value = getattr(self, self.KEY)
        return "" if value is None else str(value)


class Attribute(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A product attribute such as colour or size, with the option this article has."""

    name: str
    value: str


class Variant(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """One sellable article of a product with variants, keyed by its own SKU (trimmed)."""

    sku: str
    attributes: tuple[Attribute, ...] = ()
    price: Decimal | None = None
    sale_price: Decimal | None = None
    stock: Decimal | None = None
    cost: Decimal | None = None
    weight: Decimal | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if self.sku != self.sku.strip():
            msgspec.structs.force_setattr(self, "sku", self.sku.strip())


class Product(Record, frozen=True):
    """An article (or a product with variants). ``variants`` is empty for a plain article.

    The canonical form is what both sides compare, so it is the same whatever a platform does
    on save: the SKU and the name are trimmed (shops trim them), variants are ordered by SKU,
    and a product with variants has no price, sale, cost or weight of its own (each variant
    carries its own, as Shopify and Odoo keep them; a shop answers "" there, which means "does
    not apply", never "no price"). Weights are in kilograms.
    ``description`` is the long description, ``short_description`` the short one shown beside
    the price; both are HTML, a bare ``&`` spelled ``&amp;`` (as shops store it). ``service``
    marks an article that is not stocked (a service, a download): never stock-managed in the
    shop.
    """

    KIND: ClassVar[str] = "product"
    KEY: ClassVar[str] = "sku"

    sku: str
    name: str
    description: str = ""
    short_description: str = ""
    price: Decimal | None = None
    sale_price: Decimal | None = None
    sale_from: date | None = None
    sale_to: date | None = None
    cost: Decimal | None = None
    tax_code: str | None = None
    category: tuple[str, ...] = ()
    weight: Decimal | None = None
    barcode: str | None = None
    active: bool = True
    attributes: tuple[Attribute, ...] = ()
    variants: tuple[Variant, ...] = ()
    service: bool = False

    def __post_init__(self) -> None:
        for name in ("sku", "name"):
            value = getattr(self, name)
            if value != value.strip():
                msgspec.structs.force_setattr(self, name, value.strip())
        for name in ("description", "short_description"):
            value = getattr(self, name)
            if "&" in value:
                msgspec.structs.force_setattr(self, name, _BARE_AMPERSAND.sub("&amp;", value))
        variants = self.variants
        if variants:
            for name in _PER_VARIANT:
                if getattr(self, name) is not None:
                    msgspec.structs.force_setattr(self, name, None)
        if any(variants[i].sku > variants[i + 1].sku for i in range(len(variants) - 1)):
            ordered = tuple(sorted(variants, key=lambda variant: variant.sku))
            msgspec.structs.force_setattr(self, "variants", ordered)


_BARE_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
"""An ``&`` that starts no character reference."""
_PER_VARIANT = ("price", "sale_price", "sale_from", "sale_to", "cost", "weight")
"""Fields a product with variants leaves to each variant."""


class Stock(Record, frozen=True):
    """Quantity available for one SKU, at one location (``""`` is the default warehouse)."""

    KIND: ClassVar[str] = "stock"
    KEY: ClassVar[str] = "sku"

    sku: str
    quantity: Decimal
    location: str = ""


class Price(Record, frozen=True):
    """A price for one SKU, general or specific to a customer (e-mail) or a customer group."""

    KIND: ClassVar[str] = "price"
    KEY: ClassVar[str] = "key"

    sku: str
    amount: Decimal
    currency: str = "EUR"
    customer: str | None = None
    group: str | None = None
    min_quantity: Decimal = Decimal(1)

    @property
    def key(self) -> str:
        scope = f"customer:{self.customer}" if self.customer else f"group:{self.group or ''}"
        return f"{self.sku}|{scope}|{self.min_quantity}"


class Address(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""


class Customer(Record, frozen=True):
    """A customer, matched across sides by e-mail (compared lower-cased)."""

    KIND: ClassVar[str] = "customer"
    KEY: ClassVar[str] = "email"

    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    group: str | None = None
    billing: Address | None = None
    shipping: Address | None = None

    def natural_key(self) -> str:
        return self.email.strip().lower()


class OrderLine(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A line of a web order; ``subtotal`` (before discounts) and ``total`` (after them) are
    before tax even when the shop's prices include it, ``tax`` apart."""

    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    subtotal: Decimal
    total: Decimal
    tax: Decimal = Decimal(0)
    tax_code: str | None = None


class TaxLine(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    code: str
    label: str
    rate: Decimal
    amount: Decimal


class ShippingLine(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A delivery method charged on an order: ``total`` before tax, ``tax`` apart."""

    method: str
    total: Decimal
    tax: Decimal = Decimal(0)


class FeeLine(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A fee of the order (WooCommerce ``fee_lines``: a payment surcharge, a gift wrap...);
    negative for a discount given as a fee."""

    name: str
    total: Decimal
    tax: Decimal = Decimal(0)
    tax_code: str | None = None
    """The shop's tax class; ``None`` when the fee is not taxable."""


class Payment(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    method: str
    title: str = ""
    transaction_id: str = ""
    paid_at: datetime | None = None


class Order(Record, frozen=True):
    """A web order, keyed by the shop's order number."""

    KIND: ClassVar[str] = "order"
    KEY: ClassVar[str] = "number"

    number: str
    status: str
    currency: str
    customer_email: str
    created_at: datetime
    lines: tuple[OrderLine, ...]
    billing: Address | None = None
    shipping: Address | None = None
    shipping_lines: tuple[ShippingLine, ...] = ()
    fee_lines: tuple[FeeLine, ...] = ()
    coupons: tuple[str, ...] = ()
    """Codes of the coupons applied (their discounts are in the lines' totals)."""
    tax_lines: tuple[TaxLine, ...] = ()
    discount_total: Decimal = Decimal(0)
    shipping_total: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    prices_include_tax: bool = False
    payment: Payment | None = None
    note: str = ""


class OrderStatus(Record, frozen=True):
    """Where an order stands, as the shop should show it; keyed by the shop's order number."""

    KIND: ClassVar[str] = "order_status"
    KEY: ClassVar[str] = "number"

    number: str
    status: str
    carrier: str | None = None
    tracking_number: str | None = None
    note: str | None = None


class Invoice(Record, frozen=True):
    """An ERP invoice for a web order."""

    KIND: ClassVar[str] = "invoice"
    KEY: ClassVar[str] = "number"

    number: str
    order_number: str
    state: str
    total: Decimal
    currency: str = "EUR"
    issued_on: date | None = None
    pdf_url: str | None = None


RECORD_TYPES: dict[str, type[Record]] = {
    cls.KIND: cls for cls in (Product, Stock, Price, Customer, Order, OrderStatus, Invoice)
}
"""Every canonical kind by name."""
