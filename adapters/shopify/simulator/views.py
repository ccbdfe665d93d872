"""Records as GraphQL objects: dicts whose nested fields are resolved lazily (a callable
value is called with the field's arguments), so a query pays only for what it selects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.clock import iso
from adapters.shopify.simulator.connection import paginate
from adapters.shopify.simulator.store import (
    Level,
    Location,
    Metafield,
    Product,
    Store,
    Variant,
    gid,
    parse_gid,
)

View = dict[str, Any]


def money(amount: Decimal | None) -> str | None:
    """Shopify's Money scalar: a decimal string with the currency's two places."""
    return None if amount is None else str(amount.quantize(Decimal("0.01")))


UNLISTED_SINCE = "2025-10"
SHOP_CURRENCY = "EUR"
"""The shop's default currency, that of unit costs."""


def stamp(moment: datetime) -> Callable[[GraphQLResolveInfo], str]:
    """A DateTime field, formatted only when a query selects it, of the instant it held when
    the view was made (an answer replayed for an idempotency key keeps its first times)."""
    return lambda info: iso(moment)


def shown_status(status: str, version: str) -> str:
    """UNLISTED exists from 2025-10; older versions see such a product as ACTIVE."""
    if status == "UNLISTED" and version != "unstable" and version < UNLISTED_SINCE:
        return "ACTIVE"
    return status


def metafield_view(field: Metafield) -> View:
    return {
        "__typename": "Metafield",
        "id": gid("Metafield", field.id),
        "namespace": field.namespace,
        "key": field.key,
        "value": field.value,
        "type": field.type,
        "createdAt": stamp(field.created_at),
        "updatedAt": stamp(field.updated_at),
    }


def metafield_fields(fields: list[Metafield]) -> View:
    def one(info: GraphQLResolveInfo, key: str, namespace: str | None = None) -> View | None:
        for field in fields:
            if field.key == key and (namespace is None or field.namespace == namespace):
                return metafield_view(field)
        return None

    def many(info: GraphQLResolveInfo, **args: Any) -> View:
        chosen = [
            f
            for f in fields
            if (args.get("namespace") is None or f.namespace == args["namespace"])
            and (not args.get("keys") or f"{f.namespace}.{f.key}" in args["keys"])
        ]
        return paginate(chosen, args, lambda f: (f.id,), metafield_view)

    return {"metafield": one, "metafields": many}


def product_view(store: Store, product: Product) -> View:
    def variants(info: GraphQLResolveInfo, **args: Any) -> View:
        rows = store.product_variants(product)
        return paginate(rows, args, lambda v: (v.position, v.id), lambda v: variant_view(store, v))

    def options(info: GraphQLResolveInfo, first: int | None = None) -> list[View]:
        chosen = product.options if first is None else product.options[:first]
        used = {value for v in store.product_variants(product) for _, value in v.selected}
        return [
            {
                "__typename": "ProductOption",
                "id": gid("ProductOption", option.id),
                "name": option.name,
                "position": position,
                "values": list(option.values),
                "optionValues": [
                    {
                        "id": gid("ProductOptionValue", option.id * 1000 + n),
                        "name": value,
                        "hasVariants": value in used,
                    }
                    for n, value in enumerate(option.values)
                ],
            }
            for position, option in enumerate(chosen, start=1)
        ]

    def description(info: GraphQLResolveInfo, truncateAt: int | None = None) -> str:
        import re

        text = re.sub(r"<[^>]+>", "", product.description_html)
        return text if truncateAt is None else text[:truncateAt]

    rows = store.product_variants(product)
    return {
        "__typename": "Product",
        "id": gid("Product", product.id),
        "legacyResourceId": str(product.id),
        "title": product.title,
        "handle": product.handle,
        "status": lambda info: shown_status(product.status, info.context.get("version", "")),
        "vendor": product.vendor,
        "productType": product.product_type,
        "tags": sorted(product.tags),
        "descriptionHtml": product.description_html,
        "description": description,
        "options": options,
        "variants": variants,
        "variantsCount": {"count": len(rows), "precision": "EXACT"},
        "totalInventory": lambda info: sum(store.inventory_quantity(v) for v in rows if v.tracked),
        "tracksInventory": any(v.tracked for v in rows),
        "createdAt": stamp(product.created_at),
        "updatedAt": stamp(product.updated_at),
        "publishedAt": stamp(product.created_at) if product.status == "ACTIVE" else None,
        **metafield_fields(product.metafields),
    }


