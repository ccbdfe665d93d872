"""An edit made in the same second as the cursor, after the read that set it, is read by the
next incremental read, even with no overlap configured: Odoo's ``write_date`` and
WooCommerce's ``date_modified_gmt`` are whole seconds and their searches strictly after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from odoo_woo_pair import erp_adapter

from adapters.base import Adapter
from adapters.odoo.simulator import app as odoo
from adapters.simkit import serve
from adapters.woocommerce import simulator as woo
from adapters.woocommerce.adapter import WooCommerceAdapter
from adapters.woocommerce.settings import AdapterSettings
from canonical.models import Product

NOON = datetime(2025, 3, 1, 12, 0, 0, 400_000, tzinfo=UTC)

Rename = Callable[[str, str], None]
Platform = Callable[[Path], AbstractAsyncContextManager[tuple[Adapter, Rename]]]


@asynccontextmanager
async def odoo_platform(tmp_path: Path) -> AsyncIterator[tuple[Adapter, Rename]]:
    app = odoo.create_app()
    store = odoo.store_of(app)
    store.clock = lambda: NOON
    for sku in ("A-1", "A-2"):
        store.add("product.product", name=f"Article {sku}", default_code=sku, list_price=9.9)

    def rename(sku: str, name: str) -> None:
        template = store.tables["product.product"][store.product_id(sku)]["product_tmpl_id"]
        store.edit("product.template", template, name=name)

    async with serve(app) as url:
        adapter = erp_adapter(url, tmp_path)
        try:
            yield adapter, rename
        finally:
            await adapter.aclose()


@asynccontextmanager
async def woo_platform(tmp_path: Path) -> AsyncIterator[tuple[Adapter, Rename]]:
    app = woo.create_app(products=0)
    store = woo.store_of(app)
    store.clock = lambda: NOON
    for sku in ("A-1", "A-2"):
        store.add_product(sku=sku, name=f"Article {sku}", regular_price="9.90")

    def rename(sku: str, name: str) -> None:
        item = store.product_by_sku(sku)
        assert item is not None
        store.edit_product(item.id, name=name)

    async with serve(app) as url:
        settings = AdapterSettings(
            url=url, consumer_key="ck_test", consumer_secret="cs_test", overlap_seconds=0
        )
        adapter = WooCommerceAdapter(settings)
        try:
            yield adapter, rename
        finally:
            await adapter.aclose()


@pytest.mark.parametrize("platform", [odoo_platform, woo_platform], ids=["odoo", "woocommerce"])
async def test_an_edit_in_the_cursors_own_second_is_read(
    platform: Platform, tmp_path: Path
) -> None:
    async with platform(tmp_path) as (adapter, rename):
        full = await adapter.snapshot("product", None)
        assert full.cursor is not None
        rename("A-2", "Renamed within the same second")
        changed = await adapter.snapshot("product", full.cursor)
        names = {
            s.record.sku: s.record.name for s in changed.records if isinstance(s.record, Product)
        }
        assert names["A-2"] == "Renamed within the same second"
