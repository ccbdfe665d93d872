"""Checking and applying variant input (``ProductVariantsBulkInput``, ``ProductVariantSetInput``)
as Shopify does: SKU and tracking live on the inventory item, prices are non-negative decimals,
option values name the product's options."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graphql import GraphQLError

from adapters.shopify.simulator.catalogue import parse_money
from adapters.shopify.simulator.store import Store, Variant, parse_gid
from adapters.shopify.simulator.views import View

MAX_INPUT = 250


def check_input_size(values: list[Any], name: str) -> None:
    """Input arrays hold at most 250 items (a top-level error, nothing runs)."""
    if len(values) > MAX_INPUT:
        raise GraphQLError(
            f"The input array size of {len(values)} is greater than the maximum allowed of "
            f"{MAX_INPUT}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argumentName": name},
        )


def error(field: list[str], message: str, code: str) -> View:
    return {"field": field, "message": message, "code": code}


def check_prices(data: dict[str, Any], path: list[str], negative_code: str) -> list[View]:
    problems: list[View] = []
    for key in ("price", "compareAtPrice"):
        if data.get(key) is None:
            continue
        amount = parse_money(data[key])
        if amount is None:
            problems.append(error([*path, key], f"{key} is invalid", "INVALID_INPUT"))
        elif amount < 0:
            problems.append(
                error([*path, key], "Price must be greater than or equal to 0", negative_code)
            )
    return problems


def selected_options(data: dict[str, Any]) -> list[tuple[str, str]] | None:
    values = data.get("optionValues")
    if values is None:
        return None
    return [(str(v.get("optionName") or ""), str(v.get("name") or "")) for v in values]


def apply_variant(store: Store, variant: Variant, data: dict[str, Any]) -> None:
    """Fields present in ``data`` replace the variant's (checked beforehand)."""
    if data.get("price") is not None:
        variant.price = parse_money(data["price"]) or Decimal("0.00")
    if "compareAtPrice" in data:
        variant.compare_at_price = (
            None if data["compareAtPrice"] is None else parse_money(data["compareAtPrice"])
        )
    for key, attribute in (("barcode", "barcode"), ("taxCode", "tax_code")):
        if key in data:
            setattr(variant, attribute, data[key])
    if data.get("taxable") is not None:
        variant.taxable = data["taxable"]
    if data.get("inventoryPolicy") is not None:
        variant.inventory_policy = data["inventoryPolicy"]
    item = data.get("inventoryItem") or {}
    if "sku" in item:
        variant.sku = item["sku"]
    if item.get("tracked") is not None:
        variant.tracked = item["tracked"]
    if item.get("requiresShipping") is not None:
        variant.requires_shipping = item["requiresShipping"]
    chosen = selected_options(data)
    if chosen:
        variant.selected = chosen
    variant.updated_at = store.now()


def location_of(store: Store, value: str) -> int | None:
    number = parse_gid(value, "Location")
    return number if number is not None and number in store.locations else None
