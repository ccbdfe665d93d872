"""Reading each kind from Odoo: full and incremental snapshots, and fetches by natural key.

Incremental reads ask for ``write_date > cursor - overlap`` (at least a second before the
cursor: :func:`adapters.base.read_from`). Editing a template (its price,
name, taxes) bumps only the template's write_date in Odoo, so product and price reads follow
both ``product.product`` and ``product.template`` and re-read every variant of a touched
template. The cursor returned is the newest write_date seen (the server's clock, never ours),
or the previous cursor when nothing was seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import msgspec

from adapters.base import PermanentError, Seen, Snapshot, gathered, in_one_part, read_from
from adapters.odoo import mapping
from adapters.odoo.client import ALL, OdooClient, chunks
from adapters.odoo.wire import (
    InvoiceRow,
    LineRow,
    OrderRefRow,
    OrderRow,
    PartnerRow,
    PriceRow,
    ProductRow,
    QuantRow,
    SkuRow,
    StampRow,
    ValueRow,
    VariantStampRow,
    ref_id,
    ref_name,
    text,
)
from canonical.models import Attribute

R = TypeVar("R", bound=msgspec.Struct)
_FORMAT = "%Y-%m-%d %H:%M:%S"
_TEMPLATE_PAGES = 4
"""Pages of templates in one part of a product read in parts."""
GOODS: tuple[list[Any], ...] = (["type", "!=", "service"], ["active", "=", True])
"""The articles whose stock the shop sells: a service has none in Odoo, and an archived
article is no longer sold (its shop product is hidden by the product job; its count there is
left as it was)."""
_INVOICES: list[Any] = [["move_type", "=", "out_invoice"], ["state", "!=", "draft"]]


class Reader:
    """Turns Odoo rows into :class:`Snapshot`s; collects rows it cannot use in ``rejected``."""

    def __init__(
        self,
        client: OdooClient,
        *,
        overlap_seconds: float,
        location: int | str | None,
        rejected: mapping.Rejected,
        product_row: type[ProductRow] = ProductRow,
    ) -> None:
        self.client = client
        self.product_row = product_row
        self.overlap = timedelta(seconds=overlap_seconds)
        self.location_setting = location
        self.rejected = rejected
        self._location: int | None = None

    async def location(self) -> int:
        if self._location is None:
            self._location = await self.client.location_id(self.location_setting)
        return self._location

    async def _fresh_lookups(self, kind: str) -> None:
        """Categories read again once per read of products: one renamed in Odoo is seen."""
        if kind == "product":
            await self.client.categories(refresh=True)

    def _after(self, since: str) -> str:
        try:
            moment = datetime.strptime(since, _FORMAT)
        except ValueError:
            raise PermanentError(f"not an Odoo cursor: {since!r}") from None
        return read_from(moment, self.overlap).strftime(_FORMAT)

    async def snapshot_parts(
        self, kind: str, since: str | None, take: Callable[[list[Seen]], Awaitable[None]]
    ) -> Snapshot:
        """A full read of products or prices handed over a few pages of templates at a time
        (each with all its variants), the next ones read meanwhile; other reads in one part."""
        if kind not in ("product", "price") or since is not None:
            return await in_one_part(await self.snapshot(kind, since), take)
        row_type: type[Any] = self.product_row if kind == "product" else PriceRow
        await self._fresh_lookups(kind)
        templates = await self.client.search("product.template", [])
        windows = chunks(templates, self.client.page_size * _TEMPLATE_PAGES)
        newest = ""

        def read(window: list[int]) -> asyncio.Future[list[Any]]:
            return asyncio.ensure_future(self._variants_of(row_type, window))

        pending = read(windows[0]) if windows else None
        try:
            for index in range(len(windows)):
                assert pending is not None
                rows = await pending
                pending = read(windows[index + 1]) if index + 1 < len(windows) else None
                stamps = await self._template_stamps(rows)
                newest = max([newest, *stamps.values(), *(text(r.write_date) for r in rows)])
                await take(await self._articles(kind, rows, stamps))
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
            elif pending is not None and not pending.cancelled():
                pending.exception()  # seen: the error being raised is the caller's
        return Snapshot(records=[], cursor=newest or None, complete=True)

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        if kind in ("product", "price") and since is None:
            return await gathered(self, kind, since)
        after = None if since is None else self._after(since)
        stamps: list[str]
        if kind in ("product", "price"):
            assert after is not None  # a full read went through snapshot_parts above
            row_type: type[Any] = self.product_row if kind == "product" else PriceRow
            await self._fresh_lookups(kind)
            rows, stamps = await self._variants(row_type, after)
            seen = await self._articles(kind, rows)
        elif kind == "stock":
            seen, stamps = await self._stock(after)
        else:
            domain = self._base_domain(kind)
            if after is not None:
                domain = [*domain, ["write_date", ">", after]]
            rows = await self.client.search_read(self._model(kind), domain, self._row_type(kind))
            stamps = [text(row.write_date) for row in rows]
            seen = await self._build(kind, rows)
        cursor = max((s for s in stamps if s), default=since)
        return Snapshot(records=seen, cursor=cursor, complete=since is None)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        wanted = {key.strip().lower() if kind == "customer" else key for key in keys}
        out: list[Seen] = []
        for part in chunks(sorted(wanted), self.client.page_size):
            out.extend(await self._fetch_chunk(kind, part))
        return [s for s in out if self._key(kind, s) in wanted]

    @staticmethod
    def _key(kind: str, seen: Seen) -> str:
        if kind == "price":
            return str(getattr(seen.record, "key", ""))
        return seen.record.natural_key()

    async def _fetch_chunk(self, kind: str, keys: list[str]) -> list[Seen]:
        if kind in ("product", "price"):
            skus = [k.split("|", 1)[0] for k in keys]
            domain: list[Any] = [["default_code", "in", skus]]
            if kind == "product":
                # A product with variants is keyed by its variants' common prefix.
                domain = (
                    ["|" for _ in skus]
                    + domain
                    + [["default_code", "=like", f"{s}%"] for s in skus]
                )
            found = await self.client.search_read("product.product", domain, VariantStampRow)
            templates = sorted({ref_id(r.product_tmpl_id) or 0 for r in found} - {0})
            row_type: type[Any] = self.product_row if kind == "product" else PriceRow
            await self._fresh_lookups(kind)
            rows = await self._variants_of(row_type, templates)
            return await self._articles(kind, rows)
        if kind == "stock":
            products = await self.client.search_read(
                "product.product", [["default_code", "in", keys], *GOODS], SkuRow
            )
            return await self._stock_of(products)
        if kind == "customer":
            domain = ["|" for _ in keys[1:]] + [["email", "=ilike", k] for k in keys]
        elif kind == "order":
            domain = ["|", ["client_order_ref", "in", keys], ["name", "in", keys]]
        elif kind == "invoice":
            domain = [["name", "in", keys]]
        else:
            raise PermanentError(f"Odoo adapter cannot read kind {kind!r}")
        domain = [*self._base_domain(kind), *domain]
        rows = await self.client.search_read(self._model(kind), domain, self._row_type(kind))
        return await self._build(kind, rows)

    # -- per kind ---------------------------------------------------------------------------

    @staticmethod
    def _model(kind: str) -> str:
        models = {"customer": "res.partner", "order": "sale.order", "invoice": "account.move"}
        if kind not in models:
            raise PermanentError(f"Odoo adapter cannot read kind {kind!r}")
        return models[kind]

    @staticmethod
    def _row_type(kind: str) -> type[Any]:
        return {"customer": PartnerRow, "order": OrderRow, "invoice": InvoiceRow}[kind]

    @staticmethod
    def _base_domain(kind: str) -> list[Any]:
        if kind == "customer":
            return [["email", "!=", False]]
        if kind == "invoice":
            return list(_INVOICES)
        return []

    async def _build(self, kind: str, rows: list[Any]) -> list[Seen]:
        if kind == "customer":
            return mapping.customers(rows, await self.client.countries(), self.rejected)
        if kind == "order":
            return await self._orders(rows)
        return await self._invoices(rows)

    async def _variants(self, row_type: type[R], after: str) -> tuple[list[R], list[str]]:
        """The variants of every template with a variant or itself written after ``after``
        (a full read goes through :meth:`snapshot_parts`)."""
        changed = [["write_date", ">", after]]
        variants, templates = await asyncio.gather(
            self.client.search_read("product.product", changed, VariantStampRow),
            self.client.search_read("product.template", changed, StampRow),
        )
        touched = {ref_id(v.product_tmpl_id) or 0 for v in variants} | {t.id for t in templates}
        rows = await self._variants_of(row_type, sorted(touched - {0}))
        stamps = [text(v.write_date) for v in variants] + [text(t.write_date) for t in templates]
        return rows, stamps

    async def _variants_of(self, row_type: type[R], templates: list[int]) -> list[R]:
        parts = await asyncio.gather(
            *(
                self.client.search_read(
                    "product.product", [["product_tmpl_id", "in", part]], row_type
                )
                for part in chunks(templates, self.client.page_size)
            )
        )
        return [row for rows in parts for row in rows]

    async def _template_stamps(self, rows: Sequence[ProductRow | PriceRow]) -> dict[int, str]:
        """The ``write_date`` of the templates of ``rows``: a template edited in Odoo (its name,
        price, taxes) is newer than its variants."""
        ids = sorted({ref_id(row.product_tmpl_id) or 0 for row in rows} - {0})
        return {
            t.id: text(t.write_date)
            for t in await self.client.read("product.template", ids, StampRow)
        }

    async def _articles(
        self, kind: str, rows: list[Any], templates: dict[int, str] | None = None
    ) -> list[Seen]:
        """Products or prices of ``rows`` (every variant of their templates)."""
        if templates is None:
            templates = await self._template_stamps(rows)
        if kind == "product":
            return await self._products(rows, templates)
        return mapping.prices(rows, "EUR", templates, self.rejected)

    async def _products(self, rows: list[ProductRow], templates: dict[int, str]) -> list[Seen]:
        counts: dict[int, int] = {}
        for row in rows:
            template = ref_id(row.product_tmpl_id) or 0
            counts[template] = counts.get(template, 0) + 1
        value_ids = sorted(
            {
                v
                for row in rows
                if counts[ref_id(row.product_tmpl_id) or 0] > 1
                for v in row.product_template_attribute_value_ids
            }
        )
        taxes, values, categories = await asyncio.gather(
            self.client.taxes(),
            self.client.read("product.template.attribute.value", value_ids, ValueRow),
            self.client.categories(),
        )
        if any(row.taxes_id and row.taxes_id[0] not in taxes for row in rows):
            # A tax created since this adapter first read them: without it the article would
            # read as having no tax at all.
            taxes = await self.client.taxes(refresh=True)
        if any((ref_id(row.categ_id) or 0) not in categories for row in rows if row.categ_id):
            categories = await self.client.categories(refresh=True)
        attributes = {
            v.id: Attribute(name=ref_name(v.attribute_id), value=text(v.name)) for v in values
        }
        return mapping.products(rows, taxes, attributes, categories, templates, self.rejected)

    async def _stock(self, after: str | None) -> tuple[list[Seen], list[str]]:
        """Stock of the warehouse location and every location below it (its shelves and bins),
        as Odoo counts a product's quantity there; services keep no stock and are left out."""
        location = await self.location()
        if after is None:
            products, quants = await asyncio.gather(
                self.client.search_read("product.product", list(GOODS), SkuRow),
                self.client.search_read(
                    "stock.quant", [["location_id", "child_of", location]], QuantRow
                ),
            )
            seen = mapping.stocks(products, quants, self.rejected)
            return seen, [text(q.write_date) for q in quants]
        changed = await self.client.search_read(
            "stock.quant",
            [["location_id", "child_of", location], ["write_date", ">", after]],
            QuantRow,
        )
        ids = sorted({ref_id(q.product_id) or 0 for q in changed} - {0})
        touched: list[SkuRow] = []
        for part in chunks(ids, self.client.page_size):
            touched += await self.client.search_read(
                "product.product", [["id", "in", part], *GOODS], SkuRow
            )
        return await self._stock_of(touched), [text(q.write_date) for q in changed]

    async def _stock_of(self, products: list[SkuRow]) -> list[Seen]:
        location = await self.location()
        quants: list[QuantRow] = []
        for part in chunks([p.id for p in products], self.client.page_size):
            quants += await self.client.search_read(
                "stock.quant",
                [["location_id", "child_of", location], ["product_id", "in", part]],
                QuantRow,
            )
        return mapping.stocks(products, quants, self.rejected)

    async def _orders(self, rows: list[OrderRow]) -> list[Seen]:
        line_ids = [i for row in rows for i in row.order_line]
        partner_ids = sorted({ref_id(r.partner_id) or 0 for r in rows} - {0})
        lines, partners = await asyncio.gather(
            self.client.read("sale.order.line", line_ids, LineRow),
            self.client.read("res.partner", partner_ids, PartnerRow),
        )
        product_ids = sorted({ref_id(line.product_id) or 0 for line in lines} - {0})
        products = await self.client.read("product.product", product_ids, SkuRow)
        return mapping.orders(
            rows,
            {line.id: line for line in lines},
            {p.id: text(p.default_code) for p in products},
            {p.id: text(p.email) for p in partners},
            self.rejected,
        )

    async def _invoices(self, rows: list[InvoiceRow]) -> list[Seen]:
        origins = sorted({text(r.invoice_origin) for r in rows} - {""})
        refs: list[OrderRefRow] = []
        for part in chunks(origins, self.client.page_size):
            refs += await self.client.search_read(
                "sale.order", [["name", "in", part]], OrderRefRow, context=ALL
            )
        numbers = {text(r.name): text(r.client_order_ref) or text(r.name) for r in refs}
        return mapping.invoices(rows, numbers, self.rejected)
