"""The WooCommerce simulator behaves as ``/wp-json/wc/v3`` does, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from adapters.base import TransientError
from adapters.http import HttpClient, Response
from adapters.simkit import serve
from adapters.woocommerce.simulator import Store, WebhookInbox, create_app, store_of

AUTH = "Basic " + base64.b64encode(b"ck_test:cs_test").decode()
ERRORS = (200, 201, 400, 401, 404, 413, 501)


class Shop:
    """A running simulator and a plain HTTP client to it."""

    def __init__(self, store: Store, client: HttpClient, url: str) -> None:
        self.store = store
        self.client = client
        self.url = url

    async def call(
        self, method: str, path: str, body: Any = None, **params: Any
    ) -> tuple[Response, Any]:
        response = await self.client.request(
            method,
            path,
            params={k: str(v) for k, v in params.items()},
            body=None if body is None else msgspec.json.encode(body),
            ok=ERRORS,
        )
        return response, msgspec.json.decode(response.body)


async def _shop(products: int, seed: int = 7) -> AsyncIterator[Shop]:
    app = create_app(products=products, seed=seed)
    async with serve(app) as url:
        client = HttpClient(
            f"{url}/wp-json/wc/v3",
            requests_per_second=1000,
            max_concurrency=8,
            headers={"Authorization": AUTH},
            max_attempts=1,
        )
        try:
            yield Shop(store_of(app), client, url)
        finally:
            await client.aclose()


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async for s in _shop(25):
        yield s


def _simple(store: Store) -> Any:
    return next(p for p in store.products.values() if p.type == "simple" and p.manage_stock)


def _variation(store: Store) -> Any:
    return next(iter(store.variations.values()))


async def test_pages_carry_totals_and_links(shop: Shop) -> None:
    seen: list[int] = []
    for page in (1, 2, 3):
        response, body = await shop.call("GET", "/products", per_page=10, page=page)
        assert response.status == 200
        assert response.headers["X-WP-Total"] == "25"
        assert response.headers["X-WP-TotalPages"] == "3"
        link = response.headers.get("Link", "")
        assert ('rel="next"' in link) == (page < 3)
        assert ('rel="prev"' in link) == (page > 1)
        seen += [p["id"] for p in body]
    assert len(seen) == 25 and set(seen) == set(shop.store.products)
    _, first = await shop.call("GET", "/products", per_page=1)
    assert isinstance(first[0]["regular_price"], str) or first[0]["type"] == "variable"
    assert first[0]["date_modified_gmt"] != first[0]["date_modified"]


@pytest.mark.parametrize("per_page", [0, 101, "ten"])
async def test_per_page_outside_1_to_100_is_refused(shop: Shop, per_page: Any) -> None:
    response, body = await shop.call("GET", "/products", per_page=per_page)
    assert response.status == 400
    assert body["code"] == "rest_invalid_param"
    assert "per_page" in body["data"]["params"]


async def test_wrong_credentials_get_a_401_error_body(shop: Shop) -> None:
    client = HttpClient(
        f"{shop.url}/wp-json/wc/v3",
        requests_per_second=100,
        max_concurrency=1,
        headers={"Authorization": "Basic " + base64.b64encode(b"ck_test:nope").decode()},
    )
    try:
        response = await client.request("GET", "/products", ok=(401,))
    finally:
        await client.aclose()
    body = msgspec.json.decode(response.body)
    assert body["code"] == "woocommerce_rest_authentication_error"
    assert body["data"]["status"] == 401


async def test_sku_is_unique_across_products_and_variations(shop: Shop) -> None:
    variation = _variation(shop.store)
    response, body = await shop.call("POST", "/products", {"name": "Dup", "sku": variation.sku})
    assert response.status == 400
    assert body["code"] == "product_invalid_sku"
    assert body["data"]["resource_id"] == variation.id
    assert len(shop.store.products) == 25


async def test_sku_filter_takes_a_comma_separated_list(shop: Shop) -> None:
    wanted = ["WC-000003", "WC-000011", "WC-000019"]
    response, body = await shop.call("GET", "/products", sku=",".join(wanted), per_page=100)
    assert response.status == 200
    assert sorted(p["sku"] for p in body) == wanted


@pytest.mark.parametrize("order", [{}, {"orderby": "title", "order": "asc"}])
async def test_include_answers_what_the_whole_listing_filtered_would(
    shop: Shop, order: dict[str, str]
) -> None:
    ids = sorted(shop.store.products)
    trashed = shop.store.products[ids[4]]
    trashed.status = "trash"
    wanted = [ids[9], ids[2], ids[4], ids[17], 999_999]  # one trashed, one that does not exist
    _, everything = await shop.call("GET", "/products", per_page=100, **order)
    response, body = await shop.call(
        "GET", "/products", include=",".join(map(str, wanted)), per_page=2, **order
    )
    _, second = await shop.call(
        "GET", "/products", include=",".join(map(str, wanted)), per_page=2, page=2, **order
    )

    expected = [p["id"] for p in everything if p["id"] in wanted]
    assert len(expected) == 3  # the trashed one is left out, as the listing leaves it out
    assert [p["id"] for p in body + second] == expected
    assert response.headers["X-WP-Total"] == "3" and response.headers["X-WP-TotalPages"] == "2"


async def test_batch_over_100_items_is_refused_with_413(shop: Shop) -> None:
    items = [{"name": f"P{i}", "sku": f"NEW-{i}"} for i in range(60)]
    updates = [{"id": pid, "name": "x"} for pid in list(shop.store.products)[:21]]
    deletes = list(shop.store.products)[:20]
    response, body = await shop.call(
        "POST", "/products/batch", {"create": items, "update": updates, "delete": deletes}
    )
    assert response.status == 413
    assert body["code"] == "woocommerce_rest_request_entity_too_large"
    assert shop.store.product_by_sku("NEW-0") is None
    response, body = await shop.call("POST", "/products/batch", {"create": items[:50]})
    assert response.status == 200 and len(body["create"]) == 50


async def test_batch_reports_item_errors_in_place_and_keeps_the_rest(shop: Shop) -> None:
    taken = _simple(shop.store).sku
    response, body = await shop.call(
        "POST",
        "/products/batch",
        {
            "create": [{"name": "A", "sku": "B-1"}, {"name": "B", "sku": taken}],
            "update": [{"id": 999999, "name": "ghost"}],
        },
    )
    assert response.status == 200
    ok, refused = body["create"]
    assert ok["sku"] == "B-1" and "error" not in ok
    assert refused["error"]["code"] == "product_invalid_sku"
    assert body["update"][0]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert shop.store.product_by_sku("B-1") is not None


async def test_order_status_moves_stock_once_and_restores_it(shop: Shop) -> None:
    product = _simple(shop.store)
    product.stock_quantity = 10
    response, order = await shop.call(
        "POST", "/orders", {"line_items": [{"product_id": product.id, "quantity": 3}]}
    )
    assert response.status == 201 and order["status"] == "pending"
    assert product.stock_quantity == 10
    path = f"/orders/{order['id']}"
    for status, expected in [
        ("processing", 7),
        ("completed", 7),
        ("cancelled", 10),
        ("on-hold", 7),
        ("pending", 10),
    ]:
        response, body = await shop.call("PUT", path, {"status": status})
        assert response.status == 200 and body["status"] == status
        _, seen = await shop.call("GET", f"/products/{product.id}")
        assert seen["stock_quantity"] == expected, status
    _, notes = await shop.call("GET", f"{path}/notes")
    assert any("stock reduced from 10 to 7" in n["note"] for n in notes)


async def test_refund_restocks_and_fully_refunded_order_becomes_refunded(shop: Shop) -> None:
    product = _simple(shop.store)
    product.stock_quantity = 5
    _, order = await shop.call(
        "POST",
        "/orders",
        {"set_paid": True, "line_items": [{"product_id": product.id, "quantity": 2}]},
    )
    assert order["status"] == "processing" and product.stock_quantity == 3
    refunds = f"/orders/{order['id']}/refunds"
    with pytest.raises(TransientError, match="HTTP 500"):
        # api_refund defaults to true, and no gateway here can refund by itself.
        await shop.call("POST", refunds, {"amount": "1.00"})
    line = order["line_items"][0]
    response, refund = await shop.call(
        "POST",
        refunds,
        {
            "api_refund": False,
            "amount": order["total"],
            "line_items": [{"id": line["id"], "quantity": 2, "refund_total": line["total"]}],
        },
    )
    assert response.status == 201 and refund["amount"] == order["total"]
    _, after = await shop.call("GET", f"/orders/{order['id']}")
    assert after["status"] == "refunded"
    assert after["refunds"][0]["total"] == f"-{order['total']}"
    assert product.stock_quantity == 5


async def test_modified_after_in_gmt_returns_only_later_edits(shop: Shop) -> None:
    newest = max(p.date_modified_gmt for p in shop.store.products.values())
    edited = _simple(shop.store)
    shop.store.edit_product(edited.id, name="Edited")
    _, body = await shop.call(
        "GET", "/products", modified_after=newest, dates_are_gmt="true", per_page=100
    )
    assert [p["id"] for p in body] == [edited.id]


async def test_webhook_delivery_is_signed_with_the_secret(shop: Shop) -> None:
    inbox = WebhookInbox()
    async with inbox.serve() as hook_url:
        response, hook = await shop.call(
            "POST",
            "/webhooks",
            {"topic": "product.updated", "delivery_url": hook_url, "secret": "s3cret"},
        )
        assert response.status == 201 and hook["status"] == "active"
        product = _simple(shop.store)
        await shop.call("PUT", f"/products/{product.id}", {"regular_price": "12.50"})
        async with asyncio.timeout(10):
            delivery = await inbox.next(topic="product.updated")
    expected = base64.b64encode(hmac.new(b"s3cret", delivery.body, hashlib.sha256).digest())
    headers = delivery.headers
    assert hmac.compare_digest(headers["X-WC-Webhook-Signature"].encode(), expected)
    assert headers["X-WC-Webhook-Resource"] == "product"
    assert headers["X-WC-Webhook-Event"] == "updated"
    assert headers["X-WC-Webhook-ID"] == str(hook["id"])
    assert headers["X-WC-Webhook-Delivery-ID"]
    assert headers["X-WC-Webhook-Source"].endswith("/")
    payload = msgspec.json.decode(delivery.body)
    assert payload["id"] == product.id and payload["regular_price"] == "12.50"


async def test_same_seed_same_catalogue_and_variable_products_have_variations() -> None:
    first = store_of(create_app(products=60, seed=3))
    second = store_of(create_app(products=60, seed=3))
    other = store_of(create_app(products=60, seed=4))
    encode = msgspec.json.encode
    assert encode(list(first.products.values())) == encode(list(second.products.values()))
    assert encode(list(first.products.values())) != encode(list(other.products.values()))
    variable = [p for p in first.products.values() if p.type == "variable"]
    assert variable and all(p.variations for p in variable)
    assert all(first.variations[v].parent_id == p.id for p in variable for v in p.variations)


async def test_unknown_route_answers_rest_no_route(shop: Shop) -> None:
    response, body = await shop.call("GET", "/nothing-here")
    assert response.status == 404 and body["code"] == "rest_no_route"


async def test_customer_email_is_unique(shop: Shop) -> None:
    response, _ = await shop.call("POST", "/customers", {"email": "ann@example.com"})
    assert response.status == 201
    response, body = await shop.call("POST", "/customers", {"email": "ANN@example.com"})
    assert response.status == 400 and body["code"] == "registration-error-email-exists"
    _, found = await shop.call("GET", "/customers", email="ann@example.com")
    assert len(found) == 1
