"""A platform simulator in its own process, with the benchmark's admin routes.

The benchmark must not share a CPU-bound event loop with the simulators it measures against, so
each simulator runs in a child process (``python -m bench.simproc PLATFORM PRODUCTS SEED``).
Besides the simulator's own ``/__sim__/stats`` and ``/__sim__/faults`` (:mod:`adapters.simkit`),
the child serves:

- ``POST /__sim__/bench/record`` — start (``{"on": true}``) or stop recording the requests the
  simulator handles (after fault injection: a throttled request is not recorded);
- ``GET  /__sim__/bench/log`` — the recorded requests (msgpack), for the I/O floor to replay;
- ``POST /__sim__/bench/edit`` — a seeded edit (:mod:`bench.edits`);
- ``POST /__sim__/bench/checkpoint`` and ``/restore`` — keep and bring back the data under a
  name (``{"name": "seen"}``), so the floor and the peer run against what Concord saw and leave
  no trace for the next scenario;
- ``GET  /__sim__/bench/usage`` — the child's CPU seconds and peak RSS;
- ``POST /__sim__/bench/latency`` — the latency profile to answer with (:mod:`bench.latency`;
  none at start).

Paths under ``/__sim__/`` bypass the fault switches and the platform's authentication.
"""

from __future__ import annotations

import asyncio
import pickle
import resource
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from aiohttp import web

from bench import edits
from bench.latency import NONE, Latency, odoo_items, woocommerce_items

Platform = Literal["odoo", "woocommerce", "shopify"]
_RECORDED = {"Authorization", "X-Odoo-Database", "Content-Type"}
_VOLATILE = ("clock", "listeners", "sort_cache", "_cache")
"""Attributes of a simulator store that are not data (functions, caches): never checkpointed."""


class Recorded(msgspec.Struct, array_like=True, frozen=True):
    """One request as the simulator received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class EditRequest(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["resync", "stock", "orders"]
    seed: int
    share: float = 0.0
    conflict: float = 0.0
    count: int = 0


class _Bench:
    """The child's benchmark state: the request log and the checkpoint."""

    def __init__(self, platform: Platform, store: Any) -> None:
        self.platform = platform
        self.store = store
        self.recording = False
        self.log: list[Recorded] = []
        self.checkpoints: dict[str, bytes] = {}
        self.latency = NONE

    def save(self, name: str) -> None:
        data = {k: v for k, v in vars(self.store).items() if k not in _VOLATILE}
        self.checkpoints[name] = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, name: str) -> None:
        if name not in self.checkpoints:
            raise web.HTTPConflict(text=f"no checkpoint {name!r}")
        vars(self.store).update(pickle.loads(self.checkpoints[name]))
        # Caches keyed on the store's version must not survive a rollback of that version.
        for name in ("sort_cache", "_cache", "_indexes"):
            cache = getattr(self.store, name, None)
            if isinstance(cache, dict):
                cache.clear()

    def edit(self, request: EditRequest) -> edits.EditReport:
        if self.platform == "shopify":
            raise web.HTTPBadRequest(text="the Shopify shop takes no seeded edits")
        if request.kind == "orders":
            if self.platform == "odoo":
                return edits.EditReport()
            return edits.place_orders(self.store, seed=request.seed, count=request.count)
        if self.platform == "odoo":
            if request.kind == "resync":
                return edits.edit_erp_resync(
                    self.store, seed=request.seed, share=request.share, conflict=request.conflict
                )
            return edits.edit_erp_stock(self.store, seed=request.seed, share=request.share)
        if request.kind == "resync":
            return edits.edit_shop_resync(
                self.store, seed=request.seed, share=request.share, conflict=request.conflict
            )
        return edits.edit_shop_stock(self.store, seed=request.seed, share=request.share)


_BENCH_KEY = web.AppKey("concord_bench", _Bench)


@web.middleware
async def _recorder(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    bench = request.app[_BENCH_KEY]
    if bench.recording and not request.path.startswith("/__sim__/"):
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k in _RECORDED}
        bench.log.append(Recorded(request.method, request.path_qs, headers, body))
    response: web.StreamResponse = await handler(request)
    return response


