"""Writing stock levels, prices and customers through the batch endpoints.

Stock and prices live on products and variations, so their operations are grouped by where the
SKU lives (the products batch, or one variations batch per parent) and sent together.
Customers are matched by e-mail: a create refused with ``registration-error-email-exists``
is turned into an update of the customer holding that address.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from adapters.base import Archive, Create, Done, Failed, ItemResult, Operation
from adapters.http import query
from adapters.woocommerce import schema
from adapters.woocommerce.client import WooClient
from adapters.woocommerce.payloads import Unwritable, customer_body, quantity
from adapters.woocommerce.writes import Refs, entry_result

_EMAIL_TAKEN = "registration-error-email-exists"


def _sku_of(op: Operation) -> str:
    if not isinstance(op, Archive) and op.fields.get("sku"):
        return str(op.fields["sku"])
    return op.key.split("|", 1)[0]


def _level_body(kind: str, op: Operation) -> dict[str, Any]:
    assert not isinstance(op, Archive)
    fields = op.fields
    if kind == "stock":
        if fields.get("location"):
            raise Unwritable("WooCommerce keeps one stock per article, not per location")
        if "quantity" not in fields:
            return {}
        return {"manage_stock": True, "stock_quantity": quantity(fields["quantity"])}
    if fields.get("customer") or fields.get("group"):
        raise Unwritable("customer- and group-specific prices are not native in WooCommerce")
    if fields.get("min_quantity") not in (None, "1"):
        raise Unwritable("quantity-break prices are not native in WooCommerce")
    if "amount" not in fields:
        return {}
    return {"regular_price": "" if fields["amount"] is None else str(fields["amount"])}


class LevelWriter:
    """Applies ``stock`` and ``price`` operations."""

    def __init__(self, client: WooClient, refs: Refs) -> None:
        self._client = client
        self._refs = refs

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        await self._learn([_sku_of(op) for op in operations if isinstance(op, Create)])
        groups: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        for index, op in enumerate(operations):
            if isinstance(op, Archive):
                results[index] = Failed(
                    key=op.key, reason=f"unsupported: a {kind} cannot be archived in WooCommerce"
                )
                continue
            ref = self._refs.get(_sku_of(op)) if isinstance(op, Create) else op.ref
            if ref is None:
                results[index] = Failed(
                    key=op.key, reason=f"unknown_sku: no article has SKU {_sku_of(op)!r}"
                )
                continue
            try:
                body = _level_body(kind, op)
            except Unwritable as exc:
                results[index] = Failed(key=op.key, reason=f"unsupported: {exc}")
                continue
            if not body:
                results[index] = Done(key=op.key, ref=ref)
                continue
            parent, _, variation = ref.partition("/")
            path = f"/products/{parent}/variations" if variation else "/products"
            item = {"id": int(variation or parent), **body}
            groups.setdefault(path, []).append((index, ref, item))
        replies = await asyncio.gather(
            *(
                self._client.batch(path, update=[item for _, _, item in items])
                for path, items in groups.items()
            )
        )
        for items, reply in zip(groups.values(), replies, strict=True):
            for position, (index, ref, _) in enumerate(items):
                entry = reply.update[position] if position < len(reply.update) else None
                result = entry_result(operations[index].key, entry)
                # The shop answers with the variation's own id; keep the "parent/variation" ref.
                results[index] = (
                    Done(key=result.key, ref=ref) if isinstance(result, Done) else result
                )
        return [results[i] for i in range(len(operations))]

    async def _learn(self, skus: list[str]) -> None:
        """Find refs for SKUs not seen yet: the SKU filter covers products (not variations)."""
        missing = [s for s in skus if s not in self._refs]
        if not missing:
            return
        found = await self._client.list_all(
            "/products", {"sku": ",".join(missing)}, schema.Product, []
        )
        for product in found:
            if product.sku:
                self._refs[product.sku] = str(product.id)


class CustomerWriter:
    """Applies ``customer`` operations."""

    def __init__(self, client: WooClient) -> None:
        self._client = client

    async def apply(self, operations: Sequence[Operation]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        creates: list[tuple[int, dict[str, Any]]] = []
        updates: list[tuple[int, dict[str, Any]]] = []
        for index, op in enumerate(operations):
            if isinstance(op, Archive):
                results[index] = Failed(
                    key=op.key, reason="unsupported: WooCommerce customers cannot be archived"
                )
            elif isinstance(op, Create):
                creates.append((index, {"email": op.key, **customer_body(op.fields)}))
            else:
                updates.append((index, {"id": int(op.ref), **customer_body(op.fields)}))
        reply = await self._client.batch(
            "/customers", create=[b for _, b in creates], update=[b for _, b in updates]
        )
        retries: list[tuple[int, dict[str, Any]]] = []
        for position, (index, body) in enumerate(creates):
            entry = reply.create[position] if position < len(reply.create) else None
            if entry is not None and entry.error is not None and entry.error.code == _EMAIL_TAKEN:
                owner = await self._owner(body["email"])
                if owner is not None:
                    retries.append((index, {**body, "id": owner}))
                    continue
            results[index] = entry_result(operations[index].key, entry)
        for position, (index, _) in enumerate(updates):
            entry = reply.update[position] if position < len(reply.update) else None
            results[index] = entry_result(operations[index].key, entry)
        if retries:
            again = await self._client.batch("/customers", update=[b for _, b in retries])
            for position, (index, _) in enumerate(retries):
                entry = again.update[position] if position < len(again.update) else None
                results[index] = entry_result(operations[index].key, entry)
        return [results[i] for i in range(len(operations))]

    async def _owner(self, email: str) -> int | None:
        found = await self._client.list_all(
            "/customers", query({"email": email, "role": "all"}), schema.Customer, []
        )
        return found[0].id if found else None
