"""Exactly once, proved by killing: the order import is SIGKILLed at 22 points and restarted.

The Odoo and WooCommerce simulators run in processes of their own, so what they hold survives
every kill. Each worker run is ``python -m engine.orders.worker`` with the documented
fault-injection switch ``CONCORD_CRASH_AT=<checkpoint>:<n>`` (see engine/orders/faults.py),
which SIGKILLs the worker the n-th time it passes that checkpoint: between the intent and the
ERP create, between the ERP create and the commit, during recovery, around the run's commit.
Before each run the shop takes new paid orders, so every run has work to die in. Afterwards
every shop order exists exactly once in the ERP and no intent is left pending. The feedback
run is killed right after a customer note reached the shop: the buyer still gets it once.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from engine.store.orders import OrderStore
from engine.store.state import Store

SKUS = ("SKU-000002", "SKU-000003", "SKU-000004", "SKU-000005")
KILLS: list[tuple[str, int]] = [
    *(
        (point, n)
        for n in (1, 2)
        for point in (
            "before_intent",
            "after_intent",
            "after_lookup",
            "after_create",
            "after_confirm",
            "after_done",
        )
    ),
    ("run_start", 1),
    ("recovered", 1),
    ("before_commit", 1),
    ("after_commit", 1),
    ("after_create", 3),
    ("after_lookup", 3),
    ("after_intent", 3),
    ("after_done", 3),
    ("after_create", 1),
    ("after_create", 2),
]
ORDERS_PER_RUN = 3
STARTUP = 30.0


@asynccontextmanager
async def simulator(platform: str, *args: str, pattern: str) -> AsyncIterator[str]:
    """``concord simulate PLATFORM`` in a process of its own; yields the URL it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        "-m",
        "engine.cli.main",
        "simulate",
        platform,
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(STARTUP):
            while True:
                line = (await process.stdout.readline()).decode()
                assert line, f"the {platform} simulator exited before listening"
                found = re.search(pattern, line)
                if found:
                    break
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()


class Shop:
    """The WooCommerce simulator through its REST API."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        token = base64.b64encode(b"ck_test:cs_test").decode()
        self.headers = {"Authorization": f"Basic {token}"}
        self.placed: list[str] = []

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(f"{self.url}{path}", json=body, headers=self.headers) as reply:
            assert reply.status in (200, 201), await reply.text()
            answer: dict[str, Any] = await reply.json()
            return answer

    async def place_order(self, n: int) -> None:
        order = await self.post(
            "/orders",
            {
                "set_paid": True,
                "payment_method": "bacs",
                "payment_method_title": "Bank transfer",
                "billing": {
                    "first_name": f"Buyer{n % 4}",
                    "country": "FR",
                    "email": f"buyer{n % 4}@example.com",
                },
                "line_items": [{"sku": SKUS[n % len(SKUS)], "quantity": 1 + n % 3}],
                "shipping_lines": [{"method_title": "Colissimo", "total": "4.90"}],
            },
        )
        assert order["status"] == "processing"
        self.placed.append(str(order["number"]))


async def erp_web_orders(session: aiohttp.ClientSession, url: str) -> Counter[tuple[str, str]]:
    """How many sale orders carry each (shop reference, state), read straight from Odoo."""
    async with session.post(
        f"{url}/json/2/sale.order/search_read",
        json={
            "domain": [["client_order_ref", "=like", "WC-%"]],
            "fields": ["client_order_ref", "state"],
        },
        headers={"Authorization": "bearer odoo-test-key"},
    ) as reply:
        rows = await reply.json()
    return Counter((str(row["client_order_ref"]), str(row["state"])) for row in rows)


async def erp_buyers(session: aiohttp.ClientSession, url: str) -> Counter[str]:
    """How many customers Odoo holds per buyer e-mail."""
    async with session.post(
        f"{url}/json/2/res.partner/search_read",
        json={"domain": [["email", "=like", "buyer%"]], "fields": ["email"]},
        headers={"Authorization": "bearer odoo-test-key"},
    ) as reply:
        rows = await reply.json()
    return Counter(str(row["email"]) for row in rows)


async def worker(workdir: Path, db_url: str, crash: str | None, *job: str) -> tuple[int, str]:
    env = {**os.environ, "CONCORD_DATABASE_URL": db_url, "ODOO_KEY": "odoo-test-key"}
    env.pop("CONCORD_CRASH_AT", None)
    if crash:
        env["CONCORD_CRASH_AT"] = crash
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.orders.worker",
        "--config",
        "concord.toml",
        *job,
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def write_config(workdir: Path, erp_url: str, shop_url: str) -> None:
    (workdir / "ck").write_text("ck_test")
    (workdir / "cs").write_text("cs_test")
    (workdir / "concord.toml").write_text(
        f"""
[database]
url_env = "CONCORD_DATABASE_URL"

[connections.main.erp]
type = "odoo"
url = "{erp_url}"
database = "odoo"
api_key_env = "ODOO_KEY"
requests_per_second = 1000

