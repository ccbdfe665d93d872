"""Articles written to Shopify with ``productSet``, idempotent on the SKU.

``productSet`` replaces the product's list fields whole (variants left out are deleted), so
every write sends the whole article: an update is the article as last read, with the changed
fields laid over it, each variant named by its id so it is kept, not recreated. A creation
first looks the SKU up (the SKUs this adapter has seen, then Shopify's search); found, it
becomes an update of that product. Shopify does not keep SKUs unique: a SKU two products hold
is not written, and the item fails naming both.

Cost and weight go on each variant's inventory item, the weight in kilograms (none is 0, what
Shopify holds for no weight; no cost is null). What Shopify would keep as another value is
refused naming the field, never rounded into a value other than the one agreed: a cost has
the currency's two decimals, a weight is a floating-point number (``Float``). The category
goes in ``productType``, its levels joined with " > ": a path that would not read back as
itself (too long, a level holding " > ", empty or with whitespace around it) is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.shopify import cost
from adapters.shopify.products import (
    _PRODUCT,
    CATEGORY_SEPARATOR,
    DEFAULT_OPTION,
    DEFAULT_VALUE,
    NODE_COST,
    PRODUCT_TYPE_LIMIT,
    SKU_KEY,
    SKU_NAMESPACE,
    category_of,
    product_type,
)
from canonical.models import Product

SET_PRODUCT = (
    "mutation Set($input: ProductSetInput!) {"
    " productSet(input: $input, synchronous: true) {"
    f" product {{ {_PRODUCT} }} userErrors {{ field message code }} }} }}"
)
SET_COST = cost.MUTATION + NODE_COST
STATUS = {True: "ACTIVE", False: "DRAFT"}
KEEP_SKU = (
    "mutation KeepSku($metafields: [MetafieldsSetInput!]!) {"
    " metafieldsSet(metafields: $metafields) {"
    " metafields { value } userErrors { field message code } } }"
)
KEEP_SKU_COST = cost.MUTATION


def keep_sku_input(product_id: str, sku: str) -> dict[str, Any]:
    """The ``metafieldsSet`` variables keeping ``sku`` as a product's own SKU. Used when an
    existing product gains variants: ``metafieldsSet`` touches that one metafield, where a
    metafield list in ``productSet`` would replace the merchant's others."""
    return {"metafields": [{"ownerId": product_id, **_sku_metafield(sku)}]}


def _sku_metafield(sku: str) -> dict[str, str]:
    return {
        "namespace": SKU_NAMESPACE,
        "key": SKU_KEY,
        "type": "single_line_text_field",
        "value": sku,
    }


def _amount(value: Decimal | None) -> str | None:
    # Exact: :func:`unfit` refused any amount with more than two decimals.
    return None if value is None else f"{value.quantize(MONEY_PLACES):f}"


MONEY_PLACES = Decimal("0.01")
"""Shopify keeps prices and costs in cents."""


def _item(sku: str, cost: Decimal | None, weight: Decimal | None) -> dict[str, Any]:
    """The ``InventoryItemInput`` of a variant: its SKU, unit cost and weight."""
    kilograms = float(weight) if weight is not None else 0.0
    return {
        "sku": sku,
        "cost": None if cost is None else f"{cost:f}",
        "measurement": {"weight": {"value": kilograms, "unit": "KILOGRAMS"}},
    }


def unfit(product: Product) -> str | None:
    """Why Shopify would not keep ``product`` as it is (None: it would): a price, cost or weight
    it would round, a variant with no price, which Shopify would sell at 0.00, or a category
    its ``productType`` would not give back (:func:`unfit_category`)."""
    if (reason := unfit_category(product.sku, product.category)) is not None:
        return reason
    if product.variants:
        held = [(v.sku, v.price, v.sale_price, v.cost, v.weight) for v in product.variants]
    else:
        held = [(product.sku, product.price, product.sale_price, product.cost, product.weight)]
    for sku, price, sale, unit_cost, weight in held:
        if price is None and sale is None:
            return f"price: {sku} has none, and Shopify would sell it at 0.00"
        for name, amount in (("price", price), ("sale_price", sale), ("cost", unit_cost)):
            if amount is not None and amount != amount.quantize(MONEY_PLACES):
                return f"{name}: {amount} of {sku} has more decimals than Shopify keeps (2)"
        if weight is not None and Decimal(repr(float(weight))) != weight:
            return f"weight: {weight} kg of {sku} does not fit Shopify's floating-point weight"
    return None


