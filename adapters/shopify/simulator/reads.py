"""The query root: products, variants, inventory and locations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.connection import SortKey, paginate
from adapters.shopify.simulator.search import compile_query
from adapters.shopify.simulator.store import Product, Store, Variant, gid, parse_gid
from adapters.shopify.simulator.views import (
    View,
    item_view,
    level_view,
    location_view,
    product_view,
    variant_view,
)

T = TypeVar("T")
NodeLoader = Callable[[Store, int], View | None]
NODE_LOADERS: dict[str, NodeLoader] = {}
"""GID resource type -> loader, for ``node(id:)``; other modules add theirs."""


def _product_key(store: Store, sort: str) -> Callable[[Product], SortKey]:
    match sort:
        case "TITLE":
            return lambda p: (p.title.casefold(), p.id)
        case "UPDATED_AT":
            return lambda p: (p.updated_at.timestamp(), p.id)
        case "CREATED_AT" | "PUBLISHED_AT":
            return lambda p: (p.created_at.timestamp(), p.id)
        case "VENDOR":
            return lambda p: (p.vendor.casefold(), p.id)
        case "PRODUCT_TYPE":
            return lambda p: (p.product_type.casefold(), p.id)
        case "INVENTORY_TOTAL":
            return lambda p: (
                sum(store.inventory_quantity(v) for v in store.product_variants(p)),
                p.id,
            )
        case _:
            return lambda p: (p.id,)


def searched(store: Store, kind: str, query: str | None) -> set[int] | None:
    """Ids of ``kind`` matching ``query`` in the search index (None: no query given)."""
    if not query or not query.strip():
        return None
    predicate = compile_query(query, {"product_status": "status", "tags": "tag"})
    prefix = f"gid://shopify/{kind}/"
    documents = store.search_view()
    keys = store.search_terms.candidates(documents, predicate.lookups)
    pairs = documents.items() if keys is None else ((key, documents[key]) for key in keys)
    return {
        int(document["id"])
        for key, document in pairs
        if key.startswith(prefix) and predicate(document)
    }


def _rows(records: dict[int, T], chosen: set[int] | None) -> list[T]:
    """The records a search chose (all without one), in no order: every sort key ends with
    the id. Taken from the hits, so that a search for 50 SKUs reads 50 records, not all."""
    if chosen is None:
        return list(records.values())
    return [records[number] for number in chosen if number in records]


def _products(store: Store) -> Callable[..., View]:
    def resolve(info: GraphQLResolveInfo, **args: Any) -> View:
        chosen = searched(store, "Product", args.get("query"))
        rows = _rows(store.products, chosen)
        key = _product_key(store, args.get("sortKey") or "ID")
        rows.sort(key=key)
        return paginate(rows, args, key, lambda p: product_view(store, p))

    return resolve


def _variants(store: Store) -> Callable[..., View]:
    def resolve(info: GraphQLResolveInfo, **args: Any) -> View:
        chosen = searched(store, "ProductVariant", args.get("query"))
        rows = _rows(store.variants, chosen)
        sort = args.get("sortKey") or "ID"
        key: Callable[[Variant], SortKey]
        if sort == "SKU":
            key = lambda v: ((v.sku or "").casefold(), v.id)  # noqa: E731
        elif sort in ("TITLE", "NAME"):
            key = lambda v: (store.products[v.product_id].title.casefold(), v.id)  # noqa: E731
        elif sort == "POSITION":
            key = lambda v: (v.product_id, v.position, v.id)  # noqa: E731
        else:
            key = lambda v: (v.id,)  # noqa: E731
        rows.sort(key=key)
        return paginate(rows, args, key, lambda v: variant_view(store, v))

    return resolve


def _by_gid(store: Store, kind: str, value: str) -> View | None:
    loader = NODE_LOADERS.get(kind)
    number = parse_gid(value, kind)
    return None if loader is None or number is None else loader(store, number)


def _node(store: Store, value: str) -> View | None:
    parts = value.split("/")
    if len(parts) < 5 or not value.startswith("gid://shopify/"):
        return None
    return _by_gid(store, parts[3], value.split("?")[0])


def _load_product(store: Store, number: int) -> View | None:
    product = store.products.get(number)
    return None if product is None else product_view(store, product)


def _load_variant(store: Store, number: int) -> View | None:
    variant = store.variants.get(number)
    return None if variant is None else variant_view(store, variant)


def _load_item(store: Store, number: int) -> View | None:
    variant = store.variant_of_item(number)
    return None if variant is None else item_view(store, variant)


def _load_location(store: Store, number: int) -> View | None:
    location = store.locations.get(number)
    return None if location is None else location_view(store, location)


def _load_level(store: Store, number: int) -> View | None:
    for level in store.levels.values():
        if level.id == number:
            return level_view(store, level)
    return None


NODE_LOADERS.update(
    {
        "Product": _load_product,
        "ProductVariant": _load_variant,
        "InventoryItem": _load_item,
        "Location": _load_location,
        "InventoryLevel": _load_level,
    }
)


def query_root(store: Store, shop_domain: str) -> View:
    """The root value for queries: one resolver per root field."""

    def locations(info: GraphQLResolveInfo, **args: Any) -> View:
        rows = [
            loc for loc in store.locations.values() if loc.active or args.get("includeInactive")
        ]
        sort = args.get("sortKey") or "NAME"
        key: Callable[[Any], SortKey] = (
            (lambda loc: (loc.name.casefold(), loc.id))
            if sort == "NAME"
            else (lambda loc: (loc.id,))
        )
        rows.sort(key=key)
        return paginate(rows, args, key, lambda loc: location_view(store, loc))

    def product_by_identifier(info: GraphQLResolveInfo, identifier: dict[str, Any]) -> View | None:
        if identifier.get("id"):
            return _by_gid(store, "Product", identifier["id"])
        for product in store.products.values():
            if product.handle == identifier.get("handle"):
                return product_view(store, product)
        return None

    def location(info: GraphQLResolveInfo, id: str | None = None) -> View | None:
        if id is None:
            first = min(store.locations.values(), key=lambda loc: loc.id, default=None)
            return None if first is None else location_view(store, first)
        return _by_gid(store, "Location", id)

    def products_count(info: GraphQLResolveInfo, **args: Any) -> View:
        chosen = searched(store, "Product", args.get("query"))
        total = len(store.products) if chosen is None else len(chosen)
        limit = args.get("limit")
        if limit is not None and total > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": total, "precision": "EXACT"}

    return {
        "node": lambda info, id: _node(store, id),
        "nodes": lambda info, ids: [_node(store, one) for one in ids],
        "shop": lambda info: {
            "id": gid("Shop", 1),
            "name": shop_domain.split(".")[0],
            "myshopifyDomain": shop_domain,
            "currencyCode": "EUR",
        },
        "product": lambda info, id: _by_gid(store, "Product", id),
        "productByIdentifier": product_by_identifier,
        "products": _products(store),
        "productsCount": products_count,
        "productVariant": lambda info, id: _by_gid(store, "ProductVariant", id),
        "productVariants": _variants(store),
        "inventoryItem": lambda info, id: _by_gid(store, "InventoryItem", id),
        "inventoryLevel": lambda info, id: _node(store, id),
        "location": location,
        "locations": locations,
    }
