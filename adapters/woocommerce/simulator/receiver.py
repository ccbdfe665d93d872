"""A webhook endpoint for tests and trials: collects deliveries so they can be awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from aiohttp import web

from adapters.simkit import serve


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One POST received: its headers and the exact body bytes."""

    headers: dict[str, str]
    body: bytes


class WebhookInbox:
    """Answers every POST with 200 and queues it; :meth:`next` waits for the next one."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()

    async def _receive(self, request: web.Request) -> web.Response:
        await self._queue.put(Delivery(headers=dict(request.headers), body=await request.read()))
        return web.Response(text="ok")

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        """Listen on a loopback port for the block; yields the delivery URL."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        async with serve(app) as url:
            yield f"{url}/hooks"

    async def next(self, *, topic: str | None = None) -> Delivery:
        """The next delivery (skipping pings and other topics when ``topic`` is given); wrap
        in ``asyncio.timeout`` to bound the wait."""
        while True:
            delivery = await self._queue.get()
            if topic is None or delivery.headers.get("X-WC-Webhook-Topic") == topic:
                return delivery