def unfit_category(sku: str, category: tuple[str, ...]) -> str | None:
    """Why ``category`` would not read back from Shopify's ``productType`` as itself (None: it
    would). Shopify trims the type and keeps 255 characters of it; a level holding " > " would
    read as two. A level with whitespace around it is refused wherever it stands, not only
    first or last (where it would be trimmed away), so a level is refused or not whatever its
    place in the path."""
    joined = product_type(category)
    if len(joined) > PRODUCT_TYPE_LIMIT:
        return (
            f"category: {sku}'s is {len(joined)} characters joined with {CATEGORY_SEPARATOR!r},"
            f" more than Shopify's productType keeps ({PRODUCT_TYPE_LIMIT})"
        )
    for level in category:
        if CATEGORY_SEPARATOR in level:
            return (
                f"category: level {level!r} of {sku} holds {CATEGORY_SEPARATOR!r},"
                " which separates the levels in Shopify's productType"
            )
        if not level.strip():
            return f"category: {sku}'s has an empty level, which Shopify's productType cannot hold"
        if level != level.strip():
            return (
                f"category: level {level!r} of {sku} has whitespace around it,"
                " which Shopify's productType would not keep"
            )
    if (read := category_of(joined)) != category:
        return f"category: {sku}'s would read back from Shopify's productType as {read!r}"
    return None


def _prices(price: Decimal | None, sale: Decimal | None) -> dict[str, Any]:
    """Shopify's selling price and "was" price for a regular price and a sale price."""
    if sale is not None and price is not None and sale < price:
        return {"price": _amount(sale), "compareAtPrice": _amount(price)}
    return {
        "price": _amount(price if price is not None else sale),
        "compareAtPrice": None,
    }


def product_input(
    product: Product,
    product_id: str | None,
    variant_ids: Mapping[str, str],
    location: str | None = None,
) -> dict[str, Any]:
    """The ``ProductSetInput`` of a whole article (``product_id`` None: a new product). A new
    variant is stocked at ``location`` with nothing available, so the stock job can set its
    count there; a known one keeps its count (the stock job's)."""
    data: dict[str, Any] = {
        "title": product.name,
        "descriptionHtml": product.description,
        "productType": product_type(product.category),
        "status": STATUS[product.active],
    }
    if product_id is not None:
        data["id"] = product_id
    if not product.variants:
        data["productOptions"] = [{"name": DEFAULT_OPTION, "values": [{"name": DEFAULT_VALUE}]}]
        row: dict[str, Any] = {
            "optionValues": [{"optionName": DEFAULT_OPTION, "name": DEFAULT_VALUE}],
            "barcode": product.barcode,
            "inventoryItem": _item(product.sku, product.cost, product.weight),
            **_prices(product.price, product.sale_price),
        }
        _identify(row, product.sku, variant_ids, location)
        data["variants"] = [row]
        return data
    names: list[str] = []
    values: dict[str, list[str]] = {}
    rows = []
    for variant in product.variants:
        for attribute in variant.attributes:
            if attribute.name not in values:
                names.append(attribute.name)
                values[attribute.name] = []
            if attribute.value not in values[attribute.name]:
                values[attribute.name].append(attribute.value)
        row = {
            "optionValues": [{"optionName": a.name, "name": a.value} for a in variant.attributes],
            "inventoryItem": _item(variant.sku, variant.cost, variant.weight),
            **_prices(variant.price, variant.sale_price),
        }
        _identify(row, variant.sku, variant_ids, location)
        rows.append(row)
    data["productOptions"] = [
        {"name": name, "values": [{"name": v} for v in values[name]]} for name in names
    ]
    data["variants"] = rows
    if product_id is None:
        # Only on creation: productSet replaces a product's whole metafield list when given
        # one, and an existing product's other metafields are the merchant's.
        data["metafields"] = [_sku_metafield(product.sku)]
    return data


def over_variants(known: list[dict[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``given`` variants, each with what Shopify holds of it (``known``, by SKU) in the
    fields it does not name: a variant field the other side cannot carry (an ERP's variants
    without cost or weight) is left as the shop has it, not cleared."""
    by_sku = {variant.get("sku"): variant for variant in known}
    return [{**by_sku.get(variant.get("sku"), {}), **variant} for variant in given]


def _identify(
    row: dict[str, Any], sku: str, variant_ids: Mapping[str, str], location: str | None
) -> None:
    if sku in variant_ids:
        row["id"] = variant_ids[sku]
    elif location is not None:
        row["inventoryQuantities"] = [{"locationId": location, "name": "available", "quantity": 0}]
