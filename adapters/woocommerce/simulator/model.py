"""The simulator's records, shaped exactly as ``/wp-json/wc/v3`` returns them.

They are mutable msgspec Structs so that a page of 100 products is encoded straight to JSON
without building dicts first: that keeps a 30,000-product catalogue cheap to hold and to serve.
Fields keep WooCommerce's own names, order and quirks (prices as strings, ``""`` for empty
values, local dates with ``*_gmt`` twins).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Term(msgspec.Struct, kw_only=True):
    """A category or tag as embedded in a product (``{id, name, slug}``)."""

    id: int
    name: str
    slug: str


class Image(msgspec.Struct, kw_only=True):
    id: int
    src: str
    name: str = ""
    alt: str = ""


class Dimensions(msgspec.Struct, kw_only=True):
    length: str = ""
    width: str = ""
    height: str = ""


class Meta(msgspec.Struct, kw_only=True):
    id: int
    key: str
    value: Any


class ProductAttribute(msgspec.Struct, kw_only=True):
    id: int = 0
    name: str
    position: int = 0
    visible: bool = True
    variation: bool = False
    options: list[str] = []


class ChosenAttribute(msgspec.Struct, kw_only=True):
    """A variation's attribute or a product's default attribute: one option of one attribute."""

    id: int = 0
    name: str
    option: str


class _Sellable(msgspec.Struct, kw_only=True):
    """Fields products and variations share."""

    id: int
    date_created: str
    date_created_gmt: str
    date_modified: str
    date_modified_gmt: str
    description: str = ""
    permalink: str = ""
    sku: str = ""
    global_unique_id: str = ""
    price: str = ""
    regular_price: str = ""
    sale_price: str = ""
    date_on_sale_from: str | None = None
    date_on_sale_from_gmt: str | None = None
    date_on_sale_to: str | None = None
    date_on_sale_to_gmt: str | None = None
    on_sale: bool = False
    status: str = "publish"
    purchasable: bool = True
    virtual: bool = False
    downloadable: bool = False
    tax_status: str = "taxable"
    tax_class: str = ""
    manage_stock: bool = False
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    backorders_allowed: bool = False
    backordered: bool = False
    weight: str = ""
    dimensions: Dimensions = msgspec.field(default_factory=Dimensions)
    shipping_class: str = ""
    menu_order: int = 0
    meta_data: list[Meta] = []


class Product(_Sellable, kw_only=True):
    name: str
    slug: str = ""
    type: str = "simple"
    featured: bool = False
    catalog_visibility: str = "visible"
    short_description: str = ""
    total_sales: int = 0
    categories: list[Term] = []
    tags: list[Term] = []
    images: list[Image] = []
    attributes: list[ProductAttribute] = []
    default_attributes: list[ChosenAttribute] = []
    variations: list[int] = []


class Variation(_Sellable, kw_only=True):
    parent_id: int
    image: Image | None = None
    attributes: list[ChosenAttribute] = []


class Category(msgspec.Struct, kw_only=True):
    id: int
    name: str
    slug: str
    parent: int = 0
    description: str = ""
    display: str = "default"
    image: Image | None = None
    menu_order: int = 0
    count: int = 0


class TaxClass(msgspec.Struct, kw_only=True):
    slug: str
    name: str


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
    date_created: str
    date_created_gmt: str
    date_modified: str
    date_modified_gmt: str
    email: str
    first_name: str = ""
    last_name: str = ""
    role: str = "customer"
    username: str = ""
    billing: Address = msgspec.field(default_factory=Address)
    shipping: Address = msgspec.field(default_factory=Address)
    is_paying_customer: bool = False
    avatar_url: str = ""
    meta_data: list[Meta] = []


class LineTax(msgspec.Struct, kw_only=True):
    id: int
    total: str
    subtotal: str


class LineItem(msgspec.Struct, kw_only=True):
    id: int
    name: str
    product_id: int
    variation_id: int
    quantity: int
    tax_class: str
    subtotal: str
    subtotal_tax: str
    total: str
    total_tax: str
    taxes: list[LineTax]
    meta_data: list[Meta]
    sku: str
    price: float


class TaxLine(msgspec.Struct, kw_only=True):
    id: int
    rate_code: str
    rate_id: int
    label: str
    compound: bool
    tax_total: str
    shipping_tax_total: str
    rate_percent: float
    meta_data: list[Meta] = []


class ShippingLine(msgspec.Struct, kw_only=True):
    id: int
    method_title: str
    method_id: str
    total: str
    total_tax: str
    taxes: list[LineTax] = []
    meta_data: list[Meta] = []


class FeeLine(msgspec.Struct, kw_only=True):
    id: int
    name: str
    tax_class: str
    tax_status: str
    amount: str
    total: str
    total_tax: str
    taxes: list[LineTax] = []
    meta_data: list[Meta] = []


class CouponLine(msgspec.Struct, kw_only=True):
    id: int
    code: str
    discount: str
    discount_tax: str
    meta_data: list[Meta] = []


class TaxRate(msgspec.Struct, kw_only=True):
    """A row of WooCommerce's tax table, as ``/taxes`` shows it (``class`` is the tax class)."""

    id: int
    country: str = ""
    state: str = ""
    postcode: str = ""
    city: str = ""
    postcodes: list[str] = []
    cities: list[str] = []
    rate: str = "0.0000"
    name: str = ""
    priority: int = 1
    compound: bool = False
    shipping: bool = True
    order: int = 0
    tax_class: str = msgspec.field(default="standard", name="class")


