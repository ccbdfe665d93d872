"""Every held order is shown with its reason, and counted per reason: CLI, JSON, status page."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import msgspec
from test_orders import run
from test_orders_sides import FRANCE, Sides, place, sides

from engine.store.state import Store
from web.context import Nav
from web.review_store import ReviewStore
from web.status_view import status_context
from web.templating import render_file

__all__ = ["sides"]  # the fixture, shared

CONFIG = """
[database]
data_dir = "state"

[connections.main.erp]
type = "memory"

[connections.main.shop]
type = "memory"
"""


async def concord(*args: str, cwd: Path, db_url: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        *args,
        cwd=cwd,
        env={**os.environ, "CONCORD_DATABASE_URL": db_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_every_held_order_is_listed_with_its_reason_and_counted_per_reason(
    store: Store, db_url: str, sides: Sides, tmp_path: Path
) -> None:
    abroad = [
        str(place(sides.shop, [("SKU-000002", 1)], billing={**FRANCE, "country": "US"}))
        for _ in range(23)
    ]
    sides.shop.add_product(sku="WEB-ONLY", name="Not in the ERP", regular_price="3.00")
    unknown = [str(place(sides.shop, [("WEB-ONLY", 1)])) for _ in range(2)]
    result = await run(store, sides)
    assert result.counts["held"] == 25
    (tmp_path / "concord.toml").write_text(CONFIG)

    answer = msgspec.json.decode(await concord("status", "--json", cwd=tmp_path, db_url=db_url))

    held = answer["held_orders"]
    assert held["count"] == 25 and len(held["orders"]) == 25
    assert {o["number"] for o in held["orders"]} == set(abroad + unknown)
    assert held["by_reason"] == {
        "no tax mapping for destination country '…' (add it to taxes in the connection's "
        "[orders] table)": 23,
        "the ERP refused it: no Odoo product with internal reference '…'": 2,
    }
    reasons = {o["number"]: o["reason"] for o in held["orders"]}
    assert "'US'" in reasons[abroad[-1]] and "'WEB-ONLY'" in reasons[unknown[0]]
    assert len(answer["dead_letters"]) == 25

    text = await concord("status", cwd=tmp_path, db_url=db_url)
    assert "held orders: 25" in text and "   23 x no tax mapping" in text
    assert all(f"held order main/{number} " in text for number in abroad + unknown)

    letters = await ReviewStore(store).dead_letters(limit=None)
    context = status_context(
        jobs={},
        last_runs=[],
        runs=[],
        letters=letters,
        events=[],
        nav=Nav(here="/status", user="ops", csrf="x"),
        notices=[],
    )
    page = render_file("status.html", {**context, "nonce": "n"})
    assert "25 held" in page and "<td>23</td>" in page and "<td>2</td>" in page
    assert all(f"<td>{number}<div" in page for number in abroad + unknown)