@web.middleware
async def _latency(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    bench = request.app[_BENCH_KEY]
    latency = bench.latency
    # Shopify's pace is its points bucket, which its simulator keeps itself.
    if latency.zero or bench.platform == "shopify" or request.path.startswith("/__sim__/"):
        response: web.StreamResponse = await handler(request)
        return response
    body = await request.read()
    response = await handler(request)
    answer = response.body if isinstance(response, web.Response) else None
    answer = answer if isinstance(answer, bytes) else b""
    if bench.platform == "odoo":
        read, written = odoo_items(request.path, body, answer)
    else:
        read, written = woocommerce_items(request.method, body, answer)
    await asyncio.sleep(latency.cost(read, written))
    return response


def _json(value: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(value), content_type="application/json")


async def _record(request: web.Request) -> web.Response:
    bench = request.app[_BENCH_KEY]
    bench.recording = bool(msgspec.json.decode(await request.read()).get("on"))
    if bench.recording:
        bench.log = []
    return _json({"recording": bench.recording})


async def _log(request: web.Request) -> web.Response:
    bench = request.app[_BENCH_KEY]
    body = msgspec.msgpack.encode(bench.log)
    bench.log = []
    return web.Response(body=body, content_type="application/msgpack")


async def _edit(request: web.Request) -> web.Response:
    edit = msgspec.json.decode(await request.read(), type=EditRequest)
    return _json(request.app[_BENCH_KEY].edit(edit))


class _Named(msgspec.Struct, frozen=True):
    name: str = "last"


async def _checkpoint(request: web.Request) -> web.Response:
    named = msgspec.json.decode(await request.read(), type=_Named)
    request.app[_BENCH_KEY].save(named.name)
    return _json({"ok": True})


async def _restore(request: web.Request) -> web.Response:
    named = msgspec.json.decode(await request.read(), type=_Named)
    request.app[_BENCH_KEY].restore(named.name)
    return _json({"ok": True})


async def _set_latency(request: web.Request) -> web.Response:
    latency = msgspec.json.decode(await request.read(), type=Latency)
    request.app[_BENCH_KEY].latency = latency
    return _json(latency)


async def _usage(request: web.Request) -> web.Response:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return _json({"cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024})


def _now() -> datetime:
    return datetime.now(UTC)


def build_app(platform: Platform, products: int, seed: int) -> web.Application:
    """The simulator's app with the benchmark's routes, its catalogue seeded (and enriched)."""
    if platform == "odoo":
        from adapters.odoo.simulator.app import create_app as odoo_app
        from adapters.odoo.simulator.app import store_of as odoo_store

        app = odoo_app(products=products, seed=seed)
        store: Any = odoo_store(app)
        edits.enrich_erp(store, seed)
    elif platform == "shopify":
        from adapters.shopify.simulator import create_app as shopify_app
        from adapters.shopify.simulator import shop_of

        # The Basic plan's bucket (2,000 points, 100 a second) on the real clock.
        app = shopify_app(products=products, seed=seed)
        store = shop_of(app).store
    else:
        from adapters.woocommerce.simulator import create_app as shop_app
        from adapters.woocommerce.simulator import store_of as shop_store

        app = shop_app(products=products, seed=seed)
        store = shop_store(app)
        store.clock = _now
    app[_BENCH_KEY] = _Bench(platform, store)
    app.middlewares.append(_recorder)
    app.middlewares.append(_latency)
    app.router.add_post("/__sim__/bench/record", _record)
    app.router.add_get("/__sim__/bench/log", _log)
    app.router.add_post("/__sim__/bench/edit", _edit)
    app.router.add_post("/__sim__/bench/checkpoint", _checkpoint)
    app.router.add_post("/__sim__/bench/restore", _restore)
    app.router.add_get("/__sim__/bench/usage", _usage)
    app.router.add_post("/__sim__/bench/latency", _set_latency)
    return app


async def _serve(platform: Platform, products: int, seed: int) -> None:
    from adapters.simkit import serve

    app = build_app(platform, products, seed)
    async with serve(app) as url:
        print(url, flush=True)
        # Serve until the parent closes our stdin (or ends us).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@asynccontextmanager
async def simulator_process(
    platform: Platform, *, products: int, seed: int, start_timeout: float = 600.0
) -> AsyncIterator[str]:
    """Run a seeded simulator in a child process for the block; yields its base URL.

    The child is ``python -m bench.simproc``: a process of its own that imports only what a
    simulator needs, and stops when its standard input closes.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # never import a ``bench`` from the current directory instead of ours
        "-m",
        "bench.simproc",
        platform,
        str(products),
        str(seed),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        try:
            line = await asyncio.wait_for(process.stdout.readline(), start_timeout)
        except TimeoutError:
            raise RuntimeError(f"the {platform} simulator did not start") from None
        if not line.startswith(b"http"):
            raise RuntimeError(f"the {platform} simulator exited with {await process.wait()}")
        yield line.decode().strip()
    finally:
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


class SimHandle:
    """The benchmark's side of a simulator's ``/__sim__`` routes."""

    def __init__(self, url: str, session: Any) -> None:
        self.url = url
        self._session = session

    async def _get(self, path: str) -> Any:
        async with self._session.get(self.url + path) as response:
            response.raise_for_status()
            return msgspec.json.decode(await response.read())

    async def _post(self, path: str, payload: Any) -> Any:
        async with self._session.post(
            self.url + path, data=msgspec.json.encode(payload)
        ) as response:
            response.raise_for_status()
            return msgspec.json.decode(await response.read())

    async def stats(self) -> dict[str, int]:
        """The simulator's counters (requests served, 429s...)."""
        stats: dict[str, int] = await self._get("/__sim__/stats")
        return stats

    async def usage(self) -> dict[str, float]:
        usage: dict[str, float] = await self._get("/__sim__/bench/usage")
        return usage

    async def set_faults(self, faults: Any) -> None:
        await self._post("/__sim__/faults", faults)

    async def record(self, on: bool) -> None:
        await self._post("/__sim__/bench/record", {"on": on})

    async def take_log(self) -> list[Recorded]:
        async with self._session.get(self.url + "/__sim__/bench/log") as response:
            response.raise_for_status()
            return msgspec.msgpack.decode(await response.read(), type=list[Recorded])

    async def edit(self, request: EditRequest) -> edits.EditReport:
        report: edits.EditReport = msgspec.convert(
            await self._post("/__sim__/bench/edit", request), edits.EditReport
        )
        return report

    async def set_latency(self, latency: Latency) -> Latency:
        """Answer with ``latency`` from now on; returns the profile the simulator took."""
        return msgspec.convert(await self._post("/__sim__/bench/latency", latency), Latency)

    async def checkpoint(self, name: str = "last") -> None:
        await self._post("/__sim__/bench/checkpoint", {"name": name})

    async def restore(self, name: str = "last") -> None:
        await self._post("/__sim__/bench/restore", {"name": name})


if __name__ == "__main__":
    _, _platform, _products, _seed = sys.argv
    asyncio.run(_serve(_platform, int(_products), int(_seed)))  # type: ignore[arg-type]