class RefundRef(msgspec.Struct, kw_only=True):
    id: int
    reason: str
    total: str


class Order(msgspec.Struct, kw_only=True):
    id: int
    parent_id: int = 0
    number: str
    order_key: str
    created_via: str = "checkout"
    version: str = "9.4.0"
    status: str
    currency: str = "EUR"
    date_created: str
    date_created_gmt: str
    date_modified: str
    date_modified_gmt: str
    discount_total: str = "0.00"
    discount_tax: str = "0.00"
    shipping_total: str = "0.00"
    shipping_tax: str = "0.00"
    cart_tax: str = "0.00"
    total: str = "0.00"
    total_tax: str = "0.00"
    prices_include_tax: bool = False
    customer_id: int = 0
    customer_ip_address: str = ""
    customer_user_agent: str = ""
    customer_note: str = ""
    billing: Address = msgspec.field(default_factory=Address)
    shipping: Address = msgspec.field(default_factory=Address)
    payment_method: str = ""
    payment_method_title: str = ""
    transaction_id: str = ""
    date_paid: str | None = None
    date_paid_gmt: str | None = None
    date_completed: str | None = None
    date_completed_gmt: str | None = None
    cart_hash: str = ""
    meta_data: list[Meta] = []
    line_items: list[LineItem] = []
    tax_lines: list[TaxLine] = []
    shipping_lines: list[ShippingLine] = []
    fee_lines: list[FeeLine] = []
    coupon_lines: list[CouponLine] = []
    refunds: list[RefundRef] = []


class OrderNote(msgspec.Struct, kw_only=True):
    id: int
    author: str
    date_created: str
    date_created_gmt: str
    note: str
    customer_note: bool = False


class RefundLine(msgspec.Struct, kw_only=True):
    id: int
    name: str
    product_id: int
    variation_id: int
    quantity: int
    subtotal: str
    total: str
    total_tax: str
    sku: str
    price: float


class Refund(msgspec.Struct, kw_only=True):
    id: int
    date_created: str
    date_created_gmt: str
    amount: str
    reason: str = ""
    refunded_by: int = 1
    refunded_payment: bool = False
    meta_data: list[Meta] = []
    line_items: list[RefundLine] = []


class Webhook(msgspec.Struct, kw_only=True):
    id: int
    name: str
    status: str
    topic: str
    resource: str
    event: str
    hooks: list[str]
    delivery_url: str
    secret: str
    date_created: str
    date_created_gmt: str
    date_modified: str
    date_modified_gmt: str
    api_version: str = "wp_api_v3"
    failure_count: int = 0
