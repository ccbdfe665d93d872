"""Order import survives SIGKILL at seeded random points: every web order in the ERP once.

``tests/acceptance/test_orders_kill.py`` kills the import at each named checkpoint of
``engine/orders/faults.py``. This test kills it from outside instead, wherever it happens to be:
the simulators run in their own process (``platforms.py``), and its kill switch SIGKILLs the
``python -m engine.orders.worker`` process when its n-th request reaches the ERP or the shop,
before or after that request is handled (n, the phase and a delay drawn from a seeded
generator). Before each run the shop takes new paid orders. Afterwards a run without kill
finishes the work: every order is in the ERP exactly once, confirmed, and no intent is pending.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from reliability_support import SECRETS, control, platforms_process, worker_env

from engine.store.orders import OrderStore
from engine.store.state import Store

KILLS = 20
ORDERS_PER_RUN = 3
SEED = 91
SKUS = ("SKU-000002", "SKU-000003", "SKU-000004", "SKU-000005")
CONFIG = """
[database]
url_env = "CONCORD_DATABASE_URL"

[connections.main.erp]
type = "odoo"
url = "{erp}"
database = "odoo"
api_key_env = "TEST_ODOO_KEY"
requests_per_second = 1000

[connections.main.shop]
type = "woocommerce"
url = "{shop}"
consumer_key_env = "TEST_WC_KEY"
consumer_secret_env = "TEST_WC_SECRET"
requests_per_second = 1000
overlap_seconds = 5

[connections.main.orders]
taxes = {{ FR = "VAT 20%" }}
"""


async def import_orders(workdir: Path, db_url: str) -> asyncio.subprocess.Process:
    with (workdir / "orders.log").open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.orders.worker",
            "--config",
            "concord.toml",
            "--job",
            "import",
            cwd=workdir,
            env=worker_env(db_url),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )


@pytest.mark.slow
async def test_order_import_survives_twenty_kills_at_random_points(
    tmp_path: Path, db_url: str, store: Store, record_property: Any
) -> None:
    rng = random.Random(SEED)
    fired: list[str] = []
    placed: list[str] = []
    async with (
        platforms_process(products=20, seed=1, log=tmp_path / "sim.log") as platforms,
        aiohttp.ClientSession() as session,
    ):
        (tmp_path / "concord.toml").write_text(
            CONFIG.format(erp=platforms.erp, shop=platforms.shop)
        )
        runs = 0
        while len(fired) < KILLS:
            runs += 1
            assert runs <= 2 * KILLS, f"only {len(fired)} kills in {runs} runs"
            for _ in range(ORDERS_PER_RUN):
                n = len(placed)
                order = await control(
                    session, platforms, "POST", "/order", sku=SKUS[n % len(SKUS)],
                    quantity=1 + n % 3, email=f"buyer{n % 4}@example.com",
                )  # fmt: skip
                placed.append(order["number"])
            worker = await import_orders(tmp_path, db_url)
            await control(
                session, platforms, "POST", "/arm", pid=worker.pid, after=rng.randint(1, 14),
                phase=rng.choice(("before", "after")), delay=rng.choice((0.0, 0.01)),
            )  # fmt: skip
            code = await asyncio.wait_for(worker.wait(), timeout=60)
            state = await control(session, platforms, "GET", "/fired")
            await control(session, platforms, "POST", "/disarm")
            if code == -signal.SIGKILL:
                fired.append(str(state["fired"]))
            else:  # the run ended before its n-th request: fine, the next one is killed
                assert code == 0, (tmp_path / "orders.log").read_text()[-3000:]

        final = await import_orders(tmp_path, db_url)
        assert await asyncio.wait_for(final.wait(), timeout=60) == 0
        in_erp = await control(session, platforms, "GET", "/sale-orders")

    record_property("kills", fired)
    output = (tmp_path / "orders.log").read_text()
    assert all(secret not in output for secret in SECRETS.values())
    assert len(fired) == KILLS
    assert len(placed) >= KILLS * ORDERS_PER_RUN
    # Every order once, confirmed: "<number> sale" -> 1; the ERP's own seeded orders aside.
    web = {ref: n for ref, n in in_erp.items() if ref.split()[0].isdigit()}
    assert web == {f"{number} sale": 1 for number in placed}
    orders = OrderStore(store)
    assert await orders.pending("main") == []
    assert await orders.counts("main") == {"done": len(placed)}
    assert await store.list_dead_letters("main") == []