def variant_view(store: Store, variant: Variant) -> View:
    product = store.products[variant.product_id]
    title = " / ".join(value for _, value in variant.selected) or "Default Title"
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", variant.id),
        "legacyResourceId": str(variant.id),
        "title": title,
        "displayName": f"{product.title} - {title}",
        "sku": variant.sku,
        "price": money(variant.price),
        "compareAtPrice": money(variant.compare_at_price),
        "barcode": variant.barcode,
        "taxable": variant.taxable,
        "taxCode": variant.tax_code,
        "inventoryPolicy": variant.inventory_policy,
        "inventoryQuantity": lambda info: (
            store.inventory_quantity(variant) if variant.tracked else 0
        ),
        "position": variant.position,
        "selectedOptions": [{"name": n, "value": v} for n, v in variant.selected],
        "inventoryItem": lambda info: item_view(store, variant),
        "product": lambda info: product_view(store, product),
        "createdAt": stamp(variant.created_at),
        "updatedAt": stamp(variant.updated_at),
        **metafield_fields(variant.metafields),
    }


def item_view(store: Store, variant: Variant) -> View:
    def level(info: GraphQLResolveInfo, locationId: str) -> View | None:
        number = parse_gid(locationId, "Location")
        found = None if number is None else store.levels.get((variant.item_id, number))
        return None if found is None else level_view(store, found)

    def levels(info: GraphQLResolveInfo, **args: Any) -> View:
        rows = store.item_levels(variant.item_id)
        return paginate(rows, args, lambda row: (row.id,), lambda row: level_view(store, row))

    return {
        "__typename": "InventoryItem",
        "id": gid("InventoryItem", variant.item_id),
        "legacyResourceId": str(variant.item_id),
        "sku": variant.sku,
        "tracked": variant.tracked,
        "requiresShipping": variant.requires_shipping,
        "unitCost": None
        if variant.cost is None
        else {"amount": money(variant.cost), "currencyCode": SHOP_CURRENCY},
        "measurement": {
            "id": gid("InventoryItemMeasurement", variant.item_id),
            "weight": {"value": variant.weight, "unit": variant.weight_unit},
        },
        "variant": lambda info: variant_view(store, variant),
        "inventoryLevel": level,
        "inventoryLevels": levels,
        "createdAt": stamp(variant.created_at),
        "updatedAt": stamp(variant.updated_at),
    }


def level_view(store: Store, level: Level) -> View:
    def quantities(info: GraphQLResolveInfo, names: list[str]) -> list[View]:
        return [
            {
                "id": f"{gid('InventoryQuantity', level.id)}?name={name}",
                "name": name,
                "quantity": level.quantities.get(name, 0),
                "updatedAt": iso(level.updated_at),
            }
            for name in names
            if name in level.quantities
        ]

    def item(info: GraphQLResolveInfo) -> View:
        variant = store.variant_of_item(level.item_id)
        assert variant is not None
        return item_view(store, variant)

    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{level.id}?inventory_item_id={level.item_id}",
        "location": lambda info: location_view(store, store.locations[level.location_id]),
        "item": item,
        "quantities": quantities,
        "createdAt": stamp(level.created_at),
        "updatedAt": stamp(level.updated_at),
    }


def location_view(store: Store, location: Location) -> View:
    def level(info: GraphQLResolveInfo, inventoryItemId: str) -> View | None:
        number = parse_gid(inventoryItemId, "InventoryItem")
        found = None if number is None else store.levels.get((number, location.id))
        return None if found is None else level_view(store, found)

    def levels(info: GraphQLResolveInfo, **args: Any) -> View:
        rows = [lv for (_, loc), lv in sorted(store.levels.items()) if loc == location.id]
        return paginate(rows, args, lambda row: (row.id,), lambda row: level_view(store, row))

    return {
        "__typename": "Location",
        "id": gid("Location", location.id),
        "legacyResourceId": str(location.id),
        "name": location.name,
        "isActive": location.active,
        "fulfillsOnlineOrders": True,
        "inventoryLevel": level,
        "inventoryLevels": levels,
    }