[connections.main.shop]
type = "woocommerce"
url = "{shop_url}"
consumer_key_file = "ck"
consumer_secret_file = "cs"
requests_per_second = 1000
overlap_seconds = 5

[connections.main.orders]
reference_prefix = "WC-"
taxes = {{ FR = "VAT 20%" }}
shipping_sku = "SHIP"
"""
    )


@asynccontextmanager
async def platforms(workdir: Path) -> AsyncIterator[tuple[str, aiohttp.ClientSession, Shop]]:
    """Both simulators in processes of their own, the shop selling ``SKUS``, the worker's
    configuration written; yields the ERP's URL, an HTTP session and the shop."""
    async with (
        simulator("odoo", "--products", "20", "--seed", "1", pattern=r"listening on (\S+)") as erp,
        simulator("woocommerce", "--products", "0", pattern=r"simulator: (\S+)/wp-json") as web,
        aiohttp.ClientSession() as session,
    ):
        shop = Shop(session, f"{web}/wp-json/wc/v3")
        # Odoo books shipping on an article of its own: the service the config names.
        async with session.post(
            f"{erp}/json/2/product.product/create",
            json={"vals_list": [{"default_code": "SHIP", "name": "Shipping", "type": "service"}]},
            headers={"Authorization": "bearer odoo-test-key"},
        ) as reply:
            assert reply.status == 200, await reply.text()
        for sku in SKUS:
            await shop.post("/products", {"sku": sku, "name": sku, "regular_price": "10.00"})
        write_config(workdir, erp, web)
        yield erp, session, shop


async def test_every_order_is_imported_exactly_once_whatever_the_kills(
    tmp_path: Path, db_url: str, store: Store
) -> None:
    async with platforms(tmp_path) as (erp, session, shop):
        placed = 0
        for point, n in KILLS:
            for _ in range(ORDERS_PER_RUN):
                await shop.place_order(placed)
                placed += 1
            code, out = await worker(tmp_path, db_url, f"{point}:{n}")
            assert code == -signal.SIGKILL, f"{point}:{n} was never reached: {out}"
            assert f"killed at {point}:{n}" in out

        code, out = await worker(tmp_path, db_url, None)
        assert code == 0, out
        counts = msgspec.json.decode(out.strip().splitlines()[-1])
        assert counts.get("held", 0) == 0, counts

        in_erp = await erp_web_orders(session, erp)
        buyers = await erp_buyers(session, erp)
    expected = {f"WC-{number}" for number in shop.placed}
    assert len(expected) == len(KILLS) * ORDERS_PER_RUN
    assert {ref for ref, _ in in_erp} == expected
    assert [key for key, count in in_erp.items() if count != 1] == []
    assert {state for _, state in in_erp} == {"sale"}  # a draft left by a kill was confirmed
    assert buyers == {f"buyer{n}@example.com": 1 for n in range(4)}
    orders = OrderStore(store)
    assert await orders.pending("main") == []
    assert await orders.counts("main") == {"done": len(expected)}


async def odoo(
    session: aiohttp.ClientSession, url: str, model: str, method: str, **body: Any
) -> Any:
    async with session.post(
        f"{url}/json/2/{model}/{method}",
        json=body,
        headers={"Authorization": "bearer odoo-test-key"},
    ) as reply:
        assert reply.status == 200, await reply.text()
        return await reply.json()


async def test_a_killed_feedback_run_never_mails_a_customer_note_twice(
    tmp_path: Path, db_url: str, store: Store
) -> None:
    async with platforms(tmp_path) as (erp, session, shop):
        for n in range(4):
            await shop.place_order(n)
        code, out = await worker(tmp_path, db_url, None)
        assert code == 0, out
        orders = await odoo(
            session,
            erp,
            "sale.order",
            "search_read",
            domain=[["client_order_ref", "=like", "WC-%"]],
            fields=["id"],
        )
        pickings = await odoo(
            session,
            erp,
            "stock.picking",
            "search",
            domain=[["sale_id", "in", [o["id"] for o in orders]]],
        )
        await odoo(
            session,
            erp,
            "stock.picking",
            "write",
            ids=pickings,
            vals={"state": "done", "carrier_tracking_ref": "6A0001"},
        )
        for _ in range(3):  # each run killed right after its first note reached the shop
            code, out = await worker(tmp_path, db_url, "after_note:1", "--job", "feedback")
            assert code == -signal.SIGKILL, out
        code, out = await worker(tmp_path, db_url, None, "--job", "feedback")
        assert code == 0, out
        noted: dict[str, list[str]] = {}
        for number in shop.placed:
            async with session.get(
                f"{shop.url}/orders/{number}/notes", headers=shop.headers
            ) as reply:
                noted[number] = [n["note"] for n in await reply.json() if n["customer_note"]]
    assert {number: len(texts) for number, texts in noted.items()} == dict.fromkeys(shop.placed, 1)
    assert all("6A0001" in texts[0] for texts in noted.values())
    counts = msgspec.json.decode(out.strip().splitlines()[-1])
    assert counts["notes_found_in_shop"] == 3 and counts["notes"] == 1
