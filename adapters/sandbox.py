"""Two simulated platforms on loopback, wired for a two-way run: an Odoo ERP and a WooCommerce shop.

:func:`sandbox` starts both simulators in this process on ``127.0.0.1`` (a free port each), seeds
the ERP with a generated catalogue and fills the shop with most of it, as a merchant's shop filled
by hand earlier would be: some articles never made it, a few carry price typos. It yields a
:class:`Sandbox`: the adapters' settings tables (secrets in files, as a configuration would name
them), adapters built from them, the simulators' request counters, and edits made directly in each
simulator's data, the way a person working in the ERP or in the shop's admin would make them.

Used by ``concord demo`` (loaded by dynamic import: the engine never imports aiohttp) and by the
benchmark and tests that need a realistic pair of platforms.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters import simkit
from adapters.base import Adapter, Create, Failed, Side
from adapters.odoo.simulator import app as odoo
from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.seed import warehouse_location
from adapters.odoo.simulator.store import OdooStore
from adapters.registry import build_adapter
from adapters.woocommerce import simulator as woo
from adapters.woocommerce.simulator import model as wc
from canonical.fields import to_fields
from canonical.models import Product

SOURCE = "(sandbox)"
_CENT = Decimal("0.01")

WEB_DESCRIPTION = "description_ecommerce"
"""The Odoo field holding the shop's long description in the sandbox (Odoo 17+ eCommerce)."""


class Sandbox:
    """An Odoo simulator (``erp``) and a WooCommerce simulator (``shop``) serving on loopback."""

    def __init__(
        self,
        *,
        erp_app: web.Application,
        shop_app: web.Application,
        settings: dict[Side, dict[str, Any]],
    ) -> None:
        self.erp_app = erp_app
        self.shop_app = shop_app
        self.settings = settings
        """Each side's adapter settings, as the ``[connections.<name>.erp|shop]`` tables."""
        self.adapters: dict[Side, Adapter] = {}
        """Adapters built by :meth:`open_adapters` (closed when the sandbox ends)."""

    @property
    def erp_store(self) -> OdooStore:
        """The Odoo simulator's data, for direct edits."""
        return odoo.store_of(self.erp_app)

    @property
    def shop_store(self) -> woo.Store:
        """The WooCommerce simulator's data, for direct edits."""
        return woo.store_of(self.shop_app)

    def open_adapters(self) -> dict[Side, Adapter]:
        """Adapters for both sides, built from :attr:`settings` through the registry."""
        if not self.adapters:
            for side in ("erp", "shop"):
                self.adapters[side] = build_adapter(self.settings[side], source=SOURCE, path=side)
        return self.adapters

    def requests(self) -> dict[Side, int]:
        """Requests each simulator has served so far (its ``/__sim__/stats`` counter)."""
        return {
            "erp": self.erp_app[simkit.STATS_KEY].requests,
            "shop": self.shop_app[simkit.STATS_KEY].requests,
        }

    def stats(self, side: Side) -> simkit.Stats:
        """The full counters of one simulator (requests, 429s, injected errors...)."""
        return (self.erp_app if side == "erp" else self.shop_app)[simkit.STATS_KEY]

    def reset_stats(self) -> None:
        """Zero both simulators' counters (after seeding, before what is measured)."""
        for app in (self.erp_app, self.shop_app):
            stats = app[simkit.STATS_KEY]
            for name in stats.__struct_fields__:
                setattr(stats, name, 0)

    # -- what both sides hold -----------------------------------------------------------------

    def plain_articles(self) -> list[str]:
        """SKUs of articles without variants present on both sides, sorted: the ones a week's
        edits touch (a product with variants is edited through its template, not by SKU)."""
        shop = self.shop_store
        return sorted(
            sku
            for sku, pid in self.erp_store.by_code.items()
            if len(self._template(pid)["product_variant_ids"]) == 1
            and (item := shop.product_by_sku(sku)) is not None
            and isinstance(item, wc.Product)
            and item.type == "simple"
        )

    def stocked_articles(self) -> list[str]:
        """SKUs whose stock is kept on both sides (managed stock in the shop), sorted."""
        shop = self.shop_store
        return sorted(
            sku
            for sku in self.erp_store.by_code
            if (item := shop.product_by_sku(sku)) is not None and item.manage_stock
        )

    # -- edits in the ERP, as a person in Odoo would make them ----------------------------------

    def _template(self, product_id: int) -> dict[str, Any]:
        store = self.erp_store
        return store.tables["product.template"][
            store.tables["product.product"][product_id]["product_tmpl_id"]
        ]

    def _erp_write(self, sku: str, **values: Any) -> None:
        store = self.erp_store
        template = self._template(store.product_id(sku))
        store.edit("product.template", template["id"], **values)

    def erp_price(self, sku: str) -> Decimal:
        return Decimal(str(self._template(self.erp_store.product_id(sku))["list_price"]))

    def set_erp_price(self, sku: str, price: Decimal) -> None:
        self._erp_write(sku, list_price=float(price))

    def set_erp_description(self, sku: str, text: str) -> None:
        self._erp_write(sku, **{WEB_DESCRIPTION: text})

    def receive_in_erp(self, sku: str, quantity: int) -> None:
        """Goods received: the warehouse quantity grows by ``quantity`` (an inventory count
        applied, as Odoo records a receipt's effect on the quant)."""
        store = self.erp_store
        product, location = store.product_id(sku), warehouse_location(store)
        quant = store.quant_at.get((product, location))
        if quant is None:
            quant = store.add("stock.quant", product_id=product, location_id=location)
        current = float(store.tables["stock.quant"][quant].get("quantity") or 0.0)
        store.edit("stock.quant", quant, inventory_quantity=current + quantity)
        call(store, "stock.quant", "action_apply_inventory", [quant], {}, {})

    # -- edits in the shop, as its admin or its customers would make them ----------------------

    def _shop_item(self, sku: str) -> wc.Product | wc.Variation:
        item = self.shop_store.product_by_sku(sku)
        if item is None:
            raise KeyError(sku)
        return item

    def shop_name(self, sku: str) -> str:
        item = self._shop_item(sku)
        return item.name if isinstance(item, wc.Product) else item.sku

    def shop_stock(self, sku: str) -> Decimal:
        return Decimal(self._shop_item(sku).stock_quantity or 0)

    def rename_in_shop(self, sku: str, name: str) -> None:
        self.shop_store.edit_product(self._shop_item(sku).id, name=name)

    def set_shop_description(self, sku: str, text: str) -> None:
        self.shop_store.edit_product(self._shop_item(sku).id, description=text)

    def set_shop_price(self, sku: str, price: Decimal) -> None:
        self.shop_store.edit_product(self._shop_item(sku).id, regular_price=str(price))

    def sell_in_shop(self, sku: str, quantity: int) -> None:
        """A customer orders ``quantity``; the paid order reduces stock as WooCommerce does."""
        self.shop_store.add_order([(sku, quantity)], status="processing")


