"""Odoo and Shopify simulators side by side over real HTTP, with the adapters and a
connection's rules for running cycles between them (real PostgreSQL as state)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from convergence_law import README_RULES
from odoo_woo_pair import Pair, erp_adapter

from adapters.odoo.simulator.app import store_of as odoo_store_of
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.simkit import serve
from engine.config import parse_config

SHOPIFY_RULES = README_RULES.replace('"woocommerce"', '"shopify"')
"""The README's rules, Shopify as the shop."""


async def open_pair(
    tmp_path: Path, odoo_app: web.Application, *, bulk: bool, config: str = SHOPIFY_RULES
) -> AsyncIterator[Pair]:
    """The Odoo simulator ``odoo_app`` and an empty Shopify, served, with their adapters; the
    shop's full reads by bulk operations (``bulk``) or page by page."""
    shop_app = simulator.create_app(
        settings=simulator.Settings(bucket_size=2000, restore_rate=1000)
    )
    async with serve(odoo_app) as odoo_url, serve(shop_app) as shop_url:
        erp = erp_adapter(odoo_url, tmp_path)
        shop = ShopifyAdapter(
            ShopifySettings(
                url=shop_url,
                access_token="shpat_test",
                location="Warehouse",
                requests_per_second=1000,
                max_concurrency=8,
                bulk_read_above=0 if bulk else 10**6,
                bulk_poll_seconds=0.05,
            )
        )
        try:
            yield Pair(
                erp,
                shop,
                odoo_store_of(odoo_app),
                simulator.shop_of(shop_app).store,
                parse_config(config, source="test.toml").connections["main"],
            )
        finally:
            await shop.aclose()
            await erp.aclose()
