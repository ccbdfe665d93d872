"""Checking and applying variant input (``ProductVariantsBulkInput``, ``ProductVariantSetInput``)
as Shopify does: SKU, tracking, unit cost and weight live on the inventory item, prices, cost
and weight are not negative, option values name the product's options. The schema already
refuses an unknown field or a weight unit outside ``WeightUnit``."""

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


def check_amounts(data: dict[str, Any], path: list[str], negative_code: str) -> list[View]:
    """What is wrong with a variant's prices, unit cost and weight."""
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
    item = data.get("inventoryItem") or {}
    at = [*path, "inventoryItem"]
    if item.get("cost") is not None:
        cost = parse_money(item["cost"])
        if cost is None:
            problems.append(error([*at, "cost"], "Cost is invalid", "INVALID_INPUT"))
        elif cost < 0:
            problems.append(
                error([*at, "cost"], "Cost must be greater than or equal to 0", negative_code)
            )
    weight = (item.get("measurement") or {}).get("weight")
    if weight is not None and weight["value"] < 0:
        problems.append(
            error(
                [*at, "measurement", "weight", "value"],
                "Weight must be greater than or equal to 0",
                negative_code,
            )
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
    if "cost" in item:
        # Kept in the currency's two decimals, as Shopify keeps money; null clears it.
        variant.cost = None if item["cost"] is None else parse_money(item["cost"])
    weight = (item.get("measurement") or {}).get("weight")
    if weight is not None:
        variant.weight, variant.weight_unit = float(weight["value"]), weight["unit"]
    chosen = selected_options(data)
    if chosen:
        variant.selected = chosen
    variant.updated_at = store.now()


def location_of(store: Store, value: str) -> int | None:
    number = parse_gid(value, "Location")
    return number if number is not None and number in store.locations else None
