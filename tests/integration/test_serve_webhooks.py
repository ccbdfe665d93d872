"""``concord serve`` with an ``[orders]`` webhook secret: the shop's signed order webhook reaches
the mounted endpoint and the order lands in the ERP without waiting for the next poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from test_orders_sides import Sides, sale_orders, sides
from test_webhooks import Rest
from test_worker import wait_for

from canonical.errors import ConfigError
from engine.config import load_config
from engine.store.state import Store
from web.server import serve_forever

__all__ = ["sides"]  # the fixture, shared

SECRET = "whsec-serve-0123456789"
TOKEN = "serve-token-0123456789"


def write_config(tmp_path: Path, sides: Sides) -> Path:
    for name, value in (("odoo", "odoo-test-key"), ("ck", "ck_test"), ("cs", "cs_test")):
        (tmp_path / name).write_text(value)
    path = tmp_path / "concord.toml"
    path.write_text(
        f"""
[connections.main.erp]
type = "odoo"
url = "{sides.erp_url}"
database = "odoo"
api_key_file = "{tmp_path / "odoo"}"
requests_per_second = 1000

[connections.main.shop]
type = "woocommerce"
url = "{sides.shop_url}"
consumer_key_file = "{tmp_path / "ck"}"
consumer_secret_file = "{tmp_path / "cs"}"
requests_per_second = 1000

[connections.main.orders]
taxes = {{ FR = "VAT 20%" }}
webhook_secret_env = "TEST_WC_WEBHOOK_SECRET"
"""
    )
    return path


async def test_serve_mounts_the_order_webhook_and_imports_at_once(
    store: Store,
    db_url: str,
    sides: Sides,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONCORD_DATABASE_URL", db_url)
    monkeypatch.setenv("CONCORD_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_WC_WEBHOOK_SECRET", SECRET)
    config = load_config(write_config(tmp_path, sides))
    announced: asyncio.Queue[str] = asyncio.Queue()
    server = asyncio.create_task(
        serve_forever(config, host="127.0.0.1", port=0, announce=announced.put_nowait)
    )
    try:
        line = await asyncio.wait_for(announced.get(), timeout=30)
        base = line.split(" on ")[1].split()[0].rstrip("/")
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/webhooks/woocommerce/main", data=b"{}") as reply:
                assert reply.status == 401  # unsigned: refused, and no token is asked for
            rest = Rest(session, sides)
            await rest.hook("order.updated", f"{base}/webhooks/woocommerce/main", secret=SECRET)
            number = await rest.pending_order()
            await rest.send("PUT", f"/orders/{number}", {"set_paid": True})

            async def imported() -> bool:
                # The sale is in the ERP before the import's run is committed: wait for both,
                # or a slow machine stops the server between the two.
                if len(sale_orders(sides.erp, str(number))) != 1:
                    return False
                runs = await store.list_runs("main")
                return any(r.job == "orders" and r.mode == "webhook" for r in runs)

            await wait_for(imported, within=20)
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    assert len(sale_orders(sides.erp, str(number))) == 1  # once, not again meanwhile


async def test_a_webhook_secret_for_a_shop_without_webhooks_is_refused(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_DATABASE_URL", db_url)
    monkeypatch.setenv("CONCORD_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_WC_WEBHOOK_SECRET", SECRET)
    path = tmp_path / "concord.toml"
    path.write_text(
        """
[connections.main.erp]
type = "memory"

[connections.main.shop]
type = "memory"

[connections.main.orders]
webhook_secret_env = "TEST_WC_WEBHOOK_SECRET"
"""
    )
    config = load_config(path)
    with pytest.raises(ConfigError, match=r"orders\.webhook_secret_env.*'memory'"):
        await serve_forever(config, host="127.0.0.1", port=0, announce=lambda line: None)
