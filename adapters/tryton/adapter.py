"""The Tryton adapter: articles, stock, prices, customers, order status and invoices of one
Tryton database, and web orders into it (the ``OrderImport`` capability).

Settings: see :mod:`adapters.tryton.settings`. Records Tryton holds but Concord cannot use (an
article without code, a party whose e-mail is not an address...) are left out of snapshots and
listed in :attr:`TrytonAdapter.rejected` as ``(ref, reason)``.

Cursors are Tryton's own ``last_modified_at`` (``write_date``, or ``create_date`` before the
first write), naive UTC taken when the writing transaction started; a long transaction can
commit behind the cursor, so reads start ``overlap_seconds`` before it and records read twice
are harmless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.base import Capabilities, ItemResult, Operation, PermanentError, Seen, Snapshot
from adapters.http import HttpClient
from adapters.tryton.batch import Results
from adapters.tryton.client import TrytonClient, TrytonFault
from adapters.tryton.customers import CustomerReader, apply_customers
from adapters.tryton.lookups import Lookups
from adapters.tryton.orders import POSTED, Orders, report_ref, status_of
from adapters.tryton.prices import PriceReader, apply_prices
from adapters.tryton.product_writes import apply_products
from adapters.tryton.products import ProductReader, stamp
from adapters.tryton.settings import TrytonSettings, parse_settings
from adapters.tryton.stock import StockReader, apply_stock
from canonical.models import Invoice, OrderStatus, Product, Variant
from canonical.orders import ErpOrder, OrderProgress, SaleOrder

KINDS = ("product", "stock", "price", "customer", "order_status", "invoice")
CARRIED = {
    "product": frozenset(Product.__struct_fields__)
    - {"weight", "barcode", "attributes", "short_description"}
}
"""What this adapter reads and writes of an article: Tryton's weights, identifiers and
attributes are not mapped, and its one description is the canonical ``description``, so the
others could never read back as written."""
IN_VARIANTS = frozenset(Variant.__struct_fields__) - {"cost", "weight"}
"""A variant's cost price and weight are not mapped: a product with variants reads with none."""
WRITABLE = ("product", "stock", "price", "customer")


class Document:
    """A rendered report: its file name, extension (``odt``, or ``pdf`` when the server
    converts) and content."""

    def __init__(self, name: str, extension: str, content: bytes) -> None:
        self.name, self.extension, self.content = name, extension, content


