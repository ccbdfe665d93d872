"""The Odoo adapter: products, stock, prices, customers, orders and invoices of one database.

Settings (the ``[connections.<name>.erp]`` table)::

    url = "https://erp.example.com"
    protocol = "json2"            # or "jsonrpc" for servers before 19.0
    database = "mycompany"
    api_key_env = "ODOO_KEY"      # json2: API key (or api_key_file)
    login = "sync-bot"            # jsonrpc: login and password_env / password_file
    requests_per_second = 20
    max_concurrency = 4
    page_size = 500
    overlap_seconds = 120
    timeout = 30
    max_attempts = 5              # tries of a request that failed transiently (5xx, 429, timeout)
    warehouse_location = "WH/Stock"   # stock location id or name; default: first internal one
                                      # (its child locations count too)
    description_field = "description_ecommerce"   # the template field with the shop's long
                                  # (HTML) description; unset: the shop's own is left alone

A product's ``short_description`` is the template's ``description_sale``. Its long
``description`` comes from ``description_field`` only: the template's ``description`` is
Odoo's internal notes, which must not be published; ``description_ecommerce`` (Odoo 17+
eCommerce) or ``website_description`` (earlier) hold the web description when installed.

Records Odoo holds but Concord cannot use (an article without internal reference, a partner
with a malformed e-mail...) are left out of snapshots and listed in :attr:`OdooAdapter.rejected`
as ``(ref, reason)``; the engine turns them into dead letters and clears the list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.base import Capabilities, ItemResult, Operation, PermanentError, Seen, Snapshot
from adapters.http import HttpClient
from adapters.odoo import journal_entries, order_import
from adapters.odoo.client import OdooClient
from adapters.odoo.orders import apply_orders
from adapters.odoo.reading import Reader
from adapters.odoo.transport import Json2Transport, JsonRpcTransport, Transport
from adapters.odoo.wire import product_row
from adapters.odoo.writing import (
    Results,
    apply_customers,
    apply_prices,
    apply_products,
    apply_stock,
)
from canonical.errors import ConfigError
from canonical.models import Product, Variant
from canonical.orders import ErpOrder, ErpPricing, OrderProgress, SaleOrder
from canonical.secrets import read_secret
from rules.accounting.entries import Entry

KINDS = ("product", "stock", "price", "customer", "order", "invoice")
CARRIED = {"product": frozenset(Product.__struct_fields__) - {"attributes"}}
"""Odoo keeps a product's options in the attributes of its variants, never on the product:
``attributes`` is neither read nor written, so it could never read back as written. (Sale
prices are read as none, which Odoo keeps in pricelists: an ERP-owned rule clears them in the
shop, a write of one to Odoo is refused.) The short description is ``description_sale``."""
NO_WEB_DESCRIPTION = {"product": CARRIED["product"] - {"description"}}
"""Without ``description_field``, the long description is not Odoo's to carry."""
IN_VARIANTS = frozenset(Variant.__struct_fields__) - {"cost", "weight"}
"""A variant's ``standard_price`` and ``weight`` are not mapped yet: a product with variants
reads with none, so a shop's own per-variant cost and weight are left as they are."""


