"""Product export survives SIGKILL anywhere: 20 kills at seeded random points, then quiet.

The catalogue has products with variants, and the job synchronises every field both platforms
carry (no field list), with a stock job beside it.

The Odoo and WooCommerce simulators run in a process of their own (``platforms.py``), so what
they hold survives every kill. Each round makes seeded edits on both sides (new ERP articles,
ERP price changes, shop description changes), starts a ``concord run`` worker against the test's
database, and arms the platforms' kill switch: the worker is SIGKILLed when its n-th request
reaches a simulator, before that request is handled or after (the write done, its answer not
yet read) plus a few milliseconds — n, the phase and the delay drawn from a seeded generator.
A new worker takes the job over once the dead one's lease expires. After the last kill a worker
runs until a run writes nothing, then stops on SIGTERM.

Then: every ERP article is in the shop once (no SKU twice), both sides agree on every synced
field, no conflict and no dead letter exist (the edits never touch a field on both sides, so any
conflict would be one invented by a crash), and no claim overlapped another.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from platforms import NEW_PER_ROUND
from reliability_support import (
    SECRETS,
    control,
    fetch,
    field_differences,
    platforms_process,
    read_side,
    start_worker,
    wait_for,
    write_config,
)

from canonical.models import Product
from engine.config import load_config
from engine.cycle.carried import compared_fields
from engine.runtime import open_adapters

KILLS = 20
SEED = 20261128
PRODUCTS = 120


@pytest.mark.slow
async def test_product_export_survives_twenty_kills_at_random_points(
    tmp_path: Path, db_url: str, record_property: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)  # the test reads both sides with the worker's config
    rng = random.Random(SEED)
    fired: list[str] = []
    async with (
        platforms_process(
            products=PRODUCTS, seed=3, latency=0.005, log=tmp_path / "sim.log"
        ) as platforms,
        aiohttp.ClientSession() as session,
    ):
        config = write_config(tmp_path, platforms, fields=None, stock=True)
        log = tmp_path / "workers.log"
        for round_ in range(KILLS):
            based = await fetch(db_url, "select key from concord_base where kind = 'product'")
            await control(
                session, platforms, "POST", "/edit", round=round_, seed=SEED,
                eligible=[row["key"] for row in based],
            )  # fmt: skip
            worker = await start_worker(config, db_url, log)
            # Two rounds in three die on a write to the shop (the export proper), the others
            # anywhere in the run (its reads too). Every round's run writes to the shop at
            # least once (the new articles, in one batch); the first run exports everything.
            exports_only = rng.random() < 2 / 3
            if exports_only:
                after = rng.randint(1, 12) if round_ == 0 else 1
            else:
                after = rng.randint(1, 60 if round_ == 0 else 14)
            phase = rng.choice(("before", "after", "after"))
            delay = rng.choice((0.0, rng.uniform(0.0, 0.05)))
            await control(
                session, platforms, "POST", "/arm", pid=worker.pid, after=after, phase=phase,
                delay=delay, exports_only=exports_only,
            )  # fmt: skip
            try:
                code = await asyncio.wait_for(worker.wait(), timeout=30)
            except TimeoutError:
                code = None
            state = await control(session, platforms, "GET", "/fired")
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
            assert code == -signal.SIGKILL, (round_, state, log.read_text()[-3000:])
            fired.append(str(state["fired"]))

        # No more kills, no more edits: run until a run writes nothing.
        await control(session, platforms, "POST", "/disarm")
        (mark,) = await fetch(db_url, "select coalesce(max(id), 0) as id from concord_run")
        worker = await start_worker(config, db_url, log)
        try:

            async def quiet() -> bool:
                rows = await fetch(
                    db_url,
                    "select counts from concord_run where id > $1 and job = 'products'"
                    " and status = 'ok'",
                    mark["id"],
                )
                counts = [msgspec.json.decode(row["counts"]) for row in rows]
                return any(not c.get("writes_erp") and not c.get("writes_shop") for c in counts)

            async def stock_settled() -> bool:
                rows = await fetch(
                    db_url,
                    "select counts from concord_run where id > $1 and job = 'stock'"
                    " and status = 'ok' order by id desc limit 1",
                    mark["id"],
                )
                return bool(rows)

            await wait_for(quiet, within=90)
            await wait_for(stock_settled, within=60)
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.wait(), timeout=30) == 0
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

        skus = await control(session, platforms, "GET", "/skus")
        async with open_adapters(load_config(config), "main") as adapters:
            erp = await read_side(adapters["erp"], "product")
            shop = await read_side(adapters["shop"], "product")
            carried = compared_fields("product", adapters)
        stock_runs = await fetch(
            db_url,
            "select counts from concord_run where id > $1 and job = 'stock' and status = 'ok'",
            mark["id"],
        )

    record_property("kills", fired)
    worker_lines = log.read_text()
    assert "concord.cycle" in worker_lines  # -v: every run's outcome was logged
    assert all(secret not in worker_lines for secret in SECRETS.values())
    assert len(fired) == KILLS and all(f != "None" for f in fired), fired
    # Nothing lost: every ERP article (the new ones too) is in the shop, agreeing on every field.
    assert sum(key.startswith("NEW-") for key in erp) == KILLS * NEW_PER_ROUND
    assert len(erp) > PRODUCTS // 2 + KILLS * NEW_PER_ROUND
    assert field_differences(erp, shop, carried) == {}
    # Every variation is there: a product interrupted between its creation and its
    # variations' is completed, never taken as done.
    variable = {k: r for k, r in erp.items() if isinstance(r, Product) and r.variants}
    assert len(variable) >= 5
    for key, product in variable.items():
        held = shop[key]
        assert isinstance(held, Product)
        assert sorted(v.sku for v in held.variants) == sorted(v.sku for v in product.variants)
    # The stock job finds every article in the shop: nothing failed once the export settled.
    last_stock = msgspec.json.decode(stock_runs[-1]["counts"])
    assert not last_stock.get("failed_shop") and not last_stock.get("failed_erp"), last_stock
    # Nothing twice: no SKU held by two shop products or variations.
    assert {sku: n for sku, n in skus.items() if n > 1} == {}
    # No conflict invented, nothing parked.
    assert await fetch(db_url, "select key, field, reason from concord_conflict") == []
    assert (
        await fetch(
            db_url, "select key, side, reason from concord_dead_letter where status = 'open'"
        )
        == []
    )
    claims = await fetch(
        db_url,
        "select id, outcome, claimed_at, finished_at, renewed_until from concord_claim"
        " where job = 'products' order by id",
    )
    assert sum(c["outcome"] == "expired" for c in claims) >= KILLS // 2
    for before, after in itertools.pairwise(claims):
        ended = before["renewed_until"] if before["outcome"] == "expired" else before["finished_at"]
        assert ended is not None and after["claimed_at"] >= ended, (before, after)
