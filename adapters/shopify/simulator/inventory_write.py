"""``inventorySetQuantities`` and ``inventoryAdjustQuantities`` with compare-and-swap.

By version: before 2026-01 the check is ``compareQuantity`` (required unless
``ignoreCompareQuantity``; a mismatch is ``COMPARE_QUANTITY_STALE``); 2026-01 adds
``changeFromQuantity`` (the expected current count, ``null`` to skip; a mismatch is
``CHANGE_FROM_QUANTITY_STALE``); from 2026-04 ``changeFromQuantity`` must be given and the old
fields are gone. A stale count fails the whole call: nothing is applied.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from adapters.shopify.simulator.store import Level, Store, gid, parse_gid
from adapters.shopify.simulator.views import View, item_view, location_view

CHANGE_FROM_SINCE = "2026-01"
CHANGE_FROM_REQUIRED = "2026-04"
LIMIT = 1_000_000_000
REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_canceled",
    "movement_created",
    "movement_received",
    "movement_updated",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}
ADJUSTABLE = {"available", "damaged", "incoming", "quality_control", "reserved", "safety_stock"}


def _error(field: list[str], message: str, code: str) -> View:
    return {"field": field, "message": message, "code": code}


def _level(store: Store, row: dict[str, Any], path: list[str]) -> tuple[Level | None, View | None]:
    item = parse_gid(row["inventoryItemId"], "InventoryItem")
    if item is None or store.variant_of_item(item) is None:
        return None, _error(
            [*path, "inventoryItemId"],
            "The specified inventory item could not be found.",
            "INVALID_INVENTORY_ITEM",
        )
    location = parse_gid(row["locationId"], "Location")
    if location is None or location not in store.locations:
        return None, _error(
            [*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"
        )
    level = store.levels.get((item, location))
    if level is None:
        return None, _error(
            [*path, "locationId"],
            "The specified inventory item is not stocked at the location.",
            "ITEM_NOT_STOCKED_AT_LOCATION",
        )
    return level, None


def _version_at_least(version: str, since: str) -> bool:
    return version == "unstable" or version >= since


def _set_quantity(level: Level, name: str, quantity: int) -> list[tuple[str, int, int]]:
    """Set one named quantity; ``available`` and ``on_hand`` move together. Returns the
    changes as (name, delta, after)."""
    held = level.quantities
    if name == "available":
        delta = quantity - held["available"]
        held["available"] = quantity
        held["on_hand"] += delta
        return [("available", delta, quantity), ("on_hand", delta, held["on_hand"])]
    if name == "on_hand":
        delta = quantity - held["on_hand"]
        held["on_hand"] = quantity
        held["available"] += delta
        return [("on_hand", delta, quantity), ("available", delta, held["available"])]
    delta = quantity - held[name]
    held[name] = quantity
    return [(name, delta, quantity)]


def _group(
    store: Store, reason: str, uri: str | None, changes: list[tuple[Level, str, int, int]]
) -> View:
    def listed(
        info: GraphQLResolveInfo,
        inventoryItemIds: list[str] | None = None,
        locationIds: list[str] | None = None,
        quantityNames: list[str] | None = None,
    ) -> list[View]:
        rows = []
        for level, name, delta, after in changes:
            if inventoryItemIds and gid("InventoryItem", level.item_id) not in inventoryItemIds:
                continue
            if locationIds and gid("Location", level.location_id) not in locationIds:
                continue
            if quantityNames and name not in quantityNames:
                continue
            variant = store.variant_of_item(level.item_id)
            rows.append(
                {
                    "name": name,
                    "delta": delta,
                    "quantityAfterChange": after,
                    "item": None if variant is None else item_view(store, variant),
                    "location": location_view(store, store.locations[level.location_id]),
                    "ledgerDocumentUri": None,
                }
            )
        return rows

    return {
        "__typename": "InventoryAdjustmentGroup",
        "id": gid("InventoryAdjustmentGroup", store.new_id()),
        "createdAt": store.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": reason,
        "referenceDocumentUri": uri,
        "changes": listed,
    }


def _common_checks(data: dict[str, Any], names: set[str], name_code: str) -> list[View]:
    problems = []
    if data["name"] not in names:
        problems.append(
            _error(
                ["input", "name"],
                f"The quantity name must be one of: {', '.join(sorted(names))}.",
                name_code,
            )
        )
    if data["reason"] not in REASONS:
        problems.append(
            _error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        )
    return problems


def _cas(
    version: str, row: dict[str, Any], held: int, path: list[str], legacy: dict[str, Any] | None
) -> View | None:
    """The compare-and-swap check for one row, by version; None when it passes."""
    if _version_at_least(version, CHANGE_FROM_REQUIRED):
        if legacy is not None and ("compareQuantity" in row or legacy.get("ignoreCompareQuantity")):
            raise GraphQLError(
                "compareQuantity and ignoreCompareQuantity were removed in 2026-04; "
                "use changeFromQuantity."
            )
        if "changeFromQuantity" not in row:
            raise GraphQLError(
                f"changeFromQuantity must be given for each quantity ({'.'.join(path)})."
            )
    if "changeFromQuantity" in row and _version_at_least(version, CHANGE_FROM_SINCE):
        expected = row["changeFromQuantity"]
        if expected is not None and expected != held:
            return _error(
                [*path, "changeFromQuantity"],
                "The changeFromQuantity value does not match persisted value.",
                "CHANGE_FROM_QUANTITY_STALE",
            )
        return None
    if legacy is None:
        return None
    if legacy.get("ignoreCompareQuantity"):
        return None
    if row.get("compareQuantity") is None:
        return _error(
            [*path, "compareQuantity"],
            "The compareQuantity argument must be given to each quantity or ignored "
            "using ignoreCompareQuantity.",
            "COMPARE_QUANTITY_REQUIRED",
        )
    if row["compareQuantity"] != held:
        return _error(
            [*path, "compareQuantity"],
            "The compareQuantity value does not match persisted value.",
            "COMPARE_QUANTITY_STALE",
        )
    return None


def set_quantities(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, input: dict[str, Any]) -> View:
        version = info.context["version"]
        if len(input["quantities"]) > 250:
            raise GraphQLError(
                "The input array size is greater than the maximum allowed of 250.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        problems = _common_checks(input, {"available", "on_hand"}, "INVALID_NAME")
        plan: list[tuple[Level, int]] = []
        pairs: set[tuple[int, int]] = set()
        for n, row in enumerate(input["quantities"]):
            path = ["input", "quantities", str(n)]
            level, missing = _level(store, row, path)
            if level is None:
                problems += [missing] if missing else []
                continue
            if (level.item_id, level.location_id) in pairs:
                problems.append(
                    _error(
                        path,
                        "The combination of inventoryItemId and locationId must be unique.",
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                    )
                )
            pairs.add((level.item_id, level.location_id))
            if abs(row["quantity"]) > LIMIT:
                problems.append(
                    _error(
                        [*path, "quantity"],
                        "The quantity is out of range.",
                        "INVALID_QUANTITY_TOO_HIGH"
                        if row["quantity"] > 0
                        else "INVALID_QUANTITY_TOO_LOW",
                    )
                )
            held = level.quantities.get(input["name"], 0)
            stale = _cas(version, row, held, path, input)
            if stale is not None:
                problems.append(stale)
            plan.append((level, row["quantity"]))
        if problems:
            return {"inventoryAdjustmentGroup": None, "userErrors": problems}
        changes: list[tuple[Level, str, int, int]] = []
        for level, quantity in plan:
            for name, delta, after in _set_quantity(level, input["name"], quantity):
                changes.append((level, name, delta, after))
            _touched(store, level)
        return {
            "inventoryAdjustmentGroup": _group(
                store, input["reason"], input.get("referenceDocumentUri"), changes
            ),
            "userErrors": [],
        }

    return resolve


def adjust_quantities(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, input: dict[str, Any]) -> View:
        version = info.context["version"]
        if len(input["changes"]) > 250:
            raise GraphQLError(
                "The input array size is greater than the maximum allowed of 250.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        problems = _common_checks(input, ADJUSTABLE, "INVALID_QUANTITY_NAME")
        plan: list[tuple[Level, int]] = []
        for n, row in enumerate(input["changes"]):
            path = ["input", "changes", str(n)]
            level, missing = _level(store, row, path)
            if level is None:
                problems += [missing] if missing else []
                continue
            held = level.quantities.get(input["name"], 0)
            stale = _cas(version, row, held, path, None)
            if stale is not None:
                problems.append(stale)
            plan.append((level, row["delta"]))
        if problems:
            return {"inventoryAdjustmentGroup": None, "userErrors": problems}
        changes: list[tuple[Level, str, int, int]] = []
        for level, delta in plan:
            target = level.quantities.get(input["name"], 0) + delta
            for name, moved, after in _set_quantity(level, input["name"], target):
                changes.append((level, name, moved, after))
            _touched(store, level)
        return {
            "inventoryAdjustmentGroup": _group(
                store, input["reason"], input.get("referenceDocumentUri"), changes
            ),
            "userErrors": [],
        }

    return resolve


def _touched(store: Store, level: Level) -> None:
    level.updated_at = store.now()
    variant = store.variant_of_item(level.item_id)
    if variant is not None:
        variant.updated_at = level.updated_at
    store.emit("inventory_levels/update", level.id)
