"""One harness per platform, so the contract tests never name a platform.

A harness runs one platform (a simulator on loopback, the in-memory platform, or a real server)
with an adapter connected to it, and does to the platform's own data what a person would: plant
articles, rename one, plant a record with bad data. To put a new adapter under the contract,
write a harness for it (here, or in a module of its own like :mod:`tryton_harness`) and add it
to :data:`HARNESSES`, naming the pytest fixtures it needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import msgspec
import shopify_harness
import tryton_harness
from aiohttp import web

from adapters import simkit
from adapters.base import Adapter, Capabilities
from adapters.http import HttpClient
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform
from adapters.odoo import adapter as odoo_adapter
from adapters.odoo.simulator import app as odoo
from adapters.woocommerce import simulator as woo
from adapters.woocommerce.adapter import WooCommerceAdapter
from adapters.woocommerce.settings import AdapterSettings
from canonical.models import Product

START = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A platform clock the harness moves by hand, so cursors and overlaps are exact."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Harness(Protocol):
    """A running platform and an adapter connected to it."""

    adapter: Adapter
    remote: bool
    """Whether the platform is reached over HTTP with credentials, and holds records typed
    outside Concord (so credentials can be refused and bad data planted)."""
    simulated: bool
    """Whether the platform is a simulator, with fault switches and request counters."""
    page_size: int
    """Records per page of a list read (0: the platform has no pages)."""

    async def seed(self, count: int) -> list[str]:
        """Plant ``count`` plain articles; returns their SKUs. Only the last one lies within
        the adapter's overlap margin of the newest change (a simulator plants them one platform
        minute apart; a real platform plants the last once its clock passed the margin)."""
        ...

    async def rename(self, sku: str, name: str) -> None:
        """Rename an article as a person would, once the platform's clock is past the overlap
        margin of the last change (a simulator moves it an hour)."""
        ...

    async def holding(self, sku: str) -> int:
        """How many records on the platform hold this SKU."""
        ...

    async def plant_without_sku(self) -> str:
        """Plant an article with no SKU; returns the ref the adapter reports it under."""
        ...

    def missing_ref(self) -> str:
        """A ref no record has."""
        ...

    def set_faults(self, faults: simkit.Faults) -> None: ...

    async def served(self) -> simkit.Stats:
        """What the platform was sent: a simulator's counters, read over HTTP from
        ``/__sim__/stats``; for a real server, the requests the adapters' clients sent."""
        ...

    def connect(self, **settings: Any) -> Adapter:
        """Another adapter to the same platform (``wrong_secret=True``: refused credentials;
        ``requests_per_second``...: other limits). The harness closes it."""
        ...


@dataclass(frozen=True)
class Platform:
    """How to run one platform under the contract."""

    start: Callable[[Mapping[str, Any]], AbstractAsyncContextManager[Harness]]
    """Runs the platform, given the values of :attr:`fixtures` by name."""
    fixtures: tuple[str, ...] = ()
    """The pytest fixtures it needs (a live server, a directory for secrets...)."""


class _Simulated:
    """What the two simulator harnesses share: the app, its URL, its counters."""

    remote = True
    simulated = True

    def __init__(self, app: web.Application, url: str, clock: Clock) -> None:
        self.app, self.url, self.clock = app, url, clock
        self.opened: list[Adapter] = []

    def set_faults(self, faults: simkit.Faults) -> None:
        simkit.set_faults(self.app, faults)

    async def served(self) -> simkit.Stats:
        client = HttpClient(self.url, requests_per_second=100, max_concurrency=1)
        try:
            response = await client.request("GET", "/__sim__/stats")
        finally:
            await client.aclose()
        return msgspec.json.decode(response.body, type=simkit.Stats)

    async def close(self) -> None:
        for adapter in self.opened:
            await adapter.aclose()


class WooHarness(_Simulated):
    page_size = 100

    def __init__(self, app: web.Application, url: str, clock: Clock) -> None:
        super().__init__(app, url, clock)
        self.store = woo.store_of(app)
        self.store.clock = clock
        self.adapter = self.connect()

    def connect(self, **settings: Any) -> Adapter:
        wrong = settings.pop("wrong_secret", False)
        values: dict[str, Any] = {
            "url": self.url,
            "consumer_key": "ck_test",
            "consumer_secret": "cs_wrong" if wrong else "cs_test",
            "requests_per_second": 1000.0,
            "max_concurrency": 8,
            "overlap_seconds": 60.0,
        }
        adapter = WooCommerceAdapter(AdapterSettings(**(values | settings)))
        self.opened.append(adapter)
        return adapter

    async def seed(self, count: int) -> list[str]:
        skus = [f"C-{n:05d}" for n in range(1, count + 1)]
        for sku in skus:
            self.clock.advance(timedelta(minutes=1))
            self.store.add_product(sku=sku, name=f"Article {sku}", regular_price="9.90")
        return skus

    async def rename(self, sku: str, name: str) -> None:
        self.clock.advance(timedelta(hours=1))
        item = self.store.product_by_sku(sku)
        assert item is not None
        self.store.edit_product(item.id, name=name)

    async def holding(self, sku: str) -> int:
        items = [*self.store.products.values(), *self.store.variations.values()]
        return sum(1 for item in items if item.sku == sku)

    async def plant_without_sku(self) -> str:
        return str(self.store.add_product(sku="", name="Forgotten reference").id)

    def missing_ref(self) -> str:
        return "999999"