class TrytonAdapter:
    """Reads and writes one Tryton database over JSON-RPC."""

    def __init__(self, settings: TrytonSettings) -> None:
        self.rejected: list[tuple[str, str]] = []
        """Records left out of snapshots and fetches, as ``(ref, reason)``."""
        self.settings = settings
        http = HttpClient(
            settings.url,
            requests_per_second=settings.requests_per_second,
            max_concurrency=settings.max_concurrency,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
        )
        self.client = TrytonClient(
            http,
            database=settings.database,
            login=settings.login,
            password=settings.password,
            page=settings.page_size,
        )
        self.lookups = Lookups(self.client, warehouse=settings.warehouse)
        self.products = ProductReader(self.client, self.lookups, self.rejected)
        self.stock = StockReader(self.client, self.lookups, self.rejected)
        self.customers = CustomerReader(self.client, self.lookups, self.rejected)
        self.prices = PriceReader(self.client, self.lookups, self.customers, self.rejected)
        self.orders = Orders(self.client, self.lookups, self.customers)
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self._capabilities = Capabilities(
            batch_size=100,
            requests_per_second=settings.requests_per_second,
            max_concurrency=settings.max_concurrency,
            incremental=True,
            kinds=KINDS,
            sold_stock_leaves="on-delivery",
            fields=CARRIED,
            variant_fields=IN_VARIANTS,
        )

    def __repr__(self) -> str:
        return f"TrytonAdapter({self.settings!r})"

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def _check(self, kind: str) -> None:
        if kind not in KINDS:
            raise PermanentError(f"the Tryton adapter does not handle kind {kind!r}")

    def _after(self, since: str | None) -> datetime | None:
        if since is None:
            return None
        try:
            return datetime.fromisoformat(since) - self.overlap
        except ValueError:
            raise PermanentError(f"not a Tryton cursor: {since!r}") from None

    async def _currency(self) -> str:
        _, currency = await self.lookups.company()
        return (await self.lookups.currencies())[currency]

    async def snapshot(self, kind: str, since: str | None) -> Snapshot:
        """Every record of ``kind`` (``since=None``) or those changed after ``since`` minus the
        overlap; the cursor is the newest Tryton modification time seen."""
        self._check(kind)
        after = self._after(since)
        stamps: list[datetime] = []
        if kind == "product":
            templates = await self.products.changed_templates(after)
            seen, stamps = await self.products.seen(templates)
        elif kind == "stock":
            if after is None:
                latest = await self.stock.latest_change()
                stamps = [latest] if latest else []
                seen = await self.stock.seen(None)
            else:
                ids, stamps = await self.stock.changed_products(after)
                seen = await self.stock.seen(ids)
        elif kind == "price":
            # Prices are cheap to compare and their changes leave few dates behind (a price
            # list edit touches no product): always read whole.
            currency = await self._currency()
            seen = [
                *await self.prices.general(None, currency),
                *await self.prices.specific(currency),
            ]
            return Snapshot(records=seen, cursor=since, complete=True)
        elif kind == "customer":
            ids, stamps = await self.customers.changed(after)
            seen = await self.customers.seen(ids)
        elif kind == "order_status":
            seen, stamps = await self._statuses(after, None)
        else:
            seen, stamps = await self._invoices(after, None)
        newest = max(stamps, default=None)
        cursor = newest.isoformat() if newest else since
        if since is not None and cursor is not None and cursor < since:
            cursor = since
        return Snapshot(records=seen, cursor=cursor, complete=since is None)

    async def fetch(self, kind: str, keys: Sequence[str]) -> list[Seen]:
        """The records of ``kind`` with these natural keys; absent keys are left out."""
        self._check(kind)
        if not keys:
            return []
        wanted = {k.strip().lower() if kind == "customer" else k for k in keys}
        if kind == "product":
            seen, _ = await self.products.seen(await self.products.templates_of_codes(list(wanted)))
        elif kind == "stock":
            seen = await self.stock.by_sku(list(wanted))
        elif kind == "customer":
            found = await self.customers.by_email(list(wanted))
            seen = await self.customers.seen(sorted(set(found.values())))
        elif kind == "price":
            snapshot = await self.snapshot("price", None)
            seen = snapshot.records
        elif kind == "order_status":
            seen, _ = await self._statuses(None, list(wanted))
        else:
            seen, _ = await self._invoices(None, list(wanted))
        return [s for s in seen if _key(kind, s) in wanted]

    async def _statuses(
        self, after: datetime | None, references: list[str] | None
    ) -> tuple[list[Seen], list[datetime]]:
        domain: list[Any] = [["reference", "!=", None]]
        if references is not None:
            domain.append(["reference", "in", references])
        if after is not None:
            domain.append(["last_modified_at", ">", after])
        rows = await self.client.search_read(
            "sale.sale", domain, ["reference", "state", "shipment_state", "last_modified_at"]
        )
        seen = [
            Seen(
                record=OrderStatus(number=str(row["reference"]), status=status_of(row)),
                ref=str(row["id"]),
                modified_at=stamp(row["last_modified_at"]),
            )
            for row in sorted(rows, key=lambda r: r["id"])
        ]
        return seen, [s for r in rows if (s := stamp(r["last_modified_at"]))]

    async def _invoices(
        self, after: datetime | None, numbers: list[str] | None
    ) -> tuple[list[Seen], list[datetime]]:
        domain: list[Any] = [["type", "=", "out"], ["state", "in", list(POSTED)]]
        if numbers is not None:
            domain.append(["number", "in", numbers])
        if after is not None:
            domain.append(["last_modified_at", ">", after])
        ids = await self.client.search("account.invoice", domain)
        rows = await self.orders.invoices(ids)
        sale_ids = sorted({s for r in rows for s in r["sales"]})
        sales = await self.client.read("sale.sale", sale_ids, ["reference", "number"])
        numbers_of = {s["id"]: str(s["reference"] or s["number"] or "") for s in sales}
        currencies = await self.lookups.currencies()
        seen = []
        for row in rows:
            order = next((numbers_of[s] for s in row["sales"] if numbers_of.get(s)), "")
            if not order:
                self.rejected.append((f"account.invoice/{row['id']}", "the invoice is of no sale"))
                continue
            invoice = Invoice(
                number=str(row["number"]),
                order_number=order,
                state=str(row["state"]),
                total=row["total_amount"]
                if isinstance(row["total_amount"], Decimal)
                else Decimal(0),
                currency=currencies.get(row["currency"], "EUR"),
                issued_on=row["invoice_date"],
                pdf_url=report_ref(self.settings.database, row["id"]),
            )
            seen.append(
                Seen(record=invoice, ref=str(row["id"]), modified_at=stamp(row["last_modified_at"]))
            )
        return seen, [s for r in rows if (s := stamp(r["last_modified_at"]))]

    async def apply(self, kind: str, operations: Sequence[Operation]) -> list[ItemResult]:
        """Write a batch; one result per operation, in order."""
        if kind not in WRITABLE:
            raise PermanentError(
                f"{kind} records are not written to Tryton by apply"
                + (" (web orders go through the order import)" if kind == "order" else "")
            )
        if len(operations) > self._capabilities.batch_size:
            raise PermanentError(
                f"batch of {len(operations)} exceeds {self._capabilities.batch_size} operations"
            )
        results: Results = [None] * len(operations)
        if kind == "product":
            await apply_products(self.client, self.lookups, operations, results)
        elif kind == "stock":
            await apply_stock(self.client, self.lookups, self.stock, operations, results)
        elif kind == "customer":
            await apply_customers(self.client, self.lookups, self.customers, operations, results)
        else:
            await apply_prices(self.client, self.customers, operations, results)
        missing = [i for i, r in enumerate(results) if r is None]
        if missing:
            raise AssertionError(f"no result for operations {missing}")
        return [r for r in results if r is not None]

    # -- web orders (the OrderImport capability of adapters/base.py) -------------------------

    async def find_orders_by_reference(self, references: Sequence[str]) -> dict[str, ErpOrder]:
        """The sales carrying these shop order numbers in ``reference``."""
        return await self.orders.find_orders_by_reference(references)

    async def create_sale_order(self, order: SaleOrder) -> ErpOrder:
        """Create one draft sale; its customer matched by e-mail or created. Tryton refusing
        the values (a quantity its unit cannot hold, an e-mail it does not take) refuses this
        order alone: it is held with Tryton's reason, and the orders after it go on."""
        try:
            return await self.orders.create_sale_order(order)
        except TrytonFault as fault:
            if not fault.about_data:
                raise
            raise PermanentError(f"order {order.reference}: {fault}") from None

    async def confirm_sale_order(self, ref: str) -> None:
        """Quote then confirm the sale; one already confirmed or further is left as it is."""
        await self.orders.confirm_sale_order(ref)

    async def list_web_orders(self, prefix: str, since: datetime | None) -> list[ErpOrder]:
        """Every sale whose reference starts with ``prefix``."""
        return await self.orders.list_web_orders(prefix, since)

    async def order_progress(self, references: Sequence[str]) -> list[OrderProgress]:
        """Shipment and posted invoices of the sales with these references."""
        return await self.orders.order_progress(references)

    async def create_credit_note(
        self, reference: str, amount: Decimal, reason: str, shop_refund: str
    ) -> str:
        """Not supported yet: refused with a message saying what to do by hand."""
        return await self.orders.create_credit_note(reference, amount, reason, shop_refund)

    async def invoice_document(self, pdf_url: str) -> Document:
        """The invoice report an :class:`Invoice`'s ``pdf_url`` points at, rendered by Tryton."""
        prefix = f"tryton://{self.settings.database}/report/account.invoice/"
        if not pdf_url.startswith(prefix) or not pdf_url[len(prefix) :].isdigit():
            raise PermanentError(f"not a Tryton invoice report of this database: {pdf_url!r}")
        invoice = int(pdf_url[len(prefix) :])
        reply = await self.client.call(
            "report.account.invoice.execute", [invoice], {}, self.client.context
        )
        extension, content, _, name = reply
        if not isinstance(content, bytes):
            content = str(content).encode()
        return Document(str(name), str(extension), content)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        await self.client.aclose()


def _key(kind: str, seen: Seen) -> str:
    return str(getattr(seen.record, "key", "")) if kind == "price" else seen.record.natural_key()


def create(settings: Mapping[str, Any], *, source: str) -> TrytonAdapter:
    """Build a :class:`TrytonAdapter` from its settings table (:mod:`adapters.tryton.settings`)."""
    return TrytonAdapter(parse_settings(settings, source=source))
