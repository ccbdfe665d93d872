"""Products read from Shopify, and the canonical article they are.

A Concord article is a Shopify product with its one default variant (option ``Title``, value
``Default Title``): the SKU, prices and barcode live on the variant, the name, description and
status on the product. Shopify's ``price`` is what the customer pays and ``compareAtPrice`` the
"was" price, so an article on sale reads ``price`` = ``compareAtPrice`` and ``sale_price`` =
``price``. ``ACTIVE`` is on sale; ``DRAFT`` and ``ARCHIVED`` are not. Cost and weight live on
each variant's inventory item (``unitCost``, ``measurement.weight``): a weight in any of
Shopify's units reads in kilograms, Concord's unit, and a weight of 0 (what Shopify holds for
"none") reads as no weight. The category is the product's ``productType``, its levels joined
with " > " (:data:`CATEGORY_SEPARATOR`); an empty type is no category.

Pages are as large as the query cost allows (see :func:`products_query`): each product costs
one point, plus its variants connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from adapters.shopify import cost
from canonical.models import Attribute, Product, Variant

VARIANTS_PER_PRODUCT = 8
"""Variants read with each product; a product with more is read again on its own."""
DEFAULT_OPTION = "Title"
DEFAULT_VALUE = "Default Title"

SKU_NAMESPACE = "concord"
SKU_KEY = "sku"
"""The product metafield holding a product-with-variants' own SKU (Shopify keeps SKUs on
variants only), so the article reads back under the key the ERP gave it."""
SKU_FIELD = f'parentSku: metafield(namespace: "{SKU_NAMESPACE}", key: "{SKU_KEY}") {{ value }}'
ITEM_FIELDS = "inventoryItem { unitCost { amount } measurement { weight { value unit } } }"
VARIANT_FIELDS = (
    f"id sku price compareAtPrice barcode selectedOptions {{ name value }} {ITEM_FIELDS}"
)
PRODUCT_FIELDS = f"id title descriptionHtml productType status updatedAt {SKU_FIELD}"
"""A product's own fields, the same in a page, a node and a bulk read (its variants apart)."""
_PRODUCT = (
    f"{PRODUCT_FIELDS} variants(first: {VARIANTS_PER_PRODUCT}) {{ nodes {{ {VARIANT_FIELDS} }} "
    "pageInfo { hasNextPage } }"
)
CATEGORY_SEPARATOR = " > "
"""Between the levels of a category path in a ``productType`` ("Kitchen > Mugs")."""
PRODUCT_TYPE_LIMIT = 255
"""The most characters Shopify keeps in a ``productType``."""
VARIANT_COST = 6 * cost.OBJECT
"""A variant, its selected options (a list of objects costs one object), its inventory item,
the item's unit cost, measurement and weight."""
NODE_COST = 2 * cost.OBJECT + cost.connection_cost(VARIANTS_PER_PRODUCT, VARIANT_COST)
"""Requested points of one product, its SKU metafield and its variants."""


class Unreadable(ValueError):
    """A product whose data cannot be turned into a canonical article."""


