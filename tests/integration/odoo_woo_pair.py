"""The Odoo simulator and the WooCommerce simulator, each behind its real adapter over HTTP, as
one connection's two sides for end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convergence_law import IDLE, writes

from adapters.base import Side
from adapters.odoo.adapter import OdooAdapter
from adapters.odoo.adapter import create as create_odoo
from adapters.odoo.simulator.app import create_app as create_odoo_app
from adapters.odoo.simulator.app import store_of as odoo_store_of
from adapters.odoo.simulator.store import OdooStore
from adapters.simkit import serve
from adapters.woocommerce import WooCommerceAdapter
from adapters.woocommerce.settings import AdapterSettings
from adapters.woocommerce.simulator import create_app as create_shop_app
from adapters.woocommerce.simulator import store_of as shop_store_of
from engine.config import ConnectionConfig, JobConfig, parse_config
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store


@dataclass
class Pair:
    """The ERP and shop adapters, the simulators' stores behind them (the shop's: WooCommerce's
    or Shopify's) and the connection's configuration."""

    erp: OdooAdapter
    shop: Any
    odoo: OdooStore
    sim: Any
    connection: ConnectionConfig

    def adapters(self) -> dict[Side, Any]:
        return {"erp": self.erp, "shop": self.shop}

    async def cycle(self, store: Store, kind: str, *, full: bool = True) -> CycleResult:
        return await run_cycle(
            store,
            connection="main",
            job_name=kind,
            job=JobConfig(kind=kind),
            rules=self.connection.rules_for(kind),
            adapters=self.adapters(),
            full=full,
            transforms=self.connection.transforms,
        )

    async def assert_settled(self, store: Store, kind: str) -> None:
        """The next full and incremental cycles of ``kind`` write nothing and find no drift."""
        for full in (True, False):
            again = await self.cycle(store, kind, full=full)
            assert writes(again) == IDLE, (kind, full, again.operations)


def shop_adapter(url: str) -> WooCommerceAdapter:
    """A WooCommerce adapter for the simulator at ``url``."""
    return WooCommerceAdapter(
        AdapterSettings(
            url=url,
            consumer_key="ck_test",
            consumer_secret="cs_test",
            requests_per_second=1000.0,
            max_concurrency=8,
        )
    )


def erp_adapter(url: str, tmp_path: Path) -> OdooAdapter:
    """An Odoo adapter for the simulator at ``url``, its key in a file under ``tmp_path``."""
    (tmp_path / "odoo_key").write_text("odoo-test-key")
    return create_odoo(
        {
            "url": url,
            "database": "odoo",
            "api_key_file": str(tmp_path / "odoo_key"),
            "requests_per_second": 1000,
            "overlap_seconds": 0,
        },
        source="test.toml",
    )


async def open_pair(
    tmp_path: Path, config: str, *, products: int = 0, varied: bool = False
) -> AsyncIterator[Pair]:
    """The two simulators (the Odoo one seeded with ``products`` articles, ``varied`` as
    :func:`adapters.odoo.simulator.seed.seed_catalogue` says) and their adapters."""
    odoo_app = create_odoo_app(products=products, varied=varied)
    shop_app = create_shop_app(products=0)
    async with serve(odoo_app) as odoo_url, serve(shop_app) as shop_url:
        erp = erp_adapter(odoo_url, tmp_path)
        shop = shop_adapter(shop_url)
        connection = parse_config(config, source="test.toml").connections["main"]
        try:
            yield Pair(erp, shop, odoo_store_of(odoo_app), shop_store_of(shop_app), connection)
        finally:
            await shop.aclose()
            await erp.aclose()
