"""Customer- and group-specific prices kept in product and variation meta data.

WooCommerce has no field for a negotiated price. B2B-pricing plugins keep one in the meta data
of the product (or of the variation, for a price per variant) under a key naming the customer
group, with the price as a plain decimal string; Concord does the same, so a small pricing
snippet or a plugin bridge can apply them at checkout:

- ``_concord_price_group_<group>``: the price for customers of group ``<group>`` (a WordPress
  role such as ``wholesale_customer``);
- ``_concord_price_customer_<e-mail>``: the price for one customer, by e-mail, lower-cased;
- either key followed by ``_min_<quantity>`` for a price from that quantity on;
- value: the amount in the shop's currency, ``"9.90"``; ``""`` once the price was withdrawn.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.woocommerce import schema
from adapters.woocommerce.mapping import Unreadable, decimal
from canonical.models import Price

PREFIX = "_concord_price_"
_MIN = "_min_"


def meta_key(customer: str | None, group: str | None, min_quantity: object = "1") -> str:
    """The meta key of the price for ``customer`` (an e-mail) or ``group``."""
    scope = f"customer_{customer.strip().lower()}" if customer else f"group_{group}"
    minimum = Decimal(str(min_quantity))
    return f"{PREFIX}{scope}" + ("" if minimum == 1 else f"{_MIN}{minimum.normalize():f}")


def key_of_price(key: str) -> tuple[str, str | None, str | None, str]:
    """A canonical price key ``SKU|customer:e-mail|1`` as (sku, customer, group, min quantity)."""
    sku, scope, minimum = [*key.split("|"), "", ""][:3]
    kind, _, who = scope.partition(":")
    return sku, who if kind == "customer" else None, who if kind == "group" else None, minimum


def is_price_meta(entry: schema.Meta) -> bool:
    return entry.key.startswith(PREFIX) and entry.value not in (None, "")


def to_scoped_price(item: schema.Sellable, entry: schema.Meta, currency: str) -> Price:
    """The price a meta entry of ``item`` holds."""
    sku = item.sku.strip()
    if not sku:
        raise Unreadable(f"{item.id} has no SKU")
    scope = entry.key[len(PREFIX) :]
    minimum = Decimal(1)
    head, found, tail = scope.rpartition(_MIN)
    if found:
        try:
            minimum = Decimal(tail)
        except ArithmeticError:
            raise Unreadable(f"meta {entry.key}: {tail!r} is not a quantity") from None
        if not minimum.is_finite():
            raise Unreadable(f"meta {entry.key}: {tail!r} is not a quantity")
        scope = head
    amount = decimal(str(entry.value), f"meta {entry.key}")
    if amount is None:
        raise Unreadable(f"meta {entry.key} holds no price")
    kind, _, who = scope.partition("_")
    if kind not in ("customer", "group") or not who:
        raise Unreadable(f"meta {entry.key}: expected {PREFIX}customer_... or {PREFIX}group_...")
    return Price(
        sku=sku,
        amount=amount,
        currency=currency,
        customer=who if kind == "customer" else None,
        group=who if kind == "group" else None,
        min_quantity=minimum,
    )
