"""Order webhooks of the shops: checked, deduplicated, and turned into immediate imports.

:func:`order_webhook` builds the aiohttp handler of one connection, speaking its shop's
:class:`Dialect` (:data:`DIALECTS`: WooCommerce, Shopify). For each POST it:

1. answers 200 to a ping (WooCommerce sends a form-encoded one when a webhook is created);
2. refuses (401) a delivery whose signature header (``X-WC-Webhook-Signature``,
   ``X-Shopify-Hmac-Sha256``) is missing or is not the base64 HMAC-SHA256 of the exact body
   bytes under the webhook secret (compared in constant time);
3. acknowledges (200) topics other than the order ones without acting;
4. takes each delivery id (``X-WC-Webhook-Delivery-ID``, ``X-Shopify-Webhook-Id``: the same on
   every retry of one delivery) once (a Postgres row): a redelivery is answered 200 and imports
   nothing;
5. hands the order's key to ``trigger`` (e.g. :meth:`engine.orders.queue.OrderImportQueue.put`):
   the order id for WooCommerce, the order's GraphQL id (``admin_graphql_api_id``) for Shopify,
   which its adapter reads directly rather than through Shopify's lagging search.

Mounting it (``concord serve`` does this for each connection whose ``[orders]`` names a secret)::

    queue = OrderImportQueue(order_importer(store, connection=..., adapters=..., config=...))
    secret = webhook_secret(orders_config, source=config.source, prefix="connections.main.orders")
    app.router.add_post("/webhooks/shopify/main",
                        order_webhook(store=store, connection="main", secret=secret,
                                      trigger=queue.put, dialect=DIALECTS["shopify"]))
    # and run queue.run() as a background task of the app

The shop then gets ``http(s)://<concord>/webhooks/<type>/<connection>`` as the delivery URL of
its order webhooks, signed with the same secret (for Shopify: the app's client secret). The
secret is never logged; rejected deliveries are logged by their delivery id only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
from aiohttp import web

from canonical.errors import StoreError
from engine.store.orders import OrderStore
from engine.store.state import Store

log = logging.getLogger("concord.webhooks")
MAX_BODY = 2 * 1024 * 1024
_WC_PING = re.compile(rb"^webhook_id=\d+$")
_SHOPIFY_ORDER = re.compile(r"gid://shopify/Order/[0-9]+")

Trigger = Callable[[str], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _WooOrder(msgspec.Struct):
    id: int


class _ShopifyOrder(msgspec.Struct):
    admin_graphql_api_id: str = ""


def _woo_key(body: bytes) -> str:
    return str(msgspec.json.decode(body, type=_WooOrder).id)


def _shopify_key(body: bytes) -> str:
    # The order's id, not its name: Shopify's search, which finds an order by name, trails
    # writes by seconds, so right after orders/create it may not find the order yet.
    key = msgspec.json.decode(body, type=_ShopifyOrder).admin_graphql_api_id.strip()
    if _SHOPIFY_ORDER.fullmatch(key) is None:
        raise msgspec.ValidationError(
            f"`admin_graphql_api_id` is {key!r}, not an order's id (gid://shopify/Order/N)"
        )
    return key


def _never(body: bytes) -> bool:
    return False


@dataclass(frozen=True)
class Dialect:
    """How one platform signs, names and identifies its order webhooks."""

    platform: str
    signature_header: str
    delivery_header: str
    topic_header: str
    order_topics: frozenset[str]
    order_key: Callable[[bytes], str]
    """The key the shop adapter reads the order by, from the delivery's body."""
    is_ping: Callable[[bytes], bool] = _never
    """An unsigned body the platform sends to check the address (answered 200, nothing done)."""


WOOCOMMERCE = Dialect(
    platform="woocommerce",
    signature_header="X-WC-Webhook-Signature",
    delivery_header="X-WC-Webhook-Delivery-ID",
    topic_header="X-WC-Webhook-Topic",
    order_topics=frozenset({"order.created", "order.updated", "order.restored"}),
    order_key=_woo_key,
    is_ping=lambda body: _WC_PING.match(body.strip()) is not None,
)
SHOPIFY = Dialect(
    platform="shopify",
    signature_header="X-Shopify-Hmac-Sha256",
    delivery_header="X-Shopify-Webhook-Id",
    topic_header="X-Shopify-Topic",
    order_topics=frozenset(
        {"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/edited"}
    ),
    order_key=_shopify_key,
)
DIALECTS = {d.platform: d for d in (WOOCOMMERCE, SHOPIFY)}
"""The shop adapter types whose order webhooks Concord receives."""


def expected_signature(secret: str, body: bytes) -> str:
    """What the signature header must carry for ``body`` (both platforms sign alike)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_ok(secret: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the body's signature; constant time whatever ``given`` is."""
    expected = expected_signature(secret, body).encode()
    return hmac.compare_digest(expected, (given or "").encode())


def _reply(status: int, message: str) -> web.Response:
    return web.json_response({"status": status, "message": message}, status=status)


def order_webhook(
    *,
    store: Store,
    connection: str,
    secret: str,
    trigger: Trigger,
    dialect: Dialect = WOOCOMMERCE,
) -> Handler:
    """The handler receiving one connection's order webhooks in ``dialect`` (see above)."""
    if not secret:
        raise ValueError(f"{connection}: the webhook secret is empty")
    orders = OrderStore(store)

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _reply(413, "body too large")
        body = await request.read()
        delivery = request.headers.get(dialect.delivery_header, "")
        given = request.headers.get(dialect.signature_header)
        if given is None and dialect.is_ping(body):
            return _reply(200, "pong")
        if not signature_ok(secret, body, given):
            log.warning("%s: webhook delivery %r refused: bad signature", connection, delivery)
            return _reply(401, "missing or invalid signature")
        topic = request.headers.get(dialect.topic_header, "")
        if topic not in dialect.order_topics:
            return _reply(200, f"topic {topic!r} ignored")
        if not delivery:
            return _reply(400, f"missing {dialect.delivery_header}")
        try:
            order_id = dialect.order_key(body)
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
