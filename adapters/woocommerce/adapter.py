"""Concord's adapter for a WooCommerce shop (REST API v3, ``/wp-json/wc/v3``).

Kinds: ``product`` (with variations as variants), ``stock`` and ``price`` (per SKU, on products
and variations), ``customer`` (by e-mail) and ``order`` (read only). Snapshots are incremental
through ``modified_after`` on the shop's own GMT clock; writes go through the batch endpoints.

Records the shop holds but Concord cannot read faithfully (a product without SKU, a price that
is not a number) are left out of snapshots and appended to :attr:`WooCommerceAdapter.rejected`
as ``(ref, reason)``, for the engine to record as dead letters.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from adapters.base import (
    Capabilities,
    Failed,
    ItemResult,
    Operation,
    PermanentError,
    Reject,
    Seen,
    Snapshot,
    gathered,
    in_one_part,
    read_from,
)
from adapters.http import HttpClient
from adapters.woocommerce import accounting, mapping, orders, price_meta, schema
from adapters.woocommerce.categories import CategoryTree
from adapters.woocommerce.client import PER_PAGE, WooClient
from adapters.woocommerce.levels import CustomerWriter, LevelWriter
from adapters.woocommerce.settings import AdapterSettings, parse_settings
from adapters.woocommerce.writes import ProductWriter
from canonical.models import Product, Record, Variant
from canonical.orders import ShopRefund
from rules.accounting.documents import SaleDocument

KINDS = ("product", "stock", "price", "customer", "order")
CARRIED = {"product": frozenset(Product.__struct_fields__) - {"cost"}}
"""WooCommerce has no cost price: it is never written, so it could never be read back."""
IN_VARIANTS = frozenset(Variant.__struct_fields__) - {"cost", "weight"}
"""A variation's own weight is not mapped yet (nor a cost price, which WooCommerce lacks)."""
OWN_TERMS = {"product": frozenset({"tax_code"})}
"""A product's tax class is one of the shop's own classes, not an ERP tax code."""
API_PATH = "/wp-json/wc/v3"
_CATALOGUE = ("product", "stock", "price")
STORED = "edit"
"""The ``context`` that answers texts as stored: the default (``view``) renders descriptions
as a theme shows them (``wpautop``), which is not what was written."""


def _cursor_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def _chunks(items: Sequence[str], size: int = PER_PAGE) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


