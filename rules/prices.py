"""Prices: the regular price, the sale price with its dates, and negotiated prices for one
customer or one customer group (pure).

A sale price that is not below the regular price, or a sale ending before it starts, is held
rather than published. Group-specific prices use the shop's names for customer groups (a
WordPress role for WooCommerce): ``groups`` maps the ERP's price-list names to them, and a price
for an unmapped group is held, never published to the wrong customers.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from canonical.models import Price, Product, Variant


class PriceError(ValueError):
    """A price that cannot be published as it is; the message names the record and field."""


class PriceRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[connections.<name>.transforms.prices]``: ``groups`` maps ERP group -> shop group."""

    groups: dict[str, str] = {}


def _check_pair(
    record: str, price: Decimal | None, sale: Decimal | None, what: str = "sale_price"
) -> None:
    if price is not None and price < 0:
        raise PriceError(f"{record}: price {price} is negative")
    if sale is None:
        return
    if sale < 0:
        raise PriceError(f"{record}: {what} {sale} is negative")
    if price is None:
        raise PriceError(f"{record}: {what} {sale} without a regular price")
    if sale >= price:
        raise PriceError(f"{record}: {what} {sale} is not below the regular price {price}")


def check_prices(product: Product) -> None:
    """Refuse a product whose sale price or sale dates cannot be published."""
    _check_pair(f"article {product.sku}", product.price, product.sale_price)
    if product.sale_from and product.sale_to and product.sale_to < product.sale_from:
        raise PriceError(
            f"article {product.sku}: sale_to {product.sale_to} is before "
            f"sale_from {product.sale_from}"
        )
    if (product.sale_from or product.sale_to) and product.sale_price is None:
        raise PriceError(f"article {product.sku}: sale dates without a sale price")
    for variant in product.variants:
        check_variant(variant)


def check_variant(variant: Variant) -> None:
    _check_pair(f"variant {variant.sku}", variant.price, variant.sale_price)


def shop_price(price: Price, rule: PriceRule) -> Price:
    """An ERP price as the shop must hold it: customer e-mail lower-cased (the shop matches
    customers by e-mail), ERP group name replaced by the shop's group."""
    record = f"price {price.key}"
    if price.amount < 0:
        raise PriceError(f"{record}: amount {price.amount} is negative")
    if price.customer and price.group:
        raise PriceError(f"{record}: a price is for one customer or one group, not both")
    if price.customer:
        email = price.customer.strip().lower()
        if "@" not in email:
            raise PriceError(f"{record}: customer {price.customer!r} is not an e-mail address")
        return msgspec.structs.replace(price, customer=email)
    if price.group:
        group = rule.groups.get(price.group)
        if group is None:
            raise PriceError(
                f"{record}: customer group {price.group!r} is not mapped to a shop group "
                f"(mapped: {', '.join(sorted(rule.groups)) or 'none'})"
            )
        return msgspec.structs.replace(price, group=group)
    return price


def erp_group(group: str | None, rule: PriceRule, *, record: str) -> str | None:
    """The ERP's name for a shop customer group (writing a shop price back)."""
    if group is None:
        return None
    names = sorted(erp for erp, shop in rule.groups.items() if shop == group)
    if len(names) != 1:
        raise PriceError(f"{record}: shop group {group!r} maps back to {len(names)} ERP groups")
    return names[0]
