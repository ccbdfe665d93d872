"""Web orders into a real Tryton server: sale orders with their taxes, confirmed, invoiced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from integration.tryton.test_tryton_adapter import adapter, article
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import Sides, rpc, sides

from adapters.base import PermanentError
from adapters.tryton.adapter import TrytonAdapter
from adapters.tryton.client import TrytonClient
from canonical.models import Customer
from canonical.orders import SaleLine, SaleOrder
from engine.orders.importer import run_orders
from engine.store.state import Store
from rules.order_config import OrdersConfig

__all__ = ["adapter", "rpc", "sides"]  # the fixtures, shared


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


@asynccontextmanager
async def default_revenue_account(rpc: TrytonClient) -> AsyncIterator[None]:
    """What an accountant sets in Financial > Configuration: the revenue account of lines
    without product (the one the setup's goods are booked on). Unset again on exit: the
    module's tests share one database."""
    [goods] = await rpc.search_read(
        "product.category", [["accounting", "=", True]], ["account_revenue"]
    )
    field = "default_category_account_revenue"
    await rpc.execute("account.configuration", "write", [1], {field: goods["account_revenue"]})
    try:
        yield
    finally:
        await rpc.execute("account.configuration", "write", [1], {field: None})


async def test_shipping_without_article_is_held_until_tryton_has_a_default_revenue_account(
    store: Store, sides: Sides, rpc: TrytonClient
) -> None:
    # No shipping_sku: the shipping line goes as a sale line without product.
    config = OrdersConfig(taxes={"FR": TAX_NAME})
    await sides.erp.apply("product", [article("BARE-1", "10", tax_code=TAX_NAME)])
    sides.shop.add_product(sku="BARE-1", name="Article", regular_price="10.00")
    number = sides.shop.add_order(
        [("BARE-1", 2)],
        status="processing",
        billing={"first_name": "Ana", "country": "FR", "email": "ana@example.com"},
        shipping_lines=[{"method_title": "Colissimo", "total": "5.00"}],
    ).number
    shop_total = Decimal(next(o for o in sides.shop.orders.values() if o.number == number).total)
    assert shop_total == Decimal("30.00")  # 2 x 10.00 and 5.00 shipping, 20 % VAT on both

    held = await run_orders(
        store, connection="main", adapters=sides.adapters, config=config, full=True
    )

    assert held.counts.get("held") == 1 and held.counts.get("imported", 0) == 0, held.counts
    [letter] = held.failures
    assert f"order {number}:" in letter.reason and "line 2 ('Shipping: Colissimo')" in letter.reason
    assert "[orders] shipping_sku" in letter.reason
    assert "Default Account Revenue" in letter.reason
    assert await sides.erp.find_orders_by_reference([number]) == {}  # nothing made

    async with default_revenue_account(rpc):
        again = await run_orders(
            store, connection="main", adapters=sides.adapters, config=config, full=False
        )

        assert again.counts["imported"] == 1, (again.counts, again.failures)
        sale = (await sides.erp.find_orders_by_reference([number]))[number]
        assert sale.state == "processing" and sale.total == shop_total
        [row] = await rpc.read("sale.sale", [int(sale.ref)], ["invoices", "shipment_state"])
        assert row["shipment_state"] == "waiting"
        [invoice] = row["invoices"]
        [draft] = await rpc.read("account.invoice", [invoice], ["lines"])
        lines = await rpc.read(
            "account.invoice.line", draft["lines"], ["description", "product", "amount", "taxes"]
        )
        shipping = next(line for line in lines if line["description"] == "Shipping: Colissimo")
        assert shipping["product"] is None and shipping["amount"] == Decimal("5.00")
        assert len(shipping["taxes"]) == 1
        await rpc.execute("account.invoice", "post", [invoice])
        [progress] = await sides.erp.order_progress([number])
        [posted] = progress.invoices
        assert posted.state == "posted" and posted.total == shop_total


async def test_an_order_tryton_refuses_is_refused_alone_with_tryton_s_reason(
    adapter: TrytonAdapter,
) -> None:
    await adapter.apply("product", [article("ORD-Q", "10", tax_code=TAX_NAME)])
    # Half a unit: the article's unit (Unit) holds whole numbers, so Tryton refuses the line.
    half = SaleLine(sku="ORD-Q", name="Article", quantity=Decimal("1.5"), unit_price=Decimal("10"))

    with pytest.raises(PermanentError, match=r"order WEB-HALF: Tryton UserError"):
        await adapter.create_sale_order(web_order("WEB-HALF", half))
    assert await adapter.find_orders_by_reference(["WEB-HALF"]) == {}

    made = await adapter.create_sale_order(web_order("WEB-WHOLE", two_of("ORD-Q")))
    assert made.total == Decimal("24")  # the next order goes in
