"""``productVariantsBulkCreate``, ``productVariantsBulkUpdate``, ``productVariantsBulkDelete``:
one product per call, at most 250 variants, all-or-nothing unless ``allowPartialUpdates``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.catalogue import DEFAULT_VALUE, add_variant, sync_options
from adapters.shopify.simulator.store import Product, Store, parse_gid
from adapters.shopify.simulator.variant_input import (
    apply_variant,
    check_amounts,
    check_input_size,
    error,
    location_of,
    selected_options,
)
from adapters.shopify.simulator.views import View, product_view, variant_view


def _product(store: Store, value: str) -> Product | None:
    number = parse_gid(value, "Product")
    return None if number is None else store.products.get(number)


def _standalone(store: Store, product: Product) -> bool:
    rows = store.product_variants(product)
    return len(rows) == 1 and [v for _, v in rows[0].selected] == [DEFAULT_VALUE]


def bulk_create(store: Store) -> Any:
    def resolve(
        info: GraphQLResolveInfo,
        productId: str,
        variants: list[dict[str, Any]],
        strategy: str = "DEFAULT",
        **_: Any,
    ) -> View:
        check_input_size(variants, "variants")
        product = _product(store, productId)
        if product is None:
            problem = error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            return {"product": None, "productVariants": None, "userErrors": [problem]}
        drop_standalone = strategy != "PRESERVE_STANDALONE_VARIANT" and _standalone(store, product)
        taken = {
            tuple(v for _, v in variant.selected)
            for variant in store.product_variants(product)
            if not drop_standalone
        }
        problems: list[View] = []
        for n, data in enumerate(variants):
            path = ["variants", str(n)]
            problems += check_amounts(data, path, "GREATER_THAN_OR_EQUAL_TO")
            if data.get("id"):
                problems.append(
                    error([*path, "id"], "id is not allowed on create", "INVALID_INPUT")
                )
            chosen = selected_options(data)
            if not chosen:
                problems.append(
                    error(
                        [*path, "optionValues"],
                        "Option values are required",
                        "NEED_TO_ADD_OPTION_VALUES",
                    )
                )
                continue
            combination = tuple(v for _, v in chosen)
            if combination in taken:
                problems.append(
                    error(
                        path,
                        f"The variant '{' / '.join(combination)}' already exists.",
                        "VARIANT_ALREADY_EXISTS",
                    )
                )
            taken.add(combination)
            for m, level in enumerate(data.get("inventoryQuantities") or []):
                if location_of(store, level["locationId"]) is None:
                    problems.append(
                        error(
                            [*path, "inventoryQuantities", str(m), "locationId"],
                            "Location does not exist",
                            "TRACKED_VARIANT_LOCATION_NOT_FOUND",
                        )
                    )
        if problems:
            return {"product": None, "productVariants": None, "userErrors": problems}
        store.claim_variant_creations(len(variants))
        if drop_standalone:
            store.delete_variant(store.product_variants(product)[0])
        made = []
        for data in variants:
            variant = add_variant(store, product, selected=selected_options(data))
            apply_variant(store, variant, data)
            for level in data.get("inventoryQuantities") or []:
                store.stock(
                    variant.item_id,
                    location_of(store, level["locationId"]) or 0,
                    level["availableQuantity"],
                )
            made.append(variant)
        sync_options(product, store)
        store.touch_product(product)
        store.emit("products/update", product.id)
        return {
            "product": product_view(store, product),
            "productVariants": [variant_view(store, v) for v in made],
            "userErrors": [],
        }

    return resolve


def bulk_update(store: Store) -> Any:
    def resolve(
        info: GraphQLResolveInfo,
        productId: str,
        variants: list[dict[str, Any]],
        allowPartialUpdates: bool = False,
        **_: Any,
    ) -> View:
        check_input_size(variants, "variants")
        product = _product(store, productId)
        if product is None:
            problem = error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            return {"product": None, "productVariants": None, "userErrors": [problem]}
        problems: list[View] = []
        valid: list[tuple[int, dict[str, Any]]] = []
        for n, data in enumerate(variants):
            path = ["variants", str(n)]
            row = check_amounts(data, path, "NEGATIVE_PRICE_VALUE")
            number = parse_gid(data.get("id") or "", "ProductVariant")
            if not data.get("id"):
                row.append(
                    error(
                        [*path, "id"],
                        "Product variant is missing ID attribute",
                        "PRODUCT_VARIANT_ID_MISSING",
                    )
                )
            elif number is None or number not in product.variant_ids:
                row.append(
                    error(
                        [*path, "id"],
                        "Product variant does not exist",
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
                )
            if data.get("inventoryQuantities"):
                row.append(
                    error(
                        [*path, "inventoryQuantities"],
                        "Inventory quantities can only be provided during create. To update "
                        "inventory for existing variants, use inventoryAdjustQuantities.",
                        "NO_KEY_ON_CREATE",
                    )
                )
            problems += row
            if not row and number is not None:
                valid.append((number, data))
        if problems and not allowPartialUpdates:
            return {"product": None, "productVariants": None, "userErrors": problems}
        changed = []
        for number, data in valid:
            variant = store.variants[number]
            apply_variant(store, variant, data)
            changed.append(variant)
        if changed:
            sync_options(product, store)
            store.touch_product(product)
            store.emit("products/update", product.id)
        return {
            "product": product_view(store, product),
            "productVariants": [variant_view(store, v) for v in changed],
            "userErrors": problems,
        }

    return resolve


def bulk_delete(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, productId: str, variantsIds: list[str]) -> View:
        check_input_size(variantsIds, "variantsIds")
        product = _product(store, productId)
        if product is None:
            problem = error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            return {"product": None, "userErrors": [problem]}
        numbers = [parse_gid(one, "ProductVariant") for one in variantsIds]
        if any(n is None or n not in product.variant_ids for n in numbers):
            problem = error(
                ["variantsIds"],
                "At least one variant does not belong to the product",
                "AT_LEAST_ONE_VARIANT_DOES_NOT_BELONG_TO_THE_PRODUCT",
            )
            return {"product": None, "userErrors": [problem]}
        if set(numbers) >= set(product.variant_ids):
            problem = error(
                ["variantsIds"], "Cannot delete the last variant", "CANNOT_DELETE_LAST_VARIANT"
            )
            return {"product": None, "userErrors": [problem]}
        for number in set(numbers):
            assert number is not None
            store.delete_variant(store.variants[number])
        sync_options(product, store)
        store.touch_product(product)
        store.emit("products/update", product.id)
        return {"product": product_view(store, product), "userErrors": []}

    return resolve