async def _fill_shop(box: Sandbox, rng: random.Random, share: float, typos: float) -> None:
    """Give the shop ``share`` of the ERP's articles, through the adapters, then plant typos."""
    adapters = box.open_adapters()
    erp, shop = adapters["erp"], adapters["shop"]
    products, stock = await asyncio.gather(
        erp.snapshot("product", None), erp.snapshot("stock", None)
    )
    chosen = {s.record.natural_key() for s in products.records if rng.random() < share}
    # Stock is kept per sellable SKU: a variant's stock goes with its product.
    product_of: dict[str, str] = {}
    for seen in products.records:
        assert isinstance(seen.record, Product)
        product_of[seen.record.sku] = seen.record.sku
        product_of.update((v.sku, seen.record.sku) for v in seen.record.variants)
    for kind, records in (("product", products.records), ("stock", stock.records)):
        wanted = [
            Create(key=s.record.natural_key(), fields=to_fields(s.record))
            for s in records
            if product_of.get(s.record.natural_key()) in chosen
        ]
        await _apply_all(shop, kind, wanted)
    for sku in box.plain_articles():
        if rng.random() < typos:
            item = box._shop_item(sku)
            price = Decimal(item.regular_price or "0") + Decimal("0.10")
            box.set_shop_price(sku, price.quantize(_CENT))


async def _apply_all(adapter: Adapter, kind: str, operations: Sequence[Create]) -> None:
    size = adapter.capabilities.batch_size
    batches = [operations[i : i + size] for i in range(0, len(operations), size)]
    for results in await asyncio.gather(*(adapter.apply(kind, batch) for batch in batches)):
        refused = [r for r in results if isinstance(r, Failed)]
        if refused:
            raise RuntimeError(f"the sandbox shop refused its seed: {refused[:3]}")


@asynccontextmanager
async def sandbox(
    *,
    products: int,
    seed: int = 0,
    shop_share: float = 0.9,
    typo_rate: float = 0.03,
    requests_per_second: float = 500.0,
    max_concurrency: int = 8,
    protocol: str = "json2",
    erp_faults: simkit.Faults | None = None,
    shop_faults: simkit.Faults | None = None,
) -> AsyncIterator[Sandbox]:
    """Run an Odoo simulator with ``products`` articles and a WooCommerce simulator holding
    ``shop_share`` of them (``typo_rate`` of those with a price typo); yield the :class:`Sandbox`.

    The counters are zeroed once the shop is filled, so :meth:`Sandbox.requests` counts what
    comes after. Adapters opened through the sandbox are closed on exit.
    """
    rng = random.Random(seed)
    erp_app = odoo.create_app(products=products, seed=seed, faults=erp_faults)
    shop_app = woo.create_app(faults=shop_faults)
    with tempfile.TemporaryDirectory(prefix="concord-sandbox-") as secrets:
        folder = Path(secrets)
        for name, value in (
            ("odoo_key", "odoo-test-key"),
            ("odoo_password", "admin"),
            ("wc_key", "ck_test"),
            ("wc_secret", "cs_test"),
        ):
            (folder / name).write_text(value)
        async with AsyncExitStack() as stack:
            erp_url = await stack.enter_async_context(simkit.serve(erp_app))
            shop_url = await stack.enter_async_context(simkit.serve(shop_app))
            limits = {
                "requests_per_second": requests_per_second,
                "max_concurrency": max_concurrency,
            }
            erp: dict[str, Any] = {
                "type": "odoo",
                "url": erp_url,
                "database": "odoo",
                "description_field": WEB_DESCRIPTION,
            }
            if protocol == "jsonrpc":
                erp |= {"protocol": "jsonrpc", "login": "admin"}
                erp["password_file"] = str(folder / "odoo_password")
            else:
                erp |= {"protocol": "json2", "api_key_file": str(folder / "odoo_key")}
            shop: dict[str, Any] = {
                "type": "woocommerce",
                "url": shop_url,
                "consumer_key_file": str(folder / "wc_key"),
                "consumer_secret_file": str(folder / "wc_secret"),
            }
            box = Sandbox(
                erp_app=erp_app,
                shop_app=shop_app,
                settings={"erp": erp | limits, "shop": shop | limits},
            )

            async def close_adapters() -> None:
                for adapter in box.adapters.values():
                    await adapter.aclose()

            stack.push_async_callback(close_adapters)
            if shop_share > 0:
                await _fill_shop(box, rng, shop_share, typo_rate)
            box.reset_stats()
            yield box
