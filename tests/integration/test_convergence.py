"""Convergence: after a successful cycle, the next one writes nothing and reports no drift.

Odoo simulator <-> WooCommerce simulator over real HTTP, real PostgreSQL as state, with the
README's default rules (no field list): every field both adapters expose takes part, and a
field one of them cannot carry must not read as a change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Side
from adapters.odoo.adapter import OdooAdapter
from adapters.odoo.adapter import create as create_odoo
from adapters.odoo.simulator import create_app as create_odoo_app
from adapters.odoo.simulator import store_of as odoo_store_of
from adapters.odoo.store import OdooStore
from adapters.simkit import serve
from adapters.woocommerce import WooCommerceAdapter
from adapters.woocommerce.settings import AdapterSettings
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app as create_shop_app
from adapters.woocommerce.simulator import store_of as shop_store_of
from engine.config import ConnectionConfig, JobConfig, parse_config
from engine.cycle import CycleResult, run_cycle
from engine.store import Store

README_RULES = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "erp" }
fields.description = { owner = "both", policy = "manual" }
create_in_shop = true
when_erp_lost = "archive"
when_shop_lost = "report"

[connections.main.rules.stock]
default = { owner = "both", policy = "merge-delta" }
"""


@dataclass
class Pair:
    erp: OdooAdapter
    shop: WooCommerceAdapter
    odoo: OdooStore
    sim: ShopStore
    connection: ConnectionConfig

    def adapters(self) -> dict[Side, Any]:
        return {"erp": self.erp, "shop": self.shop}

    async def cycle(self, store: Store, kind: str, *, full: bool = True) -> CycleResult:
        return await run_cycle(
            store,
            connection="main",
            job_name=kind,
            job=JobConfig(kind=kind),
            rules=self.connection.rules[kind],
            adapters=self.adapters(),
            full=full,
            transforms=self.connection.transforms,
        )


async def open_pair(tmp_path: Path, config: str, *, products: int = 0) -> AsyncIterator[Pair]:
    """The two simulators (the Odoo one seeded with ``products`` articles) and their adapters."""
    odoo_app = create_odoo_app(products=products)
    shop_app = create_shop_app(products=0)
    (tmp_path / "odoo_key").write_text("odoo-test-key")
    async with serve(odoo_app) as odoo_url, serve(shop_app) as shop_url:
        erp = create_odoo(
            {
                "url": odoo_url,
                "database": "odoo",
                "api_key_file": str(tmp_path / "odoo_key"),
                "requests_per_second": 1000,
                "overlap_seconds": 0,
            },
            source="test.toml",
        )
        shop = WooCommerceAdapter(
            AdapterSettings(
                url=shop_url,
                consumer_key="ck_test",
                consumer_secret="cs_test",
                requests_per_second=1000.0,
                max_concurrency=8,
            )
        )
        connection = parse_config(config, source="test.toml").connections["main"]
        try:
            yield Pair(erp, shop, odoo_store_of(odoo_app), shop_store_of(shop_app), connection)
        finally:
            await shop.aclose()
            await erp.aclose()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, README_RULES):
        yield opened


def _tax(odoo: OdooStore, name: str) -> int:
    [found] = odoo.find("account.tax", [["name", "=", name]])
    return found


def writes(result: CycleResult) -> dict[str, int]:
    """What a cycle wrote or would have, and what it found wrong."""
    counts = result.counts
    return {
        name: counts.get(name, 0)
        for name in ("writes_erp", "writes_shop", "drift", "failed_erp", "failed_shop")
    }


IDLE = {"writes_erp": 0, "writes_shop": 0, "drift": 0, "failed_erp": 0, "failed_shop": 0}


async def test_cost_and_erp_tax_codes_never_read_as_shop_changes(pair: Pair, store: Store) -> None:
    # WooCommerce has no cost price, and keeps tax classes rather than the ERP's tax codes:
    # without a taxes transform neither can be read back as written.
    for n in range(1, 6):
        pair.odoo.add(
            "product.template",
            name=f"Mug {n}",
            default_code=f"MUG-{n}",
            list_price=9.9 + n,
            standard_price=4.25 + n,
            taxes_id=[_tax(pair.odoo, "VAT 20%")],
        )

    first = await pair.cycle(store, "product")
    assert first.failures == [] and first.rejected == []
    assert first.counts["created_shop"] == 5

    again = await pair.cycle(store, "product")
    assert writes(again) == IDLE
    since = await pair.cycle(store, "product", full=False)
    assert writes(since) == IDLE
    # The ERP's cost is untouched, and was never sent to the shop.
    costs = {
        row["default_code"]: row["standard_price"]
        for rid in pair.odoo.find("product.product", [["default_code", "like", "MUG-"]])
        if (row := pair.odoo.get("product.product", rid, "default_code", "standard_price"))
    }
    assert costs == {f"MUG-{n}": pytest.approx(4.25 + n) for n in range(1, 6)}
