"""WooCommerce order webhooks: checked, deduplicated, and turned into immediate imports.

:func:`order_webhook` builds the aiohttp handler of one connection. For each POST it:

1. answers 200 to the form-encoded ping WooCommerce sends when a webhook is created;
2. refuses (401) a delivery whose ``X-WC-Webhook-Signature`` is missing or is not the base64
   HMAC-SHA256 of the exact body bytes under the webhook secret (compared in constant time);
3. acknowledges (200) topics other than ``order.created|updated|restored`` without acting;
4. takes each ``X-WC-Webhook-Delivery-ID`` once (a Postgres row): a redelivery is answered 200
   and imports nothing;
5. hands the order id to ``trigger`` (e.g. :meth:`engine.orders.queue.OrderImportQueue.put`).

Mounting it (``concord serve``)::

    queue = OrderImportQueue(order_importer(store, connection=..., adapters=..., config=...))
    secret = webhook_secret(orders_config, source=config.source, prefix="connections.main.orders")
    app.router.add_post("/webhooks/woocommerce/main",
                        order_webhook(store=store, connection="main", secret=secret,
                                      trigger=queue.put))
    # and run queue.run() as a background task of the app

The shop then gets ``http(s)://<concord>/webhooks/woocommerce/main`` as the delivery URL of
its ``order.created`` and ``order.updated`` webhooks, with the same secret. The secret is
never logged; rejected deliveries are logged by their delivery id only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from canonical.errors import StoreError
from engine.store.orders import OrderStore
from engine.store.state import Store

log = logging.getLogger("concord.webhooks")
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
MAX_BODY = 2 * 1024 * 1024
_PING = re.compile(rb"^webhook_id=\d+$")

Trigger = Callable[[str], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Resource(msgspec.Struct):
    id: int


def expected_signature(secret: str, body: bytes) -> str:
    """What ``X-WC-Webhook-Signature`` must carry for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_ok(secret: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the body's signature; constant time whatever ``given`` is."""
    expected = expected_signature(secret, body).encode()
    return hmac.compare_digest(expected, (given or "").encode())


def _reply(status: int, message: str) -> web.Response:
    return web.json_response({"status": status, "message": message}, status=status)


def order_webhook(*, store: Store, connection: str, secret: str, trigger: Trigger) -> Handler:
    """The handler receiving one connection's WooCommerce order webhooks (see above)."""
    if not secret:
        raise ValueError(f"{connection}: the webhook secret is empty")
    orders = OrderStore(store)

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _reply(413, "body too large")
        body = await request.read()
        delivery = request.headers.get("X-WC-Webhook-Delivery-ID", "")
        given = request.headers.get("X-WC-Webhook-Signature")
        if given is None and _PING.match(body.strip()):
            return _reply(200, "pong")
        if not signature_ok(secret, body, given):
            log.warning("%s: webhook delivery %r refused: bad signature", connection, delivery)
            return _reply(401, "missing or invalid signature")
        topic = request.headers.get("X-WC-Webhook-Topic", "")
        if topic not in ORDER_TOPICS:
            return _reply(200, f"topic {topic!r} ignored")
        if not delivery:
            return _reply(400, "missing X-WC-Webhook-Delivery-ID")
        try:
            order_id = str(msgspec.json.decode(body, type=_Resource).id)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return _reply(400, f"not an order: {exc}")
        try:
            first = await orders.claim_delivery(connection, delivery, topic, order_id)
        except StoreError as exc:
            log.error("%s: webhook delivery %s not recorded: %s", connection, delivery, exc)
            return _reply(503, "state store unavailable; deliver again later")
        if not first:
            return _reply(200, f"delivery {delivery} already taken")
        try:
            await trigger(order_id)
        except Exception:
            # Let the shop deliver again rather than lose the event.
            await orders.release_delivery(connection, delivery)
            raise
        return _reply(200, f"order {order_id} queued for import")

    return handle
