"""The Shopify simulator behaves as the Admin GraphQL API documents, over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.shopify.simulator import ManualClock, Settings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from tests.integration.shopify_sim_fixtures import Client, running_shop


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
