"""The Shopify simulator behaves as the Admin GraphQL API documents, over loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from shopify_sim_fixtures import Client, running_shop

from adapters.shopify.simulator import ManualClock, Settings, bulk_of, deliveries_of
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.simulator.orders_model import plant_customer, plant_order, refund
from adapters.simkit import serve
from adapters.woocommerce.simulator import WebhookInbox


@pytest.fixture
async def shop() -> AsyncIterator[Client]:
    async with running_shop(30) as client:
        yield client


async def test_token_and_version_are_checked(shop: Client) -> None:
    query = "{ shop { name } }"
    response, body = await shop.post(query, token=None)
    assert response.status == 401
    response, _ = await shop.post(query, token="shpat_wrong")
    assert response.status == 401
    response, _ = await shop.post(query, version="2019-04")
    assert response.status == 404
    response, body = await shop.post(query, version="2025-04")
    assert response.status == 200 and body["data"]["shop"]["name"] == "concord-test"
    assert "X-Shopify-API-Deprecated-Reason" in response.headers
    response, _ = await shop.post(query, version="2026-01")
    assert "X-Shopify-API-Deprecated-Reason" not in response.headers


async def test_products_page_with_cursors_to_the_end(shop: Client) -> None:
    query = """query($after: String) { products(first: 7, after: $after) {
        nodes { id } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    for _ in range(20):
        page = (await shop.gql(query, {"after": after}))["products"]
        seen += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == len(shop.shop.store.products)
    assert all(one.startswith("gid://shopify/Product/") for one in seen)


async def test_page_size_above_250_and_missing_size_are_errors(shop: Client) -> None:
    _, body = await shop.post("{ products(first: 251) { nodes { id } } }")
    assert body["data"] is None and "250" in body["errors"][0]["message"]
    _, body = await shop.post("{ products { nodes { id } } }")
    assert "first or last" in body["errors"][0]["message"]


async def test_variant_fields_are_shopify_shaped(shop: Client) -> None:
    data = await shop.gql(
        """{ productVariants(first: 50) { nodes { id sku price inventoryQuantity
            selectedOptions { name value } product { id }
            inventoryItem { id tracked inventoryLevels(first: 2) { nodes {
                location { id } quantities(names: ["available", "on_hand"]) { name quantity } } } }
        } } }"""
    )
    variants = data["productVariants"]["nodes"]
    store = shop.shop.store
    assert len(variants) == len(store.variants)
    for row in variants:
        assert "." in row["price"] and len(row["price"].split(".")[1]) == 2
        levels = row["inventoryItem"]["inventoryLevels"]["nodes"]
        available = sum(
            q["quantity"] for lv in levels for q in lv["quantities"] if q["name"] == "available"
        )
        if row["inventoryItem"]["tracked"]:
            assert row["inventoryQuantity"] == available
        else:
            assert levels == []
    assert any(not row["inventoryItem"]["tracked"] for row in variants), "seed has services"


async def test_requested_and_actual_cost_and_refund() -> None:
    clock = ManualClock()
    async with running_shop(5, clock=clock) as shop:
        _response, body = await shop.post("{ products(first: 10) { nodes { id title } } }")
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 2 + 10 * 1
        returned = len(body["data"]["products"]["nodes"])
        assert returned < 10
        assert cost["actualQueryCost"] == 2 + returned
        status = cost["throttleStatus"]
        assert status == {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": 2000.0 - cost["actualQueryCost"],
            "restoreRate": 100.0,
        }
        nested = """{ products(first: 5) { edges { node {
            variants(first: 10) { nodes { sku inventoryItem { id } } } } } } }"""
        _, body = await shop.post(nested)
        assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 5 * (1 + 2 + 10 * 2)


async def test_bucket_throttles_and_restores_with_the_clock() -> None:
    clock = ManualClock()
    settings = Settings(bucket_size=100, restore_rate=10)
    async with running_shop(3, clock=clock, settings=settings) as shop:
        query = "{ products(first: 48) { nodes { id } } }"  # requests 50 points
        _, first = await shop.post(query)
        returned = len(first["data"]["products"]["nodes"])
        left = 100 - (2 + returned)
        assert first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == left
        shop.shop.bucket("shpat_test").drain(left - 40)
        _, body = await shop.post(query)
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert body["extensions"]["cost"]["actualQueryCost"] is None
        assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 40
        clock.advance(1.0)  # 40 + 10 points: enough for 50
        _, body = await shop.post(query)
        assert "errors" not in body
        assert shop.shop.counters["throttled"] == 1
        # Another token has its own bucket.


async def test_query_above_the_single_query_cap_is_refused(shop: Client) -> None:
    _, body = await shop.post(
        "{ products(first: 250) { nodes { variants(first: 10) { nodes { id } } } } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert "data" not in body


async def test_search_by_sku_and_updated_at_trails_writes_by_the_lag() -> None:
    clock = ManualClock()
    async with running_shop(5, clock=clock, search_lag=3.0) as shop:
        store = shop.shop.store
        clock.advance(10)
        since = "2026-01-01T00:00:05Z"
        product = new_product(store, "Late arrival")
        add_variant(store, product, sku="LATE-1")
        store.touch_product(product)
        query = """query($q: String) { products(first: 50, query: $q) { nodes { title } } }"""
        found = await shop.gql(query, {"q": "sku:LATE-1"})
        assert found["products"]["nodes"] == []
        found = await shop.gql(query, {"q": f"updated_at:>'{since}'"})
        assert found["products"]["nodes"] == []
        clock.advance(3.0)
        found = await shop.gql(query, {"q": "sku:LATE-1"})
        assert found["products"]["nodes"] == [{"title": "Late arrival"}]
        found = await shop.gql(query, {"q": f"updated_at:>'{since}'"})
        assert found["products"]["nodes"] == [{"title": "Late arrival"}]
        # Without a query, the record is there at once.
        listed = await shop.gql("{ products(first: 50) { nodes { title } } }")
        assert {"title": "Late arrival"} in listed["products"]["nodes"]


async def test_product_create_user_errors_and_handle(shop: Client) -> None:
    create = """mutation($p: ProductCreateInput) { productCreate(product: $p) {
        product { id title handle status variants(first: 1) { nodes { price } } }
        userErrors { field message } } }"""
    data = await shop.gql(create, {"p": {"title": "   "}})
    assert data["productCreate"]["product"] is None
    assert data["productCreate"]["userErrors"] == [
        {"field": ["title"], "message": "Title can't be blank"}
    ]
    data = await shop.gql(create, {"p": {"title": " Crème Brûlée Set "}})
    made = data["productCreate"]["product"]
    assert made["title"] == "Crème Brûlée Set" and made["handle"] == "creme-brulee-set"
    assert made["variants"]["nodes"] == [{"price": "0.00"}]
    again = (await shop.gql(create, {"p": {"title": "Crème brûlée set"}}))["productCreate"]
    assert again["product"]["handle"] == "creme-brulee-set-1"


PRODUCT_SET = """mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier) {
    product { id handle title options { name values }
      variants(first: 10) { nodes { id price selectedOptions { name value }
        inventoryItem { sku tracked } } } }
    userErrors { field message code } } }"""


def _variant(colour: str, sku: str, price: str, **more: object) -> dict[str, object]:
    return {
        "optionValues": [{"optionName": "Colour", "name": colour}],
        "price": price,
        "inventoryItem": {"sku": sku},
        **more,
    }


async def test_product_set_creates_then_replaces_variants(shop: Client) -> None:
    options = [{"name": "Colour", "values": [{"name": "Red"}, {"name": "Blue"}]}]
    first = await shop.gql(
        PRODUCT_SET,
        {
            "input": {
                "title": "Set mug",
                "productOptions": options,
                "variants": [_variant("Red", "MUG-R", "12.5"), _variant("Blue", "MUG-B", "13")],
            }
        },
    )
    product = first["productSet"]["product"]
    assert first["productSet"]["userErrors"] == []
    rows = product["variants"]["nodes"]
    assert [(r["inventoryItem"]["sku"], r["price"]) for r in rows] == [
        ("MUG-R", "12.50"),
        ("MUG-B", "13.00"),
    ]
    red = rows[0]["id"]
    again = await shop.gql(
        PRODUCT_SET,
        {
            "identifier": {"id": product["id"]},
            "input": {
                "productOptions": [{"name": "Colour", "values": [{"name": "Red"}]}],
                "variants": [{**_variant("Red", "MUG-R", "14.00"), "id": red}],
            },
        },
    )
    kept = again["productSet"]["product"]
    assert kept["title"] == "Set mug", "an omitted scalar stays"
    assert [r["id"] for r in kept["variants"]["nodes"]] == [red]
    assert kept["variants"]["nodes"][0]["price"] == "14.00"
    assert kept["options"] == [{"name": "Colour", "values": ["Red"]}]
    blue_number = int(rows[1]["id"].rsplit("/", 1)[1])
    assert blue_number not in shop.shop.store.variants, "the omitted variant is deleted"


async def test_product_set_refuses_bad_input_and_writes_nothing(shop: Client) -> None:
    before = len(shop.shop.store.products)
    data = await shop.gql(
        PRODUCT_SET,
        {
            "input": {
                "title": "Broken",
                "productOptions": [{"name": "Colour", "values": [{"name": "Red"}]}],
                "variants": [_variant("Red", "B-1", "-1"), _variant("Red", "B-2", "2")],
            }
        },
    )
    codes = {e["code"] for e in data["productSet"]["userErrors"]}
    assert codes == {"INVALID_VARIANT", "DUPLICATED_OPTION_VALUE"}
    assert data["productSet"]["product"] is None
    assert len(shop.shop.store.products) == before
    missing = await shop.gql(
        PRODUCT_SET, {"identifier": {"id": "gid://shopify/Product/1"}, "input": {"title": "x"}}
    )
    assert missing["productSet"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"


async def test_a_product_type_is_trimmed_and_one_too_long_refused(shop: Client) -> None:
    typed = """mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
      productSet(input: $input, identifier: $identifier) {
        product { id productType } userErrors { field message code } } }"""
    made = await shop.gql(
        typed, {"input": {"title": "Typed mug", "productType": " Kitchen > Mugs "}}
    )
    product = made["productSet"]["product"]
    assert made["productSet"]["userErrors"] == []
    assert product["productType"] == "Kitchen > Mugs"
    same = {"id": product["id"]}
    longest = await shop.gql(typed, {"identifier": same, "input": {"productType": "x" * 255}})
    assert longest["productSet"]["product"]["productType"] == "x" * 255
    refused = await shop.gql(typed, {"identifier": same, "input": {"productType": "x" * 256}})
    assert refused["productSet"] == {
        "product": None,
        "userErrors": [
            {
                "field": ["input", "productType"],
                "message": "Product type is too long (maximum is 255 characters)",
                "code": "TOO_LONG",
            }
        ],
    }
    update = """mutation($p: ProductUpdateInput) { productUpdate(product: $p) {
        product { productType } userErrors { field message } } }"""
    refused = await shop.gql(update, {"p": {**same, "productType": "y" * 256}})
    assert refused["productUpdate"]["userErrors"][0]["field"] == ["productType"]
    read = await shop.gql(
        "query($id: ID!) { product(id: $id) { productType } }", {"id": product["id"]}
    )
    assert read["product"]["productType"] == "x" * 255, "nothing refused is written"


def _some_product(shop: Client) -> Any:
    store = shop.shop.store
    return next(p for p in store.products.values() if len(p.variant_ids) >= 2)


BULK_UPDATE = """mutation($id: ID!, $variants: [ProductVariantsBulkInput!]!, $partial: Boolean) {
  productVariantsBulkUpdate(productId: $id, variants: $variants, allowPartialUpdates: $partial) {
    productVariants { id price } userErrors { field message code } } }"""


async def test_bulk_update_is_all_or_nothing_unless_partial(shop: Client) -> None:
    product = _some_product(shop)
    store = shop.shop.store
    first, second = (store.variants[v] for v in product.variant_ids[:2])
    variables = {
        "id": f"gid://shopify/Product/{product.id}",
        "variants": [
            {"id": f"gid://shopify/ProductVariant/{first.id}", "price": "9.99"},
            {"id": f"gid://shopify/ProductVariant/{second.id}", "price": "-3"},
        ],
    }
    data = (await shop.gql(BULK_UPDATE, variables))["productVariantsBulkUpdate"]
    assert [e["code"] for e in data["userErrors"]] == ["NEGATIVE_PRICE_VALUE"]
    assert data["userErrors"][0]["field"] == ["variants", "1", "price"]
    assert str(first.price) != "9.99"
    data = (await shop.gql(BULK_UPDATE, {**variables, "partial": True}))[
        "productVariantsBulkUpdate"
    ]
    assert data["productVariants"] == [
        {"id": f"gid://shopify/ProductVariant/{first.id}", "price": "9.99"}
    ]
    assert str(first.price) == "9.99"
    other = next(p for p in store.products.values() if p.id != product.id)
    foreign = {"id": f"gid://shopify/ProductVariant/{other.variant_ids[0]}", "price": "1"}
    data = (await shop.gql(BULK_UPDATE, {**variables, "variants": [foreign]}))[
        "productVariantsBulkUpdate"
    ]
    assert data["userErrors"][0]["code"] == "PRODUCT_VARIANT_DOES_NOT_EXIST"
    _, body = await shop.post(BULK_UPDATE, {**variables, "variants": [foreign] * 251})
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


async def test_bulk_create_and_delete_variants(shop: Client) -> None:
    store = shop.shop.store
    made = (
        await shop.gql('mutation { productCreate(product: {title: "Blank"}) { product { id } } }')
    )["productCreate"]["product"]["id"]
    location = f"gid://shopify/Location/{next(iter(store.locations))}"
    create = """mutation($id: ID!, $variants: [ProductVariantsBulkInput!]!) {
      productVariantsBulkCreate(productId: $id, variants: $variants) {
        product { variants(first: 5) { nodes { id inventoryQuantity selectedOptions { value } } } }
        userErrors { code } } }"""
    rows = [
        {
            "optionValues": [{"optionName": "Size", "name": size}],
            "price": "5",
            "inventoryQuantities": [{"locationId": location, "availableQuantity": 4}],
        }
        for size in ("S", "M")
    ]
    data = (await shop.gql(create, {"id": made, "variants": rows}))["productVariantsBulkCreate"]
    nodes = data["product"]["variants"]["nodes"]
    assert [n["selectedOptions"] for n in nodes] == [[{"value": "S"}], [{"value": "M"}]]
    assert [n["inventoryQuantity"] for n in nodes] == [4, 4]
    again = (await shop.gql(create, {"id": made, "variants": rows[:1]}))[
        "productVariantsBulkCreate"
    ]
    assert again["userErrors"] == [{"code": "VARIANT_ALREADY_EXISTS"}]
    delete = """mutation($id: ID!, $ids: [ID!]!) { productVariantsBulkDelete(
        productId: $id, variantsIds: $ids) { userErrors { code } } }"""
    everything = [n["id"] for n in nodes]
    data = await shop.gql(delete, {"id": made, "ids": everything})
    assert data["productVariantsBulkDelete"]["userErrors"] == [
        {"code": "CANNOT_DELETE_LAST_VARIANT"}
    ]
    data = await shop.gql(delete, {"id": made, "ids": everything[:1]})
    assert data["productVariantsBulkDelete"]["userErrors"] == []
    assert len(store.products[int(made.rsplit("/", 1)[1])].variant_ids) == 1


SET_QUANTITIES = """mutation($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { field code } } }"""


def _stocked(shop: Client) -> Any:
    store = shop.shop.store
    return next(lv for lv in store.levels.values() if lv.quantities["available"] > 0)


def _quantity_input(level: Any, quantity: int, **check: object) -> dict[str, object]:
    return {
        "name": "available",
        "reason": "correction",
        "quantities": [
            {
                "inventoryItemId": f"gid://shopify/InventoryItem/{level.item_id}",
                "locationId": f"gid://shopify/Location/{level.location_id}",
                "quantity": quantity,
                **check,
            }
        ],
    }


async def test_set_quantities_compare_and_swap_by_version(shop: Client) -> None:
    level = _stocked(shop)
    held = level.quantities["available"]
    stale = await shop.gql(
        SET_QUANTITIES, {"input": _quantity_input(level, 99, changeFromQuantity=held + 1)}
    )
    errors = stale["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert level.quantities["available"] == held, "nothing applied"
    done = await shop.gql(
        SET_QUANTITIES, {"input": _quantity_input(level, 99, changeFromQuantity=held)}
    )
    changes = done["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert {"name": "available", "delta": 99 - held, "quantityAfterChange": 99} in changes
    assert level.quantities["available"] == 99
    # Before 2026-01: compareQuantity, required unless ignored.
    legacy = await shop.gql(SET_QUANTITIES, {"input": _quantity_input(level, 5)}, version="2025-10")
    assert legacy["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    legacy = await shop.gql(
        SET_QUANTITIES, {"input": _quantity_input(level, 5, compareQuantity=1)}, version="2025-10"
    )
    assert legacy["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE"
    # From 2026-04 the check must be given (null opts out).
    keyed = SET_QUANTITIES.replace(
        "inventorySetQuantities(input: $input)",
        'inventorySetQuantities(input: $input) @idempotent(key: "s-1")',
    )
    _, body = await shop.post(keyed, {"input": _quantity_input(level, 5)}, version="2026-04")
    assert "changeFromQuantity" in body["errors"][0]["message"]
    assert level.quantities["available"] == 99


async def test_idempotency_key_replays_the_first_result(shop: Client) -> None:
    level = _stocked(shop)
    held = level.quantities["available"]
    adjust = """mutation($input: InventoryAdjustQuantitiesInput!) {
      inventoryAdjustQuantities(input: $input) @idempotent(key: "k-1") {
        inventoryAdjustmentGroup {
          changes(quantityNames: ["available"]) { delta quantityAfterChange } }
        userErrors { code } } }"""
    change = {
        "name": "available",
        "reason": "correction",
        "changes": [
            {
                "delta": -2,
                "inventoryItemId": f"gid://shopify/InventoryItem/{level.item_id}",
                "locationId": f"gid://shopify/Location/{level.location_id}",
                "changeFromQuantity": held,
            }
        ],
    }
    first = await shop.gql(adjust, {"input": change}, version="2026-04")
    second = await shop.gql(adjust, {"input": change}, version="2026-04")
    assert first == second
    assert first["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"] == [
        {"delta": -2, "quantityAfterChange": held - 2}
    ]
    assert level.quantities["available"] == held - 2, "applied once"
    change["changes"][0]["delta"] = -3  # type: ignore[index]
    other = await shop.gql(adjust, {"input": change}, version="2026-04")
    assert other["inventoryAdjustQuantities"]["userErrors"] == [
        {"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}
    ]
    _, body = await shop.post(
        adjust.replace('@idempotent(key: "k-1")', ""), {"input": change}, version="2026-04"
    )
    assert "@idempotent" in body["errors"][0]["message"]


async def test_metafields_set_checks_types_and_writes(shop: Client) -> None:
    product = _some_product(shop)
    owner = f"gid://shopify/Product/{product.id}"
    mutation = """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
        metafields { namespace key value } userErrors { code elementIndex } } }"""
    bad = await shop.gql(
        mutation,
        {
            "m": [
                {
                    "ownerId": owner,
                    "namespace": "erp",
                    "key": "p",
                    "value": "x",
                    "type": "number_decimal",
                }
            ]
        },
    )
    assert bad["metafieldsSet"]["userErrors"] == [{"code": "INVALID_VALUE", "elementIndex": 0}]
    good = await shop.gql(
        mutation,
        {
            "m": [
                {
                    "ownerId": owner,
                    "namespace": "erp",
                    "key": "p",
                    "value": "9.5",
                    "type": "number_decimal",
                }
            ]
        },
    )
    assert good["metafieldsSet"]["metafields"] == [{"namespace": "erp", "key": "p", "value": "9.5"}]
    read = await shop.gql(
        'query($id: ID!) { product(id: $id) { metafield(namespace: "erp", key: "p") { value } } }',
        {"id": owner},
    )
    assert read["product"]["metafield"] == {"value": "9.5"}


ORDERS = """query($q: String) { orders(first: 10, query: $q, sortKey: UPDATED_AT) { nodes {
  id name email updatedAt displayFinancialStatus displayFulfillmentStatus
  customer { email }
  totalPriceSet { shopMoney { amount currencyCode } }
  lineItems(first: 5) { nodes { sku quantity variant { id }
    originalUnitPriceSet { shopMoney { amount } }
    taxLines { rate priceSet { shopMoney { amount } } } } }
  refunds { totalRefundedSet { shopMoney { amount } } }
  fulfillmentOrders(first: 1) { nodes { id
    lineItems(first: 5) { nodes { id remainingQuantity } } } }
} } }"""


def _tracked_variant(shop: Client) -> Any:
    store = shop.shop.store
    return next(
        v
        for v in store.variants.values()
        if v.tracked and v.taxable and store.inventory_quantity(v) >= 3
    )


async def test_planted_order_reserves_stock_and_reads_back() -> None:
    clock = ManualClock()
    async with running_shop(20, clock=clock) as shop:
        store = shop.shop.store
        variant = _tracked_variant(shop)
        before = store.inventory_quantity(variant)
        customer = plant_customer(store, "ada@example.com")
        clock.advance(60)
        order = plant_order(store, [(variant.id, 2)], customer=customer)
        assert store.inventory_quantity(variant) == before - 2
        level = store.levels[(variant.item_id, order.lines[0].location_id or 0)]
        assert level.quantities["committed"] == 2
        data = await shop.gql(ORDERS, {"q": "updated_at:>'2026-01-01T00:00:30Z'"})
        [row] = data["orders"]["nodes"]
        assert row["name"] == "#1001" and row["customer"] == {"email": "ada@example.com"}
        assert row["displayFinancialStatus"] == "PAID"
        assert row["displayFulfillmentStatus"] == "UNFULFILLED"
        [line] = row["lineItems"]["nodes"]
        price = variant.price.quantize(Decimal("0.01"))
        assert line["sku"] == variant.sku and line["quantity"] == 2
        assert line["originalUnitPriceSet"]["shopMoney"]["amount"] == str(price)
        tax = (price * 2 * Decimal("0.20")).quantize(Decimal("0.01"))
        assert line["taxLines"] == [{"rate": 0.2, "priceSet": {"shopMoney": {"amount": str(tax)}}}]
        total = price * 2 + tax + Decimal("4.90") + Decimal("0.98")  # shipping taxed too
        assert row["totalPriceSet"]["shopMoney"] == {"amount": str(total), "currencyCode": "EUR"}
        older = await shop.gql(ORDERS, {"q": "updated_at:>'2026-01-01T00:02:00Z'"})
        assert older["orders"]["nodes"] == []
        refund(store, order, [(order.lines[0].id, 1)])
        again = (await shop.gql(ORDERS))["orders"]["nodes"][0]
        assert again["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
        assert len(again["refunds"]) == 1
        assert store.inventory_quantity(variant) == before - 1, "the refund restocked one"


async def test_order_update_and_fulfillment_with_tracking(shop: Client) -> None:
    store = shop.shop.store
    variant = _tracked_variant(shop)
    order = plant_order(store, [(variant.id, 3)])
    order_id = f"gid://shopify/Order/{order.id}"
    update = """mutation($input: OrderInput!) { orderUpdate(input: $input) {
        order { note tags } userErrors { field message } } }"""
    data = await shop.gql(
        update, {"input": {"id": order_id, "note": "Invoice F-1", "tags": ["erp, invoiced"]}}
    )
    assert data["orderUpdate"]["order"] == {"note": "Invoice F-1", "tags": ["erp", "invoiced"]}
    fo = (await shop.gql(ORDERS))["orders"]["nodes"][0]["fulfillmentOrders"]["nodes"][0]
    line_id = fo["lineItems"]["nodes"][0]["id"]
    create = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
        fulfillment { status trackingInfo { company number url } }
        userErrors { field message } } }"""

    def fulfil(quantity: int) -> dict[str, Any]:
        return {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo["id"],
                    "fulfillmentOrderLineItems": [{"id": line_id, "quantity": quantity}],
                }
            ],
            "trackingInfo": {
                "company": "DHL",
                "number": "JJD01",
                "url": "https://dhl.example/JJD01",
            },
        }

    too_many = await shop.gql(create, {"f": fulfil(4)})
    assert too_many["fulfillmentCreate"]["fulfillment"] is None
    assert too_many["fulfillmentCreate"]["userErrors"][0]["field"][-1] == "quantity"
    level = store.levels[(variant.item_id, order.lines[0].location_id or 0)]
    on_hand = level.quantities["on_hand"]
    done = await shop.gql(create, {"f": fulfil(3)})
    assert done["fulfillmentCreate"]["fulfillment"] == {
        "status": "SUCCESS",
        "trackingInfo": [{"company": "DHL", "number": "JJD01", "url": "https://dhl.example/JJD01"}],
    }
    assert level.quantities["on_hand"] == on_hand - 3 and level.quantities["committed"] == 0
    status = (await shop.gql(ORDERS))["orders"]["nodes"][0]["displayFulfillmentStatus"]
    assert status == "FULFILLED"


CANCEL = """mutation($id: ID!, $refund: Boolean, $restock: Boolean!) {
    orderCancel(orderId: $id, reason: OTHER, refund: $refund, restock: $restock) {
    job { id done } orderCancelUserErrors { field message code } } }"""
REFUND = """mutation($input: RefundInput!) { refundCreate(input: $input) {
    refund { note totalRefundedSet { shopMoney { amount } } } userErrors { field message } } }"""


async def test_order_cancel_is_a_job_and_refused_twice(shop: Client) -> None:
    store = shop.shop.store
    variant = _tracked_variant(shop)
    order = plant_order(store, [(variant.id, 2)])
    order_id = f"gid://shopify/Order/{order.id}"
    level = store.levels[(variant.item_id, order.lines[0].location_id or 0)]
    available = level.quantities["available"]
    neither = await shop.gql(CANCEL, {"id": order_id, "restock": True})
    assert neither["orderCancel"]["orderCancelUserErrors"][0]["code"] == "INVALID"
    started = await shop.gql(CANCEL, {"id": order_id, "refund": False, "restock": True})
    job = started["orderCancel"]["job"]
    assert job["done"] is False and started["orderCancel"]["orderCancelUserErrors"] == []
    polled = await shop.gql("query($id: ID!) { job(id: $id) { id done } }", {"id": job["id"]})
    assert polled["job"] == {"id": job["id"], "done": True}
    assert order.cancelled_at is not None and order.refunds == []
    assert level.quantities["available"] == available + 2, "restocked"
    again = await shop.gql(CANCEL, {"id": order_id, "refund": False, "restock": True})
    [problem] = again["orderCancel"]["orderCancelUserErrors"]
    assert problem["code"] == "INVALID" and again["orderCancel"]["job"] is None
    missing = await shop.gql(
        CANCEL, {"id": "gid://shopify/Order/1", "refund": False, "restock": False}
    )
    assert missing["orderCancel"]["orderCancelUserErrors"][0]["code"] == "NOT_FOUND"


async def test_refund_create_carries_its_transactions_amount(shop: Client) -> None:
    store = shop.shop.store
    order = plant_order(store, [(_tracked_variant(shop).id, 1)])
    order_id = f"gid://shopify/Order/{order.id}"

    def manual(amount: str, **more: Any) -> dict[str, Any]:
        row = {"orderId": order_id, "kind": "REFUND", "gateway": "manual", "amount": amount}
        return {"input": {"orderId": order_id, "note": "Damaged", "transactions": [row | more]}}

    made = await shop.gql(REFUND, manual("3.10"))
    assert made["refundCreate"]["refund"] == {
        "note": "Damaged",
        "totalRefundedSet": {"shopMoney": {"amount": "3.10"}},
    }
    for refused, field in (
        (manual("3.105"), "amount"),
        (manual("1.00", kind="SALE"), "kind"),
        (manual("1.00", gateway="bogus"), "gateway"),
        (manual("100000.00"), "transactions"),
    ):
        answer = (await shop.gql(REFUND, refused))["refundCreate"]
        assert answer["refund"] is None and answer["userErrors"][0]["field"][-1] == field
    assert [r.amount for r in order.refunds] == [Decimal("3.10")]
    _, body = await shop.post(REFUND, {"input": {"orderId": order_id, "refundLineItems": []}})
    assert "refundLineItems" in body["errors"][0]["message"]


SUBSCRIBE = """mutation($uri: String!) { webhookSubscriptionCreate(topic: ORDERS_CREATE,
    webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri } userErrors { field message } } }"""


async def test_orders_create_webhook_is_signed() -> None:
    async with running_shop(10) as shop:
        inbox = WebhookInbox()
        async with inbox.serve() as hook_url:
            data = await shop.gql(SUBSCRIBE, {"uri": hook_url})
            assert (
                data["webhookSubscriptionCreate"]["webhookSubscription"]["topic"] == "ORDERS_CREATE"
            )
            again = await shop.gql(SUBSCRIBE, {"uri": hook_url})
            assert again["webhookSubscriptionCreate"]["userErrors"], "the same address twice"
            refused = await shop.gql(SUBSCRIBE, {"uri": "http://shop.example/hook"})
            assert refused["webhookSubscriptionCreate"]["userErrors"]
            order = plant_order(shop.shop.store, [(_tracked_variant(shop).id, 1)])
            delivery = await inbox.next()
        headers = delivery.headers
        expected = base64.b64encode(
            hmac.new(b"shpss_test", delivery.body, hashlib.sha256).digest()
        ).decode()
        assert hmac.compare_digest(headers["X-Shopify-Hmac-Sha256"], expected)
        assert headers["X-Shopify-Topic"] == "orders/create"
        assert headers["X-Shopify-Shop-Domain"] == "concord-test.myshopify.com"
        assert headers["X-Shopify-API-Version"] == "2026-01"
        assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"]
        assert headers["X-Shopify-Triggered-At"].endswith("Z")
        body = msgspec.json.decode(delivery.body)
        assert body["admin_graphql_api_id"] == f"gid://shopify/Order/{order.id}"
        assert body["name"] == "#1001"


async def test_failed_delivery_is_retried_with_the_same_ids() -> None:
    received: asyncio.Queue[tuple[int, dict[str, str], bytes]] = asyncio.Queue()
    answers = [500, 200]

    async def receive(request: web.Request) -> web.Response:
        status = answers.pop(0)
        await received.put((status, dict(request.headers), await request.read()))
        return web.Response(status=status)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    settings = Settings(webhook_retry_delays=(0.01, 0.01))
    async with running_shop(10, settings=settings) as shop, serve(receiver) as base:
        await shop.gql(SUBSCRIBE, {"uri": f"{base}/hook"})
        plant_order(shop.shop.store, [(_tracked_variant(shop).id, 1)])
        first = await received.get()
        second = await received.get()
    assert [first[0], second[0]] == [500, 200]
    assert first[2] == second[2]
    for name in ("X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Hmac-Sha256"):
        assert first[1][name] == second[1][name]
    attempts = deliveries_of(shop.app).attempts
    assert [a.status for a in attempts] == [500, 200]


RUN_QUERY = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
    bulkOperation { id status } userErrors { field message code } } }"""
CURRENT = """query($type: BulkOperationType) { currentBulkOperation(type: $type) {
    id status objectCount rootObjectCount url } }"""


def _number(value: str) -> int:
    return int(value.rsplit("/", 1)[1])


async def test_bulk_query_lifecycle_and_jsonl_with_parent_ids() -> None:
    async with running_shop(12) as shop:
        operations = bulk_of(shop.app)
        operations.hold = True
        inner = "{ products { edges { node { id title variants { nodes { id sku } } } } } }"
        made = (await shop.gql(RUN_QUERY, {"q": inner}))["bulkOperationRunQuery"]
        assert made["bulkOperation"]["status"] == "CREATED"
        number = _number(made["bulkOperation"]["id"])
        polled = (await shop.gql(CURRENT))["currentBulkOperation"]
        assert polled["status"] == "CREATED" and polled["url"] is None
        operations.start(number)
        await operations.wait_running(number)
        assert (await shop.gql(CURRENT))["currentBulkOperation"]["status"] == "RUNNING"
        operations.finish(number)
        await operations.wait(number)
        done = (await shop.gql(CURRENT))["currentBulkOperation"]
        assert done["status"] == "COMPLETED"
        node = await shop.gql(
            "query($id: ID!) { node(id: $id) { ... on BulkOperation { status } } }",
            {"id": made["bulkOperation"]["id"]},
        )
        assert node["node"] == {"status": "COMPLETED"}
        async with shop.session.get(done["url"]) as response:
            rows = [msgspec.json.decode(line) for line in (await response.read()).splitlines()]
        store = shop.shop.store
        assert int(done["objectCount"]) == len(rows) == len(store.products) + len(store.variants)
        assert int(done["rootObjectCount"]) == len(store.products)
        for row in rows:
            if row["id"].startswith("gid://shopify/ProductVariant/"):
                variant = store.variants[_number(row["id"])]
                assert row["__parentId"] == f"gid://shopify/Product/{variant.product_id}"
                assert row["sku"] == variant.sku
            else:
                assert "__parentId" not in row and "variants" not in row


async def test_a_failed_poll_of_a_bulk_operation_leaves_it_running() -> None:
    async with running_shop(3) as shop:
        operations = bulk_of(shop.app)
        operations.hold = True
        made = await shop.gql(RUN_QUERY, {"q": "{ products { nodes { id } } }"})
        operation = made["bulkOperationRunQuery"]["bulkOperation"]["id"]
        operations.start(_number(operation))
        await operations.wait_running(_number(operation))
        poll = "query($id: ID!) { node(id: $id) { ... on BulkOperation { status url } } }"
        shop.shop.fail_bulk_polls = 1
        failed, body = await shop.post(poll, {"id": operation})
        assert failed.status == 502 and body == {"errors": "Bad Gateway"}
        assert shop.shop.counters["bulk_polls_failed"] == 1
        node = (await shop.gql(poll, {"id": operation}))["node"]
        assert node == {"status": "RUNNING", "url": None}
        operations.finish(_number(operation))
        await operations.wait(_number(operation))
        assert (await shop.gql(poll, {"id": operation}))["node"]["status"] == "COMPLETED"


async def test_bulk_query_concurrency_by_version_and_bad_queries() -> None:
    async with running_shop(3) as shop:
        bulk_of(shop.app).hold = True
        inner = "{ products { nodes { id } } }"
        for _ in range(2):
            data = await shop.gql(RUN_QUERY, {"q": inner}, version="2026-01")
            assert data["bulkOperationRunQuery"]["userErrors"] == []
        busy = await shop.gql(RUN_QUERY, {"q": inner}, version="2025-10")
        assert busy["bulkOperationRunQuery"]["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
        two = "{ products { nodes { id } } locations { nodes { id } } }"
        bad = await shop.gql(RUN_QUERY, {"q": two})
        assert bad["bulkOperationRunQuery"]["userErrors"][0]["code"] == "INVALID"


async def test_bulk_mutation_from_a_staged_upload() -> None:
    async with running_shop(6) as shop:
        store = shop.shop.store
        variants = list(store.variants.values())[:3]
        staged = await shop.gql(
            """mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES,
                filename: "vars.jsonl", mimeType: "text/jsonl", httpMethod: POST}]) {
                stagedTargets { url parameters { name value } } userErrors { message } } }"""
        )
        [target] = staged["stagedUploadsCreate"]["stagedTargets"]
        lines = b"".join(
            msgspec.json.encode(
                {
                    "productId": f"gid://shopify/Product/{v.product_id}",
                    "variants": [{"id": f"gid://shopify/ProductVariant/{v.id}", "price": "7.25"}],
                }
            )
            + b"\n"
            for v in variants
        )
        form = aiohttp.FormData()
        for parameter in target["parameters"]:
            form.add_field(parameter["name"], parameter["value"])
        form.add_field("file", lines, filename="vars.jsonl")
        async with shop.session.post(target["url"], data=form) as response:
            assert response.status == 201
        key = next(p["value"] for p in target["parameters"] if p["name"] == "key")
        run = """mutation($m: String!, $path: String!) {
            bulkOperationRunMutation(mutation: $m, stagedUploadPath: $path) {
            bulkOperation { id } userErrors { code } } }"""
        mutation = """mutation($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
            productVariantsBulkUpdate(productId: $productId, variants: $variants) {
            productVariants { id price } userErrors { code } } }"""
        missing = await shop.gql(run, {"m": mutation, "path": "tmp/none"})
        assert missing["bulkOperationRunMutation"]["userErrors"] == [{"code": "NO_SUCH_FILE"}]
        data = await shop.gql(run, {"m": mutation, "path": key})
        number = _number(data["bulkOperationRunMutation"]["bulkOperation"]["id"])
        await bulk_of(shop.app).wait(number)
        done = (await shop.gql(CURRENT, {"type": "MUTATION"}))["currentBulkOperation"]
        assert done["status"] == "COMPLETED" and done["objectCount"] == "3"
        async with shop.session.get(done["url"]) as response:
            rows = [msgspec.json.decode(line) for line in (await response.read()).splitlines()]
        assert [row["__lineNumber"] for row in rows] == [0, 1, 2]
        assert all(
            row["data"]["productVariantsBulkUpdate"]["productVariants"][0]["price"] == "7.25"
            for row in rows
        )
        assert all(str(v.price) == "7.25" for v in variants)


async def test_customers_page_and_search(shop: Client) -> None:
    store = shop.shop.store
    for n in range(5):
        plant_customer(store, f"buyer{n}@example.com", first_name=f"Buyer{n}")
    query = """query($after: String, $q: String) { customers(first: 2, after: $after, query: $q) {
        nodes { email firstName numberOfOrders } pageInfo { hasNextPage endCursor } } }"""
    emails: list[str] = []
    after = None
    while True:
        page = (await shop.gql(query, {"after": after}))["customers"]
        emails += [row["email"] for row in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert emails == [f"buyer{n}@example.com" for n in range(5)]
    found = await shop.gql(query, {"q": "email:buyer3@example.com"})
    assert [row["firstName"] for row in found["customers"]["nodes"]] == ["Buyer3"]


async def test_fault_switches_and_throttle_pressure(shop: Client) -> None:
    query = "{ shop { name } }"
    async with shop.session.post(
        f"{shop.base}/__sim__/faults", data=msgspec.json.encode({"error_rate": 1.0})
    ) as response:
        assert response.status == 200
    answer, _ = await shop.post(query)
    assert answer.status == 503
    async with shop.session.post(f"{shop.base}/__sim__/faults", data=b"{}"):
        pass
    async with shop.session.post(
        f"{shop.base}/__sim__/shopify/bucket",
        data=msgspec.json.encode({"drain": 2000, "restore_rate": 50}),
    ) as response:
        assert (await response.json())["restoreRate"] == 50.0
    _, body = await shop.post("{ products(first: 5) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    async with shop.session.post(
        f"{shop.base}/__sim__/shopify/clock", data=msgspec.json.encode({"advance": 1.0})
    ):
        pass
    _, body = await shop.post("{ products(first: 5) { nodes { id } } }")
    assert "errors" not in body
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 50.0
    async with shop.session.get(f"{shop.base}/__sim__/shopify/counters") as response:
        counters = (await response.json())["counters"]
    assert counters["throttled"] == 1 and counters["graphql_requests"] == 2, (
        "the injected 503 never reached the API"
    )


async def test_products_update_webhook_carries_the_new_price() -> None:
    async with running_shop(6) as shop:
        inbox = WebhookInbox()
        async with inbox.serve() as hook_url:
            subscribe = """mutation($uri: String!) { webhookSubscriptionCreate(
                topic: PRODUCTS_UPDATE, webhookSubscription: {uri: $uri}) {
                userErrors { message } } }"""
            assert (await shop.gql(subscribe, {"uri": hook_url}))["webhookSubscriptionCreate"][
                "userErrors"
            ] == []
            product = _some_product(shop)
            variant_id = product.variant_ids[0]
            change = {"id": f"gid://shopify/ProductVariant/{variant_id}", "price": "3.3"}
            variables = {"id": f"gid://shopify/Product/{product.id}", "variants": [change]}
            await shop.gql(BULK_UPDATE, variables)
            delivery = await inbox.next()
        assert delivery.headers["X-Shopify-Topic"] == "products/update"
        body = msgspec.json.decode(delivery.body)
        prices = {row["id"]: row["price"] for row in body["variants"]}
        assert prices[variant_id] == "3.30"


async def test_variant_creation_throttle_past_the_threshold() -> None:
    clock = ManualClock()
    async with running_shop(10, clock=clock) as shop:
        store = shop.shop.store
        store.variant_threshold, store.variants_per_day = len(store.variants), 2
        create = 'mutation { productCreate(product: {title: "More"}) { product { id } } }'
        for _ in range(2):
            assert (await shop.gql(create))["productCreate"]["product"]
        response, body = await shop.post(create)
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert "data" not in body
        assert sum(p.title == "More" for p in store.products.values()) == 2
        clock.advance(86_400)
        assert (await shop.gql(create))["productCreate"]["product"]


async def test_unlisted_status_by_version(shop: Client) -> None:
    create = """mutation { productCreate(product: {title: "Hidden", status: UNLISTED}) {
        product { id status } userErrors { field message } } }"""
    refused = await shop.gql(create, version="2025-07")
    assert refused["productCreate"]["product"] is None
    assert refused["productCreate"]["userErrors"][0]["field"] == ["status"]
    made = (await shop.gql(create, version="2025-10"))["productCreate"]["product"]
    assert made["status"] == "UNLISTED"
    read = "query($id: ID!) { product(id: $id) { status } }"
    old = await shop.gql(read, {"id": made["id"]}, version="2025-07")
    assert old["product"]["status"] == "ACTIVE"


async def test_bulk_operations_finish_webhook() -> None:
    async with running_shop(3) as shop:
        inbox = WebhookInbox()
        async with inbox.serve() as hook_url:
            subscribe = """mutation($uri: String!) { webhookSubscriptionCreate(
                topic: BULK_OPERATIONS_FINISH, webhookSubscription: {uri: $uri}) {
                userErrors { message } } }"""
            await shop.gql(subscribe, {"uri": hook_url})
            made = await shop.gql(RUN_QUERY, {"q": "{ products { nodes { id } } }"})
            operation_id = made["bulkOperationRunQuery"]["bulkOperation"]["id"]
            delivery = await inbox.next()
        assert delivery.headers["X-Shopify-Topic"] == "bulk_operations/finish"
        body = msgspec.json.decode(delivery.body)
        assert body["admin_graphql_api_id"] == operation_id
        assert (body["status"], body["type"]) == ("completed", "query")
