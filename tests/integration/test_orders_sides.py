"""What the order tests share: both simulators over HTTP, with a catalogue in common."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest

from adapters import simkit
from adapters.base import Adapter, Side
from adapters.odoo import adapter as odoo_adapter
from adapters.odoo.simulator.app import create_app as odoo_app
from adapters.odoo.simulator.app import store_of as odoo_store
from adapters.odoo.simulator.store import OdooStore
from adapters.woocommerce import adapter as wc_adapter
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app as shop_app
from adapters.woocommerce.simulator import store_of as shop_store
from rules.order_config import OrdersConfig

LINE_ARTICLES = {"SHIP": "Shipping", "FEE": "Fees", "ROUND": "Rounding"}
"""The ERP's service articles for lines that are not goods: Odoo refuses a line without one."""
WITH_LINE_ARTICLES: dict[str, Any] = {
    "shipping_sku": "SHIP",
    "fee_sku": "FEE",
    "rounding_sku": "ROUND",
}
CONFIG = OrdersConfig(
    taxes={"FR": "VAT 20%", "BE": {"standard": "VAT 20%", "shipping": "VAT 10%"}},
    **WITH_LINE_ARTICLES,
)
RATE = 1000  # requests per second: the simulators, not pacing, are measured
FRANCE = {"first_name": "Ana", "last_name": "Lima", "country": "FR", "city": "Lyon"}


class Sides(msgspec.Struct, kw_only=True):
    erp: OdooStore
    shop: ShopStore
    adapters: dict[Side, Adapter]
    shop_url: str = ""
    erp_url: str = ""


def plant_line_articles(erp: OdooStore) -> None:
    """The service articles shipping, fee and rounding lines are booked on."""
    for code, name in LINE_ARTICLES.items():
        erp.add("product.product", default_code=code, name=name, type="service", list_price=0.0)


def plant_catalogue(erp: OdooStore, shop: ShopStore) -> None:
    """The shop sells some of the ERP's articles under the same SKUs, one with variations."""
    plant_line_articles(erp)
    for sku in ("SKU-000002", "SKU-000003", "SKU-000004"):
        shop.add_product(sku=sku, name=f"Item {sku}", regular_price="10.00")
    parent = shop.add_product(sku="SKU-000001", name="Boot", type="variable")
    for sku in sorted(code for code in erp.by_code if code.startswith("SKU-000001-")):
        shop.add_variation(parent.id, sku=sku, regular_price="12.00")


@asynccontextmanager
async def open_sides(
    tmp_path: Path, *, version: tuple[int, int] = (19, 0), protocol: str = "json2"
) -> AsyncIterator[Sides]:
    """Both simulators over HTTP, the Odoo one serving ``version`` through ``protocol``."""
    erp_app, wc_app = odoo_app(products=20, seed=1, version=version), shop_app()
    plant_catalogue(odoo_store(erp_app), shop_store(wc_app))
    (tmp_path / "odoo").write_text("odoo-test-key")
    (tmp_path / "ck").write_text("ck_test")
    (tmp_path / "cs").write_text("cs_test")
    async with AsyncExitStack() as stack:
        erp_url = await stack.enter_async_context(simkit.serve(erp_app))
        shop_url = await stack.enter_async_context(simkit.serve(wc_app))
        access: dict[str, Any] = (
            {"api_key_file": str(tmp_path / "odoo")}
            if protocol == "json2"
            else {"login": "admin", "password_file": str(tmp_path / "odoo")}
        )
        erp = odoo_adapter.create(
            {
                "url": erp_url,
                "database": "odoo",
                "protocol": protocol,
                **access,
                "requests_per_second": RATE,
            },
            source="test.toml",
        )
        stack.push_async_callback(erp.aclose)
        shop = wc_adapter.create(
            {
                "url": shop_url,
                "consumer_key_file": str(tmp_path / "ck"),
                "consumer_secret_file": str(tmp_path / "cs"),
                "requests_per_second": RATE,
            },
            source="test.toml",
        )
        stack.push_async_callback(shop.aclose)
        yield Sides(
            erp=odoo_store(erp_app),
            shop=shop_store(wc_app),
            adapters={"erp": erp, "shop": shop},
            shop_url=shop_url,
            erp_url=erp_url,
        )


@pytest.fixture
async def sides(tmp_path: Path) -> AsyncIterator[Sides]:
    async with open_sides(tmp_path) as both:
        yield both


def variant(erp: OdooStore) -> str:
    return sorted(code for code in erp.by_code if code.startswith("SKU-000001-"))[0]


def place(shop: ShopStore, lines: list[tuple[str, int]], **fields: Any) -> int:
    fields.setdefault("billing", {**FRANCE, "email": "ana@example.com"})
    fields.setdefault("payment_method", "stripe")
    fields.setdefault("payment_method_title", "Credit card")
    status = fields.pop("status", "processing")
    return shop.add_order(lines, status=status, **fields).id


def sale_orders(erp: OdooStore, reference: str) -> list[dict[str, Any]]:
    ids = erp.find("sale.order", [["client_order_ref", "=", reference]])
    return [erp.get("sale.order", i) for i in ids]
