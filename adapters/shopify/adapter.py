"""Concord's adapter for a Shopify shop (GraphQL Admin API, ``/admin/api/{version}``).

Kinds: ``product`` (an article is a product with its one default variant; see
:mod:`adapters.shopify.products`). Snapshots are incremental through Shopify's search
(``updated_at:>'…'``): its index trails writes by a few seconds, so reads start
``overlap_seconds`` before the cursor and what comes back twice is kept once. Every query is
paid in points (:mod:`adapters.shopify.cost`), pages sized to the query cost cap.

Products Concord cannot read faithfully (a variant without SKU) are left out of snapshots and
appended to :attr:`ShopifyAdapter.rejected` as ``(ref, reason)``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import msgspec

from adapters.base import (
    Capabilities,
    Create,
    Done,
    Failed,
    ItemResult,
    Operation,
    PermanentError,
    Reject,
    Seen,
    Snapshot,
    TransientError,
    Update,
    read_from,
)
from adapters.shopify import bulk_read, cost, people
from adapters.shopify import products as shop_products
from adapters.shopify.bulk_apply import BulkWrites, creates, nothing, sent_fields
from adapters.shopify.client import ShopifyClient, user_errors
from adapters.shopify.feedback import OrderFeedbackMixin
from adapters.shopify.products import ShopProduct, ShopVariant, Unreadable
from adapters.shopify.settings import ShopifySettings, parse_settings
from adapters.shopify.stock import StockKeeper, to_stock
from adapters.shopify.uncertain import LostCreations
from adapters.shopify.variant_limit import VariantAllowance, VariantLimitReached
from adapters.shopify.writes import (
    KEEP_SKU,
    KEEP_SKU_COST,
    SET_COST,
    SET_PRODUCT,
    keep_sku_input,
    over_variants,
    product_input,
    unfit,
)
from canonical.fields import from_fields, to_fields
from canonical.models import Product

log = logging.getLogger("concord.shopify")
KINDS = ("product", "stock", "customer", "order")
READ_ONLY = ("customer", "order")
CARRIED = {
    "product": frozenset(
        {
            "sku",
            "name",
            "description",
            "price",
            "sale_price",
            "cost",
            "weight",
            "barcode",
            "category",
            "active",
            "variants",
        }
    )
}
"""What an article carries in Shopify and reads back as written (cost and weight on each
variant's inventory item, the category in ``productType``). No sale dates: Shopify has no
scheduled compare-at price, a sale runs until the price is changed. Tax is in Shopify's own
terms (``taxCode``)."""
_LOOKUP_CHUNK = 50


class ShopifyAdapter(OrderFeedbackMixin, BulkWrites):
    """A Shopify shop behind Concord's :class:`adapters.base.Adapter` boundary; order
    feedback (statuses, notes, refunds) from :mod:`adapters.shopify.feedback`, writes by bulk
    mutation from :mod:`adapters.shopify.bulk_apply`."""

    def __init__(self, settings: ShopifySettings) -> None:
        self.settings = settings
        self.client = ShopifyClient(settings)
        self.rejected: list[tuple[str, str]] = []
        """``(ref, reason)`` of records left out of snapshots; the engine drains it."""
        self._product_of: dict[str, str] = {}
        """SKU -> product gid, of every product seen or written."""
        self._variant_of: dict[str, str] = {}
        """SKU -> variant gid."""
        self._last: dict[str, Product] = {}
        """Product gid -> the article as last read or written."""
        self.stock = StockKeeper(
            self.client, settings.location, bulk_read_above=settings.bulk_read_above
        )
        self.allowance = VariantAllowance()
        """Shopify's daily variant-creation throttle, as last answered."""
        self.lost = LostCreations(settings.overlap_seconds)
        """Creations whose answer was lost, held while Shopify's search may not show them."""
        self._promised = 0.0
        """Points set aside for the ``productSet`` calls of batches being written."""
        self._capabilities = Capabilities(
            batch_size=250,
            requests_per_second=settings.requests_per_second,
            max_concurrency=settings.max_concurrency,
            incremental=True,
            kinds=KINDS,
            fields=CARRIED,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def __repr__(self) -> str:
        return f"ShopifyAdapter({self.settings!r})"

    # -- reading --------------------------------------------------------------------------

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        """Every article, or those Shopify's search finds changed after ``since`` minus the
        overlap; the cursor is the newest ``updatedAt`` seen (Shopify's clock)."""
        _check(kind)
        if kind == "stock":
            # Stock moves leave no date on the variant: counts are always read whole.
            levels = await self.stock.read()
            seen = [Seen(record=to_stock(level), ref=level.item) for level in levels]
            return Snapshot(records=seen, cursor=since, complete=True)
        search = self._since(since)
        if kind in READ_ONLY:
            seen = await people.search(self.client, self.rejected, kind, search)
            return Snapshot(records=seen, cursor=_newest(seen, since), complete=since is None)
        found = await self._list(search) if since is not None else await self._everything()
        seen = await self._convert(found)
        return Snapshot(records=seen, cursor=_newest(seen, since), complete=since is None)

    async def _everything(self) -> list[ShopProduct]:
        """Every product: by a bulk operation when the catalogue is large, else in pages."""
        if await self.stock.large():
            try:
                nodes = await bulk_read.read_products(
                    self.client, poll_seconds=self.settings.bulk_poll_seconds
                )
            except bulk_read.Busy as exc:
                log.info("Shopify: %s; the catalogue is read page by page", exc)
            else:
                return [p for p in map(self._decode, nodes) if p is not None]
        return await self._list(None)

    def _since(self, since: str | None) -> str | None:
        """The search for records changed after ``since`` less the overlap (None: all)."""
        search = None
        if since is not None:
            start = shop_products.instant(since)
            if start is None:
                raise PermanentError(f"not a Shopify cursor: {since!r}")
            search = shop_products.since_query(
                read_from(start, timedelta(seconds=self.settings.overlap_seconds))
            )
        return search

    async def _list(self, search: str | None) -> list[ShopProduct]:
        """The products a search finds, in pages."""
        document, first, requested = shop_products.products_query(self.client.query_limit)
        by_id: dict[str, ShopProduct] = {}
        after: str | None = None
        while True:
            data = await self.client.execute(
                document, {"first": first, "after": after, "query": search}, cost=requested
            )
            page = data["products"]
            for node in page["nodes"]:
                product = self._decode(node)
                if product is not None:
                    by_id[product.id] = product  # read twice across pages: kept once
            info = page["pageInfo"]
            if not info.get("hasNextPage"):
                return list(by_id.values())
            after = info.get("endCursor")

    def _decode(self, node: Any) -> ShopProduct | None:
        try:
            return msgspec.convert(node, ShopProduct)
        except msgspec.ValidationError as exc:
            self.rejected.append((str(node.get("id", "?")), f"product: {exc}"))
            return None

    async def _convert(self, found: list[ShopProduct]) -> list[Seen]:
        seen: list[Seen] = []
        for product in found:
            variants = list(product.variants.nodes) if product.variants else []
            if product.variants and product.variants.page_info.get("hasNextPage"):
                variants = await self._all_variants(product.id)
            try:
                record = shop_products.to_product(product, variants)
                modified = shop_products.instant(product.updated_at)
            except Unreadable as exc:
                sku = shop_products.sku_of(product, variants)
                self.rejected.append(Reject(product.id, f"product: {exc}", sku))
                continue
            self._remember(product.id, record, variants)
            seen.append(Seen(record=record, ref=product.id, modified_at=modified))
        return seen

    async def _all_variants(self, product_id: str) -> list[ShopVariant]:
        # A product and a page of its variants, as many as the single-query cap pays for.
        first = cost.page_size(
            shop_products.VARIANT_COST, self.client.query_limit, overhead=cost.OBJECT
        )
        requested = cost.OBJECT + cost.connection_cost(first, shop_products.VARIANT_COST)
        document = (
            "query Variants($id: ID!, $first: Int!, $after: String) { product(id: $id) {"
            " variants(first: $first, after: $after) {"
            f" nodes {{ {shop_products.VARIANT_FIELDS} }} pageInfo {{ hasNextPage endCursor }}"
            " } } }"
        )
        variants: list[ShopVariant] = []
        after: str | None = None
        while True:
            data = await self.client.execute(
                document, {"id": product_id, "first": first, "after": after}, cost=requested
            )
            page = (data.get("product") or {}).get("variants") or {"nodes": [], "pageInfo": {}}
            variants += msgspec.convert(page["nodes"], list[ShopVariant])
            if not page["pageInfo"].get("hasNextPage"):
                return variants
            after = page["pageInfo"].get("endCursor")

    def _remember(self, product_id: str, record: Product, variants: list[ShopVariant]) -> None:
        self._last[product_id] = record
        self._product_of[record.sku] = product_id
        for variant in variants:
            sku = (variant.sku or "").strip()
            if sku:
                self._product_of[sku] = product_id
                self._variant_of[sku] = variant.id

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        """The articles with these SKUs: those already seen read by id (Shopify's search
        trails writes), the others found by search. Orders by number (searched) or by their
        GraphQL id (read directly: what an order webhook names, found before the search
        shows it), customers by e-mail."""
        _check(kind)
        wanted = list(dict.fromkeys(k.strip() for k in keys if k.strip()))
        if kind == "stock":
            levels = await self.stock.read(wanted) if wanted else []
            return [Seen(record=to_stock(level), ref=level.item) for level in levels]
        if kind in READ_ONLY:
            return await people.fetch(self.client, self.rejected, kind, wanted) if wanted else []
        known = sorted({self._product_of[k] for k in wanted if k in self._product_of})
        unknown = [k for k in wanted if k not in self._product_of]
        for start in range(0, len(unknown), _LOOKUP_CHUNK):
            chunk = unknown[start : start + _LOOKUP_CHUNK]
            known += await self._holding(chunk)
        found = await self._by_ids(sorted(set(known)))
        unique = list({p.id: p for p in found}.values())
        seen = await self._convert(unique)
        keep = set(wanted)
        return [s for s in seen if s.record.natural_key() in keep]

    async def _holding(self, skus: list[str]) -> list[str]:
        """The ids of the products holding ``skus`` (Shopify's search of their variants)."""
        first = len(skus) + 2  # a SKU held twice still fits
        ids: list[str] = []
        after: str | None = None
        while True:
            data = await self.client.execute(
                shop_products.LOOKUP_QUERY,
                {"first": first, "after": after, "query": shop_products.sku_query(skus)},
                cost=shop_products.lookup_cost(first),
            )
            page = data["productVariants"]
            ids += [node["product"]["id"] for node in page["nodes"] if node.get("product")]
            if not page["pageInfo"].get("hasNextPage"):
                return ids
            after = page["pageInfo"].get("endCursor")

    async def _by_ids(self, ids: list[str]) -> list[ShopProduct]:
        if not ids:
            return []
        step = max(1, int(self.client.query_limit // shop_products.NODE_COST))
        found: list[ShopProduct] = []
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            data = await self.client.execute(
                shop_products.NODES_QUERY,
                {"ids": chunk},
                cost=shop_products.nodes_cost(len(chunk)),
            )
            for node in data.get("nodes") or []:
                if node:
                    product = self._decode(node)
                    if product is not None:
                        found.append(product)
        return found

    # -- writing --------------------------------------------------------------------------

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        """Write each operation with one ``productSet``: concurrently, or, more than
        ``bulk_write_above`` of them, as the lines of one bulk mutation; a result per item."""
        _check(kind)
        if len(operations) > self._capabilities.batch_size:
            raise PermanentError(f"at most {self._capabilities.batch_size} operations per apply")
        if kind == "stock":
            return await self.stock.apply(operations)
        if kind in READ_ONLY:
            return [
                Failed(key=op.key, reason=f"read_only: {kind} records are read from Shopify")
                for op in operations
            ]
        creations = [op.key for op in operations if isinstance(op, Create)]
        missing = [k for k in creations if k not in self._product_of]
        if missing:
            await self.fetch("product", missing)
            await self._settle_bulk([k for k in missing if k not in self._product_of])
        held: dict[str, ItemResult] = {}
        for key in missing:
            if key in self._product_of:
                self.lost.found(key)
            elif hold := self.lost.held(key):
                held[key] = hold
        if self.allowance.held():
            # Sending them would only be answered 429 again: they wait for the allowance.
            held.update((k, self.allowance.refuse(k)) for k in missing if k not in held)
        if not held:
            return await self._write_all(operations)
        writes = [op for op in operations if op.key not in held]
        done = {r.key: r for r in await self._write_all(writes)}
        return [held.get(op.key) or done[op.key] for op in operations]

    async def _write_all(self, operations: Sequence[Operation]) -> list[ItemResult]:
        """Past ``bulk_write_above``, both of Shopify's channels at once: as many articles
        as the bucket's spare points pay for go call by call while the rest go by a bulk
        mutation, which spends no points but takes Shopify its own time."""
        by_call: Sequence[Operation] = operations
        in_bulk: Sequence[Operation] = ()
        promised = 0.0
        if len(operations) > self.settings.bulk_write_above:
            calls, promised = (
                self._calls_affordable(len(operations))
                if self.settings.calls_beside_bulk
                else (0, 0.0)
            )
            by_call, in_bulk = operations[:calls], operations[calls:]
        self._promised += promised
        try:
            written, bulk_results = await asyncio.gather(
                asyncio.gather(*(self._write(op) for op in by_call)),
                self._write_in_bulk(in_bulk) if in_bulk else nothing(),
            )
        finally:
            self._promised -= promised
        if bulk_results is None:
            bulk_results = await asyncio.gather(*(self._write(op) for op in in_bulk))
        return [*written, *bulk_results]

    def _calls_affordable(self, count: int) -> tuple[int, float]:
        """How many of ``count`` articles the points spare now pay for, one ``productSet``
        each, and those points. Spare: beyond what other batches were promised and what the
        next batch's SKU lookup asks for (it must find its points in the bucket before it
        runs). A rest too small for a bulk mutation goes call by call too, waiting for its
        points."""
        each = max(self.client.typical_cost(SET_PRODUCT, SET_COST), 1.0)
        kept = shop_products.lookup_cost(_LOOKUP_CHUNK + 2)  # the next batch's SKU lookup
        spare = self.client.points.available() - self._promised - kept
        calls = min(count, max(0, int(spare // each)))
        if count - calls <= self.settings.bulk_write_above:
            calls = count
        return calls, calls * each

    async def _write(self, operation: Operation) -> ItemResult:
        prepared = await self._prepare(operation)
        if isinstance(prepared, Failed):
            return prepared
        creating = creates(prepared)
        try:
            data = await self.client.execute(
                SET_PRODUCT, prepared, cost=SET_COST, idempotent=not creating
            )
        except VariantLimitReached as exc:
            self.allowance.reached(exc.retry_after)
            return self.allowance.refuse(operation.key)
        except TransientError as exc:
            if creating:
                return self.lost.lost(operation.key, f"no answer to its creation: {exc}")
            raise  # an update sent again sets the same values: the batch is retried
        return await self._settle(operation.key, data.get("productSet"), sent_fields(operation))

    async def _prepare(self, operation: Operation) -> dict[str, Any] | Failed:
        """The ``productSet`` variables writing ``operation`` over the article as last read."""
        key = operation.key
        if isinstance(operation, Create):
            product_id = self._product_of.get(key)
            fields = operation.fields
        else:
            product_id = operation.ref
            fields = operation.fields if isinstance(operation, Update) else {"active": False}
        base = self._last.get(product_id) if product_id else None
        if product_id is not None and base is None:
            await self._by_ids_converted(product_id)
            base = self._last.get(product_id)
            if base is None:
                return Failed(key=key, reason=f"PRODUCT_DOES_NOT_EXIST: no product {product_id}")
        known = to_fields(base) if base else {}
        merged = {**known, **fields}
        if known.get("variants") and fields.get("variants"):
            merged["variants"] = over_variants(known["variants"], fields["variants"])
        record = from_fields("product", merged)
        assert isinstance(record, Product)
        if (reason := unfit(record)) is not None:
            return Failed(key=key, reason=f"{key}: {reason}")
        location = await self.stock.location()
        return {"input": product_input(record, product_id, self._variant_of, location)}

    async def _settle(self, key: str, payload: Any, sent: Mapping[str, Any]) -> ItemResult:
        """The result of one ``productSet``, the product it answered remembered (sharing the
        text it was ``sent``)."""
        problems = user_errors(payload)
        if problems:
            return Failed(key=key, reason=f"{key}: " + "; ".join(p.reason() for p in problems))
        written = self._decode((payload or {}).get("product") or {})
        if written is None:
            return Failed(key=key, reason=f"{key}: productSet answered no product", transient=True)
        if shop_products.lacks_own_sku(written, key):
            # A simple product given variants reads under its first variant's SKU until it
            # holds its own: keep it, or the next snapshot sees one article gone, one new.
            data = await self.client.execute(
                KEEP_SKU, keep_sku_input(written.id, key), cost=KEEP_SKU_COST
            )
            problems = user_errors(data.get("metafieldsSet"))
            if problems:
                reason = "; ".join(p.reason() for p in problems)
                return Failed(key=key, reason=f"{key}: its own SKU not kept: {reason}")
            written = msgspec.structs.replace(
                written, parent_sku=shop_products.Metafield(value=key)
            )
        await self._convert([written])
        if (record := self._last.get(written.id)) is not None:
            self._last[written.id] = shop_products.sharing_sent(record, sent)
        return Done(key=key, ref=written.id)

    async def _by_ids_converted(self, product_id: str) -> None:
        await self._convert(await self._by_ids([product_id]))

    async def aclose(self) -> None:
        await self.client.aclose()


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise PermanentError(f"Shopify has no kind {kind!r} here; kinds: {', '.join(KINDS)}")


def _newest(seen: list[Seen], since: str | None) -> str | None:
    """The newest modification time seen, never behind ``since``."""
    stamps = [s.modified_at for s in seen if s.modified_at is not None]
    if since is not None:
        previous = shop_products.instant(since)
        if previous is not None:
            stamps.append(previous)
    return max(stamps).isoformat() if stamps else since


def create(settings: Mapping[str, Any], *, source: str) -> ShopifyAdapter:
    """Build the adapter from its settings table (:mod:`adapters.shopify.settings`)."""
    return ShopifyAdapter(parse_settings(settings, source=source))
