"""WooCommerce records read as canonical records.

A record that cannot be read faithfully (no SKU, a price that is not a number) raises
:class:`Unreadable`; the adapter leaves it out of the snapshot and reports it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from adapters.woocommerce import schema
from canonical.models import (
    Address,
    Attribute,
    Customer,
    FeeLine,
    Order,
    OrderLine,
    Payment,
    Price,
    Product,
    ShippingLine,
    Stock,
    TaxLine,
    Variant,
)

BARCODE_META_KEYS = ("_global_unique_id", "_barcode", "_ean", "ean", "barcode")
"""Meta keys barcode plugins used before WooCommerce had ``global_unique_id``."""
ATTRIBUTE_SEPARATOR = " | "
"""How WooCommerce joins several options of one attribute in text."""


class Unreadable(ValueError):
    """A record whose data cannot be turned into a canonical record."""


def decimal(text: str | int | float | None, what: str) -> Decimal | None:
    """A WooCommerce number (``""`` means none); anything else that is not a number is refused."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise Unreadable(f"{what} is not a number: {text!r}") from None
    if not value.is_finite():
        raise Unreadable(f"{what} is not a number: {text!r}")
    return value


def gmt(text: str | None) -> datetime | None:
    """A ``*_gmt`` date (ISO-8601 without offset, UTC) as an aware datetime."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise Unreadable(f"not a date: {text!r}") from None


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise Unreadable(f"not a date: {text!r}") from None


def tax_code(tax_class: str) -> str:
    return tax_class or "standard"


def barcode(item: schema.Sellable) -> str | None:
    if item.global_unique_id:
        return item.global_unique_id
    for entry in item.meta_data:
        if entry.key in BARCODE_META_KEYS and isinstance(entry.value, str) and entry.value:
            return entry.value
    return None


def _sku(item: schema.Sellable) -> str:
    sku = item.sku.strip()
    if not sku:
        kind = "variation" if isinstance(item, schema.Variation) else "product"
        raise Unreadable(f"{kind} {item.id} has no SKU")
    return sku


def stock_quantity(item: schema.Sellable) -> Decimal | None:
    """Quantity of a stock the item manages itself; None when unmanaged or managed by parent."""
    if item.manage_stock is not True or item.stock_quantity is None:
        return None
    return decimal(item.stock_quantity, "stock_quantity")


def to_variant(variation: schema.Variation) -> Variant:
    """A variation as a variant. Its stock is left out: stock is the stock job's (per SKU),
    and ERPs do not carry it inside a product, so it would make the two sides differ."""
    return Variant(
        sku=_sku(variation),
        attributes=tuple(Attribute(name=a.name, value=a.option) for a in variation.attributes),
        price=decimal(variation.regular_price, "regular_price"),
        sale_price=decimal(variation.sale_price, "sale_price"),
        active=variation.status == "publish",
    )


def to_product(
    product: schema.Product,
    variations: list[schema.Variation],
    paths: Mapping[int, tuple[str, ...]],
) -> Product:
    """The canonical product; ``paths`` gives each category id its path of names (the shop's
    default category has the empty path: WooCommerce puts a product saved without category
    there, so it means "no category").

    The name is stored through ``wp_filter_post_kses`` ("A & B" is kept as "A &amp; B"): it is
    read back as the plain text it was sent as. A virtual product that does not manage its
    stock is a service."""
    category: tuple[str, ...] = ()
    for term in product.categories:
        path = paths.get(term.id, (term.name,))
        if len(path) > len(category):
            category = path
    return Product(
        sku=_sku(product),
        name=html.unescape(product.name),
        description=product.description,
        short_description=product.short_description,
        price=decimal(product.regular_price, "regular_price"),
        sale_price=decimal(product.sale_price, "sale_price"),
        sale_from=_day(product.date_on_sale_from),
        sale_to=_day(product.date_on_sale_to),
        tax_code=tax_code(product.tax_class),
        category=category,
        weight=decimal(product.weight, "weight"),
        barcode=barcode(product),
        active=product.status == "publish",
        attributes=tuple(
            Attribute(name=a.name, value=ATTRIBUTE_SEPARATOR.join(a.options))
            for a in product.attributes
            if not a.variation
        ),
        variants=tuple(to_variant(v) for v in variations),
        service=product.virtual and product.manage_stock is not True,
    )


def to_stock(item: schema.Sellable) -> Stock | None:
    quantity = stock_quantity(item)
    if quantity is None:
        return None
    return Stock(sku=_sku(item), quantity=quantity)


def to_price(item: schema.Sellable, currency: str) -> Price | None:
    amount = decimal(item.regular_price, "regular_price")
    if amount is None:
        return None
    return Price(sku=_sku(item), amount=amount, currency=currency)


def _address(address: schema.Address | None) -> Address | None:
    if address is None:
        return None
    return Address(
        first_name=address.first_name,
        last_name=address.last_name,
        company=address.company,
        line1=address.address_1,
        line2=address.address_2,
        city=address.city,
        state=address.state,
        postcode=address.postcode,
        country=address.country,
        phone=address.phone,
    )


def to_customer(customer: schema.Customer) -> Customer:
    email = customer.email.strip()
    if not email:
        raise Unreadable("no e-mail")
    billing = customer.billing or schema.Address()
    return Customer(
        email=email,
        first_name=customer.first_name,
        last_name=customer.last_name,
        company=billing.company,
        phone=billing.phone,
        billing=_address(customer.billing),
        shipping=_address(customer.shipping),
    )


def _money(text: str | int | float, what: str) -> Decimal:
    return decimal(text, what) or Decimal(0)


def to_order(order: schema.Order) -> Order:
    created = gmt(order.date_created_gmt)
    if created is None:
        raise Unreadable("no creation date")
    return Order(
        number=order.number or str(order.id),
        status=order.status,
        currency=order.currency,
        customer_email=(order.billing.email if order.billing else "").strip(),
        created_at=created,
        lines=tuple(
            OrderLine(
                sku=line.sku,
                name=line.name,
                quantity=_money(line.quantity, "quantity"),
                unit_price=_money(line.price, "price"),
                subtotal=_money(line.subtotal, "subtotal"),
                total=_money(line.total, "total"),
                tax=_money(line.total_tax, "total_tax"),
                tax_code=tax_code(line.tax_class),
            )
            for line in order.line_items
        ),
        billing=_address(order.billing),
        shipping=_address(order.shipping),
        shipping_lines=tuple(
            ShippingLine(
                method=line.method_title or line.method_id,
                total=_money(line.total, "shipping total"),
                tax=_money(line.total_tax, "shipping tax"),
            )
            for line in order.shipping_lines
        ),
        fee_lines=tuple(
            FeeLine(
                name=line.name,
                total=_money(line.total, "fee total"),
                tax=_money(line.total_tax, "fee tax"),
                tax_code=tax_code(line.tax_class) if line.tax_status == "taxable" else None,
            )
            for line in order.fee_lines
        ),
        coupons=tuple(line.code for line in order.coupon_lines if line.code),
        tax_lines=tuple(
            TaxLine(
                code=line.rate_code,
                label=line.label,
                rate=_money(line.rate_percent, "rate_percent"),
                amount=_money(line.tax_total, "tax_total")
                + _money(line.shipping_tax_total, "shipping_tax_total"),
            )
            for line in order.tax_lines
        ),
        discount_total=_money(order.discount_total, "discount_total"),
        shipping_total=_money(order.shipping_total, "shipping_total"),
        tax_total=_money(order.total_tax, "total_tax"),
        total=_money(order.total, "total"),
        prices_include_tax=order.prices_include_tax,
        payment=Payment(
            method=order.payment_method,
            title=order.payment_method_title,
            transaction_id=order.transaction_id,
            paid_at=gmt(order.date_paid_gmt),
        )
        if order.payment_method
        else None,
        note=order.customer_note,
    )
