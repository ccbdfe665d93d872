"""Writing products (with their variations) through the batch endpoints.

A :class:`Create` is idempotent on the SKU: when the shop answers ``product_invalid_sku`` with
the ``resource_id`` holding that SKU, the body is sent again as an update of that product, and
the result links to it. So a create retried after a lost answer never duplicates a product.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from adapters.base import Archive, Create, Done, Failed, ItemResult, Operation, Update
from adapters.woocommerce import schema
from adapters.woocommerce.categories import CategoryTree
from adapters.woocommerce.client import BATCH_LIMIT, WooClient
from adapters.woocommerce.payloads import (
    Fields,
    Unwritable,
    attributes_body,
    product_body,
    variant_options,
    variation_body,
)

Refs = dict[str, str]
"""SKU → ref (``"pid"`` for a product, ``"pid/vid"`` for a variation) learned from reads."""


def entry_result(key: str, entry: schema.BatchEntry | None) -> ItemResult:
    if entry is None:
        return Failed(key=key, reason="no_answer: the shop left this item out", transient=True)
    if entry.error is not None:
        return Failed(key=key, reason=entry.error.reason())
    return Done(key=key, ref=str(entry.id))


def _at(entries: list[schema.BatchEntry], index: int) -> schema.BatchEntry | None:
    return entries[index] if index < len(entries) else None


class ProductWriter:
    """Applies product operations for one adapter."""

    def __init__(
        self,
        client: WooClient,
        categories: CategoryTree,
        refs: Refs,
        rejected: list[tuple[str, str]],
    ) -> None:
        self._client = client
        self._categories = categories
        self._refs = refs
        self._rejected = rejected

    async def apply(self, operations: Sequence[Operation]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        creates: list[tuple[int, dict[str, Any]]] = []
        updates: list[tuple[int, dict[str, Any]]] = []
        for index, op in enumerate(operations):
            try:
                if isinstance(op, Create):
                    creates.append((index, await self._body(op.fields, op.key, None)))
                elif isinstance(op, Update):
                    body = await self._body(op.fields, op.key, int(op.ref))
                    updates.append((index, {"id": int(op.ref), **body}))
                else:
                    updates.append((index, {"id": int(op.ref), "status": "draft"}))
            except (Unwritable, ValueError) as exc:
                results[index] = Failed(key=op.key, reason=f"invalid_value: {exc}")
        reply = await self._client.batch(
            "/products", create=[b for _, b in creates], update=[b for _, b in updates]
        )
        retries: list[tuple[int, dict[str, Any]]] = []
        for position, (index, body) in enumerate(creates):
            entry = _at(reply.create, position)
            error = entry.error if entry is not None else None
            if error is not None and error.code == "product_invalid_sku" and error.resource_id:
                retries.append((index, {**body, "id": error.resource_id}))
            else:
                results[index] = entry_result(operations[index].key, entry)
        for position, (index, _) in enumerate(updates):
            results[index] = entry_result(operations[index].key, _at(reply.update, position))
        if retries:
            again = await self._client.batch("/products", update=[b for _, b in retries])
            for position, (index, _) in enumerate(retries):
                results[index] = entry_result(operations[index].key, _at(again.update, position))
        await self._sync_all(operations, results)
        return [results[i] for i in range(len(operations))]

    async def _body(self, fields: Fields, sku: str, product_id: int | None) -> dict[str, Any]:
        body = product_body(fields, creating=product_id is None)
        if product_id is None:
            body.setdefault("sku", sku)
        if "category" in fields:
            path = tuple(fields["category"] or ())
            if path:
                category_id = await self._categories.resolve(path, self._rejected)
                body["categories"] = [{"id": category_id}]
            else:
                body["categories"] = []
        if "attributes" in fields or "variants" in fields:
            plain, varying = fields.get("attributes"), fields.get("variants")
            if product_id is not None and (plain is None or varying is None):
                current = await self._current_attributes(product_id)
                plain = current[0] if plain is None else plain
                options = current[1] if varying is None else variant_options(varying)
            else:
                options = variant_options(varying or [])
            body["attributes"] = attributes_body(plain or [], options)
            if varying:
                body["type"] = "variable"
        return body

    async def _current_attributes(
        self, product_id: int
    ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        """The product's plain attributes and variation options as the shop has them now."""
        product = await self._client.get(f"/products/{product_id}", schema.Product)
        if isinstance(product, schema.Error):
            raise ValueError(product.reason())
        plain = [
            {"name": a.name, "value": " | ".join(a.options)}
            for a in product.attributes
            if not a.variation
        ]
        varying = {a.name: list(a.options) for a in product.attributes if a.variation}
        return plain, varying

    async def _sync_all(
        self, operations: Sequence[Operation], results: dict[int, ItemResult]
    ) -> None:
        jobs: list[tuple[int, asyncio.Task[str | None]]] = []
        for index, op in enumerate(operations):
            result = results[index]
            if isinstance(op, Archive) or not isinstance(result, Done):
                continue
            variants = op.fields.get("variants")
            if variants:
                future = asyncio.create_task(self.sync_variations(int(result.ref), variants))
                jobs.append((index, future))
        for index, future in jobs:
            problem = await future
            if problem is not None:
                results[index] = Failed(key=operations[index].key, reason=problem)

    async def sync_variations(self, product_id: int, variants: list[Fields]) -> str | None:
        """Make the product's variations match ``variants`` (by SKU); variations no longer
        listed are disabled (``private``), never deleted. Returns the first problem, if any."""
        path = f"/products/{product_id}/variations"
        existing = await self._client.list_all(path, {}, schema.Variation, self._rejected)
        by_sku = {v.sku: v for v in existing if v.sku}
        creates: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        try:
            for variant in variants:
                body = variation_body(variant)
                current = by_sku.get(variant["sku"])
                if current is None:
                    creates.append(body)
                else:
                    updates.append({"id": current.id, **body})
        except Unwritable as exc:
            return f"invalid_value: {exc}"
        wanted = {v["sku"] for v in variants}
        updates += [
            {"id": v.id, "status": "private"}
            for v in existing
            if v.sku not in wanted and v.status != "private"
        ]
        problems: list[str] = []
        items = [("create", b) for b in creates] + [("update", b) for b in updates]
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = items[start : start + BATCH_LIMIT]
            reply = await self._client.batch(
                path,
                create=[b for k, b in chunk if k == "create"],
                update=[b for k, b in chunk if k == "update"],
            )
            sent = [b for k, b in chunk if k == "create"], [b for k, b in chunk if k == "update"]
            for bodies, entries in zip(sent, (reply.create, reply.update), strict=True):
                for position, body in enumerate(bodies):
                    entry = _at(entries, position)
                    if entry is None or entry.error is not None:
                        reason = entry.error.reason() if entry and entry.error else "no answer"
                        problems.append(f"variation {body.get('sku', body['id'])}: {reason}")
                    elif body.get("sku"):
                        self._refs[body["sku"]] = f"{product_id}/{entry.id}"
        return problems[0] if problems else None
