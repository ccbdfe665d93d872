"""NaN and infinities are never prices: each platform's reader refuses them, naming the record
and the field, and every other record is read (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.odoo.values import Refused, exact
from adapters.shopify.products import Unreadable as ShopifyUnreadable
from adapters.shopify.products import money
from adapters.tryton.products import to_products
from adapters.woocommerce import schema
from adapters.woocommerce.mapping import Unreadable, decimal
from adapters.woocommerce.price_meta import to_scoped_price

NOT_FINITE = ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf"]


def product_row(pid: int, template: int, code: str, price: Any, cost: Any = None) -> dict[str, Any]:
    return {
        "id": pid,
        "template": template,
        "code": code,
        "active": True,
        "description": "",
        "list_price_used": price,
        "cost_price": cost,
        "last_modified_at": datetime(2026, 3, 1, tzinfo=UTC),
    }


def template_row(name: str, code: str = "", list_price: Any = None) -> dict[str, Any]:
    return {
        "name": name,
        "code": code,
        "type": "goods",
        "active": True,
        "account_category": None,
        "categories": [],
        "last_modified_at": None,
        "list_price": list_price,
    }


def test_tryton_articles_priced_nan_or_infinite_are_rejected_naming_sku_and_field() -> None:
    rows = [
        product_row(1, 10, "GOOD-1", Decimal("9.50"), Decimal("4.00")),
        product_row(2, 20, "NAN-1", Decimal("NaN")),
        product_row(3, 30, "INF-1", Decimal("12.00"), Decimal("Infinity")),
        product_row(4, 40, "BOOT-S", Decimal("50")),
        product_row(5, 40, "BOOT-M", Decimal("-Infinity")),
    ]
    templates = {
        10: template_row("Good"),
        20: template_row("Not a price"),
        30: template_row("Not a cost"),
        40: template_row("Boot", "BOOT-", Decimal("50")),
    }
    rejected: list[tuple[str, str]] = []

    seen = to_products(rows, templates, {}, {}, rejected)

    assert [s.record.natural_key() for s in seen] == ["GOOD-1"]
    assert rejected == [
        ("product.product/2", "NAN-1: list_price is NaN, not a finite number"),
        ("product.product/3", "INF-1: cost_price is Infinity, not a finite number"),
        ("product.template/40", "BOOT-M: list_price is -Infinity, not a finite number"),
    ]


def test_a_tryton_template_price_that_is_no_number_rejects_its_product() -> None:
    rows = [product_row(1, 10, "CAP-S", Decimal(5)), product_row(2, 10, "CAP-M", Decimal(5))]
    rejected: list[tuple[str, str]] = []

    seen = to_products(rows, {10: template_row("Cap", "CAP-", Decimal("NaN"))}, {}, {}, rejected)

    assert seen == []
    assert rejected == [("product.template/10", "CAP-: list_price is NaN, not a finite number")]


@pytest.mark.parametrize("text", NOT_FINITE)
def test_woocommerce_and_shopify_amounts_that_are_no_number_are_refused(text: str) -> None:
    with pytest.raises(Unreadable, match="regular_price is not a number"):
        decimal(text, "regular_price")
    with pytest.raises(ShopifyUnreadable, match="price is not a number"):
        money(text, "price")


@pytest.mark.parametrize("tail", ["NaN", "Infinity"])
def test_a_woocommerce_price_from_a_quantity_that_is_no_number_is_refused(tail: str) -> None:
    item = schema.Product(id=7, sku="MUG-1")
    entry = schema.Meta(key=f"_concord_price_group_wholesale_min_{tail}", value="9.90")
    with pytest.raises(Unreadable, match=f"_min_{tail}: '{tail}' is not a quantity"):
        to_scoped_price(item, entry, "EUR")


class _NoPrecision:
    """Odoo is never asked: a number that is no number is refused before."""

    async def precision(self, usage: str) -> int:
        raise AssertionError(usage)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
async def test_odoo_refuses_to_write_a_price_that_is_no_number(value: str) -> None:
    with pytest.raises(Refused, match=f"price: '{value}' is not a finite number"):
        await exact(_NoPrecision(), "price", value)  # type: ignore[arg-type]
