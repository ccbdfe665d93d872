"""The shapes the adapter reads from ``/wp-json/wc/v3``, decoded straight into Structs.

Only the fields Concord maps are declared (msgspec skips the rest while decoding, which keeps
30,000-product reads cheap). Every field has a default because WooCommerce versions and plugins
leave fields out; a field of the wrong type fails that one record, not the page.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Meta(msgspec.Struct, kw_only=True):
    key: str = ""
    value: Any = None


class Term(msgspec.Struct, kw_only=True):
    id: int
    name: str = ""


class ProductAttribute(msgspec.Struct, kw_only=True):
    id: int = 0
    name: str = ""
    position: int = 0
    visible: bool = True
    variation: bool = False
    options: list[str] = []


class ChosenAttribute(msgspec.Struct, kw_only=True):
    id: int = 0
    name: str = ""
    option: str = ""


class Sellable(msgspec.Struct, kw_only=True):
    """What products and variations share."""

    id: int
    sku: str = ""
    status: str = "publish"
    regular_price: str = ""
    sale_price: str = ""
    date_on_sale_from: str | None = None
    date_on_sale_to: str | None = None
    tax_class: str = ""
    manage_stock: bool | str = False
    """``"parent"`` on a variation whose stock its parent manages."""
    stock_quantity: int | float | None = None
    weight: str = ""
    global_unique_id: str = ""
    meta_data: list[Meta] = []
    date_modified_gmt: str | None = None


class Variation(Sellable, kw_only=True):
    attributes: list[ChosenAttribute] = []


class Listed(Sellable, kw_only=True):
    """A product as the stock and price kinds read it: without its texts, which are most of a
    page's weight and which those kinds never look at."""

    type: str = "simple"


class Product(Listed, kw_only=True):
    name: str = ""
    description: str = ""
    short_description: str = ""
    virtual: bool = False
    categories: list[Term] = []
    attributes: list[ProductAttribute] = []
    variations: list[int] = []


class Category(msgspec.Struct, kw_only=True):
    id: int
    name: str
    parent: int = 0
    slug: str = ""


class Address(msgspec.Struct, kw_only=True):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""


class Customer(msgspec.Struct, kw_only=True):
    id: int
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    role: str = ""
    billing: Address | None = None
    shipping: Address | None = None
    date_modified_gmt: str | None = None


class LineItem(msgspec.Struct, kw_only=True):
    name: str = ""
    sku: str = ""
    quantity: int | float = 0
    price: int | float | str = 0
    subtotal: str = "0"
    total: str = "0"
    total_tax: str = "0"
    tax_class: str = ""


class TaxLine(msgspec.Struct, kw_only=True):
    rate_code: str = ""
    label: str = ""
    rate_percent: int | float = 0
    tax_total: str = "0"
    shipping_tax_total: str = "0"


class ShippingLine(msgspec.Struct, kw_only=True):
    method_title: str = ""
    method_id: str = ""
    total: str = "0"
    total_tax: str = "0"


class FeeLine(msgspec.Struct, kw_only=True):
    name: str = ""
    tax_class: str = ""
    tax_status: str = "taxable"
    total: str = "0"
    total_tax: str = "0"


class CouponLine(msgspec.Struct, kw_only=True):
    code: str = ""
    discount: str = "0"
    discount_tax: str = "0"


class Order(msgspec.Struct, kw_only=True):
    id: int
    number: str = ""
    status: str = ""
    currency: str = ""
    date_created_gmt: str | None = None
    date_modified_gmt: str | None = None
    date_paid_gmt: str | None = None
    prices_include_tax: bool = False
    discount_total: str = "0"
    shipping_total: str = "0"
    total_tax: str = "0"
    total: str = "0"
    customer_note: str = ""
    billing: Address | None = None
    shipping: Address | None = None
    payment_method: str = ""
    payment_method_title: str = ""
    transaction_id: str = ""
    line_items: list[LineItem] = []
    tax_lines: list[TaxLine] = []
    shipping_lines: list[ShippingLine] = []
    fee_lines: list[FeeLine] = []
    coupon_lines: list[CouponLine] = []


class Error(msgspec.Struct, kw_only=True):
    """WordPress's error body: ``{"code", "message", "data": {"status", ...}}``."""

    code: str = ""
    message: str = ""
    data: dict[str, Any] | None = None

    def reason(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def resource_id(self) -> int | None:
        value = (self.data or {}).get("resource_id")
        return value if isinstance(value, int) and value > 0 else None


class BatchEntry(msgspec.Struct, kw_only=True):
    """One item of a batch answer: the written object (only its id is kept) or an error."""

    id: int = 0
    error: Error | None = None


class BatchReply(msgspec.Struct, kw_only=True):
    """A batch's answer: a key only for each action that was sent (PHP answers ``[]`` when
    none was)."""

    create: list[BatchEntry] = []
    update: list[BatchEntry] = []
    delete: list[BatchEntry] = []


class Identity(msgspec.Struct, kw_only=True):
    """Just enough of a record to name it when the rest of it does not decode."""

    id: Any = None
