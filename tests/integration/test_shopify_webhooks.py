"""Shopify order webhooks: the Shopify simulator delivers real signed ``orders/create``
webhooks to Concord's handler (its Shopify dialect), which imports the order into the Odoo
simulator at once; forged, tampered and repeated deliveries import nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from test_orders_sides import CONFIG, RATE, plant_line_articles, sale_orders

from adapters import simkit
from adapters.base import Adapter, Side
from adapters.odoo import adapter as odoo_adapter
from adapters.odoo.simulator.app import create_app as odoo_app
from adapters.odoo.simulator.app import store_of as odoo_store
from adapters.odoo.simulator.store import OdooStore
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.simulator.catalogue import add_variant, new_product
from adapters.shopify.simulator.orders_model import plant_order
from adapters.woocommerce.simulator import WebhookInbox
from engine.cycle.run import CycleResult
from engine.orders.queue import OrderImportQueue, order_importer
from engine.store.state import Store
from web.webhooks import DIALECTS, expected_signature, order_webhook

SECRET = simulator.Settings().app_secret
WAIT = 10.0
SKU = "SKU-000002"
SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id } userErrors { field message } } }"""


class ShopifySides(msgspec.Struct, kw_only=True):
    erp: OdooStore
    shop: simulator.Shop
    adapters: dict[Side, Adapter]
    shop_url: str


@asynccontextmanager
async def open_sides(tmp_path: Path, search_lag: float = 0.0) -> AsyncIterator[ShopifySides]:
    """The Odoo and Shopify simulators over HTTP, the shop selling one of the ERP's articles;
    its search index trails writes by ``search_lag`` seconds."""
    erp_app = odoo_app(products=20, seed=1)
    plant_line_articles(odoo_store(erp_app))
    shop_app = simulator.create_app(products=0, seed=1, search_lag=search_lag)
    shop = simulator.shop_of(shop_app)
    product = new_product(shop.store, "Item")
    add_variant(shop.store, product, sku=SKU, price=Decimal("10.00"))
    shop.store.touch_product(product)
    (tmp_path / "odoo").write_text("odoo-test-key")
    async with AsyncExitStack() as stack:
        erp_url = await stack.enter_async_context(simkit.serve(erp_app))
        shop_url = await stack.enter_async_context(simkit.serve(shop_app))
        erp = odoo_adapter.create(
            {
                "url": erp_url,
                "database": "odoo",
                "api_key_file": str(tmp_path / "odoo"),
                "requests_per_second": RATE,
            },
            source="test.toml",
        )
        stack.push_async_callback(erp.aclose)
        shop_adapter = ShopifyAdapter(
            ShopifySettings(url=shop_url, access_token="shpat_test", requests_per_second=RATE)
        )
        stack.push_async_callback(shop_adapter.aclose)
        yield ShopifySides(
            erp=odoo_store(erp_app),
            shop=shop,
            adapters={"erp": erp, "shop": shop_adapter},
            shop_url=shop_url,
        )


@pytest.fixture
async def sides(tmp_path: Path) -> AsyncIterator[ShopifySides]:
    async with open_sides(tmp_path) as both:
        yield both


@asynccontextmanager
async def concord_endpoint(store: Store, trigger: Any) -> AsyncIterator[str]:
    app = web.Application()
    handler = order_webhook(
        store=store, connection="main", secret=SECRET, trigger=trigger, dialect=DIALECTS["shopify"]
    )
    app.router.add_post("/webhooks/shopify/main", handler)
    async with simkit.serve(app) as url:
        yield f"{url}/webhooks/shopify/main"


async def subscribe(session: aiohttp.ClientSession, sides: ShopifySides, uri: str) -> None:
    async with session.post(
        f"{sides.shop_url}/admin/api/2026-01/graphql.json",
        json={"query": SUBSCRIBE, "variables": {"topic": "ORDERS_CREATE", "uri": uri}},
        headers={"X-Shopify-Access-Token": "shpat_test"},
    ) as reply:
        body = await reply.json()
    assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == [], body


