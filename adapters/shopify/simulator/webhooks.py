"""Webhook subscriptions and deliveries.

A delivery is a POST of the JSON payload with ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256``
(base64 HMAC-SHA256 of the raw body keyed with the app's secret), ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id`` and
``X-Shopify-Triggered-At``. An answer other than 2xx (or none within 5 s) is retried after each
of ``Settings.webhook_retry_delays`` with the same body and ids — "About webhooks",
"Verify webhook deliveries", "Ignore duplicates" on shopify.dev.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import aiohttp
import msgspec
from graphql import GraphQLResolveInfo

from adapters.shopify.simulator.clock import iso
from adapters.shopify.simulator.connection import paginate
from adapters.shopify.simulator.payloads import payload
from adapters.shopify.simulator.reads import NODE_LOADERS
from adapters.shopify.simulator.shop import Shop
from adapters.shopify.simulator.store import Store, gid, parse_gid
from adapters.shopify.simulator.views import View

_RESOURCES = (
    "BULK_OPERATIONS",
    "INVENTORY_LEVELS",
    "APP",
    "CUSTOMERS",
    "FULFILLMENTS",
    "ORDERS",
    "PRODUCTS",
    "REFUNDS",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def rest_topic(topic: str) -> str:
    """``ORDERS_CREATE`` -> ``orders/create``."""
    for resource in _RESOURCES:
        if topic.startswith(resource + "_"):
            return f"{resource.lower()}/{topic[len(resource) + 1 :].lower()}"
    raise ValueError(topic)


def signature(secret: str, body: bytes) -> str:
    """What ``X-Shopify-Hmac-Sha256`` carries for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Subscription:
    id: int
    topic: str
    uri: str
    format: str
    include_fields: list[str]
    created_at: Any


@dataclass
class Attempt:
    webhook_id: str
    topic: str
    status: int | None
    """HTTP status answered, None when the connection failed or timed out."""


class Deliveries:
    """Sends each event to the subscriptions of its topic, retrying failures."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.subscriptions: dict[int, Subscription] = {}
        self.attempts: list[Attempt] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        shop.store.listeners.append(self.on_event)

    def on_event(self, topic: str, record_id: int) -> None:
        chosen = [s for s in self.subscriptions.values() if rest_topic(s.topic) == topic]
        if not chosen:
            return
        body = msgspec.json.encode(payload(self.shop.store, topic, record_id))
        for subscription in chosen:
            task = asyncio.get_running_loop().create_task(self._deliver(subscription, topic, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, subscription: Subscription, topic: str, body: bytes) -> None:
        settings = self.shop.settings
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature(settings.app_secret, body),
            "X-Shopify-Shop-Domain": settings.shop_domain,
            "X-Shopify-API-Version": settings.webhook_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": iso(self.shop.store.now()),
        }
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5, connect=1))
        for delay in (0.0, *settings.webhook_retry_delays):
            if delay:
                await asyncio.sleep(delay)
            status: int | None
            try:
                async with self._session.post(
                    subscription.uri, data=body, headers=headers
                ) as answer:
                    status = answer.status
            except (aiohttp.ClientError, TimeoutError):
                status = None
            self.attempts.append(Attempt(headers["X-Shopify-Webhook-Id"], topic, status))
            if status is not None and 200 <= status < 300:
                return

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


def subscription_view(subscription: Subscription) -> View:
    return {
        "__typename": "WebhookSubscription",
        "id": gid("WebhookSubscription", subscription.id),
        "topic": subscription.topic,
        "uri": subscription.uri,
        "format": subscription.format,
        "includeFields": list(subscription.include_fields),
        "createdAt": iso(subscription.created_at),
        "updatedAt": iso(subscription.created_at),
    }


def _acceptable(uri: str) -> bool:
    parsed = urlparse(uri)
    # Shopify takes https only; plain http is let through for loopback receivers in tests.
    return parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in LOOPBACK)


def mutations(deliveries: Deliveries) -> View:
    store: Store = deliveries.shop.store

    def create(info: GraphQLResolveInfo, topic: str, webhookSubscription: dict[str, Any]) -> View:
        uri = webhookSubscription.get("uri") or webhookSubscription.get("callbackUrl") or ""
        if not _acceptable(uri):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address is invalid",
                    }
                ],
            }
        if any(s.topic == topic and s.uri == uri for s in deliveries.subscriptions.values()):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        made = Subscription(
            store.new_id(),
            topic,
            uri,
            webhookSubscription.get("format") or "JSON",
            list(webhookSubscription.get("includeFields") or []),
            store.now(),
        )
        deliveries.subscriptions[made.id] = made
        return {"webhookSubscription": subscription_view(made), "userErrors": []}

    def delete(info: GraphQLResolveInfo, id: str) -> View:
        number = parse_gid(id, "WebhookSubscription")
        if number is None or deliveries.subscriptions.pop(number, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

    def listed(info: GraphQLResolveInfo, **args: Any) -> View:
        topics = args.get("topics")
        rows = [s for s in deliveries.subscriptions.values() if not topics or s.topic in topics]
        return paginate(rows, args, lambda s: (s.id,), subscription_view)

    def load(_: Store, number: int) -> View | None:
        found = deliveries.subscriptions.get(number)
        return None if found is None else subscription_view(found)

    NODE_LOADERS["WebhookSubscription"] = load
    return {
        "webhookSubscriptionCreate": create,
        "webhookSubscriptionDelete": delete,
        "webhookSubscriptions": listed,
    }
