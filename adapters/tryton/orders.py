"""Web orders into Tryton as sales, and their progress out of it.

The shop's order number is the sale's ``reference``. Creating is not idempotent by itself: the
engine looks the reference up first (:mod:`engine.orders.importer`), and a create is sent once
(:mod:`adapters.tryton.client`), so one whose answer is lost fails as transient and the next
attempt finds its sale. Right after creating, the reference is searched again and any extra
draft under it (a create still running when an earlier lookup came) is deleted.

A sale is confirmed in two steps, ``quote`` then ``confirm`` (which makes the shipment and the
draft invoice). Lines need their ``unit_price`` (Tryton computes it only in the client's
on-change), so the shop's price is written. A line without article (no ``shipping_sku`` or
``fee_sku`` set) is a sale line without product, which Tryton invoices on the company's default
revenue account: without one, an order holding such a line is refused before anything is made.
Progress: ``shipped`` when the sale's ``shipment_state`` is ``sent``; invoices once posted, with
their number and a reference to the invoice report
(:meth:`adapters.tryton.adapter.TrytonAdapter.invoice_document`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.base import PermanentError
from adapters.tryton.client import TrytonClient
from adapters.tryton.customers import CustomerReader, party_vals
from adapters.tryton.lookups import Lookups
from adapters.tryton.products import stamp
from canonical.fields import to_fields
from canonical.orders import ErpOrder, InvoiceInfo, OrderProgress, SaleOrder
from rules.order_config import article_setting

SALE_FIELDS = (
    "reference",
    "number",
    "state",
    "shipment_state",
    "invoices",
    "create_date",
    "last_modified_at",
    "total_amount",
)
INVOICE_FIELDS = (
    "number",
    "state",
    "total_amount",
    "currency",
    "invoice_date",
    "type",
    "sales",
    "last_modified_at",
)
POSTED = ("posted", "paid")


def report_ref(database: str, invoice: int) -> str:
    """Where an invoice's document is: resolved by ``invoice_document``."""
    return f"tryton://{database}/report/account.invoice/{invoice}"


def to_erp_orders(rows: Sequence[dict[str, Any]]) -> dict[str, ErpOrder]:
    """Orders by reference; the oldest sale of a reference is the order, others duplicates."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        grouped.setdefault(str(row["reference"] or ""), []).append(row)
    return {
        reference: ErpOrder(
            reference=reference,
            ref=str(found[0]["id"]),
            state=str(found[0]["state"]),
            name=str(found[0]["number"] or ""),
            created_at=stamp(found[0]["create_date"]),
            duplicates=tuple(str(r["id"]) for r in found[1:]),
            total=found[0].get("total_amount"),
        )
        for reference, found in grouped.items()
        if reference
    }


def status_of(row: dict[str, Any]) -> str:
    """The sale's state, ``shipped`` once every shipment is sent and the sale not finished."""
    if row["state"] == "processing" and row["shipment_state"] == "sent":
        return "shipped"
    return str(row["state"])


