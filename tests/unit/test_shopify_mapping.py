"""The Shopify adapter's pure parts: query cost planning, throttle arithmetic, the article's
canonical form and the productSet input that writes it back."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import msgspec
import pytest

from adapters.shopify import cost
from adapters.shopify.orders import ORDER_COST, list_query, status_of
from adapters.shopify.products import (
    NODE_COST,
    Amount,
    InventoryItem,
    Measurement,
    SelectedOption,
    ShopProduct,
    ShopVariant,
    Unreadable,
    Weight,
    products_query,
    to_product,
)
from adapters.shopify.settings import parse_settings
from adapters.shopify.stock import LEVEL_COST, levels_query
from adapters.shopify.writes import product_input, unfit
from canonical.errors import ConfigError
from canonical.models import Attribute, Product, Variant


def test_a_page_is_as_large_as_the_query_cost_cap_allows() -> None:
    _, first, requested = products_query(1000)
    assert requested <= 1000
    assert cost.connection_cost(first + 1, NODE_COST) > 1000
    assert cost.page_size(1, 10_000) == 250  # never above Shopify's page cap
    assert cost.page_size(5000, 1000) == 1  # a node dearer than the cap: one at a time


def test_throttle_wait_is_the_deficit_at_the_restore_rate() -> None:
    assert cost.wait_for(752, 52, 100) == pytest.approx(7.0)
    assert cost.wait_for(100, 500, 100) == 0.0
    points = cost.PointBudget(1000, 50, clock=lambda: 0.0)
    throttled = cost.Cost(
        requested_query_cost=300,
        throttle_status=cost.ThrottleStatus(
            maximum_available=1000, currently_available=100, restore_rate=50
        ),
    )
    assert points.throttled_for(throttled) == pytest.approx(4.0)


def test_the_point_budget_follows_the_shop_and_refills() -> None:
    now = [0.0]
    points = cost.PointBudget(2000, 100, clock=lambda: now[0])
    points.observe(
        cost.Cost(
            actual_query_cost=40,
            throttle_status=cost.ThrottleStatus(
                maximum_available=1000, currently_available=200, restore_rate=50
            ),
        )
    )
    assert points.maximum == 1000 and points.spent == 40
    assert points.delay(300) == pytest.approx(2.0)
    now[0] = 1.0
    assert points.delay(300) == pytest.approx(1.0)
    now[0] = 100.0
    assert points.available() == 1000  # never above the bucket


async def test_a_waiting_query_goes_as_soon_as_an_answer_gives_points_back() -> None:
    """Shopify takes a query's requested cost and refunds what it did not use: a query
    waiting for points must not sleep out the refill when an answer brings them back."""
    points = cost.PointBudget(2000, 100, clock=lambda: 0.0)  # the clock never moves
    await points.reserve(982)
    await points.reserve(982)
    third = asyncio.create_task(points.reserve(982))
    await asyncio.sleep(0)  # it is waiting: 36 points left, the refill would take 9.5 s
    assert not third.done()
    points.observe(
        cost.Cost(
            actual_query_cost=2,
            throttle_status=cost.ThrottleStatus(
                maximum_available=2000, currently_available=1016, restore_rate=100
            ),
        )
    )
    await asyncio.wait_for(third, 1.0)
    assert points.available() == pytest.approx(34)


def _variant(sku: str | None, price: str, was: str | None = None, **more: object) -> ShopVariant:
    return ShopVariant(
        id=f"gid://shopify/ProductVariant/{sku}", sku=sku, price=price, compare_at_price=was, **more
    )  # type: ignore[arg-type]


def test_an_article_on_sale_reads_its_regular_and_sale_prices() -> None:
    product = ShopProduct(id="gid://shopify/Product/1", title="Mug", status="DRAFT")
    article = to_product(product, [_variant(" MUG-1 ", "8.00", "10.00")])
    assert article == Product(
        sku="MUG-1", name="Mug", price=Decimal("10.00"), sale_price=Decimal("8.00"), active=False
    )


def test_variants_come_in_sku_order_and_a_variant_without_sku_is_refused() -> None:
    product = ShopProduct(id="gid://shopify/Product/2", title="Shirt")
    size = [SelectedOption(name="Size", value="M")]
    small = [SelectedOption(name="Size", value="S")]
    shirt = to_product(
        product,
        [
            _variant("SH-M", "20.00", selected_options=size),
            _variant("SH-S", "19.00", selected_options=small),
        ],
    )
    assert [v.sku for v in shirt.variants] == ["SH-M", "SH-S"]
    with pytest.raises(Unreadable, match="SKU"):
        to_product(product, [_variant(None, "1.00")])


def _item(weight: float, unit: str, unit_cost: str | None = None) -> InventoryItem:
    return InventoryItem(
        unit_cost=None if unit_cost is None else Amount(amount=unit_cost),
        measurement=Measurement(weight=Weight(value=weight, unit=unit)),
    )


def test_a_weight_in_any_of_shopifys_units_reads_in_kilograms() -> None:
    product = ShopProduct(id="gid://shopify/Product/1", title="Mug")
    for weight, unit, kilograms in [
        (0.25, "KILOGRAMS", Decimal("0.25")),
        (250, "GRAMS", Decimal("0.25")),
        (2, "POUNDS", Decimal("0.90718474")),
        (16, "OUNCES", Decimal("0.45359237")),
    ]:
        article = to_product(
            product, [_variant("MUG-1", "8.00", inventory_item=_item(weight, unit))]
        )
        assert article.weight == kilograms, unit
    # 0 is what Shopify holds for "no weight"; a cost is read as it is, 0 included.
    nothing = to_product(
        product, [_variant("MUG-1", "8.00", inventory_item=_item(0, "GRAMS", "0.00"))]
    )
    assert (nothing.weight, nothing.cost) == (None, Decimal(0))
    with pytest.raises(Unreadable, match="weight"):
        to_product(product, [_variant("MUG-1", "8.00", inventory_item=_item(1, "STONES"))])


def test_a_cost_or_weight_shopify_would_keep_otherwise_is_refused() -> None:
    price = Decimal("9.90")
    fine = Product(sku="A", name="A", price=price, cost=Decimal("1.50"), weight=Decimal("0.125"))
    assert unfit(fine) is None
    assert "cost" in (unfit(Product(sku="A", name="A", price=price, cost=Decimal("1.234"))) or "")
    heavy = Product(
        sku="P",
        name="P",
        variants=(Variant(sku="P-1", price=price, weight=Decimal("0.12345678901234567890")),),
    )
    assert "weight" in (unfit(heavy) or "") and "P-1" in (unfit(heavy) or "")


def test_a_category_is_the_product_type_its_levels_joined_with_an_arrow() -> None:
    product = ShopProduct(id="gid://shopify/Product/1", title="Mug", product_type="")
    [mug] = [_variant("MUG-1", "8.00")]
    assert to_product(product, [mug]).category == ()
    typed = msgspec.structs.replace(product, product_type="Kitchen > Mugs")
    assert to_product(typed, [mug]).category == ("Kitchen", "Mugs")
    flat = msgspec.structs.replace(product, product_type="Kitchen>Mugs / Cups")
    assert to_product(flat, [mug]).category == ("Kitchen>Mugs / Cups",)
    size = [SelectedOption(name="Size", value="M")]
    shirt = to_product(typed, [_variant("SH-M", "20.00", selected_options=size)] * 2)
    assert shirt.category == ("Kitchen", "Mugs")
    # Written as it is read, and none as "" (which clears a type the shop had).
    for category, written in [(("Kitchen", "Mugs"), "Kitchen > Mugs"), ((), "")]:
        article = Product(sku="MUG-1", name="Mug", price=Decimal(8), category=category)
        assert product_input(article, None, {})["productType"] == written
        assert unfit(article) is None


@pytest.mark.parametrize(
    ("category", "reason"),
    [
        (("Kitchen", "x" * 246), "256 characters"),
        (("Kitchen > Mugs",), "holds ' > '"),
        (("Kitchen", ""), "empty level"),
        (("Kitchen", "  "), "empty level"),
        ((" Kitchen", "Mugs"), "whitespace"),
        (("Kitchen", "Mugs "), "whitespace"),
        (("Kitchen ", "Mugs"), "whitespace"),
        (("Kitchen >", "Mugs"), "read back from Shopify's productType as ('Kitchen', '> Mugs')"),
    ],
)
def test_a_category_the_product_type_would_not_give_back_is_refused(
    category: tuple[str, ...], reason: str
) -> None:
    for article in (
        Product(sku="MUG-1", name="Mug", price=Decimal(8), category=category),
        Product(
            sku="MUG-1",
            name="Mug",
            category=category,
            variants=(Variant(sku="MUG-1-S", price=Decimal(8)),),
        ),
    ):
        refused = unfit(article) or ""
        assert refused.startswith("category: ") and "MUG-1" in refused, refused
        assert reason in refused, refused
    # The longest type Shopify keeps is no reason.
    longest = ("Kitchen", "x" * 245)
    assert unfit(Product(sku="MUG-1", name="Mug", price=Decimal(8), category=longest)) is None


def test_the_product_set_input_writes_back_what_is_read() -> None:
    article = Product(
        sku="MUG-1",
        name="Mug",
        price=Decimal("10"),
        sale_price=Decimal("8"),
        cost=Decimal("3.5"),
        weight=Decimal("0.35"),
    )
    data = product_input(article, "gid://shopify/Product/1", {"MUG-1": "gid://v/1"})
    [row] = data["variants"]
    assert row["id"] == "gid://v/1"
    assert row["inventoryItem"] == {
        "sku": "MUG-1",
        "cost": "3.5",
        "measurement": {"weight": {"value": 0.35, "unit": "KILOGRAMS"}},
    }
    assert (row["price"], row["compareAtPrice"]) == ("8.00", "10.00")
    assert data["status"] == "ACTIVE"
    shirt = Product(
        sku="SH",
        name="Shirt",
        variants=(
            Variant(
                sku="SH-M", attributes=(Attribute(name="Size", value="M"),), price=Decimal("20")
            ),
        ),
    )
    data = product_input(shirt, None, {})
    assert "id" not in data
    # No cost is null, no weight 0 kg: the variant's own, cleared.
    assert data["variants"][0]["inventoryItem"]["cost"] is None
    assert data["variants"][0]["inventoryItem"]["measurement"]["weight"]["value"] == 0.0
    assert data["productOptions"] == [{"name": "Size", "values": [{"name": "M"}]}]
    assert data["variants"][0]["compareAtPrice"] is None


def test_settings_build_the_versioned_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_TOKEN", "shpat_x")
    settings = parse_settings(
        {"shop": "demo.myshopify.com", "access_token_env": "SHOP_TOKEN"}, source="t.toml"
    )
    assert settings.endpoint == "https://demo.myshopify.com/admin/api/2026-01/graphql.json"
    assert "shpat_x" not in repr(settings)
    with pytest.raises(ConfigError, match="api_version"):
        parse_settings(
            {"shop": "demo.myshopify.com", "access_token_env": "SHOP_TOKEN", "api_version": "v1"},
            source="t.toml",
        )
    assert settings.calls_beside_bulk
    with pytest.raises(ConfigError, match=r"shop\.calls_beside_bulk: must be true or false"):
        parse_settings(
            {
                "shop": "demo.myshopify.com",
                "access_token_env": "SHOP_TOKEN",
                "calls_beside_bulk": 1,
            },
            source="t.toml",
        )


def test_an_order_status_is_derived_as_the_order_rules_speak() -> None:
    assert status_of({"cancelledAt": "2026-01-01T00:00:00Z"}) == "cancelled"
    assert status_of({"displayFinancialStatus": "REFUNDED"}) == "refunded"
    paid = {"displayFinancialStatus": "PAID", "displayFulfillmentStatus": "UNFULFILLED"}
    assert status_of(paid) == "processing"
    assert status_of({**paid, "displayFulfillmentStatus": "FULFILLED"}) == "completed"
    assert status_of({"displayFinancialStatus": "PENDING"}) == "pending"


def test_stock_and_order_pages_fit_the_query_cost_cap() -> None:
    for query, node in ((levels_query(1000), LEVEL_COST), (list_query("orders", 1000), ORDER_COST)):
        _, first, requested = query
        assert requested <= 1000 < cost.connection_cost(first + 1, node) or first == 250
