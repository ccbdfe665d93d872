"""Webhooks: the ``/webhooks`` routes and deliveries signed as WooCommerce signs them.

A delivery is a POST of the resource's JSON (``{"id": N}`` for deletions) with the seven
``X-WC-Webhook-*`` headers; the signature is base64(HMAC-SHA256(secret, exact body bytes)).
Deliveries run in the background as they do from Action Scheduler; a webhook is disabled once
its stored failure count already exceeds five when another delivery fails, as core does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from typing import Any

import aiohttp
from aiohttp import web

from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.common import SimError, encode
from adapters.woocommerce.simulator.products import STORE_KEY
from adapters.woocommerce.simulator.rest import PREFIX, body_of, forced, item_id, paginated, respond
from adapters.woocommerce.simulator.store import Store

TOPICS = frozenset(
    f"{resource}.{event}"
    for resource in ("coupon", "customer", "order", "product")
    for event in ("created", "updated", "deleted", "restored")
)
USER_AGENT = "WooCommerce/9.4.0 Hookshot (WordPress/6.7)"


def signature(secret: str, body: bytes) -> str:
    """What ``X-WC-Webhook-Signature`` carries for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Deliveries:
    """Sends webhook deliveries for a store's events; one per app."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sent: list[tuple[int, str, int]] = []
        """(webhook id, topic, HTTP status or 0 on a connection failure), in order."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._delivery_id = 0
        store.listeners.append(self.on_event)

    def on_event(self, topic: str, record: Any) -> None:
        for hook in list(self.store.webhooks.values()):
            if hook.status == "active" and hook.topic == topic:
                task = asyncio.get_running_loop().create_task(self._deliver(hook, record))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self._session

    async def _deliver(self, hook: m.Webhook, record: Any) -> None:
        body = encode(record)
        self._delivery_id += 1
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": f"{self.store.base_url}/",
            "X-WC-Webhook-Topic": hook.topic,
            "X-WC-Webhook-Resource": hook.resource,
            "X-WC-Webhook-Event": hook.event,
            "X-WC-Webhook-Signature": signature(hook.secret, body),
            "X-WC-Webhook-ID": str(hook.id),
            "X-WC-Webhook-Delivery-ID": str(self._delivery_id),
        }
        status = 0
        try:
            async with self._open().post(hook.delivery_url, data=body, headers=headers) as reply:
                status = reply.status
        except (aiohttp.ClientError, TimeoutError):
            pass
        self.sent.append((hook.id, hook.topic, status))
        if 200 <= status <= 302:
            hook.failure_count = 0
        elif hook.failure_count > 5:
            hook.status = "disabled"
        else:
            hook.failure_count += 1

    async def ping(self, hook: m.Webhook) -> None:
        """The form-encoded ping sent when a webhook is created; its answer is not binding."""
        try:
            async with self._open().post(
                hook.delivery_url,
                data=f"webhook_id={hook.id}".encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": USER_AGENT,
                },
            ):
                pass
        except (aiohttp.ClientError, TimeoutError):
            pass

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


DELIVERIES_KEY = web.AppKey("wc_deliveries", Deliveries)


def _apply(hook: m.Webhook, data: dict[str, Any]) -> None:
    if "topic" in data:
        topic = data["topic"]
        if topic not in TOPICS and not str(topic).startswith("action."):
            raise SimError(
                "rest_invalid_param",
                "Invalid parameter(s): topic",
                params={"topic": "Webhook topic unknown."},
            )
        hook.topic = str(topic)
        hook.resource, _, hook.event = hook.topic.partition(".")
        hook.hooks = [f"woocommerce_{hook.event}_{hook.resource}"]
    for key in ("name", "delivery_url", "secret"):
        if isinstance(data.get(key), str):
            setattr(hook, key, data[key])
    if "status" in data:
        if data["status"] not in ("active", "paused", "disabled"):
            raise SimError(
                "rest_invalid_param",
                "Invalid parameter(s): status",
                params={"status": "status is not one of active, paused, disabled."},
            )
        hook.status = data["status"]
        hook.failure_count = 0


def _hook(request: web.Request) -> m.Webhook:
    hook = request.app[STORE_KEY].webhooks.get(item_id(request))
    if hook is None:
        raise SimError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", status=404)
    return hook


async def list_webhooks(request: web.Request) -> web.Response:
    hooks = sorted(request.app[STORE_KEY].webhooks.values(), key=lambda h: h.id)
    if "status" in request.query and request.query["status"] != "all":
        hooks = [h for h in hooks if h.status == request.query["status"]]
    return paginated(request, hooks)


async def post_webhook(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    data = await body_of(request)
    missing = [k for k in ("topic", "delivery_url") if not data.get(k)]
    if missing:
        raise SimError(
            "rest_missing_callback_param",
            f"Missing parameter(s): {', '.join(missing)}",
            params=missing,
        )
    local, gmt = store.now()
    hook = m.Webhook(
        id=store.next_id("webhook"),
        name="",
        status="active",
        topic="",
        resource="",
        event="",
        hooks=[],
        delivery_url="",
        secret=secrets.token_urlsafe(24),
        date_created=local,
        date_created_gmt=gmt,
        date_modified=local,
        date_modified_gmt=gmt,
    )
    _apply(hook, data)
    hook.name = hook.name or f"Webhook created on {local}"
    store.webhooks[hook.id] = hook
    await request.app[DELIVERIES_KEY].ping(hook)
    return respond(hook, status=201)


async def get_webhook(request: web.Request) -> web.Response:
    return respond(_hook(request))


async def put_webhook(request: web.Request) -> web.Response:
    hook = _hook(request)
    _apply(hook, await body_of(request))
    hook.date_modified, hook.date_modified_gmt = request.app[STORE_KEY].now()
    return respond(hook)


async def del_webhook(request: web.Request) -> web.Response:
    if not forced(request):
        raise SimError(
            "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", status=501
        )
    hook = _hook(request)
    del request.app[STORE_KEY].webhooks[hook.id]
    return respond(hook)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{PREFIX}/webhooks", list_webhooks)
    r.add_post(f"{PREFIX}/webhooks", post_webhook)
    r.add_get(f"{PREFIX}/webhooks/{{id:\\d+}}", get_webhook)
    r.add_put(f"{PREFIX}/webhooks/{{id:\\d+}}", put_webhook)
    r.add_delete(f"{PREFIX}/webhooks/{{id:\\d+}}", del_webhook)
