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
async def open_sides(tmp_path: Path) -> AsyncIterator[ShopifySides]:
    """The Odoo and Shopify simulators over HTTP, the shop selling one of the ERP's articles."""
    erp_app = odoo_app(products=20, seed=1)
    plant_line_articles(odoo_store(erp_app))
    shop_app = simulator.create_app(products=0, seed=1)
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


def place_order(sides: ShopifySides) -> str:
    """A buyer pays for two of the article; the order's key as Concord names it. (Free
    shipping: the simulator's planted orders charge no tax on shipping, the ERP would.)"""
    [variant] = [v for v in sides.shop.store.variants.values() if v.sku == SKU]
    order = plant_order(
        sides.shop.store, [(variant.id, 2)], email="hook@example.com", shipping=Decimal(0)
    )
    return order.name.lstrip("#")


async def test_a_shopify_order_reaches_the_erp_through_its_webhook(
    store: Store, sides: ShopifySides
) -> None:
    done: asyncio.Queue[CycleResult] = asyncio.Queue()
    importer = order_importer(store, connection="main", adapters=sides.adapters, config=CONFIG)

    async def import_and_tell(keys: Sequence[str]) -> None:
        await done.put(await importer(keys))

    queue = OrderImportQueue(import_and_tell)
    consumer = asyncio.create_task(queue.run())
    try:
        async with concord_endpoint(store, queue.put) as url, aiohttp.ClientSession() as s:
            await subscribe(s, sides, url)
            number = place_order(sides)
            async with asyncio.timeout(WAIT):
                result = await done.get()
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    assert result.counts.get("imported") == 1, result
    [so] = sale_orders(sides.erp, number)
    assert so["state"] == "sale"
    runs = await store.list_runs("main")
    assert any(r.job == "orders" and r.mode == "webhook" for r in runs)


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
        number = place_order(sides)
        async with asyncio.timeout(WAIT):
            real = await inbox.next()
        assert real.headers["X-Shopify-Hmac-Sha256"] == expected_signature(SECRET, real.body)

        async def deliver(body: bytes, **headers: str | None) -> tuple[int, str]:
            sent = {k: v for k, v in {**real.headers, **headers}.items() if v is not None}
            sent.pop("Content-Length", None)
            async with session.post(url, data=body, headers=sent) as reply:
                return reply.status, await reply.text()

        assert (await deliver(real.body))[0] == 200
        again = await deliver(real.body)
        assert again[0] == 200 and "already taken" in again[1]
        assert triggered == [number]

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
        nameless = b'{"id": 1}'
        signed = {
            "X-Shopify-Hmac-Sha256": expected_signature(SECRET, nameless),
            "X-Shopify-Webhook-Id": "x5",
        }
        status, text = await deliver(nameless, **signed)
        assert status == 400 and "name" in text
    assert triggered == [number]