class OdooHarness(_Simulated):
    def __init__(
        self, app: web.Application, url: str, clock: Clock, protocol: str, secrets: Path
    ) -> None:
        super().__init__(app, url, clock)
        self.protocol, self.secrets = protocol, secrets
        self.store = odoo.store_of(app)
        self.store.clock = clock
        self.page_size = 50
        self.adapter = self.connect()

    def connect(self, **settings: Any) -> Adapter:
        secret = "wrong" if settings.pop("wrong_secret", False) else None
        values: dict[str, Any] = {
            "url": self.url,
            "database": "odoo",
            "protocol": self.protocol,
            "requests_per_second": 1000,
            "max_concurrency": 8,
            "page_size": self.page_size,
            "overlap_seconds": 60,
        }
        name = "key" if self.protocol == "json2" else "password"
        path = self.secrets / f"odoo-{name}-{len(self.opened)}"
        path.write_text(secret or ("odoo-test-key" if name == "key" else "admin"))
        if self.protocol == "json2":
            values["api_key_file"] = str(path)
        else:
            values |= {"login": "admin", "password_file": str(path)}
        adapter = odoo_adapter.create(values | settings, source="contract")
        self.opened.append(adapter)
        return adapter

    async def seed(self, count: int) -> list[str]:
        skus = [f"C-{n:05d}" for n in range(1, count + 1)]
        for sku in skus:
            self.clock.advance(timedelta(minutes=1))
            self.store.add(
                "product.product", name=f"Article {sku}", default_code=sku, list_price=9.9
            )
        return skus

    async def rename(self, sku: str, name: str) -> None:
        self.clock.advance(timedelta(hours=1))
        template = self.store.tables["product.product"][self.store.product_id(sku)]
        self.store.edit("product.template", template["product_tmpl_id"], name=name)

    async def holding(self, sku: str) -> int:
        return len(
            self.store.find("product.product", [["default_code", "=", sku]], active_test=False)
        )

    async def plant_without_sku(self) -> str:
        return f"product.product/{self.store.add('product.product', name='Forgotten reference')}"

    def missing_ref(self) -> str:
        return "999999"


class MemoryHarness:
    remote = False
    simulated = False
    page_size = 0

    def __init__(self) -> None:
        self.platform = MemoryPlatform()
        self.adapter: Adapter = MemoryAdapter(
            self.platform, capabilities=Capabilities(batch_size=100, requests_per_second=1000)
        )

    async def seed(self, count: int) -> list[str]:
        skus = [f"C-{n:05d}" for n in range(1, count + 1)]
        for sku in skus:
            self.platform.put(Product(sku=sku, name=f"Article {sku}", price=Decimal("9.90")))
        return skus

    async def rename(self, sku: str, name: str) -> None:
        self.platform.edit("product", sku, name=name)

    async def holding(self, sku: str) -> int:
        return 1 if sku in self.platform.keys("product") else 0

    async def plant_without_sku(self) -> str:
        raise NotImplementedError("the in-memory platform refuses records it cannot hold")

    def missing_ref(self) -> str:
        return "m999999"

    def set_faults(self, faults: simkit.Faults) -> None:
        raise NotImplementedError("no HTTP: nothing to throttle")

    async def served(self) -> simkit.Stats:
        raise NotImplementedError("no HTTP: no requests to count")

    def connect(self, **settings: Any) -> Adapter:
        raise NotImplementedError("no credentials to refuse")


@asynccontextmanager
async def memory(fixtures: Mapping[str, Any]) -> AsyncIterator[Harness]:
    harness = MemoryHarness()
    try:
        yield harness
    finally:
        await harness.adapter.aclose()


@asynccontextmanager
async def woocommerce(fixtures: Mapping[str, Any]) -> AsyncIterator[Harness]:
    app = woo.create_app()
    async with simkit.serve(app) as url:
        harness = WooHarness(app, url, Clock())
        try:
            yield harness
        finally:
            await harness.close()


def _odoo(protocol: str) -> Platform:
    @asynccontextmanager
    async def running(fixtures: Mapping[str, Any]) -> AsyncIterator[Harness]:
        app = odoo.create_app()
        async with simkit.serve(app) as url:
            harness = OdooHarness(app, url, Clock(), protocol, fixtures["tmp_path"])
            try:
                yield harness
            finally:
                await harness.close()

    return Platform(running, fixtures=("tmp_path",))


HARNESSES: dict[str, Platform] = {
    "memory": Platform(memory),
    "woocommerce": Platform(woocommerce),
    "odoo-json2": _odoo("json2"),
    "odoo-jsonrpc": _odoo("jsonrpc"),
    "tryton": Platform(tryton_harness.tryton, fixtures=("tryton", "tmp_path")),
    "shopify": Platform(shopify_harness.shopify),
}
"""Every adapter under the contract, by test id."""
