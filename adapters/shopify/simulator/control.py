"""Control routes beside simkit's ``/__sim__/stats`` and ``/__sim__/faults``, for a simulator
run in another process (``concord simulate shopify``, the benchmark):

- ``GET  /__sim__/shopify/counters`` — request, throttle and cost counters and every token's
  bucket;
- ``POST /__sim__/shopify/bucket`` — ``{"token", "restore_rate", "maximum", "drain"}``: change a
  token's plan or take points from it (throttle pressure, or Shopify lowering limits for a while);
- ``POST /__sim__/shopify/clock`` — ``{"advance": seconds}`` on a manual clock.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from adapters.shopify.simulator.clock import ManualClock
from adapters.shopify.simulator.shop import Shop


class BucketChange(msgspec.Struct, kw_only=True):
    token: str | None = None
    restore_rate: float | None = None
    maximum: float | None = None
    drain: float = 0.0


class ClockChange(msgspec.Struct, kw_only=True):
    advance: float


def add_routes(app: web.Application, shop: Shop) -> None:
    async def counters(request: web.Request) -> web.Response:
        body = {
            "counters": shop.counters,
            "buckets": {token: bucket.status() for token, bucket in shop.buckets.items()},
        }
        return web.json_response(body)

    async def bucket(request: web.Request) -> web.Response:
        try:
            change = msgspec.json.decode(await request.read(), type=BucketChange)
        except msgspec.DecodeError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        target = shop.bucket(change.token or shop.settings.access_token)
        target.available  # noqa: B018 - brings the level up to now before the plan changes
        if change.restore_rate is not None:
            target.restore_rate = change.restore_rate
        if change.maximum is not None:
            target.maximum = change.maximum
        target.drain(change.drain)
        return web.json_response(target.status())

    async def clock(request: web.Request) -> web.Response:
        try:
            change = msgspec.json.decode(await request.read(), type=ClockChange)
        except msgspec.DecodeError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if not isinstance(shop.store.clock, ManualClock):
            return web.json_response({"error": "the simulator runs on the real clock"}, status=409)
        shop.store.clock.advance(change.advance)
        return web.json_response({"time": shop.store.clock.time()})

    app.router.add_get("/__sim__/shopify/counters", counters)
    app.router.add_post("/__sim__/shopify/bucket", bucket)
    app.router.add_post("/__sim__/shopify/clock", clock)
