"""The two simulated platforms in a process of their own, so what they hold survives any kill.

Run as ``python tests/reliability/platforms.py --products N --seed S``: it serves an Odoo
simulator (the ERP, seeded with N articles) and an empty WooCommerce simulator (the shop) on
loopback, plus a small control app, and prints one JSON line with the three URLs. The control
app lets a test, from outside:

- ``POST /arm {"pid", "after", "phase", "delay", "exports_only"}``: SIGKILL process ``pid``
  when the ``after``-th request (or write to the shop) from now reaches either simulator:
  ``before`` it is handled, or ``after`` it was handled (its answer not yet sent) plus
  ``delay`` seconds. The kill comes from outside the
  worker, at a point of its work chosen by the test's seeded random generator.
- ``GET /fired``: whether the armed kill was sent, and at which request.
- ``POST /edit {"round", "seed", "eligible"}``: a round of seeded edits, made in each
  simulator's data as people would make them (:class:`adapters.sandbox.Sandbox` helpers); shop
  edits only on ``eligible`` SKUs.
- ``GET /skus``: how many shop products and variations hold each SKU (duplicates show as > 1).
- ``POST /order {"sku", "quantity", "email"}``: a paid web order placed in the shop (the
  product put in the shop first if it is not there).
- ``GET /sale-orders``: how many ERP sale orders carry each external reference, by state.

The platforms' secrets come from the environment (``TEST_ODOO_KEY``, ``TEST_WC_KEY``,
``TEST_WC_SECRET``), as the worker's configuration names them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
from collections import Counter
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from adapters import simkit
from adapters.odoo.simulator import app as odoo
from adapters.sandbox import Sandbox
from adapters.woocommerce.simulator import app as woo

NEW_PER_ROUND = 6
PRICE_EDITS_PER_ROUND = 8
SHOP_EDITS_PER_ROUND = 3
Handler = Any  # aiohttp's middleware handler, untyped there


class Arm(msgspec.Struct, kw_only=True):
    pid: int
    after: int
    phase: str = "after"
    delay: float = 0.0
    exports_only: bool = False
    """Count only the export's writes: shop requests other than GET."""


def is_export(request: web.Request) -> bool:
    return request.path.startswith("/wp-json/") and request.method != "GET"


class KillSwitch:
    """Counts requests to the simulators; kills the armed process at the armed one."""

    def __init__(self) -> None:
        self.arm: Arm | None = None
        self.seen = 0
        self.fired: str | None = None

    def set(self, arm: Arm) -> None:
        self.arm, self.seen, self.fired = arm, 0, None

    def _kill(self, where: str) -> None:
        if self.arm is None:
            return
        pid, self.arm = self.arm.pid, None
        try:
            os.kill(pid, signal.SIGKILL)
            self.fired = where
        except ProcessLookupError:
            self.fired = f"{where} (already gone)"

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        arm = self.arm
        if (
            arm is None
            or request.path.startswith("/__sim__/")
            or (arm.exports_only and not is_export(request))
        ):
            return await handler(request)  # type: ignore[no-any-return]
        self.seen += 1
        number = self.seen  # requests run concurrently: this one's number, kept
        where = f"request {number}: {request.method} {request.path}"
        if number == arm.after and arm.phase == "before":
            self._kill(f"{where} (before it was handled)")
        response = await handler(request)
        if number == arm.after and arm.phase == "after":
            if arm.delay <= 0:
                self._kill(f"{where} (handled, answer not sent)")
            else:
                asyncio.get_running_loop().call_later(
                    arm.delay, self._kill, f"{where} (+{arm.delay:.3f}s)"
                )
        return response  # type: ignore[no-any-return]


