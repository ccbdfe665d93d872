"""Writing stock levels, prices and customers through the batch endpoints.

Stock and prices live on products and variations, so their operations are grouped by where the
SKU lives (the products batch, or one variations batch per parent) and sent together. Customer-
and group-specific prices go to meta data (:mod:`adapters.woocommerce.price_meta`). A stock
update carrying the count seen at the snapshot is checked against the shop's count right before
the write, since WooCommerce has no compare-and-set.
Customers are matched by e-mail: a create refused with ``registration-error-email-exists``
is turned into an update of the customer holding that address.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapters.base import Archive, Create, Done, Failed, ItemResult, Operation, Update
from adapters.http import query
from adapters.woocommerce import schema
from adapters.woocommerce.client import PER_PAGE, WooClient
from adapters.woocommerce.mapping import stock_quantity
from adapters.woocommerce.payloads import Unwritable, customer_body, quantity
from adapters.woocommerce.price_meta import key_of_price, meta_key
from adapters.woocommerce.writes import Refs, entry_result
from rules.stock import SEEN_QUANTITY, recompute

log = logging.getLogger("concord.woocommerce")

_EMAIL_TAKEN = "registration-error-email-exists"


def _sku_of(op: Operation) -> str:
    if not isinstance(op, Archive) and op.fields.get("sku"):
        return str(op.fields["sku"])
    return op.key.split("|", 1)[0]


def _level_body(kind: str, op: Operation, currency: str) -> dict[str, Any]:
    if isinstance(op, Archive):
        _, customer, group, minimum = key_of_price(op.key)
        if kind != "price" or not (customer or group):
            raise Unwritable(f"a {kind} cannot be archived in WooCommerce")
        # A withdrawn negotiated price: emptied, as pricing plugins read an empty one as none.
        return {"meta_data": [{"key": meta_key(customer, group, minimum or 1), "value": ""}]}
    fields = op.fields
    if kind == "stock":
        if fields.get("location"):
            raise Unwritable("WooCommerce keeps one stock per article, not per location")
        if "quantity" not in fields:
            return {}
        return {"manage_stock": True, "stock_quantity": quantity(fields["quantity"])}
    _, customer, group, minimum = key_of_price(op.key)
    customer = fields.get("customer", customer)
    group = fields.get("group", group)
    minimum = fields.get("min_quantity", minimum) or "1"
    if fields.get("currency") not in (None, currency):
        raise Unwritable(f"prices are in {currency} in this shop, not {fields['currency']}")
    if customer or group:
        if fields.get("amount") is None:
            return {}
        return {
            "meta_data": [
                {"key": meta_key(customer, group, minimum), "value": str(fields["amount"])}
            ]
        }
    if str(minimum) != "1":
        raise Unwritable("quantity-break prices for everyone are not native in WooCommerce")
    if "amount" not in fields:
        return {}
    return {"regular_price": "" if fields["amount"] is None else str(fields["amount"])}


class LevelWriter:
    """Applies ``stock`` and ``price`` operations. Several operations on one article (its
    price and a customer's price) go out as one item of the batch."""

    def __init__(self, client: WooClient, refs: Refs, currency: str = "EUR") -> None:
        self._client = client
        self._refs = refs
        self._currency = currency

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        await self._learn([_sku_of(op) for op in operations if isinstance(op, Create)])
        items: dict[tuple[str, int], tuple[dict[str, Any], list[tuple[int, str]]]] = {}
        guarded: dict[str, tuple[int, Decimal, Decimal]] = {}
        for index, op in enumerate(operations):
            ref = self._refs.get(_sku_of(op)) if isinstance(op, Create) else op.ref
            if ref is None:
                results[index] = Failed(
                    key=op.key, reason=f"unknown_sku: no article has SKU {_sku_of(op)!r}"
                )
                continue
            try:
                body = _level_body(kind, op, self._currency)
            except Unwritable as exc:
                results[index] = Failed(key=op.key, reason=f"unsupported: {exc}")
                continue
            if not body:
                results[index] = Done(key=op.key, ref=ref)
                continue
            if (
                kind == "stock"
                and isinstance(op, Update)
                and op.fields.get(SEEN_QUANTITY) is not None
            ):
                guarded[ref] = (
                    index,
                    Decimal(str(op.fields[SEEN_QUANTITY])),
                    Decimal(body["stock_quantity"]),
                )
            parent, _, variation = ref.partition("/")
            path = f"/products/{parent}/variations" if variation else "/products"
            item_id = int(variation or parent)
            merged, owners = items.setdefault((path, item_id), ({"id": item_id}, []))
            meta = merged.get("meta_data", []) + body.pop("meta_data", [])
            merged.update(body)
            if meta:
                merged["meta_data"] = meta
            owners.append((index, ref))
        if guarded:
            await self._guard(items, guarded, operations, results)
        groups: dict[str, list[tuple[dict[str, Any], list[tuple[int, str]]]]] = {}
        for (path, _), (body, owners) in items.items():
            live = [(i, r) for i, r in owners if i not in results]
            if live:
                groups.setdefault(path, []).append((body, live))
        replies = await asyncio.gather(
            *(
                self._client.batch(path, update=[body for body, _ in bodies])
                for path, bodies in groups.items()
            )
        )
        for bodies, reply in zip(groups.values(), replies, strict=True):
            for position, (_, owners) in enumerate(bodies):
                entry = reply.update[position] if position < len(reply.update) else None
                for index, ref in owners:
                    result = entry_result(operations[index].key, entry)
                    # The shop answers with the variation's own id; keep "parent/variation".
                    results[index] = (
                        Done(key=result.key, ref=ref) if isinstance(result, Done) else result
                    )
        return [results[i] for i in range(len(operations))]

    async def _guard(
        self,
        items: dict[tuple[str, int], tuple[dict[str, Any], list[tuple[int, str]]]],
        guarded: dict[str, tuple[int, Decimal, Decimal]],
        operations: Sequence[Operation],
        results: dict[int, ItemResult],
    ) -> None:
        """WooCommerce has no compare-and-set: read each count right before writing it, and
        carry over a sale (or a return) the shop recorded since the snapshot."""
        current = await self._counts(list(guarded))
        for body, owners in items.values():
            for index, ref in owners:
                if ref not in guarded:
                    continue
                _, seen, planned = guarded[ref]
                now = current.get(ref)
                if now is None:
                    results[index] = Failed(
                        key=operations[index].key,
                        reason="stock_changed: the article no longer manages its stock",
                        transient=True,
                    )
                elif now != seen:
                    body["stock_quantity"] = quantity(recompute(planned, seen, now))
                    log.info(
                        "%s: the shop's stock moved from %s to %s during the cycle; writing %s",
                        operations[index].key,
                        seen,
                        now,
                        body["stock_quantity"],
                    )

    async def _counts(self, refs: list[str]) -> dict[str, Decimal]:
        """The shop's stock count now, by ref (managed stock only)."""
        products = [r for r in refs if "/" not in r]
        parents: dict[str, list[str]] = {}
        for ref in refs:
            parent, _, variation = ref.partition("/")
            if variation:
                parents.setdefault(parent, []).append(variation)
        requests: list[tuple[str, Any]] = [
            (
                "",
                self._client.list_all(
                    "/products",
                    {"include": ",".join(products[i : i + PER_PAGE])},
                    schema.Product,
                    [],
                ),
            )
            for i in range(0, len(products), PER_PAGE)
        ]
        requests += [
            (
                f"{parent}/",
                self._client.list_all(
                    f"/products/{parent}/variations",
                    {"include": ",".join(ids[i : i + PER_PAGE])},
                    schema.Variation,
                    [],
                ),
            )
            for parent, ids in parents.items()
            for i in range(0, len(ids), PER_PAGE)
        ]
        lists = await asyncio.gather(*(request for _, request in requests))
        counts: dict[str, Decimal] = {}
        for (prefix, _), found in zip(requests, lists, strict=True):
            for item in found:
                count = stock_quantity(item)
                if count is not None:
                    counts[f"{prefix}{item.id}"] = count
        return counts

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
