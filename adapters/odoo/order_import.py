"""Web orders into Odoo and their progress out of it (the ``OrderImport`` capability).

The external reference is ``sale.order.client_order_ref``. Creating is not idempotent by
itself (the engine looks the reference up first, see :mod:`engine.orders.importer`), with one guard
of its own: the HTTP layer retries a request that timed out, so a create answered too late
can land twice; right after creating, the reference is searched again and any extra draft
made by such a retry is deleted.

Progress: ``shipped`` once every outgoing delivery (``stock.picking``) is done, with its
carrier and tracking reference; posted invoices and credit notes (``account.move``
``out_invoice``/``out_refund`` whose ``invoice_origin`` is the order's name). A credit note
made from a shop refund carries ``ref = "shop refund <id>"``, so it is never sent back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from adapters.base import PermanentError
from adapters.odoo.client import ALL, OdooClient, chunks, list_of
from adapters.odoo.mapping import stamp
from adapters.odoo.order_partners import normalised_email, order_partners
from adapters.odoo.transport import OdooFault
from adapters.odoo.values import number
from adapters.odoo.wire import (
    Many2one,
    SkuRow,
    Text,
    fields_of,
    ref_id,
    ref_name,
    text,
)
from adapters.odoo.writing import existing_skus
from canonical.orders import (
    CreditNote,
    ErpOrder,
    ErpPricing,
    InvoiceInfo,
    OrderProgress,
    SaleOrder,
)
from rules.order_config import article_setting

R = TypeVar("R", bound=msgspec.Struct)
SHOP_REFUND = "shop refund "
"""Prefix of the ``ref`` of a credit note made from a shop refund."""


class SaleRow(msgspec.Struct):
    id: int
    name: Text = False
    client_order_ref: Text = False
    state: Text = False
    date_order: Text = False
    partner_id: Many2one = False
    amount_total: Decimal | None = None


class PickingRow(msgspec.Struct):
    id: int
    sale_id: Many2one = False
    state: Text = False
    picking_type_code: Text = False
    carrier_id: Many2one = False
    carrier_tracking_ref: Text = False


class MoveRow(msgspec.Struct):
    id: int
    name: Text = False
    move_type: Text = False
    state: Text = False
    invoice_origin: Text = False
    amount_total: Decimal = Decimal(0)
    payment_state: Text = False
    ref: Text = False
    access_token: Text = False


async def _lookup(
    client: OdooClient, model: str, domain: list[Any], row_type: type[R], *, limit: int
) -> list[R]:
    """One ``search_read`` call for a lookup known to be small (no count, no paging), oldest
    first: an order is imported with as few calls as possible."""
    params = {"domain": domain, "fields": fields_of(row_type), "limit": limit, "order": "id asc"}
    rows: list[R] = await client.call(
        model, "search_read", params, result=list_of(row_type), context=ALL
    )
    return rows


def _odoo_datetime(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _orders(rows: Sequence[SaleRow]) -> dict[str, ErpOrder]:
    """Orders by reference; the oldest document of a reference is the order, others are
    duplicates."""
    grouped: dict[str, list[SaleRow]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        grouped.setdefault(text(row.client_order_ref), []).append(row)
    return {
        reference: ErpOrder(
            reference=reference,
            ref=str(found[0].id),
            state=text(found[0].state),
            name=text(found[0].name),
            created_at=stamp(found[0].date_order),
            duplicates=tuple(str(r.id) for r in found[1:]),
            total=found[0].amount_total,
        )
        for reference, found in grouped.items()
        if reference
    }


async def _sale_rows(client: OdooClient, references: Sequence[str]) -> list[SaleRow]:
    rows: list[SaleRow] = []
    for part in chunks(sorted(set(references)), client.page_size):
        rows += await client.search_read("sale.order", [["client_order_ref", "in", part]], SaleRow)
    return rows


def _refuse_lines_without_article(order: SaleOrder) -> None:
    """Odoo refuses a sale order line without a product (its ``accountable_required_fields``
    constraint): say which line and which setting names its article, before creating anything."""
    for position, line in enumerate(order.lines, start=1):
        if line.sku:
            continue
        setting = article_setting(line)
        raise PermanentError(
            f"order {order.reference}: line {position} ({line.name!r}) has no ERP article, and "
            f"Odoo refuses a sale order line without a product: set [orders] {setting} to "
            "the internal reference of a service article"
        )


async def find_orders_by_reference(
    client: OdooClient, references: Sequence[str]
) -> dict[str, ErpOrder]:
    if len(references) == 1:
        domain = [["client_order_ref", "=", references[0]]]
        return _orders(await _lookup(client, "sale.order", domain, SaleRow, limit=10))
    return _orders(await _sale_rows(client, references))


class _PrecisionRow(msgspec.Struct):
    id: int
    name: Text = False
    digits: int = 2


class _CompanyRow(msgspec.Struct):
    id: int
    tax_calculation_rounding_method: Text = False


class _RateRow(msgspec.Struct):
    id: int
    name: Text = False
    amount: Decimal = Decimal(0)


class OrderWriter:
    """Creates and confirms sale orders; keeps what it learnt of the server (the name of the
    lines' tax field, its rounding) and one lock per customer e-mail, so two orders of a new
    customer imported at once make one partner."""

    def __init__(self, client: OdooClient) -> None:
        self.client = client
        self._tax_field: str | None = None
        self._pricing: ErpPricing | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._asking = asyncio.Lock()
        """Orders imported at once ask the server about itself once, not once each."""
        self._drafts: set[str] = set()

    async def tax_field(self) -> str:
        """``tax_id`` up to Odoo 18.0, ``tax_ids`` from 18.1 on: asked of the server's model."""
        async with self._asking:
            if self._tax_field is None:
                self._tax_field = await self._ask_tax_field()
        return self._tax_field

    async def _ask_tax_field(self) -> str:
        fields: dict[str, Any] = await self.client.call(
            "sale.order.line",
            "fields_get",
            {"allfields": ["tax_id", "tax_ids"], "attributes": ["type"]},
            result=dict[str, Any],
        )
        for name in ("tax_ids", "tax_id"):
            if name in fields:
                return name
        raise PermanentError("Odoo's sale.order.line has neither tax_id nor tax_ids")

    async def pricing(self) -> ErpPricing:
        """The sales taxes' rates, the unit price and discount precisions and the company's
        tax rounding, read once."""
        async with self._asking:
            if self._pricing is None:
                self._pricing = await self._ask_pricing()
        return self._pricing

    async def _ask_pricing(self) -> ErpPricing:
        client = self.client
        rates, precisions, companies = await asyncio.gather(
            client.search_read("account.tax", [["type_tax_use", "=", "sale"]], _RateRow),
            client.search_read(
                "decimal.precision", [["name", "in", ["Product Price", "Discount"]]], _PrecisionRow
            ),
            _lookup(client, "res.company", [], _CompanyRow, limit=1),
        )
        digits = {text(row.name): row.digits for row in precisions}
        method = text(companies[0].tax_calculation_rounding_method) if companies else ""
        return ErpPricing(
            tax_rates={text(row.name): row.amount for row in rates if text(row.name)},
            price_digits=digits.get("Product Price", 2),
            discount_digits=digits.get("Discount", 2),
            per_line=method != "round_globally",
        )

    async def create(self, order: SaleOrder) -> ErpOrder:
        client = self.client
        _refuse_lines_without_article(order)
        skus = sorted({line.sku for line in order.lines if line.sku})
        products, taxes, tax_field = await asyncio.gather(
            self._products(skus), self._taxes(order), self.tax_field()
        )
        missing = [sku for sku in skus if sku not in products]
        if missing:
            raise PermanentError(
                f"order {order.reference}: no Odoo product with internal reference "
                + ", ".join(repr(s) for s in missing)
            )
        lines = []
        for line in order.lines:
            values: dict[str, Any] = {
                "product_id": products[line.sku] if line.sku else False,
                "name": line.name,
                "product_uom_qty": number(line.quantity),
                "price_unit": number(line.unit_price),
                "discount": number(line.discount_percent),
                tax_field: [[6, 0, [taxes[line.tax_code]] if line.tax_code else []]],
            }
            lines.append([0, 0, values])
        email = normalised_email(order.customer.email)
        async with self._locks.setdefault(email, asyncio.Lock()):
            partners = await order_partners(client, order.customer)
            vals = {
                "partner_id": partners.customer,
                "partner_invoice_id": partners.invoice,
                "partner_shipping_id": partners.shipping,
                "client_order_ref": order.reference,
                "date_order": _odoo_datetime(order.created_at),
                "order_line": lines,
                "note": order.note or False,
            }
            try:
                created: list[int] = await client.call(
                    "sale.order", "create", {"vals_list": [vals]}, result=list[int]
                )
            except OdooFault:
                # Refused: the customer made for this order goes too, when nothing else has
                # used it meanwhile (its e-mail's lock is held).
                if partners.created:
                    await client.call(
                        "res.partner", "unlink", {}, result=bool, ids=list(partners.created)
                    )
                raise
        found = await _drop_retried_copies(client, order.reference, created[0])
        if found.state == "draft":
            self._drafts.add(found.ref)
        return found

    async def _products(self, skus: list[str]) -> dict[str, int]:
        client = self.client
        if len(skus) * 2 > client.page_size:
            return await existing_skus(client, skus)
        found = await _lookup(
            client,
            "product.product",
            [["default_code", "in", skus]],
            SkuRow,
            limit=client.page_size,
        )
        return {text(row.default_code): row.id for row in reversed(found)}

    async def _taxes(self, order: SaleOrder) -> dict[str, int]:
        codes = {line.tax_code for line in order.lines if line.tax_code}
        taxes = {name: tid for tid, name in (await self.client.taxes()).items()}
        if codes - set(taxes):  # a tax made since the cache was filled
            taxes = {name: tid for tid, name in (await self.client.taxes(refresh=True)).items()}
        unknown = sorted(codes - set(taxes))
        if unknown:
            raise PermanentError(f"order {order.reference}: no Odoo tax named {', '.join(unknown)}")
        return taxes

    async def confirm(self, ref: str) -> None:
        """``action_confirm``; the state is read first unless this writer just made the
        draft."""
        if ref in self._drafts:
            self._drafts.discard(ref)
        else:
            rows = await self.client.read("sale.order", [int(ref)], SaleRow)
            if not rows or text(rows[0].state) not in ("draft", "sent"):
                return
        await self.client.call("sale.order", "action_confirm", {}, result=Any, ids=[int(ref)])

    async def cancel(self, ref: str) -> None:
        """``action_cancel``, unless the order is cancelled already."""
        rows = await self.client.read("sale.order", [int(ref)], SaleRow)
        if rows and text(rows[0].state) != "cancel":
            await self.client.call("sale.order", "action_cancel", {}, result=Any, ids=[int(ref)])


async def _drop_retried_copies(client: OdooClient, reference: str, mine: int) -> ErpOrder:
    """The order under ``reference`` once the drafts a retried create made are deleted."""
    rows = await _lookup(
        client, "sale.order", [["client_order_ref", "=", reference]], SaleRow, limit=10
    )
    extra = [r.id for r in rows[1:] if text(r.state) == "draft"]
    if extra:
        await client.call("sale.order", "unlink", {}, result=bool, ids=extra)
    kept = [r for r in rows if r.id not in extra]
    if not kept:  # not searchable yet: what was just made
        return ErpOrder(reference=reference, ref=str(mine), state="draft")
    return _orders(kept)[reference]


async def list_web_orders(
    client: OdooClient, prefix: str, since: datetime | None
) -> list[ErpOrder]:
    domain: list[Any] = [["client_order_ref", "!=", False]]
    if prefix:
        domain.append(["client_order_ref", "=like", prefix.replace("%", "\\%") + "%"])
    if since is not None:
        domain.append(["date_order", ">=", _odoo_datetime(since)])
    rows = await client.search_read("sale.order", domain, SaleRow)
    return sorted(_orders(rows).values(), key=lambda o: int(o.ref))


def _pdf_url(base_url: str, move: MoveRow) -> str:
    url = f"{base_url}/my/invoices/{move.id}?report_type=pdf&download=true"
    token = text(move.access_token)
    return f"{url}&access_token={token}" if token else url


async def order_progress(
    client: OdooClient, references: Sequence[str], base_url: str
) -> list[OrderProgress]:
    orders = await _sale_rows(client, references)
    by_id = {row.id: row for row in orders}
    names = sorted({text(row.name) for row in orders} - {""})
    pickings: list[PickingRow] = []
    moves: list[MoveRow] = []
    for part in chunks(sorted(by_id), client.page_size):
        pickings += await client.search_read(
            "stock.picking",
            [["sale_id", "in", part], ["picking_type_code", "=", "outgoing"]],
            PickingRow,
        )
    for part in chunks(names, client.page_size):
        moves += await client.search_read(
            "account.move",
            [
                ["invoice_origin", "in", part],
                ["move_type", "in", ["out_invoice", "out_refund"]],
                ["state", "=", "posted"],
            ],
            MoveRow,
            context=ALL,
        )
    out = []
    for reference, order in _orders(orders).items():
        row = by_id[int(order.ref)]
        mine = [p for p in pickings if ref_id(p.sale_id) == row.id and text(p.state) != "cancel"]
        shipped = bool(mine) and all(text(p.state) == "done" for p in mine)
        carriers = sorted({ref_name(p.carrier_id) for p in mine if ref_name(p.carrier_id)})
        tracking = sorted({text(p.carrier_tracking_ref) for p in mine} - {""})
        state = order.state
        if shipped and state == "sale":
            state = "shipped"
        related = [m for m in moves if text(m.invoice_origin) == text(row.name)]
        out.append(
            OrderProgress(
                reference=reference,
                ref=order.ref,
                state=state,
                carrier=", ".join(carriers) or None,
                tracking_number=", ".join(tracking) or None,
                invoices=tuple(
                    InvoiceInfo(
                        number=text(m.name),
                        total=m.amount_total,
                        state="paid"
                        if text(m.payment_state) in ("paid", "in_payment")
                        else "posted",
                        pdf_url=_pdf_url(base_url, m),
                    )
                    for m in related
                    if text(m.move_type) == "out_invoice"
                ),
                credit_notes=tuple(
                    CreditNote(
                        number=text(m.name),
                        amount=m.amount_total,
                        reason=text(m.ref),
                        shop_refund=text(m.ref)[len(SHOP_REFUND) :]
                        if text(m.ref).startswith(SHOP_REFUND)
                        else None,
                    )
                    for m in related
                    if text(m.move_type) == "out_refund"
                ),
            )
        )
    return out


async def create_credit_note(
    client: OdooClient, reference: str, amount: Decimal, reason: str, shop_refund: str
) -> str:
    orders = await _sale_rows(client, [reference])
    if not orders:
        raise PermanentError(f"order {reference}: no Odoo sale order with this reference")
    order = min(orders, key=lambda r: r.id)
    marker = f"{SHOP_REFUND}{shop_refund}"
    done = await client.search_read(
        "account.move", [["move_type", "=", "out_refund"], ["ref", "=", marker]], MoveRow
    )
    if done:
        return text(done[0].name) or str(done[0].id)
    vals = {
        "move_type": "out_refund",
        "partner_id": ref_id(order.partner_id) or False,
        "invoice_origin": text(order.name),
        "invoice_date": date.today().isoformat(),
        "amount_total": number(amount),
        "ref": marker,
        "narration": reason or False,
    }
    created: list[int] = await client.call(
        "account.move", "create", {"vals_list": [vals]}, result=list[int]
    )
    await client.call("account.move", "action_post", {}, result=Any, ids=created)
    rows = await client.read("account.move", created, MoveRow)
    return text(rows[0].name) if rows else str(created[0])