class WooCommerceAdapter:
    """A WooCommerce shop behind Concord's :class:`adapters.base.Adapter` boundary."""

    def __init__(self, settings: AdapterSettings) -> None:
        self.settings = settings
        token = base64.b64encode(
            f"{settings.consumer_key}:{settings.consumer_secret}".encode()
        ).decode()
        base = settings.url.rstrip("/")
        self.http = HttpClient(
            base if base.endswith(API_PATH) else base + API_PATH,
            requests_per_second=settings.requests_per_second,
            max_concurrency=settings.max_concurrency,
            headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
        )
        self._client = WooClient(self.http)
        self.rejected: list[tuple[str, str]] = []
        """``(ref, reason)`` of records left out of snapshots; the engine drains it."""
        self._refs: dict[str, str] = {}
        self._categories = CategoryTree(self._client)
        self._products = ProductWriter(self._client, self._categories, self._refs, self.rejected)
        self._levels = LevelWriter(self._client, self._refs, settings.currency)
        self._customers = CustomerWriter(self._client)
        self._capabilities = Capabilities(
            batch_size=100,
            requests_per_second=settings.requests_per_second,
            max_concurrency=settings.max_concurrency,
            incremental=True,
            kinds=KINDS,
            fields=CARRIED,
            variant_fields=IN_VARIANTS,
            own_terms=OWN_TERMS,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    # -- reading --------------------------------------------------------------------------

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        """Every record of ``kind``, or those modified after ``since`` minus the overlap.

        The cursor returned is the latest ``date_modified_gmt`` seen (the shop's clock, never
        ours), or ``since`` when nothing newer was seen. Customers are always read in full:
        the customers list has no modification filter.
        """
        _check(kind)
        params, incremental = self._list_params(kind, since)
        if kind in _CATALOGUE:
            return await gathered(self, kind, since)
        stamps: list[str | None]
        if kind == "customer":
            customers = await self._client.list_all(
                "/customers", {**params, "role": "all"}, schema.Customer, self.rejected
            )
            records = self._convert(kind, customers, mapping.to_customer)
            stamps = [c.date_modified_gmt for c in customers]
        else:
            orders = await self._client.list_all(
                "/orders", {**params, "status": "any"}, schema.Order, self.rejected
            )
            records = self._convert(kind, orders, mapping.to_order)
            stamps = [o.date_modified_gmt for o in orders]
        return Snapshot(records=records, cursor=_latest(stamps, since), complete=not incremental)

    async def snapshot_parts(
        self, kind: str, since: str | None, take: Callable[[list[Seen]], Awaitable[None]]
    ) -> Snapshot:
        """:meth:`snapshot`, handed over a few pages of products at a time (with their
        variations), the next pages read meanwhile (:class:`adapters.base.SnapshotInParts`)."""
        _check(kind)
        if kind not in _CATALOGUE:
            return await in_one_part(await self.snapshot(kind, since), take)
        params, incremental = self._list_params(kind, since)
        paths = None
        if kind == "product":
            load = self._categories.load if since is None else self._categories.paths
            paths = await load(self.rejected)
        stamps: list[str | None] = []
        listed = self._client.windows("/products", params, _listed_as(kind), self.rejected)
        async with contextlib.aclosing(listed) as parts:
            async for products in parts:
                stamps.extend(p.date_modified_gmt for p in products)
                await take(await self._catalogue(kind, products, paths))
        return Snapshot(records=[], cursor=_latest(stamps, since), complete=not incremental)

    def _list_params(self, kind: str, since: str | None) -> tuple[dict[str, str], bool]:
        """The list query of a read, and whether it is incremental."""
        params = {"orderby": "id", "order": "asc"}
        if kind in _CATALOGUE:
            params["context"] = STORED
        incremental = since is not None and kind != "customer"
        if since is not None and incremental:
            window = mapping.gmt(since)
            assert window is not None
            start = read_from(window, timedelta(seconds=self.settings.overlap_seconds))
            params |= {"modified_after": _cursor_text(start), "dates_are_gmt": "true"}
        return params, incremental

    async def _catalogue(
        self,
        kind: str,
        products: Sequence[schema.Listed],
        paths: Mapping[int, tuple[str, ...]] | None = None,
    ) -> list[Seen]:
        variable = [p for p in products if p.type == "variable"]
        lists = await asyncio.gather(
            *(
                self._client.list_all(
                    f"/products/{p.id}/variations",
                    {"orderby": "id", "order": "asc"},
                    schema.Variation,
                    self.rejected,
                )
                for p in variable
            )
        )
        variations = {p.id: found for p, found in zip(variable, lists, strict=True)}
        for product in products:
            if product.sku:
                self._refs[product.sku] = str(product.id)
            for v in variations.get(product.id, []):
                if v.sku:
                    self._refs[v.sku] = f"{product.id}/{v.id}"
        if kind == "product":
            if paths is None:
                paths = await self._categories.paths(self.rejected)
            seen: list[Seen] = []
            for p in cast(Sequence[schema.Product], products):  # read whole for this kind
                self._keep(
                    seen,
                    kind,
                    str(p.id),
                    p.date_modified_gmt,
                    lambda p=p: mapping.to_product(p, variations.get(p.id, []), paths),
                    p.sku,
                )
            return seen
        return self._levels_of(kind, products, variations)

    def _levels_of(
        self,
        kind: str,
        products: Sequence[schema.Listed],
        variations: Mapping[int, list[schema.Variation]],
    ) -> list[Seen]:
        currency = self.settings.currency
        seen: list[Seen] = []
        items: list[tuple[str, schema.Sellable]] = []
        for product in products:
            if product.type != "variable" or (kind == "stock" and product.manage_stock is True):
                items.append((str(product.id), product))
            items += [(f"{product.id}/{v.id}", v) for v in variations.get(product.id, [])]
        for ref, item in items:
            if kind == "stock":
                self._keep(
                    seen,
                    kind,
                    ref,
                    item.date_modified_gmt,
                    lambda i=item: mapping.to_stock(i),
                    item.sku,
                )
            else:
                self._keep(
                    seen,
                    kind,
                    ref,
                    item.date_modified_gmt,
                    lambda i=item: mapping.to_price(i, currency),
                )
                for entry in filter(price_meta.is_price_meta, item.meta_data):
                    self._keep(
                        seen,
                        kind,
                        ref,
                        item.date_modified_gmt,
                        lambda i=item, e=entry: price_meta.to_scoped_price(i, e, currency),
                    )
        return seen

    def _convert(self, kind: str, items: Sequence[Any], convert: Any) -> list[Seen]:
        seen: list[Seen] = []
        for item in items:
            self._keep(seen, kind, str(item.id), item.date_modified_gmt, lambda i=item: convert(i))
        return seen

    def _keep(
        self,
        seen: list[Seen],
        kind: str,
        ref: str,
        modified: str | None,
        build: Any,
        key: str | None = None,
    ) -> None:
        """``build``'s record kept, or rejected under its natural ``key`` when known."""
        try:
            record: Record | None = build()
            modified_at = mapping.gmt(modified)
        except mapping.Unreadable as exc:
            self.rejected.append(Reject(ref, f"{kind}: {exc}", key))
            return
        if record is not None:
            seen.append(Seen(record=record, ref=ref, modified_at=modified_at))

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        """The records of ``kind`` with these natural keys (SKUs, e-mails, order numbers)."""
        _check(kind)
        wanted = set(keys)
        if kind in _CATALOGUE:
            records = await self._fetch_catalogue(kind, keys)
        elif kind == "customer":
            found = await asyncio.gather(
                *(
                    self._client.list_all(
                        "/customers", {"email": k, "role": "all"}, schema.Customer, self.rejected
                    )
                    for k in dict.fromkeys(keys)
                )
            )
            records = self._convert(
                kind, [c for group in found for c in group], mapping.to_customer
            )
        else:
            ids = [k for k in dict.fromkeys(keys) if k.isdigit()]
            found_orders = await asyncio.gather(
                *(
                    self._client.list_all(
                        "/orders",
                        {"include": ",".join(chunk), "status": "any"},
                        schema.Order,
                        self.rejected,
                    )
                    for chunk in _chunks(ids)
                )
            )
            records = self._convert(kind, [o for g in found_orders for o in g], mapping.to_order)
        return [s for s in records if s.record.natural_key() in wanted]

    async def _fetch_catalogue(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        skus = list(dict.fromkeys(k.split("|", 1)[0] for k in keys))
        found = await asyncio.gather(
            *(
                self._client.list_all(
                    "/products",
                    {"sku": ",".join(chunk), "context": STORED},
                    _listed_as(kind),
                    self.rejected,
                )
                for chunk in _chunks(skus)
            )
        )
        products = [p for group in found for p in group]
        records = await self._catalogue(kind, products)
        if kind == "product":
            return records
        # Variations are not found by the products SKU filter: ask each known parent instead.
        have = {s.record.natural_key().split("|", 1)[0] for s in records}
        parents: dict[str, list[str]] = {}
        for sku in skus:
            ref = self._refs.get(sku, "")
            if sku not in have and "/" in ref:
                parents.setdefault(ref.split("/", 1)[0], []).append(sku)
        lists = await asyncio.gather(
            *(
                self._client.list_all(
                    f"/products/{parent}/variations",
                    {"sku": ",".join(group)},
                    schema.Variation,
                    self.rejected,
                )
                for parent, group in parents.items()
            )
        )
        parent_stub = {int(p): schema.Listed(id=int(p), type="variable") for p in parents}
        variations = {int(p): found for p, found in zip(parents, lists, strict=True)}
        # The stubs are never emitted themselves: a variable parent only carries its variations.
        return records + self._levels_of(kind, list(parent_stub.values()), variations)

    # -- writing --------------------------------------------------------------------------

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        """Write up to 100 operations in one batch request (see the module docstring)."""
        _check(kind)
        if len(operations) > self._capabilities.batch_size:
            raise PermanentError(f"at most {self._capabilities.batch_size} operations per apply")
        if not operations:
            return []
        if kind == "product":
            return await self._products.apply(operations)
        if kind in ("stock", "price"):
            return await self._levels.apply(kind, operations)
        if kind == "customer":
            return await self._customers.apply(operations)
        return [
            Failed(key=op.key, reason="read_only: orders are read from the shop, not written")
            for op in operations
        ]

    # -- order feedback (adapters.base.OrderFeedback; see adapters/woocommerce/orders.py) --

    async def set_order_status(self, ref: str, status: str) -> None:
        """Move order ``ref`` to ``status``."""
        await orders.set_order_status(self._client, ref, status)

    async def add_order_note(self, ref: str, note: str, *, customer: bool) -> None:
        """Add a note to order ``ref`` (mailed to the buyer when ``customer``)."""
        await orders.add_order_note(self._client, ref, note, customer=customer)

    async def customer_notes(self, ref: str) -> list[str]:
        """The customer notes of order ``ref`` (adapters.base.OrderNotes)."""
        return await orders.customer_notes(self._client, ref)

    async def list_refunds(self, ref: str) -> list[ShopRefund]:
        """The refunds of order ``ref``."""
        return await orders.list_refunds(self._client, ref)

    async def create_refund(self, ref: str, amount: Decimal, reason: str) -> str:
        """Record a refund on order ``ref`` without asking the payment gateway."""
        return await orders.create_refund(self._client, ref, amount, reason)

    # -- the books (engine.accounting.source.AccountingSource) ------------------------------

    async def sales_documents(self, since: datetime) -> list[SaleDocument]:
        """Orders changed since ``since``, with their refunds, as the books read them."""
        return await accounting.sales_documents(self._client, since, self.rejected)

    async def aclose(self) -> None:
        await self.http.aclose()


def _listed_as(kind: str) -> type[schema.Listed]:
    return schema.Product if kind == "product" else schema.Listed


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise PermanentError(f"WooCommerce has no kind {kind!r}; kinds: {', '.join(KINDS)}")


def _latest(stamps: Sequence[str | None], since: str | None) -> str | None:
    moments = [m for m in (mapping.gmt(s) for s in stamps if s) if m is not None]
    if since is not None:
        previous = mapping.gmt(since)
        if previous is not None:
            moments.append(previous)
    return _cursor_text(max(moments)) if moments else None


def create(settings: Mapping[str, Any], *, source: str) -> WooCommerceAdapter:
    """Build the adapter from its settings table (``url``, ``consumer_key_env``/``_file``,
    ``consumer_secret_env``/``_file``, optional ``requests_per_second``, ``max_concurrency``,
    ``overlap_seconds``, ``timeout``, ``currency``); ``source`` names the file for errors."""
    return WooCommerceAdapter(parse_settings(settings, source=source))
