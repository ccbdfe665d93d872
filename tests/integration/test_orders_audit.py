"""The order audit finds what is missing on either side, as the CLI and the status show it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from test_orders_sides import CONFIG, FRANCE, Sides, place, sale_orders, sides

from adapters.odoo.simulator.dispatch import call
from engine.orders.audit import run_audit
from engine.orders.importer import run_orders
from engine.store.orders import OrderStore
from engine.store.state import Store

__all__ = ["sides"]  # the fixture, shared


async def concord(*args: str, cwd: Path, db_url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        "--config",
        "concord.toml",
        *args,
        cwd=cwd,
        env={**os.environ, "CONCORD_DATABASE_URL": db_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def write_config(tmp_path: Path, sides: Sides) -> None:
    (tmp_path / "concord.toml").write_text(
        f"""
[database]
url_env = "CONCORD_DATABASE_URL"

[connections.main.erp]
type = "odoo"
url = "{sides.erp_url}"
database = "odoo"
api_key_file = "{tmp_path / "odoo"}"

[connections.main.shop]
type = "woocommerce"
url = "{sides.shop_url}"
consumer_key_file = "{tmp_path / "ck"}"
consumer_secret_file = "{tmp_path / "cs"}"

[connections.main.orders]
taxes = {{ FR = "VAT 20%" }}
"""
    )


async def test_the_audit_finds_an_order_deleted_from_the_erp_behind_its_back(
    store: Store, sides: Sides, tmp_path: Path, db_url: str
) -> None:
    kept, deleted = (str(place(sides.shop, [("SKU-000002", 1)])) for _ in range(2))
    held = str(
        place(
            sides.shop,
            [("SKU-000003", 1)],
            billing={**FRANCE, "country": "JP", "email": "jp@example.com"},
        )
    )
    await run_orders(store, connection="main", adapters=sides.adapters, config=CONFIG, full=False)
    erp = sides.erp
    doomed = sale_orders(erp, deleted)[0]["id"]
    call(erp, "sale.order", "action_cancel", [doomed], {}, {})
    erp.unlink("sale.order", [doomed])
    partner = sale_orders(erp, kept)[0]["partner_id"][0]
    erp.add("sale.order", partner_id=partner, client_order_ref="999999")
    erp.add("sale.order", partner_id=partner, client_order_ref=kept)

    report = await run_audit(store, connection="main", adapters=sides.adapters, config=CONFIG)

    found = {(f.problem, f.key): f.detail for f in report.findings}
    assert "no longer has" in found[("missing_in_erp", deleted)]
    assert "held" in found[("missing_in_erp", held)] and "'JP'" in found[("missing_in_erp", held)]
    assert "999999" in found[("unknown_in_shop", "999999")]
    assert ("duplicate_in_erp", kept) in found
    assert ("missing_in_erp", kept) not in found
    # The seeded ERP also holds orders from another shop ("WEB-1000"...): no prefix, so found.
    assert report.counts["missing_in_erp"] == 2 and report.counts["duplicate_in_erp"] == 1
    assert {f.key for f in await OrderStore(store).findings("main")} >= {deleted, held, "999999"}

    for name, secret in (("odoo", "odoo-test-key"), ("ck", "ck_test"), ("cs", "cs_test")):
        (tmp_path / name).write_text(secret)
    write_config(tmp_path, sides)
    code, out = await concord("audit", "orders", cwd=tmp_path, db_url=db_url)
    assert code == 1, out
    assert f"missing_in_erp: shop order {deleted} " in out and "unknown_in_shop" in out
    code, out = await concord("status", cwd=tmp_path, db_url=db_url)
    assert code == 0, out
    assert "missing_in_erp 2" in out, out
