"""The benchmarked connection: an Odoo ERP and a WooCommerce shop, their jobs and rules.

It is the README's default configuration: the product and stock jobs with no field list, so
every field both adapters carry takes part (the cost price, which WooCommerce has no place for,
and the tax code, which needs a taxes transform, stay the ERP's alone), and the README's rules:
the ERP owns the catalogue, descriptions are edited on both sides (an edit on both is a conflict
for a person), stock is merged.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from adapters.base import Adapter, Side
from adapters.registry import build_adapter
from engine.config import JobConfig
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store
from rules.policy import FieldRule, KindRules

SHOP_KEY_ENV = "CONCORD_BENCH_WC_KEY"
SHOP_SECRET_ENV = "CONCORD_BENCH_WC_SECRET"
ERP_KEY_ENV = "CONCORD_BENCH_ODOO_KEY"
# The simulators' own test credentials (adapters/*/simulator): not secrets of anyone's.
SHOP_CREDENTIALS = ("ck_test", "cs_test")
ERP_API_KEY = "odoo-test-key"

JOBS = {
    "products": JobConfig(kind="product", every="1d"),
    "stock": JobConfig(kind="stock", every="10m"),
}
RULES = {
    "product": KindRules(
        default=FieldRule(owner="erp"),
        fields={"description": FieldRule(owner="both", policy="manual")},
        create_in_shop=True,
        when_erp_lost="archive",
        when_shop_lost="report",
    ),
    "stock": KindRules(default=FieldRule(owner="both", policy="merge-delta")),
}
CONCURRENCY = 8
# Far above what the simulators can answer on loopback (a few thousand requests/s): unthrottled
# scenarios are bounded by concurrency and work, like the floor, not by a configured rate.
UNTHROTTLED_RATE = 100_000.0

WEB_DESCRIPTION = "description_ecommerce"
"""The Odoo template field holding the shop's long description (Odoo 17+ eCommerce)."""


async def run_job(
    store: Store,
    connection: str,
    job: str,
    adapters: dict[Side, Adapter],
    *,
    full: bool,
    dry_run: bool = False,
) -> CycleResult:
    """One cycle of the benchmark's job ``job`` (one of :data:`JOBS`) with its rules."""
    config = JOBS[job]
    return await run_cycle(
        store,
        connection=connection,
        job_name=job,
        job=config,
        rules=RULES[config.kind],
        adapters=adapters,
        full=full,
        dry_run=dry_run,
    )


def export_credentials() -> None:
    os.environ.setdefault(SHOP_KEY_ENV, SHOP_CREDENTIALS[0])
    os.environ.setdefault(SHOP_SECRET_ENV, SHOP_CREDENTIALS[1])
    os.environ.setdefault(ERP_KEY_ENV, ERP_API_KEY)


def erp_settings(url: str, rate: float = UNTHROTTLED_RATE) -> dict[str, Any]:
    return {
        "type": "odoo",
        "url": url,
        "database": "odoo",
        "api_key_env": ERP_KEY_ENV,
        "description_field": WEB_DESCRIPTION,
        "requests_per_second": rate,
        "max_concurrency": CONCURRENCY,
        # Cycles here follow each other within seconds, where a merchant's are minutes apart:
        # without this the overlap window would re-read everything the last cycle wrote (the
        # cursor's own second is read again all the same: adapters.base.read_from).
        "overlap_seconds": 0,
    }


def shop_settings(url: str, rate: float) -> dict[str, Any]:
    return {
        "type": "woocommerce",
        "url": url,
        "consumer_key_env": SHOP_KEY_ENV,
        "consumer_secret_env": SHOP_SECRET_ENV,
        "requests_per_second": rate,
        "max_concurrency": CONCURRENCY,
        "overlap_seconds": 0,
        "max_attempts": 10,
    }


@asynccontextmanager
async def open_adapters(
    erp_url: str,
    shop_url: str,
    *,
    shop_rate: float = UNTHROTTLED_RATE,
    erp_rate: float = UNTHROTTLED_RATE,
) -> AsyncIterator[dict[Side, Adapter]]:
    """Both adapters, built through the registry as ``concord`` builds them, closed on exit."""
    export_credentials()
    async with AsyncExitStack() as stack:
        adapters: dict[Side, Adapter] = {}
        sides: tuple[tuple[Side, dict[str, Any]], ...] = (
            ("erp", erp_settings(erp_url, erp_rate)),
            ("shop", shop_settings(shop_url, shop_rate)),
        )
        for side, settings in sides:
            adapter = build_adapter(settings, source="bench", path=f"bench.{side}")
            stack.push_async_callback(adapter.aclose)
            adapters[side] = adapter
        yield adapters
