"""Order webhooks with bad, missing and replayed signatures, against ``web/webhooks.py`` as it is.

A real aiohttp server runs the handler on loopback; deliveries are signed as WooCommerce signs
them (base64 HMAC-SHA256 of the body). Only a correctly signed, first delivery triggers an
import; everything else is refused (401) or acknowledged without acting (a replay).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from adapters import simkit
from engine.store.state import Store
from web.webhooks import expected_signature, order_webhook

SECRET = "whsec-reliability-7c21e9"
BODY = b'{"id": 4711, "status": "processing"}'


@pytest.fixture
async def endpoint(store: Store) -> AsyncIterator[tuple[str, list[str]]]:
    triggered: list[str] = []

    async def trigger(order_id: str) -> None:
        triggered.append(order_id)

    app = web.Application()
    handler = order_webhook(store=store, connection="main", secret=SECRET, trigger=trigger)
    app.router.add_post("/hook", handler)
    async with simkit.serve(app) as url:
        yield f"{url}/hook", triggered


def headers(delivery: str, signature: str | None) -> dict[str, str]:
    sent = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Delivery-ID": delivery}
    if signature is not None:
        sent["X-WC-Webhook-Signature"] = signature
    return sent


@pytest.mark.parametrize(
    ("case", "body", "signature"),
    [
        ("missing", BODY, None),
        ("empty", BODY, ""),
        ("wrong secret", BODY, expected_signature("another-secret-0000", BODY)),
        ("not base64", BODY, "not a signature"),
        ("truncated", BODY, expected_signature(SECRET, BODY)[:-4]),
        ("body changed", BODY.replace(b"4711", b"4712"), expected_signature(SECRET, BODY)),
        ("hex instead of base64", BODY, "ab" * 32),
    ],
)
async def test_a_badly_signed_delivery_is_refused_and_imports_nothing(
    endpoint: tuple[str, list[str]], case: str, body: bytes, signature: str | None
) -> None:
    url, triggered = endpoint
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers("d-1", signature)) as reply:
            assert reply.status == 401, case
        # The refused delivery id stays free: the genuine delivery is still taken.
        good = headers("d-1", expected_signature(SECRET, BODY))
        async with session.post(url, data=BODY, headers=good) as reply:
            assert reply.status == 200
    assert triggered == ["4711"]


async def test_a_replayed_delivery_imports_nothing(endpoint: tuple[str, list[str]]) -> None:
    url, triggered = endpoint
    signed = headers("d-2", expected_signature(SECRET, BODY))
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.post(url, data=BODY, headers=signed) as reply:
                assert reply.status == 200
                last = await reply.text()
    assert triggered == ["4711"] and "already taken" in last