class Orders:
    """The order import capability (see ``OrderImport`` in :mod:`adapters.base`)."""

    def __init__(self, client: TrytonClient, lookups: Lookups, customers: CustomerReader) -> None:
        self.client = client
        self.lookups = lookups
        self.customers = customers

    async def sales(self, references: Sequence[str]) -> list[dict[str, Any]]:
        if not references:
            return []
        return await self.client.search_read(
            "sale.sale", [["reference", "in", sorted(set(references))]], SALE_FIELDS
        )

    async def find_orders_by_reference(self, references: Sequence[str]) -> dict[str, ErpOrder]:
        return to_erp_orders(await self.sales(references))

    async def _party(self, order: SaleOrder) -> tuple[int, int]:
        """The customer by e-mail, created when absent, and its address for the order."""
        email = order.customer.email.strip().lower()
        found = await self.customers.by_email([email])
        if email in found:
            party = found[email]
        else:
            fields = to_fields(order.customer)
            vals = await party_vals(self.lookups, fields, new=True)
            [party] = await self.client.execute("party.party", "create", [vals])
        addresses = await self.client.search("party.address", [["party", "=", party]], limit=1)
        if not addresses:
            [address] = await self.client.execute("party.address", "create", [{"party": party}])
            return party, address
        return party, addresses[0]

    async def create_sale_order(self, order: SaleOrder) -> ErpOrder:
        skus = sorted({line.sku for line in order.lines if line.sku})
        rows = await self.client.search_read(
            "product.product", [["code", "in", skus]], ["code", "default_uom"]
        )
        products = {str(r["code"]): r for r in rows}
        missing = [sku for sku in skus if sku not in products]
        if missing:
            raise PermanentError(
                f"order {order.reference}: no Tryton product with code "
                + ", ".join(repr(s) for s in missing)
            )
        taxes = {name: tid for tid, name in (await self.lookups.taxes()).items()}
        unknown = sorted({line.tax_code for line in order.lines if line.tax_code} - set(taxes))
        if unknown:
            raise PermanentError(
                f"order {order.reference}: no Tryton tax named {', '.join(unknown)}"
            )
        currencies = {code: cid for cid, code in (await self.lookups.currencies()).items()}
        if order.currency not in currencies:
            raise PermanentError(
                f"order {order.reference}: Tryton has no currency {order.currency}"
            )
        await self._refuse_lines_without_account(order)
        company, _ = await self.lookups.company()
        warehouse = await self.lookups.warehouse()
        unit = await self.lookups.unit()
        party, address = await self._party(order)
        lines = []
        for line in order.lines:
            price = line.unit_price * (1 - line.discount_percent / 100)
            values: dict[str, Any] = {
                "type": "line",
                "description": line.name,
                "quantity": float(line.quantity),
                "unit_price": price.quantize(Decimal("0.0001")),
                "taxes": [["add", [taxes[line.tax_code]] if line.tax_code else []]],
            }
            if line.sku:
                values |= {
                    "product": products[line.sku]["id"],
                    "unit": products[line.sku]["default_uom"],
                }
            else:
                values["unit"] = unit
            lines.append(values)
        vals = {
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "company": company,
            "currency": currencies[order.currency],
            "warehouse": warehouse.id,
            "reference": order.reference,
            "sale_date": order.created_at.date(),
            "comment": order.note or None,
            "lines": [["create", lines]],
        }
        [created] = await self.client.execute("sale.sale", "create", [vals])
        return await self._drop_retried_copies(order.reference, int(created))

    async def _refuse_lines_without_account(self, order: SaleOrder) -> None:
        """Refuse an order with a line without article when Tryton has no default revenue
        account to invoice it on.

        Tryton's sale processing (the invoice and the shipment, run after ``confirm`` has
        answered) books a line without product on the accounting configuration's "Default
        Account Revenue"; without one it fails, and the sale stays ``confirmed`` with no
        invoice or shipment while Tryton records the error against its queued task
        (``ir.error``), which ``confirm`` never reports. Read on every such order, not kept:
        once a merchant sets it, the next run imports the order."""
        bare = [(n, line) for n, line in enumerate(order.lines, start=1) if not line.sku]
        if not bare:
            return
        [config] = await self.client.read(
            "account.configuration", [1], ["default_category_account_revenue"]
        )
        if config["default_category_account_revenue"]:
            return
        position, line = bare[0]
        raise PermanentError(
            f"order {order.reference}: line {position} ({line.name!r}) has no ERP article, and "
            "Tryton invoices a sale line without a product on the company's default revenue "
            f"account, which is not set: set [orders] {article_setting(line)} to the code of a "
            "service article, or Default Account Revenue in Tryton (Financial > Configuration)"
        )

    async def _drop_retried_copies(self, reference: str, mine: int) -> ErpOrder:
        """The sale under ``reference`` (with Tryton's total) once the extra drafts under it
        are deleted."""
        rows = sorted(await self.sales([reference]), key=lambda r: r["id"])
        extra = [r["id"] for r in rows[1:] if r["state"] == "draft"]
        if extra:
            await self.client.execute("sale.sale", "delete", extra)
        kept = [r for r in rows if r["id"] not in extra]
        if not kept:
            return ErpOrder(reference=reference, ref=str(mine), state="draft")
        return to_erp_orders(kept)[reference]

    async def confirm_sale_order(self, ref: str) -> None:
        [row] = await self.client.read("sale.sale", [int(ref)], ["state"])
        if row["state"] == "draft":
            await self.client.execute("sale.sale", "quote", [int(ref)])
            row["state"] = "quotation"
        if row["state"] == "quotation":
            await self.client.execute("sale.sale", "confirm", [int(ref)])

    async def list_web_orders(self, prefix: str, since: datetime | None) -> list[ErpOrder]:
        domain: list[Any] = [["reference", "!=", None]]
        if prefix:
            domain.append(["reference", "like", prefix.replace("%", "\\%") + "%"])
        if since is not None:
            domain.append(["create_date", ">=", since.replace(tzinfo=None)])
        rows = await self.client.search_read("sale.sale", domain, SALE_FIELDS)
        return sorted(to_erp_orders(rows).values(), key=lambda o: int(o.ref))

    async def invoices(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return await self.client.read("account.invoice", ids, INVOICE_FIELDS)

    async def order_progress(self, references: Sequence[str]) -> list[OrderProgress]:
        rows = await self.sales(references)
        by_id = {row["id"]: row for row in rows}
        invoices = await self.invoices(sorted({i for r in rows for i in r["invoices"]}))
        out = []
        for reference, order in to_erp_orders(rows).items():
            row = by_id[int(order.ref)]
            mine = [i for i in invoices if i["id"] in row["invoices"] and i["state"] in POSTED]
            out.append(
                OrderProgress(
                    reference=reference,
                    ref=order.ref,
                    state=status_of(row),
                    invoices=tuple(
                        InvoiceInfo(
                            number=str(i["number"]),
                            total=i["total_amount"],
                            state=str(i["state"]),
                            pdf_url=report_ref(self.client.database, i["id"]),
                        )
                        for i in mine
                        if i["type"] == "out"
                    ),
                )
            )
        return out

    async def create_credit_note(
        self, reference: str, amount: Decimal, reason: str, shop_refund: str
    ) -> str:
        raise PermanentError(
            f"order {reference}: credit notes are not made in Tryton by Concord yet; "
            f"record shop refund {shop_refund} ({amount}) in Tryton by hand"
        )
