"""The contract's harness for Tryton: a real Tryton 8.2, not a simulator.

The server and its database (a copy of the run's Tryton template) are the ``tryton`` fixture's,
shared by the contract module's tests; each harness starts by deleting every article, so a test
sees only what it plants. Articles are planted and renamed by RPC, as a person working in Tryton
would.

A real server's clock cannot be moved by hand, so the overlap margin is kept small
(:data:`OVERLAP` seconds) and time is let pass for real: to put a change outside the margin of
the next one, the harness reads Tryton's clock as Tryton stamps records (it writes one party and
reads back its ``write_date``) until the clock has moved past the margin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.tryton.tryton_server import PASSWORD, TrytonService

from adapters import simkit
from adapters.base import Adapter
from adapters.tryton import adapter as tryton_adapter
from adapters.tryton.client import TrytonClient

OVERLAP = 0.25
"""The adapter's ``overlap_seconds``: Tryton stamps to the microsecond, so a quarter of a second
separates "within the margin" from "before it" while costing little real time to wait out."""
CLOCK_PARTY = "Contract suite clock"
ALL = {"active_test": False}


class TrytonHarness:
    """A live Tryton database and adapters connected to it."""

    remote = True
    simulated = False
    page_size = 100
    """The adapter's rows per read, small so a snapshot of a few hundred spans pages."""

    def __init__(self, service: TrytonService, rpc: TrytonClient, secrets: Path) -> None:
        self.service, self.rpc, self.secrets = service, rpc, secrets
        self.opened: list[tryton_adapter.TrytonAdapter] = []
        self.clock_party = 0
        self.unit = 0
        self.adapter: Adapter = self.connect()

    async def start(self) -> None:
        """Delete every article the module's earlier tests left, and find the clock and unit."""
        templates = await self.rpc.search("product.template", [], context=ALL)
        if templates:
            await self.rpc.execute("product.template", "delete", templates)
        found = await self.rpc.search("party.party", [["name", "=", CLOCK_PARTY]], limit=1)
        if found:
            self.clock_party = found[0]
        else:
            [self.clock_party] = await self.rpc.execute(
                "party.party", "create", [{"name": CLOCK_PARTY}]
            )
        [self.unit] = await self.rpc.search("product.uom", [["symbol", "=", "u"]], limit=1)

    def connect(self, **settings: Any) -> Adapter:
        wrong = settings.pop("wrong_secret", False)
        secret = self.secrets / f"tryton-password-{len(self.opened)}"
        secret.write_text("wrong" if wrong else PASSWORD)
        values = self.service.settings(
            password_file=str(secret),
            page_size=self.page_size,
            overlap_seconds=OVERLAP,
            max_concurrency=4,
        )
        adapter = tryton_adapter.create(values | settings, source="contract")
        self.opened.append(adapter)
        return adapter

    async def seed(self, count: int) -> list[str]:
        skus = [f"C-{n:05d}" for n in range(1, count + 1)]
        await self._plant(skus[:-1])
        # Only the last article lies within the overlap margin of the newest change.
        await self._let_the_overlap_pass()
        await self._plant(skus[-1:])
        return skus

    async def _plant(self, skus: list[str]) -> None:
        if not skus:
            return
        await self.rpc.execute(
            "product.template",
            "create",
            [
                {
                    "name": f"Article {sku}",
                    "code": sku,
                    "type": "goods",
                    "default_uom": self.unit,
                    "salable": True,
                    "sale_uom": self.unit,
                    "list_price": Decimal("9.90"),
                    "products": [["create", [{"suffix_code": ""}]]],
                }
                for sku in skus
            ],
        )

    async def rename(self, sku: str, name: str) -> None:
        await self._let_the_overlap_pass()
        [row] = await self.rpc.search_read(
            "product.product", [["code", "=", sku]], ["template"], context=ALL
        )
        await self.rpc.execute("product.template", "write", [row["template"]], {"name": name})

    async def holding(self, sku: str) -> int:
        return len(await self.rpc.search("product.product", [["code", "=", sku]], context=ALL))

    async def plant_without_sku(self) -> str:
        [template] = await self.rpc.execute(
            "product.template",
            "create",
            [
                {
                    "name": "Forgotten reference",
                    "type": "goods",
                    "default_uom": self.unit,
                    "products": [["create", [{}]]],
                }
            ],
        )
        [product] = await self.rpc.search("product.product", [["template", "=", template]])
        return f"product.product/{product}"

    def missing_ref(self) -> str:
        return "999999"

    def set_faults(self, faults: simkit.Faults) -> None:
        raise NotImplementedError("a real Tryton has no fault switches")

    async def served(self) -> simkit.Stats:
        # Tryton counts no requests; each adapter's HTTP client counts every one it sends,
        # retries included, which is what the contract bounds.
        return simkit.Stats(requests=sum(a.client.http.requests_sent for a in self.opened))

    async def _clock(self) -> datetime:
        """Tryton's clock, as it stamps a write (the start of the writing transaction)."""
        await self.rpc.execute("party.party", "write", [self.clock_party], {"name": CLOCK_PARTY})
        [row] = await self.rpc.read("party.party", [self.clock_party], ["write_date"])
        stamp = row["write_date"]
        assert isinstance(stamp, datetime), stamp
        return stamp

    async def _let_the_overlap_pass(self) -> None:
        """Return once Tryton's clock is more than the overlap past every change made so far."""
        target = await self._clock() + timedelta(seconds=OVERLAP)
        async with asyncio.timeout(10):
            while True:
                now = await self._clock()
                if now > target:
                    return
                # Time itself is the condition: nothing announces it, so sleep the rest of the
                # margin, then read the clock again.
                await asyncio.sleep((target - now).total_seconds())

    async def close(self) -> None:
        for adapter in self.opened:
            await adapter.aclose()
        await self.rpc.aclose()


@asynccontextmanager
async def tryton(fixtures: Mapping[str, Any]) -> AsyncIterator[TrytonHarness]:
    """A harness on the module's Tryton (the ``tryton`` fixture)."""
    service: TrytonService = fixtures["tryton"]
    rpc = service.client()
    harness = TrytonHarness(service, rpc, fixtures["tmp_path"])
    try:
        await harness.start()
        yield harness
    finally:
        await harness.close()