class SelectedOption(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    value: str


class Amount(msgspec.Struct, frozen=True, kw_only=True):
    amount: str


class Weight(msgspec.Struct, frozen=True, kw_only=True):
    value: float
    unit: str


class Measurement(msgspec.Struct, frozen=True, kw_only=True):
    weight: Weight | None = None


class InventoryItem(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    unit_cost: Amount | None = None
    measurement: Measurement | None = None


class ShopVariant(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    sku: str | None = None
    price: str = "0.00"
    compare_at_price: str | None = None
    barcode: str | None = None
    selected_options: list[SelectedOption] = []
    inventory_item: InventoryItem | None = None


class VariantPage(msgspec.Struct, frozen=True, kw_only=True):
    nodes: list[ShopVariant]
    page_info: dict[str, Any] = msgspec.field(name="pageInfo", default_factory=dict)


class Metafield(msgspec.Struct, frozen=True, kw_only=True):
    value: str = ""


class ShopProduct(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    title: str
    description_html: str = ""
    product_type: str = ""
    status: str = "ACTIVE"
    updated_at: str | None = None
    parent_sku: Metafield | None = None
    variants: VariantPage | None = None


def products_query(limit: float) -> tuple[str, int, int]:
    """The products page query, its page size and its requested cost, within ``limit``."""
    first = cost.page_size(NODE_COST, limit)
    document = (
        "query Products($first: Int!, $after: String, $query: String) {"
        " products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
        f" nodes {{ {_PRODUCT} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    return document, first, cost.connection_cost(first, NODE_COST)


NODES_QUERY = (
    f"query Nodes($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Product {{ {_PRODUCT} }} }} }}"
)


def nodes_cost(count: int) -> int:
    return count * NODE_COST


LOOKUP_QUERY = (
    "query Lookup($first: Int!, $after: String, $query: String) {"
    " productVariants(first: $first, after: $after, query: $query) {"
    " nodes { product { id } } pageInfo { hasNextPage endCursor } } }"
)
"""The products holding some SKUs, by their variants: a variant and its product's id are two
objects a node, where the products themselves, with their variants, are fifty-two. A lookup
must find its points in the bucket before it runs, so this keeps the points the writes leave
aside for lookups small."""


def lookup_cost(first: int) -> int:
    return cost.connection_cost(first, 2 * cost.OBJECT)


def since_query(moment: datetime) -> str:
    """Shopify's search for products changed after ``moment`` (its ``updated_at``)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"updated_at:>'{text}'"


def sku_query(skus: list[str]) -> str:
    return " OR ".join(f'sku:"{sku}"' for sku in skus)


def instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Unreadable(f"not a date: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def money(text: str | None, what: str) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Unreadable(f"{what} is not a number: {text!r}") from None
    if not value.is_finite():
        raise Unreadable(f"{what} is not a number: {text!r}")
    return value


def prices(variant: ShopVariant) -> tuple[Decimal | None, Decimal | None]:
    """(regular price, sale price) of a variant."""
    selling = money(variant.price, "price")
    was = money(variant.compare_at_price, "compareAtPrice")
    if was is not None and selling is not None and was > selling:
        return was, selling
    return selling, None


KILOGRAMS_PER = {
    "KILOGRAMS": Decimal(1),
    "GRAMS": Decimal("0.001"),
    "POUNDS": Decimal("0.45359237"),
    "OUNCES": Decimal("0.028349523125"),
}
"""Shopify's weight units (``WeightUnit``) in kilograms; a pound is 0.45359237 kg exactly, an
ounce a sixteenth of it."""


def cost_of(variant: ShopVariant) -> Decimal | None:
    item = variant.inventory_item
    unit_cost = item.unit_cost if item else None
    return money(unit_cost.amount, "unitCost") if unit_cost else None


def weight_of(variant: ShopVariant) -> Decimal | None:
    """The variant's weight in kilograms (None when Shopify holds 0, its "no weight")."""
    item = variant.inventory_item
    weight = item.measurement.weight if item and item.measurement else None
    if weight is None:
        return None
    factor = KILOGRAMS_PER.get(weight.unit)
    value = money(repr(weight.value), "weight")
    if factor is None or value is None:
        raise Unreadable(f"weight {weight.value!r} {weight.unit!r} is not a weight")
    kilograms = value * factor
    return kilograms if kilograms else None


def _sku(variant: ShopVariant, product: ShopProduct) -> str:
    sku = (variant.sku or "").strip()
    if not sku:
        raise Unreadable(f"product {product.id}: variant {variant.id} has no SKU")
    return sku


def is_default(variant: ShopVariant) -> bool:
    return [(o.name, o.value) for o in variant.selected_options] in (
        [],
        [(DEFAULT_OPTION, DEFAULT_VALUE)],
    )


def _kept_sku(product: ShopProduct) -> str:
    return (product.parent_sku.value if product.parent_sku else "").strip()


def lacks_own_sku(product: ShopProduct, sku: str) -> bool:
    """Whether ``product`` has variants (read from its first page) but does not keep ``sku``
    as its own SKU in the ``concord.sku`` metafield."""
    variants = list(product.variants.nodes) if product.variants else []
    simple = len(variants) == 1 and is_default(variants[0])
    kept = _kept_sku(product)
    return bool(variants) and not simple and kept != sku


def sku_of(product: ShopProduct, variants: list[ShopVariant]) -> str | None:
    """The SKU the article of ``product`` goes by, as far as it can be told when the rest of
    it is unreadable (None when it cannot): a reject naming it holds that article for the
    cycle instead of taking it for gone from the shop."""
    if len(variants) == 1 and is_default(variants[0]):
        return (variants[0].sku or "").strip() or None
    skus = [(v.sku or "").strip() for v in variants]
    return _kept_sku(product) or (min(skus) if skus and all(skus) else None)


def category_of(product_type: str) -> tuple[str, ...]:
    """The category path a ``productType`` holds (none when it is empty)."""
    return tuple(product_type.split(CATEGORY_SEPARATOR)) if product_type else ()


def product_type(category: tuple[str, ...]) -> str:
    """The ``productType`` holding a category path."""
    return CATEGORY_SEPARATOR.join(category)


def to_product(product: ShopProduct, variants: list[ShopVariant]) -> Product:
    """The canonical article (one default variant) or product with variants (several: the
    product's SKU is then the one Concord kept in its ``concord.sku`` metafield, or, on a
    product made elsewhere, its first variant's in SKU order)."""
    if not variants:
        raise Unreadable(f"product {product.id} has no variant, so no SKU")
    active = product.status == "ACTIVE"
    if len(variants) == 1 and is_default(variants[0]):
        variant = variants[0]
        price, sale = prices(variant)
        return Product(
            sku=_sku(variant, product),
            name=product.title,
            description=product.description_html,
            price=price,
            sale_price=sale,
            cost=cost_of(variant),
            weight=weight_of(variant),
            barcode=variant.barcode or None,
            category=category_of(product.product_type),
            active=active,
        )
    canonical = []
    for variant in variants:
        price, sale = prices(variant)
        canonical.append(
            Variant(
                sku=_sku(variant, product),
                attributes=tuple(
                    Attribute(name=o.name, value=o.value) for o in variant.selected_options
                ),
                price=price,
                sale_price=sale,
                cost=cost_of(variant),
                weight=weight_of(variant),
                active=active,
            )
        )
    kept = _kept_sku(product)
    return Product(
        sku=kept or min(v.sku for v in canonical),
        name=product.title,
        description=product.description_html,
        category=category_of(product.product_type),
        active=active,
        variants=tuple(canonical),
    )


_SHARED_TEXT = ("name", "description", "short_description")
"""Fields whose text a remembered article takes from what was sent (:func:`sharing_sent`)."""


def sharing_sent(record: Product, sent: Mapping[str, Any]) -> Product:
    """``record`` (the article as Shopify answered a write) holding the very strings it was
    ``sent`` where Shopify answered the same text: the engine holds those already, and during
    an export both copies of every description were alive at once (30 MB at 30,000 articles)."""
    same = {
        name: text
        for name in _SHARED_TEXT
        if isinstance(text := sent.get(name), str)
        and text is not (answered := getattr(record, name))
        and text == answered
    }
    return msgspec.structs.replace(record, **same) if same else record