def place_order(sides: ShopifySides, **more: Any) -> str:
    """A buyer pays for two of the article (no shipping unless ``more`` says, as
    :func:`plant_order`); the order's key as Concord names it."""
    [variant] = [v for v in sides.shop.store.variants.values() if v.sku == SKU]
    more.setdefault("shipping", Decimal(0))
    order = plant_order(sides.shop.store, [(variant.id, 2)], email="hook@example.com", **more)
    return order.name.lstrip("#")


@asynccontextmanager
async def webhook_imports(
    store: Store, sides: ShopifySides
) -> AsyncIterator[tuple[str, asyncio.Queue[CycleResult]]]:
    """Concord's webhook endpoint importing each order it is told of at once; yields its URL
    and the queue of the imports' results."""
    done: asyncio.Queue[CycleResult] = asyncio.Queue()
    importer = order_importer(store, connection="main", adapters=sides.adapters, config=CONFIG)

    async def import_and_tell(keys: Sequence[str]) -> None:
        await done.put(await importer(keys))

    queue = OrderImportQueue(import_and_tell)
    consumer = asyncio.create_task(queue.run())
    try:
        async with concord_endpoint(store, queue.put) as url:
            yield url, done
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)


async def test_a_shopify_order_reaches_the_erp_through_its_webhook(
    store: Store, sides: ShopifySides
) -> None:
    async with webhook_imports(store, sides) as (url, done), aiohttp.ClientSession() as s:
        await subscribe(s, sides, url)
        number = place_order(sides)
        async with asyncio.timeout(WAIT):
            result = await done.get()
    assert result.counts.get("imported") == 1, result
    [so] = sale_orders(sides.erp, number)
    assert so["state"] == "sale"
    runs = await store.list_runs("main")
    assert any(r.job == "orders" and r.mode == "webhook" for r in runs)


async def test_a_new_order_is_imported_at_once_while_shopify_s_search_trails_it(
    store: Store, tmp_path: Path
) -> None:
    # Orders stay out of the search index for an hour: only a read by id finds a new one.
    async with (
        open_sides(tmp_path, search_lag=3600.0) as sides,
        webhook_imports(store, sides) as (url, done),
        aiohttp.ClientSession() as session,
    ):
        await subscribe(session, sides, url)
        number = place_order(sides)
        async with asyncio.timeout(WAIT):
            result = await done.get()
        assert await sides.adapters["shop"].fetch("order", [number]) == []
    assert result.counts.get("imported") == 1, result
    [so] = sale_orders(sides.erp, number)
    assert so["state"] == "sale"


