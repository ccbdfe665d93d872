"""Web orders into a real Tryton server: sale orders with their taxes, confirmed, invoiced."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from integration.tryton.test_tryton_adapter import adapter, article
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import rpc

from adapters.tryton.adapter import TrytonAdapter
from adapters.tryton.client import TrytonClient
from canonical.models import Customer
from canonical.orders import SaleLine, SaleOrder

__all__ = ["adapter", "rpc"]  # the fixtures, shared


def web_order(reference: str, *lines: SaleLine) -> SaleOrder:
    return SaleOrder(
        reference=reference,
        customer=Customer(email="cleo@example.com", first_name="Cleo", last_name="Park"),
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        currency="EUR",
        lines=lines,
    )


def two_of(sku: str) -> SaleLine:
    """Two of an article at 10.00, taxed at the setup's VAT."""
    return SaleLine(
        sku=sku, name="Article", quantity=Decimal(2), unit_price=Decimal("10"), tax_code=TAX_NAME
    )


async def test_a_web_order_becomes_a_confirmed_sale_then_a_posted_invoice_with_its_document(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    await adapter.apply("product", [article("ORD-1", "10", tax_code=TAX_NAME)])
    order = web_order("WEB-1001", two_of("ORD-1"))
    assert await adapter.find_orders_by_reference(["WEB-1001"]) == {}

    made = await adapter.create_sale_order(order)
    assert made.state == "draft" and made.total == Decimal("24")  # Tryton's own total
    ref = made.ref
    await adapter.confirm_sale_order(ref)
    await adapter.confirm_sale_order(ref)  # already confirmed: left alone

    found = await adapter.find_orders_by_reference(["WEB-1001"])
    assert found["WEB-1001"].ref == ref and found["WEB-1001"].state == "processing"
    [status] = await adapter.fetch("order_status", ["WEB-1001"])
    assert status.record.status == "processing"  # type: ignore[attr-defined]
    [row] = await rpc.read("sale.sale", [int(ref)], ["invoices", "total_amount"])
    assert row["total_amount"] == Decimal("24")
    await rpc.execute("account.invoice", "post", row["invoices"])

    [progress] = await adapter.order_progress(["WEB-1001"])
    [invoice] = progress.invoices
    assert invoice.total == Decimal("24") and invoice.state == "posted"
    [seen] = await adapter.fetch("invoice", [invoice.number])
    assert seen.record.order_number == "WEB-1001"  # type: ignore[attr-defined]
    document = await adapter.invoice_document(invoice.pdf_url or "")
    assert document.extension == "odt" and document.content.startswith(b"PK")


async def test_shipping_the_shop_did_not_tax_is_booked_without_the_article_s_tax(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    # The shipping article's accounting category charges VAT, as a merchant's usually does.
    await adapter.apply(
        "product",
        [article("ORD-2", "10", tax_code=TAX_NAME), article("SHIP", "0", tax_code=TAX_NAME)],
    )
    shipping = SaleLine(
        sku="SHIP",
        name="Shipping: UPS Ground",
        quantity=Decimal(1),
        unit_price=Decimal("4.90"),
        is_shipping=True,
    )
    order = web_order("WEB-1002", two_of("ORD-2"), shipping)

    made = await adapter.create_sale_order(order)

    assert made.total == Decimal("28.90")  # Tryton's own total: 24.00 and 4.90 untaxed
    [row] = await rpc.read("sale.sale", [int(made.ref)], ["lines"])
    lines = await rpc.read("sale.line", row["lines"], ["description", "taxes"])
    assert {line["description"]: len(line["taxes"]) for line in lines} == {
        "Article": 1,
        "Shipping: UPS Ground": 0,
    }


async def test_an_order_naming_an_unknown_article_is_refused_naming_it(
    adapter: TrytonAdapter,
) -> None:
    order = SaleOrder(
        reference="WEB-BAD",
        customer=Customer(email="dan@example.com"),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        currency="EUR",
        lines=(SaleLine(sku="GHOST-9", name="?", quantity=Decimal(1), unit_price=Decimal(1)),),
    )
    with pytest.raises(Exception, match="GHOST-9"):
        await adapter.create_sale_order(order)
    assert await adapter.find_orders_by_reference(["WEB-BAD"]) == {}
