"""``productSet``: create or update a whole product in one call.

Scalar fields omitted stay as they are; list fields given (variants, options, metafields)
replace what the product had, so a variant left out is deleted. The input is checked whole
before anything is written. ``synchronous: false`` answers with a ``ProductSetOperation`` to
poll through ``node(id:)``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.catalogue import add_variant, new_product, sync_options
from adapters.shopify.simulator.metafields import replace_metafields
from adapters.shopify.simulator.products_write import apply_product_fields, product_type_too_long
from adapters.shopify.simulator.reads import NODE_LOADERS
from adapters.shopify.simulator.store import Product, Store, gid, parse_gid
from adapters.shopify.simulator.variant_input import (
    apply_variant,
    check_amounts,
    check_input_size,
    error,
    location_of,
    selected_options,
)
from adapters.shopify.simulator.views import View, product_view, shown_status

MAX_VARIANTS = 2048
MAX_OPTIONS = 3


def _find(
    store: Store, data: dict[str, Any], identifier: dict[str, Any] | None
) -> tuple[Product | None, View | None]:
    wanted = (identifier or {}).get("id") or data.get("id")
    if wanted:
        number = parse_gid(wanted, "Product")
        product = None if number is None else store.products.get(number)
        if product is None:
            return None, error(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return product, None
    handle = (identifier or {}).get("handle")
    if handle:
        return next((p for p in store.products.values() if p.handle == handle), None), None
    return None, None


def _check(store: Store, product: Product | None, data: dict[str, Any]) -> list[View]:
    problems: list[View] = []
    if product is None and not (data.get("title") or "").strip():
        problems.append(error(["input", "title"], "Title can't be blank", "BLANK"))
    if (message := product_type_too_long(data)) is not None:
        problems.append(error(["input", "productType"], message, "TOO_LONG"))
    options = data.get("productOptions")
    if options is not None and len(options) > MAX_OPTIONS:
        problems.append(
            error(
                ["input", "productOptions"],
                "Can only specify a maximum of 3 options",
                "OPTIONS_OVER_LIMIT",
            )
        )
    names = None if options is None else [o.get("name") for o in options]
    variants = data.get("variants")
    if variants is None:
        return problems
    if len(variants) > MAX_VARIANTS:
        problems.append(error(["input", "variants"], "Too many variants", "VARIANTS_OVER_LIMIT"))
    seen: set[tuple[str, ...]] = set()
    for n, row in enumerate(variants):
        path = ["input", "variants", str(n)]
        problems += check_amounts(row, path, "INVALID_VARIANT")
        if row.get("id"):
            number = parse_gid(row["id"], "ProductVariant")
            if product is None or number not in product.variant_ids:
                problems.append(
                    error(
                        [*path, "id"],
                        "Product variant does not exist",
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
                )
        chosen = selected_options(row) or []
        if names is not None:
            for m, (name, _) in enumerate(chosen):
                if name not in names:
                    problems.append(
                        error(
                            [*path, "optionValues", str(m)],
                            f"Option '{name}' does not exist",
                            "OPTION_DOES_NOT_EXIST",
                        )
                    )
        combination = tuple(value for _, value in chosen)
        if combination in seen:
            problems.append(
                error(
                    [*path, "optionValues"], "Duplicated option values", "DUPLICATED_OPTION_VALUE"
                )
            )
        seen.add(combination)
        for m, level in enumerate(row.get("inventoryQuantities") or []):
            if location_of(store, level["locationId"]) is None:
                problems.append(
                    error(
                        [*path, "inventoryQuantities", str(m), "locationId"],
                        "Location not found",
                        "LOCATION_NOT_FOUND",
                    )
                )
    return problems


def _write_variants(store: Store, product: Product, rows: list[dict[str, Any]]) -> None:
    keep: list[int] = []
    for row in rows:
        number = parse_gid(row.get("id") or "", "ProductVariant")
        variant = store.variants[number] if number is not None else add_variant(store, product)
        apply_variant(store, variant, row)
        keep.append(variant.id)
        for level in row.get("inventoryQuantities") or []:
            location = location_of(store, level["locationId"]) or 0
            if level["name"] == "on_hand":
                committed = store.stock(variant.item_id, location, 0).quantities["committed"]
                store.stock(variant.item_id, location, level["quantity"] - committed)
            else:
                store.stock(variant.item_id, location, level["quantity"])
    for variant in store.product_variants(product):
        if variant.id not in keep:
            store.delete_variant(variant)
    if not product.variant_ids:
        add_variant(store, product)
    # The variants' order is the input's order.
    order = {vid: n for n, vid in enumerate(keep)}
    product.variant_ids.sort(key=lambda vid: order.get(vid, len(order)))
    sync_options(product, store)


def product_set(store: Store) -> Any:
    def resolve(
        info: GraphQLResolveInfo,
        input: dict[str, Any],
        synchronous: bool = True,
        identifier: dict[str, Any] | None = None,
    ) -> View:
        check_input_size(input.get("variants") or [], "variants")
        product, missing = _find(store, input, identifier)
        problems = [missing] if missing else _check(store, product, input)
        if (
            input.get("status") == "UNLISTED"
            and shown_status("UNLISTED", info.context["version"]) != "UNLISTED"
        ):
            problems.append(
                error(["input", "status"], "Status is not included in the list", "INVALID_INPUT")
            )
        if problems:
            return {"product": None, "productSetOperation": None, "userErrors": problems}
        created = product is None
        rows = input.get("variants") or []
        store.claim_variant_creations(max(1 if created else 0, sum(not r.get("id") for r in rows)))
        if product is None:
            title = input["title"].strip()
            handle = input.get("handle") or (identifier or {}).get("handle")
            product = new_product(store, title, **({"handle": handle} if handle else {}))
        apply_product_fields(store, product, input)
        if input.get("variants") is not None:
            _write_variants(store, product, input["variants"])
        elif created:
            add_variant(store, product)
        if input.get("metafields") is not None:
            replace_metafields(store, product.metafields, input["metafields"])
        store.touch_product(product)
        store.emit("products/create" if created else "products/update", product.id)
        if synchronous:
            return {
                "product": product_view(store, product),
                "productSetOperation": None,
                "userErrors": [],
            }
        operation = store.new_id()
        store.extra.setdefault("product_operations", {})[operation] = product.id
        return {
            "product": None,
            "productSetOperation": {
                "__typename": "ProductSetOperation",
                "id": gid("ProductSetOperation", operation),
                "status": "CREATED",
                "product": None,
                "userErrors": [],
            },
            "userErrors": [],
        }

    return resolve


def _load_operation(store: Store, number: int) -> View | None:
    product_id = store.extra.get("product_operations", {}).get(number)
    if product_id is None:
        return None
    product = store.products.get(product_id)
    return {
        "__typename": "ProductSetOperation",
        "id": gid("ProductSetOperation", number),
        "status": "COMPLETE",
        "product": None if product is None else product_view(store, product),
        "userErrors": [],
    }


NODE_LOADERS["ProductSetOperation"] = _load_operation