class Editor:
    """Seeded edits on both sides, as the merchant's staff would make them."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.described: set[str] = set()
        self.created = 0

    def edit(self, round_: int, seed: int, eligible: set[str]) -> dict[str, int]:
        rng = random.Random(seed * 1000 + round_)
        box, erp = self.box, self.box.erp_store
        for _ in range(NEW_PER_ROUND):
            self.created += 1
            erp.add(
                "product.product",
                name=f"New article {self.created}",
                default_code=f"NEW-{self.created:05d}",
                list_price=float(10 + self.created % 50),
            )
        plain = [sku for sku in sorted(erp.by_code) if self._plain(sku)]
        for sku in rng.sample(plain, min(PRICE_EDITS_PER_ROUND, len(plain))):
            price = box.erp_price(sku) + Decimal("1.25")
            box.set_erp_price(sku, price.quantize(Decimal("0.01")))
        # Shop-side edits land on articles never edited there before (two different edits of
        # the same field, one copied but not committed when a kill came, are a genuine
        # conflict) and whose match is committed (``eligible``: with no base, a value changed
        # in the shop cannot be told from the ERP's, see docs/reliability.md).
        in_shop = [
            sku
            for sku in plain
            if sku in eligible
            and sku not in self.described
            and box.shop_store.product_by_sku(sku) is not None
        ]
        for sku in rng.sample(in_shop, min(SHOP_EDITS_PER_ROUND, len(in_shop))):
            box.set_shop_description(sku, f"Edited in the shop, round {round_}")
            self.described.add(sku)
        return {"created": NEW_PER_ROUND, "articles": len(erp.by_code)}

    def _plain(self, sku: str) -> bool:
        template = self.box._template(self.box.erp_store.product_id(sku))
        return len(template["product_variant_ids"]) == 1


def shop_skus(box: Sandbox) -> dict[str, int]:
    store = box.shop_store
    counts: Counter[str] = Counter()
    for item in (*store.products.values(), *store.variations.values()):
        if item.sku:
            counts[item.sku] += 1
    return dict(counts)


def control_app(box: Sandbox, switch: KillSwitch) -> web.Application:
    editor = Editor(box)
    app = web.Application()

    async def arm(request: web.Request) -> web.Response:
        switch.set(msgspec.json.decode(await request.read(), type=Arm))
        return web.json_response({"armed": True})

    async def fired(request: web.Request) -> web.Response:
        return web.json_response(
            {"fired": switch.fired, "armed": switch.arm is not None, "seen": switch.seen}
        )

    async def disarm(request: web.Request) -> web.Response:
        switch.arm = None
        return web.json_response({"armed": False})

    async def edit(request: web.Request) -> web.Response:
        body = await request.json()
        eligible = set(body.get("eligible", ()))
        return web.json_response(editor.edit(int(body["round"]), int(body["seed"]), eligible))

    async def skus(request: web.Request) -> web.Response:
        return web.json_response(shop_skus(box))

    async def order(request: web.Request) -> web.Response:
        body = await request.json()
        sku, shop = str(body["sku"]), box.shop_store
        if shop.product_by_sku(sku) is None:  # the shop sells what the ERP holds
            shop.add_product(sku=sku, name=f"Article {sku}", regular_price="10.00")
        placed = shop.add_order(
            [(sku, int(body["quantity"]))],
            status="processing",
            billing={"first_name": "Buyer", "country": "FR", "email": str(body["email"])},
        )
        return web.json_response({"id": placed.id, "number": str(placed.number)})

    app.router.add_post("/arm", arm)
    app.router.add_get("/fired", fired)
    app.router.add_post("/disarm", disarm)
    app.router.add_post("/edit", edit)
    app.router.add_get("/skus", skus)

    async def sale_orders(request: web.Request) -> web.Response:
        erp = box.erp_store
        counts: Counter[str] = Counter()
        for rid in erp.find("sale.order", []):
            row = erp.get("sale.order", rid, "client_order_ref", "state")
            counts[f"{row['client_order_ref']} {row['state']}"] += 1
        return web.json_response(dict(counts))

    app.router.add_post("/order", order)
    app.router.add_get("/sale-orders", sale_orders)
    return app


async def serve_platforms(products: int, seed: int, latency: float) -> None:
    switch = KillSwitch()
    faults = simkit.Faults(latency=latency)
    erp_app = odoo.create_app(products=products, seed=seed, api_key=os.environ["TEST_ODOO_KEY"])
    shop_app = woo.create_app(
        consumer_key=os.environ["TEST_WC_KEY"], consumer_secret=os.environ["TEST_WC_SECRET"]
    )
    for app in (erp_app, shop_app):
        simkit.set_faults(app, faults)
        app.middlewares.insert(0, switch.middleware)
    box = Sandbox(erp_app=erp_app, shop_app=shop_app, settings={"erp": {}, "shop": {}})
    async with (
        simkit.serve(erp_app) as erp_url,
        simkit.serve(shop_app) as shop_url,
        simkit.serve(control_app(box, switch)) as control_url,
    ):
        line = {"erp": erp_url, "shop": shop_url, "control": control_url}
        print(msgspec.json.encode(line).decode(), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    asyncio.run(serve_platforms(args.products, args.seed, args.latency))


if __name__ == "__main__":
    main()
