"""What every platform simulator shares: fault injection, counters and a loopback runner.

A simulator is an aiohttp application imitating one platform's API. :func:`install_faults` adds
a middleware and two admin routes to it:

- ``GET  /__sim__/stats``  — requests served, 429s and injected errors, as JSON;
- ``POST /__sim__/faults`` — replace the fault switches (a JSON :class:`Faults`) while running.

Faults are drawn from a seeded random generator so a scripted test or benchmark is repeatable.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import msgspec
from aiohttp import web


class Faults(msgspec.Struct, kw_only=True):
    """Switches for misbehaviour. All off by default."""

    rate_limit: float | None = None
    """Requests per second allowed; above it, 429 with ``Retry-After``."""
    retry_after: float = 1.0
    """Seconds announced in ``Retry-After`` on a 429."""
    error_rate: float = 0.0
    """Share of requests answered with a 5xx."""
    latency: float = 0.0
    """Seconds added before each answer."""
    timeout_rate: float = 0.0
    """Share of requests that hang for ``hang_seconds`` before answering."""
    hang_seconds: float = 60.0
    truncate_rate: float = 0.0
    """Share of successful JSON answers cut in half (a malformed body)."""
    seed: int = 0


class Stats(msgspec.Struct, kw_only=True):
    requests: int = 0
    throttled: int = 0
    errors: int = 0
    timeouts: int = 0
    truncated: int = 0


class _FaultState:
    """The switches in force, their random draws and the rate bucket. One mutable holder per
    app, so switches can change while the app runs (an app's own mapping is frozen then)."""

    def __init__(self, faults: Faults) -> None:
        self.reset(faults)

    def reset(self, faults: Faults) -> None:
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.tokens = faults.rate_limit or 0.0
        self.refilled = time.monotonic()

    def throttled(self) -> bool:
        rate = self.faults.rate_limit
        if rate is None:
            return False
        now = time.monotonic()
        self.tokens = min(rate, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens < 1.0:
            return True
        self.tokens -= 1.0
        return False


_STATE_KEY = web.AppKey("concord_fault_state", _FaultState)
STATS_KEY = web.AppKey("concord_stats", Stats)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    if request.path.startswith("/__sim__/"):
        return await handler(request)
    state, stats = app[_STATE_KEY], app[STATS_KEY]
    faults, rng = state.faults, state.random
    stats.requests += 1
    if faults.latency:
        await asyncio.sleep(faults.latency)
    if state.throttled():
        stats.throttled += 1
        return web.json_response(
            {"code": "too_many_requests", "message": "Too many requests."},
            status=429,
            headers={"Retry-After": f"{faults.retry_after:g}"},
        )
    if faults.timeout_rate and rng.random() < faults.timeout_rate:
        stats.timeouts += 1
        await asyncio.sleep(faults.hang_seconds)
    if faults.error_rate and rng.random() < faults.error_rate:
        stats.errors += 1
        return web.json_response(
            {"code": "internal_server_error", "message": "Injected server error."}, status=503
        )
    response = await handler(request)
    if (
        faults.truncate_rate
        and isinstance(response, web.Response)
        and response.body is not None
        and rng.random() < faults.truncate_rate
    ):
        stats.truncated += 1
        body = bytes(response.body)  # type: ignore[arg-type]
        response.body = body[: len(body) // 2]
    return response


async def _get_stats(request: web.Request) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(request.app[STATS_KEY]), content_type="application/json"
    )


async def _set_faults(request: web.Request) -> web.Response:
    try:
        faults = msgspec.json.decode(await request.read(), type=Faults)
    except msgspec.DecodeError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    set_faults(request.app, faults)
    return web.Response(body=msgspec.json.encode(faults), content_type="application/json")


def set_faults(app: web.Application, faults: Faults) -> None:
    """Replace the fault switches of a simulator, running or not."""
    app[_STATE_KEY].reset(faults)


def current_faults(app: web.Application) -> Faults:
    return app[_STATE_KEY].faults


def install_faults(app: web.Application, faults: Faults | None = None) -> None:
    """Add fault injection, counters and the ``/__sim__`` admin routes to a simulator app.

    Call before the app starts (middlewares cannot be added afterwards).
    """
    app.middlewares.append(_fault_middleware)
    app[STATS_KEY] = Stats()
    app[_STATE_KEY] = _FaultState(faults or Faults())
    app.router.add_get("/__sim__/stats", _get_stats)
    app.router.add_post("/__sim__/faults", _set_faults)


@asynccontextmanager
async def serve(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run ``app`` on a loopback port for the duration of the block; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None and hasattr(server, "sockets")
    bound_port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()