class OdooAdapter:
    """Reads and writes one Odoo database through JSON-2 or JSON-RPC."""

    def __init__(
        self,
        transport: Transport,
        *,
        requests_per_second: float = 20.0,
        max_concurrency: int = 4,
        page_size: int = 500,
        overlap_seconds: float = 120.0,
        warehouse_location: int | str | None = None,
        base_url: str = "",
        description_field: str | None = None,
    ) -> None:
        self.rejected: list[tuple[str, str]] = []
        """Records left out of snapshots and fetches, as ``(ref, reason)``."""
        self._transport = transport
        self._base_url = base_url.rstrip("/")
        self._client = OdooClient(transport, page_size=page_size)
        self._orders = order_import.OrderWriter(self._client)
        self._reader = Reader(
            self._client,
            overlap_seconds=overlap_seconds,
            location=warehouse_location,
            rejected=self.rejected,
            product_row=product_row(description_field),
        )
        self._description_field = description_field
        self._capabilities = Capabilities(
            batch_size=100,
            requests_per_second=requests_per_second,
            max_concurrency=max_concurrency,
            incremental=True,
            kinds=KINDS,
            sold_stock_leaves="on-delivery",
            # Without a web description field, the shop's long description is its own.
            fields=CARRIED if description_field else NO_WEB_DESCRIPTION,
            variant_fields=IN_VARIANTS,
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def _check(self, kind: str) -> None:
        if kind not in KINDS:
            raise PermanentError(f"the Odoo adapter does not handle kind {kind!r}")

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        """Every record of ``kind`` (``since=None``) or those written after ``since`` minus the
        overlap; the cursor is the newest Odoo ``write_date`` seen."""
        self._check(kind)
        return await self._reader.snapshot(kind, since)

    async def snapshot_parts(
        self, kind: str, since: str | None, take: Callable[[list[Seen]], Awaitable[None]]
    ) -> Snapshot:
        """:meth:`snapshot`, a full product read handed over a few pages of templates at a
        time (:class:`adapters.base.SnapshotInParts`)."""
        self._check(kind)
        return await self._reader.snapshot_parts(kind, since, take)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        """The records of ``kind`` with these natural keys (SKU, e-mail, order number...)."""
        self._check(kind)
        if not keys:
            return []
        return await self._reader.fetch(kind, keys)

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        """Write a batch; one result per operation, in order."""
        self._check(kind)
        if len(operations) > self._capabilities.batch_size:
            raise PermanentError(
                f"batch of {len(operations)} exceeds {self._capabilities.batch_size} operations"
            )
        results: Results = [None] * len(operations)
        if kind == "product":
            await apply_products(
                self._client, operations, results, description_field=self._description_field
            )
        elif kind == "price":
            await apply_prices(self._client, operations, results)
        elif kind == "stock":
            await apply_stock(self._client, self._reader, operations, results)
        elif kind == "customer":
            await apply_customers(self._client, operations, results)
        elif kind == "order":
            await apply_orders(self._client, operations, results)
        else:
            raise PermanentError(f"{kind} records are read-only in Odoo")
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            raise AssertionError(f"no result for operations {missing}")
        return [r for r in results if r is not None]

    # -- the books (engine.accounting.source.JournalEntries) ----------------------------

    async def find_journal_entries(self, references: Sequence[str]) -> dict[str, str]:
        """Journal entries by ``ref``: their ids."""
        return await journal_entries.find_journal_entries(self._client, references)

    async def create_journal_entry(self, entry: Entry, reference: str) -> str:
        """Create and post a journal entry under ``reference``; returns its id."""
        return await journal_entries.create_journal_entry(self._client, entry, reference)

    # -- web orders (adapters.base.OrderImport; see adapters/odoo/order_import.py) ---------

    async def find_orders_by_reference(self, references: Sequence[str]) -> dict[str, ErpOrder]:
        """Sale orders by ``client_order_ref``."""
        return await order_import.find_orders_by_reference(self._client, references)

    async def create_sale_order(self, order: SaleOrder) -> ErpOrder:
        """Create a draft sale order, its customer matched by e-mail or created, its lines'
        taxes under the server version's field name; returns it with Odoo's total."""
        return await self._orders.create(order)

    async def confirm_sale_order(self, ref: str) -> None:
        """``action_confirm`` on a draft or sent order."""
        await self._orders.confirm(ref)

    async def cancel_sale_order(self, ref: str) -> None:
        """``action_cancel`` (adapters.base.OrderCancel)."""
        await self._orders.cancel(ref)

    async def order_pricing(self) -> ErpPricing:
        """How this database rounds a sale order's amounts (adapters.base.OrderPricing)."""
        return await self._orders.pricing()

    async def list_web_orders(self, prefix: str, since: datetime | None) -> list[ErpOrder]:
        """Sale orders with a ``client_order_ref`` starting with ``prefix``."""
        return await order_import.list_web_orders(self._client, prefix, since)

    async def order_progress(self, references: Sequence[str]) -> list[OrderProgress]:
        """Deliveries, invoices and credit notes of these orders."""
        return await order_import.order_progress(self._client, references, self._base_url)

    async def create_credit_note(
        self, reference: str, amount: Decimal, reason: str, shop_refund: str
    ) -> str:
        """A posted credit note for a shop refund (once per refund)."""
        return await order_import.create_credit_note(
            self._client, reference, amount, reason, shop_refund
        )

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self._transport.aclose()


def _number(
    settings: Mapping[str, Any], name: str, default: float, source: str, prefix: str
) -> float:
    value = settings.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(source, f"{prefix}.{name}", f"must be a positive number, not {value!r}")
    return float(value)


def create(settings: Mapping[str, Any], *, source: str) -> OdooAdapter:
    """Build an :class:`OdooAdapter` from its settings table (see the module docstring)."""
    prefix = str(settings.get("_path", "erp"))
    url = settings.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(source, f"{prefix}.url", "missing or not an http(s) URL")
    database = settings.get("database")
    if not isinstance(database, str) or not database:
        raise ConfigError(source, f"{prefix}.database", "missing: the Odoo database name")
    protocol = settings.get("protocol", "json2")
    rps = _number(settings, "requests_per_second", 20, source, prefix)
    concurrency = int(_number(settings, "max_concurrency", 4, source, prefix))
    page_size = int(_number(settings, "page_size", 500, source, prefix))
    overlap = settings.get("overlap_seconds", 120)
    if isinstance(overlap, bool) or not isinstance(overlap, int | float) or overlap < 0:
        raise ConfigError(source, f"{prefix}.overlap_seconds", "must be a number of seconds >= 0")
    timeout = _number(settings, "timeout", 30, source, prefix)
    attempts = int(_number(settings, "max_attempts", 5, source, prefix))
    description = settings.get("description_field")
    if description is not None and (not isinstance(description, str) or not description):
        raise ConfigError(
            source, f"{prefix}.description_field", "must name a product.template field"
        )
    location = settings.get("warehouse_location")
    if location is not None and (isinstance(location, bool) or not isinstance(location, int | str)):
        raise ConfigError(source, f"{prefix}.warehouse_location", "must be a location id or name")
    transport: Transport
    if protocol == "json2":
        key = read_secret(settings, "api_key", source=source, prefix=prefix)
        http = HttpClient(
            url,
            requests_per_second=rps,
            max_concurrency=concurrency,
            headers={"Authorization": f"bearer {key}", "X-Odoo-Database": database},
            timeout=timeout,
            max_attempts=attempts,
        )
        transport = Json2Transport(http)
    elif protocol == "jsonrpc":
        login = settings.get("login")
        if not isinstance(login, str) or not login:
            raise ConfigError(source, f"{prefix}.login", "missing: the Odoo user's login")
        password = read_secret(settings, "password", source=source, prefix=prefix)
        http = HttpClient(
            url,
            requests_per_second=rps,
            max_concurrency=concurrency,
            timeout=timeout,
            max_attempts=attempts,
        )
        transport = JsonRpcTransport(http, database=database, login=login, password=password)
    else:
        raise ConfigError(
            source, f"{prefix}.protocol", f"must be 'json2' or 'jsonrpc', not {protocol!r}"
        )
    return OdooAdapter(
        transport,
        requests_per_second=rps,
        max_concurrency=concurrency,
        page_size=page_size,
        overlap_seconds=float(overlap),
        warehouse_location=location,
        base_url=url,
        description_field=description,
    )
