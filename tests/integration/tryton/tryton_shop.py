"""What the Tryton end-to-end tests share: a real Tryton as the ERP and the WooCommerce simulator
as the shop, each behind its adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import msgspec
import pytest
from integration.tryton.tryton_server import TrytonService

from adapters import simkit
from adapters.base import Adapter, Side
from adapters.tryton import adapter as tryton_adapter
from adapters.tryton.adapter import TrytonAdapter
from adapters.tryton.client import TrytonClient
from adapters.woocommerce import adapter as wc_adapter
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app as shop_app
from adapters.woocommerce.simulator import store_of as shop_store


class Sides(msgspec.Struct, kw_only=True):
    tryton: TrytonService
    erp: TrytonAdapter
    shop: ShopStore
    adapters: dict[Side, Adapter]


@pytest.fixture
async def sides(tryton: TrytonService, tmp_path: Path) -> AsyncIterator[Sides]:
    app = shop_app()
    (tmp_path / "ck").write_text("ck_test")
    (tmp_path / "cs").write_text("cs_test")
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(simkit.serve(app))
        erp = tryton_adapter.create(tryton.settings(max_attempts=2), source="test.toml")
        stack.push_async_callback(erp.aclose)
        shop = wc_adapter.create(
            {
                "url": url,
                "consumer_key_file": str(tmp_path / "ck"),
                "consumer_secret_file": str(tmp_path / "cs"),
                "requests_per_second": 1000,
            },
            source="test.toml",
        )
        stack.push_async_callback(shop.aclose)
        yield Sides(
            tryton=tryton, erp=erp, shop=shop_store(app), adapters={"erp": erp, "shop": shop}
        )


@pytest.fixture
async def rpc(tryton: TrytonService) -> AsyncIterator[TrytonClient]:
    """A person working in Tryton, by RPC."""
    client = tryton.client()
    await client.sign_in()
    try:
        yield client
    finally:
        await client.aclose()