async def test_shopify_signatures_topics_and_redeliveries(
    store: Store, sides: ShopifySides
) -> None:
    triggered: list[str] = []

    async def trigger(key: str) -> None:
        triggered.append(key)

    inbox = WebhookInbox()
    async with (
        concord_endpoint(store, trigger) as url,
        inbox.serve() as inbox_url,
        aiohttp.ClientSession() as session,
    ):
        await subscribe(session, sides, inbox_url)
        place_order(sides)
        async with asyncio.timeout(WAIT):
            real = await inbox.next()
        order_id = msgspec.json.decode(real.body)["admin_graphql_api_id"]
        assert real.headers["X-Shopify-Hmac-Sha256"] == expected_signature(SECRET, real.body)

        async def deliver(body: bytes, **headers: str | None) -> tuple[int, str]:
            sent = {k: v for k, v in {**real.headers, **headers}.items() if v is not None}
            sent.pop("Content-Length", None)
            async with session.post(url, data=body, headers=sent) as reply:
                return reply.status, await reply.text()

        assert (await deliver(real.body))[0] == 200
        again = await deliver(real.body)
        assert again[0] == 200 and "already taken" in again[1]
        assert triggered == [order_id]

        tampered = real.body.replace(b'"hook@example.com"', b'"evil@example.com"')
        assert tampered != real.body
        assert (await deliver(tampered, **{"X-Shopify-Webhook-Id": "x1"}))[0] == 401
        unsigned = {"X-Shopify-Hmac-Sha256": None, "X-Shopify-Webhook-Id": "x2"}
        assert (await deliver(real.body, **unsigned))[0] == 401
        woo_header = {
            "X-Shopify-Hmac-Sha256": None,
            "X-WC-Webhook-Signature": real.headers["X-Shopify-Hmac-Sha256"],
            "X-Shopify-Webhook-Id": "x3",
        }
        assert (await deliver(real.body, **woo_header))[0] == 401
        other = {"X-Shopify-Topic": "products/update", "X-Shopify-Webhook-Id": "x4"}
        assert (await deliver(real.body, **other))[0] == 200
        no_id = {"X-Shopify-Webhook-Id": None}
        assert (await deliver(real.body, **no_id))[0] == 400
        for n, unnamed in enumerate(
            [b'{"id": 1, "name": "#1001"}', b'{"admin_graphql_api_id": "gid://shopify/Product/1"}']
        ):
            signed = {
                "X-Shopify-Hmac-Sha256": expected_signature(SECRET, unnamed),
                "X-Shopify-Webhook-Id": f"x5-{n}",
            }
            status, text = await deliver(unnamed, **signed)
            assert status == 400 and "admin_graphql_api_id" in text
    assert triggered == [order_id]


@pytest.mark.parametrize(
    "included", [pytest.param(False, id="taxes-excluded"), pytest.param(True, id="taxes-included")]
)
async def test_a_webhook_order_with_taxed_shipping_is_imported_at_shopify_s_total_price(
    store: Store, sides: ShopifySides, included: bool
) -> None:
    inbox = WebhookInbox()
    async with (
        webhook_imports(store, sides) as (url, done),
        inbox.serve() as inbox_url,
        aiohttp.ClientSession() as session,
    ):
        await subscribe(session, sides, url)
        await subscribe(session, sides, inbox_url)
        number = place_order(
            sides, shipping=Decimal("4.90"), shipping_title="Colissimo", taxes_included=included
        )
        async with asyncio.timeout(WAIT):
            result = await done.get()
            delivery = await inbox.next()
    assert result.counts.get("imported") == 1, result

    # The orders/create body, as Shopify documents the REST order: 2 x 10.00 and Colissimo at
    # 4.90, VAT 20% added to the prices or the part 20/120 of them.
    body = msgspec.json.decode(delivery.body)
    assert body["taxes_included"] is included
    [ship] = body["shipping_lines"]
    ship_tax = "0.82" if included else "0.98"
    assert (ship["title"], ship["code"], ship["price"], ship["discounted_price"]) == (
        "Colissimo",
        "colissimo",
        "4.90",
        "4.90",
    )
    assert ship["price_set"]["shop_money"] == {"amount": "4.90", "currency_code": "EUR"}
    [tax] = ship["tax_lines"]
    assert (tax["title"], tax["rate"], tax["price"]) == ("VAT 20.00%", 0.2, ship_tax)
    assert tax["price_set"]["shop_money"]["amount"] == ship_tax
    assert body["total_shipping_price_set"]["shop_money"]["amount"] == "4.90"
    total = Decimal(body["total_price"])
    taxes = Decimal(body["total_tax"])
    assert total == Decimal("24.90") + (0 if included else taxes)
    assert [t["price"] for t in body["tax_lines"]] == [body["total_tax"]]

    # What the adapter books is before tax, and makes the ERP's total Shopify's.
    [read] = await sides.adapters["shop"].fetch("order", [number])
    [carriage] = read.record.shipping_lines  # type: ignore[attr-defined]
    paid = Decimal(ship["price"]) - (Decimal(ship_tax) if included else 0)
    assert (carriage.total, carriage.tax) == (paid, Decimal(ship_tax))
    [so] = sale_orders(sides.erp, number)
    assert f"{so['amount_total']:.2f}" == body["total_price"]
