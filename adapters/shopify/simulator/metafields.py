"""``metafieldsSet`` (at most 25 per call, all-or-nothing) and metafield lists in inputs."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from adapters.shopify.simulator.store import Metafield, Store, parse_gid
from adapters.shopify.simulator.views import View, metafield_view

MAX_METAFIELDS = 25
APP_NAMESPACE = "$app"
_TYPES = {
    "single_line_text_field",
    "multi_line_text_field",
    "number_integer",
    "number_decimal",
    "boolean",
    "json",
    "money",
    "date",
    "date_time",
    "url",
}


def _valid(kind: str, value: str) -> bool:
    try:
        match kind:
            case "number_integer":
                int(value)
            case "number_decimal":
                Decimal(value)
            case "boolean":
                return value in ("true", "false")
            case "json" | "money":
                json.loads(value)
            case "single_line_text_field":
                return "\n" not in value
    except (ValueError, InvalidOperation):
        return False
    return True


def owner_metafields(store: Store, owner: str) -> list[Metafield] | None:
    for kind, table in (("Product", store.products), ("ProductVariant", store.variants)):
        number = parse_gid(owner, kind)
        if number is not None and number in table:
            return table[number].metafields
    for kind, key in (("Order", "orders"), ("Customer", "customers")):
        number = parse_gid(owner, kind)
        records = store.extra.get(key, {})
        if number is not None and number in records:
            return records[number].metafields  # type: ignore[no-any-return]
    return None


def put(
    store: Store, fields: list[Metafield], namespace: str, key: str, value: str, kind: str
) -> Metafield:
    now = store.now()
    for field in fields:
        if field.namespace == namespace and field.key == key:
            field.value, field.type, field.updated_at = value, kind, now
            return field
    field = Metafield(store.new_id(), namespace, key, value, kind, now, now)
    fields.append(field)
    return field


def replace_metafields(store: Store, fields: list[Metafield], rows: list[dict[str, Any]]) -> None:
    kept = []
    for row in rows:
        kept.append(
            put(
                store,
                fields,
                row.get("namespace") or APP_NAMESPACE,
                row["key"],
                row["value"],
                row.get("type") or "single_line_text_field",
            )
        )
    fields[:] = kept


def metafields_set(store: Store) -> Any:
    def resolve(info: GraphQLResolveInfo, metafields: list[dict[str, Any]]) -> View:
        if len(metafields) > MAX_METAFIELDS:
            raise GraphQLError(
                f"The input array size of {len(metafields)} is greater than the maximum "
                f"allowed of {MAX_METAFIELDS}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        problems: list[View] = []
        for n, row in enumerate(metafields):
            path = ["metafields", str(n)]
            if owner_metafields(store, row["ownerId"]) is None:
                problems.append(
                    {
                        "field": [*path, "ownerId"],
                        "message": "Owner does not exist.",
                        "code": "INVALID_VALUE",
                        "elementIndex": n,
                    }
                )
            kind = row.get("type")
            if kind is None:
                problems.append(
                    {
                        "field": [*path, "type"],
                        "message": "Type can't be blank.",
                        "code": "BLANK",
                        "elementIndex": n,
                    }
                )
            elif kind not in _TYPES:
                problems.append(
                    {
                        "field": [*path, "type"],
                        "message": "Type is not a valid type.",
                        "code": "INVALID_TYPE",
                        "elementIndex": n,
                    }
                )
            elif not _valid(kind, row["value"]):
                problems.append(
                    {
                        "field": [*path, "value"],
                        "message": f"Value is invalid for {kind}.",
                        "code": "INVALID_VALUE",
                        "elementIndex": n,
                    }
                )
        if problems:
            return {"metafields": None, "userErrors": problems}
        written = []
        for row in metafields:
            fields = owner_metafields(store, row["ownerId"])
            assert fields is not None
            written.append(
                put(
                    store,
                    fields,
                    row.get("namespace") or APP_NAMESPACE,
                    row["key"],
                    row["value"],
                    row["type"],
                )
            )
        return {"metafields": [metafield_view(f) for f in written], "userErrors": []}

    return resolve
