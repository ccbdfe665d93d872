"""Writing products (with their variations) through the batch endpoints.

A :class:`Create` is idempotent on the SKU: when the shop answers ``product_invalid_sku`` with
the ``resource_id`` holding that SKU, the body is sent again as an update of that product, and
the result links to it. So a create retried after a lost answer never duplicates a product.
WooCommerce compares SKUs without letter case (its database collation), so the holder is read
first: one whose SKU differs from ours (``CASE-001`` for ``case-001``) is another article, and
the create fails naming both SKUs instead of overwriting it.

Each product's variations are written on their own: a refused variation fails its product's
item only, never the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from adapters.base import (
    AdapterError,
    Archive,
    Create,
    Done,
    Failed,
    ItemResult,
    Operation,
    TransientError,
    Update,
)
from adapters.woocommerce import schema
from adapters.woocommerce.categories import CategoryTree
from adapters.woocommerce.client import BATCH_LIMIT, WooClient
from adapters.woocommerce.payloads import (
    HIDDEN,
    Fields,
    Unwritable,
    attributes_body,
    product_body,
    variant_options,
    variation_body,
    variation_differs,
)
from rules.categories import CODES_FIELD

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
                    if not body:
                        # Only variations changed: the product itself is left untouched.
                        results[index] = Done(key=op.key, ref=op.ref)
                        continue
                    updates.append((index, {"id": int(op.ref), **body}))
                else:
                    updates.append((index, {"id": int(op.ref), "status": HIDDEN}))
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
                clash = await self._other_holder(body["sku"], error.resource_id)
                if clash is None:
                    retries.append((index, {**body, "id": error.resource_id}))
                else:
                    results[index] = Failed(key=operations[index].key, reason=clash)
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

    async def _other_holder(self, sku: str, holder: int) -> str | None:
        """Why the shop's product ``holder``, which holds ``sku`` in the shop's eyes, is not
        ours to update; None when it is (its SKU is ours, as the shop stores it)."""
        product = await self._client.get(f"/products/{holder}", schema.Product)
        if isinstance(product, schema.Error):
            # A variation (or a trashed product) holds it: not a product to update here.
            return f"product_invalid_sku: SKU {sku!r} is held by shop item {holder}"
        if product.sku == sku:
            return None
        return (
            f"sku_collision: {sku!r} and {product.sku!r} (shop product {holder}) differ only "
            "by letter case or spaces; WooCommerce holds one SKU for both: rename one of them"
        )

    async def _body(self, fields: Fields, sku: str, product_id: int | None) -> dict[str, Any]:
        body = product_body(fields, creating=product_id is None)
        if product_id is None:
            body.setdefault("sku", sku)
        if "category" in fields:
            path = tuple(fields["category"] or ())
            if path:
                codes = tuple(fields.get(CODES_FIELD) or ())
                category_id = await self._categories.resolve(path, self._rejected, codes)
                body["categories"] = [{"id": category_id}]
            else:
                body["categories"] = []
        if "attributes" in fields or "variants" in fields:
            plain, varying = fields.get("attributes"), fields.get("variants")
            current: tuple[list[dict[str, Any]], dict[str, list[str]], str] | None = None
            if product_id is not None:
                current = await self._current_attributes(product_id)
                plain = current[0] if plain is None else plain
                options = current[1] if varying is None else variant_options(varying)
            else:
                options = variant_options(varying or [])
            attributes = attributes_body(plain or [], options)
            if current is None or attributes != attributes_body(current[0], current[1]):
                body["attributes"] = attributes
            if varying and (current is None or current[2] != "variable"):
                body["type"] = "variable"
        return body

    async def _current_attributes(
        self, product_id: int
    ) -> tuple[list[dict[str, Any]], dict[str, list[str]], str]:
        """The product's plain attributes, variation options and type as the shop has them."""
        product = await self._client.get(f"/products/{product_id}", schema.Product)
        if isinstance(product, schema.Error):
            raise ValueError(product.reason())
        plain = [
            {"name": a.name, "value": " | ".join(a.options)}
            for a in product.attributes
            if not a.variation
        ]
        varying = {a.name: list(a.options) for a in product.attributes if a.variation}
        return plain, varying, product.type

    async def _sync_all(
        self, operations: Sequence[Operation], results: dict[int, ItemResult]
    ) -> None:
        jobs: list[tuple[int, asyncio.Task[Failed | None]]] = []
        # A task group: nothing is left running (to find its session closed) if one fails.
        async with asyncio.TaskGroup() as group:
            for index, op in enumerate(operations):
                result = results[index]
                if isinstance(op, Archive) or not isinstance(result, Done):
                    continue
                variants = op.fields.get("variants")
                if variants:
                    task = group.create_task(self._sync_one(op.key, int(result.ref), variants))
                    jobs.append((index, task))
        for index, task in jobs:
            failed = task.result()
            if failed is not None:
                results[index] = failed

    async def _sync_one(self, key: str, product_id: int, variants: list[Fields]) -> Failed | None:
        """One product's variations; a refusal, or a request that failed, fails this item."""
        try:
            problem = await self.sync_variations(product_id, variants)
        except TransientError as exc:
            return Failed(key=key, reason=f"variations: {exc}", transient=True)
        except AdapterError as exc:
            return Failed(key=key, reason=f"variations: {exc}")
        return None if problem is None else Failed(key=key, reason=problem)

    async def sync_variations(self, product_id: int, variants: list[Fields]) -> str | None:
        """Make the product's variations match ``variants`` (by SKU). Only variations that
        differ are written, so a change to one article touches its variation only. Variations
        no longer listed are disabled (``private``), never deleted, unless their SKU moved to
        another product (see :meth:`_move`). Returns the first problem, if any."""
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
                elif variation_differs(body, current):
                    updates.append({"id": current.id, **body})
        except Unwritable as exc:
            return f"invalid_value: {exc}"
        wanted = {v["sku"] for v in variants}
        retired = [
            {"id": v.id, "status": "private"}
            for v in existing
            if v.sku not in wanted and v.status != "private"
        ]
        problems: list[str] = []
        moved = await self._send_variations(path, product_id, creates, updates, problems)
        if moved:
            moved = [body for body in moved if await self._move(body["sku"], body, problems)]
            await self._send_variations(path, product_id, moved, [], problems)
        # The SKU of a retired variation may have moved (and it gone) meanwhile: nothing to do.
        await self._send_variations(path, product_id, [], retired, [])
        return problems[0] if problems else None

    async def _send_variations(
        self,
        path: str,
        product_id: int,
        creates: list[dict[str, Any]],
        updates: list[dict[str, Any]],
        problems: list[str],
    ) -> list[dict[str, Any]]:
        """Send in batches; returns the creations refused because another product's variation
        holds the SKU (an article that moved to this product)."""
        taken: list[dict[str, Any]] = []
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
                    error = entry.error if entry is not None else None
                    if entry is None or error is not None:
                        if (
                            error is not None
                            and error.code == "product_invalid_sku"
                            and ("/" in self._refs.get(body.get("sku", ""), ""))
                        ):
                            taken.append(body)
                            continue
                        reason = error.reason() if error is not None else "no answer"
                        name = body.get("sku") or body.get("id")
                        problems.append(f"variation {name}: {reason}")
                    elif body.get("sku"):
                        self._refs[body["sku"]] = f"{product_id}/{entry.id}"
        return taken

    async def _move(self, sku: str, body: dict[str, Any], problems: list[str]) -> bool:
        """Free ``sku`` from the variation of another product holding it, carrying its stock
        count over to ``body``. WooCommerce cannot give a variation another parent, so the old
        one is deleted and a new one created under the new parent."""
        parent, _, variation = self._refs[sku].partition("/")
        path = f"/products/{parent}/variations/{variation}"
        old = await self._client.get(path, schema.Variation)
        if isinstance(old, schema.Error):
            problems.append(
                f"variation {sku}: cannot move it from product {parent}: {old.reason()}"
            )
            return False
        if "stock_quantity" not in body and old.manage_stock is True:
            body["manage_stock"] = True
            body["stock_quantity"] = old.stock_quantity
        response = await self._client.http.request(
            "DELETE", path, params={"force": "true"}, ok=(200, 404)
        )
        if response.status != 200:
            problems.append(f"variation {sku}: cannot move it from product {parent}: gone")
            return False
        del self._refs[sku]
        return True
