"""Order webhooks: the WooCommerce simulator delivers real signed webhooks to the handler,
running in a small aiohttp app, which triggers the import into the Odoo simulator."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from test_orders_sides import CONFIG, FRANCE, Sides, sale_orders, sides

from adapters import simkit
from adapters.woocommerce.simulator import WebhookInbox
from engine.cycle.run import CycleResult
from engine.orders.queue import OrderImportQueue, order_importer
from engine.store.state import Store
from web.webhooks import order_webhook

__all__ = ["sides"]  # the fixture, shared
SECRET = "whsec-test-0123456789"
WAIT = 10.0


@asynccontextmanager
async def concord_endpoint(store: Store, trigger: Any, secret: str = SECRET) -> AsyncIterator[str]:
    app = web.Application()
    handler = order_webhook(store=store, connection="main", secret=secret, trigger=trigger)
    app.router.add_post("/webhooks/woocommerce/main", handler)
    async with simkit.serve(app) as url:
        yield f"{url}/webhooks/woocommerce/main"


class Rest:
    """The shop's REST API, as a merchant's back office would call it."""

    def __init__(self, session: aiohttp.ClientSession, sides: Sides) -> None:
        token = base64.b64encode(b"ck_test:cs_test").decode()
        self.session, self.base = session, f"{sides.shop_url}/wp-json/wc/v3"
        self.headers = {"Authorization": f"Basic {token}"}

    async def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.request(
            method, f"{self.base}{path}", json=body, headers=self.headers
        ) as reply:
            assert reply.status in (200, 201), await reply.text()
            answer: dict[str, Any] = await reply.json()
            return answer

    async def hook(self, topic: str, url: str, secret: str = SECRET) -> None:
        await self.send(
            "POST", "/webhooks", {"topic": topic, "delivery_url": url, "secret": secret}
        )

    async def pending_order(self) -> int:
        order = await self.send(
            "POST",
            "/orders",
            {
                "billing": {**FRANCE, "email": "hook@example.com"},
                "line_items": [{"sku": "SKU-000002", "quantity": 1}],
            },
        )
        return int(order["id"])


async def test_a_paid_order_reaches_the_erp_through_its_webhook(
    store: Store, sides: Sides, record_property: Any
) -> None:
    done: asyncio.Queue[CycleResult] = asyncio.Queue()
    importer = order_importer(store, connection="main", adapters=sides.adapters, config=CONFIG)

    async def import_and_tell(keys: Sequence[str]) -> None:
        await done.put(await importer(keys))

    queue = OrderImportQueue(import_and_tell)
    consumer = asyncio.create_task(queue.run())
    try:
        async with concord_endpoint(store, queue.put) as url, aiohttp.ClientSession() as s:
            rest = Rest(s, sides)
            await rest.hook("order.created", url)
            await rest.hook("order.updated", url)
            number = await rest.pending_order()
            paid_at = time.perf_counter()
            await rest.send("PUT", f"/orders/{number}", {"set_paid": True})
            async with asyncio.timeout(WAIT):
                while not (await done.get()).counts.get("imported"):
                    pass
            latency = time.perf_counter() - paid_at
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    record_property("webhook_to_erp_seconds", round(latency, 3))
    print(f"\nwebhook -> ERP sale order: {latency * 1000:.0f} ms")
    [so] = sale_orders(sides.erp, str(number))
    assert so["state"] == "sale"
    runs = await store.list_runs("main")
    assert any(r.job == "orders" and r.mode == "webhook" for r in runs)


async def test_signatures_are_checked_and_redeliveries_import_nothing(
    store: Store, sides: Sides
) -> None:
    triggered: list[str] = []

    async def trigger(order_id: str) -> None:
        triggered.append(order_id)

    inbox = WebhookInbox()
    async with (
        concord_endpoint(store, trigger) as url,
        inbox.serve() as inbox_url,
        aiohttp.ClientSession() as session,
    ):
        rest = Rest(session, sides)
        await rest.hook("order.updated", inbox_url)
        number = await rest.pending_order()
        await rest.send("PUT", f"/orders/{number}", {"status": "processing"})
        async with asyncio.timeout(WAIT):
            real = await inbox.next(topic="order.updated")

        async def deliver(body: bytes, **headers: str | None) -> tuple[int, str]:
            sent = {k: v for k, v in {**real.headers, **headers}.items() if v is not None}
            sent.pop("Content-Length", None)
            async with session.post(url, data=body, headers=sent) as reply:
                return reply.status, await reply.text()

        assert (await deliver(real.body))[0] == 200
        again = await deliver(real.body)
        assert again[0] == 200 and "already taken" in again[1]
        assert triggered == [str(number)]

        tampered = real.body.replace(b'"processing"', b'"completed"')
        assert tampered != real.body
        assert (await deliver(tampered, **{"X-WC-Webhook-Delivery-ID": "x1"}))[0] == 401
        unsigned = {"X-WC-Webhook-Signature": None, "X-WC-Webhook-Delivery-ID": "x2"}
        assert (await deliver(real.body, **unsigned))[0] == 401
        forged = {"X-WC-Webhook-Signature": "AAAA", "X-WC-Webhook-Delivery-ID": "x3"}
        assert (await deliver(real.body, **forged))[0] == 401
        async with session.post(
            url,
            data=b"webhook_id=7",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as ping:
            assert ping.status == 200
        other = {"X-WC-Webhook-Topic": "product.updated", "X-WC-Webhook-Delivery-ID": "x4"}
        assert (await deliver(real.body, **other))[0] == 200
    assert triggered == [str(number)]


async def test_a_handler_refuses_to_start_without_a_secret(store: Store) -> None:
    async def trigger(order_id: str) -> None:
        raise AssertionError(order_id)

    with pytest.raises(ValueError, match="secret"):
        order_webhook(store=store, connection="main", secret="", trigger=trigger)
