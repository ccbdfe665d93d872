"""``concord demo``: a two-way run between two simulated platforms, with drift and conflicts.

By default the ERP is the Odoo simulator and the shop the WooCommerce simulator, both served on
loopback and spoken to over HTTP by the real adapters (:mod:`adapters.sandbox`, loaded by dynamic
import so the engine never imports aiohttp). ``memory=True`` runs the same story between two
in-memory platforms instead.

The ERP holds a generated catalogue; the shop was filled by hand earlier, so it lacks some
articles and has price typos in others. A first resync matches what both have by SKU, creates the
rest and reverts the shop's typos on ERP-owned fields. Then both sides are edited the way a
merchant's week goes, and a second resync copies, merges and reverts, leaving the genuine
conflicts for a person. The demo then reads both sides in full and fails loudly unless they agree
on every field apart from the held conflicts.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, Protocol, cast

import msgspec

from adapters.base import Adapter, Side
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform, load
from adapters.memory.catalogue import generate_products, generate_stock
from canonical.errors import ConcordError
from canonical.fields import Fields, to_fields
from engine.config import JobConfig
from engine.cycle.carried import compared_fields
from engine.cycle.run import CycleResult, Progress, run_cycle
from engine.store.state import Store
from rules.policy import FieldRule, KindRules

CONNECTION = "demo"
SANDBOX_MODULE = "adapters.sandbox"
DEMO_RULES = {
    "product": KindRules(
        default=FieldRule(owner="erp"),
        fields={"description": FieldRule(owner="both", policy="manual")},
    ),
    "stock": KindRules(
        default=FieldRule(owner="both", policy="merge-delta"), when_erp_lost="forget"
    ),
}
"""The README's rules: the ERP owns the catalogue, descriptions are edited on both sides and
settled by a person, stock is merged from both sides' movements."""
DEMO_JOBS = {
    "products": JobConfig(kind="product", every="1d"),
    "stock": JobConfig(kind="stock", every="10m"),
}
"""The README's jobs: no field list, so every field both platforms carry is synchronised."""
_CENT = Decimal("0.01")


class DemoDiverged(ConcordError):
    """After the demo's last resync the two sides still disagree: a bug, reported loudly."""


class Platforms(Protocol):
    """Two running platforms as the demo needs them: adapters, and edits made as people would."""

    def open_adapters(self) -> dict[Side, Adapter]: ...

    def requests(self) -> dict[Side, int]: ...

    def plain_articles(self) -> list[str]: ...

    def stocked_articles(self) -> list[str]: ...

    def erp_price(self, sku: str) -> Decimal: ...

    def set_erp_price(self, sku: str, price: Decimal) -> None: ...

    def set_erp_description(self, sku: str, text: str) -> None: ...

    def receive_in_erp(self, sku: str, quantity: int) -> None: ...

    def shop_name(self, sku: str) -> str: ...

    def shop_stock(self, sku: str) -> Decimal: ...

    def rename_in_shop(self, sku: str, name: str) -> None: ...

    def set_shop_description(self, sku: str, text: str) -> None: ...

    def sell_in_shop(self, sku: str, quantity: int) -> None: ...


class DemoRound(msgspec.Struct):
    title: str
    results: dict[str, CycleResult]
    requests: dict[str, int] = {}
    """Requests each platform served during the round (empty in memory)."""


class MemoryPair:
    """Two in-memory platforms with the demo's edits (``concord demo --memory``)."""

    def __init__(self, products: int, seed: int) -> None:
        rng = random.Random(seed)
        self.erp, self.shop = MemoryPlatform(), MemoryPlatform()
        catalogue = list(generate_products(products, seed=seed))
        levels = list(generate_stock(products, seed=seed))
        load(self.erp, catalogue)
        load(self.erp, levels)
        for product, level in zip(catalogue, levels, strict=True):
            if rng.random() < 0.9:  # the shop was filled by hand: some articles never made it
                typo = rng.random() < 0.03
                price = (product.price or Decimal(0)) + (Decimal("0.10") if typo else 0)
                self.shop.put(msgspec.structs.replace(product, price=price))
                self.shop.put(level)
        self.adapters: dict[Side, Adapter] = {
            "erp": MemoryAdapter(self.erp),
            "shop": MemoryAdapter(self.shop),
        }

    def open_adapters(self) -> dict[Side, Adapter]:
        return self.adapters

    def requests(self) -> dict[Side, int]:
        return {}

    def plain_articles(self) -> list[str]:
        return sorted(self.erp.keys("product") & self.shop.keys("product"))

    def stocked_articles(self) -> list[str]:
        return sorted(self.erp.keys("stock") & self.shop.keys("stock"))

    def erp_price(self, sku: str) -> Decimal:
        return Decimal(self.erp.fields("product", sku)["price"])

    def set_erp_price(self, sku: str, price: Decimal) -> None:
        self.erp.edit("product", sku, price=str(price))

    def set_erp_description(self, sku: str, text: str) -> None:
        self.erp.edit("product", sku, description=text)

    def receive_in_erp(self, sku: str, quantity: int) -> None:
        level = Decimal(self.erp.fields("stock", sku)["quantity"]) + quantity
        self.erp.edit("stock", sku, quantity=str(level))

    def shop_name(self, sku: str) -> str:
        return str(self.shop.fields("product", sku)["name"])

    def shop_stock(self, sku: str) -> Decimal:
        return Decimal(self.shop.fields("stock", sku)["quantity"])

    def rename_in_shop(self, sku: str, name: str) -> None:
        self.shop.edit("product", sku, name=name)

    def set_shop_description(self, sku: str, text: str) -> None:
        self.shop.edit("product", sku, description=text)

    def sell_in_shop(self, sku: str, quantity: int) -> None:
        self.shop.edit("stock", sku, quantity=str(self.shop_stock(sku) - quantity))


@asynccontextmanager
async def demo_platforms(*, products: int, seed: int, memory: bool) -> AsyncIterator[Platforms]:
    """The demo's two platforms: simulators over HTTP, or in memory."""
    if memory:
        yield MemoryPair(products, seed)
        return
    # Dynamic import: the sandbox speaks HTTP (aiohttp), which the engine never imports.
    module: Any = importlib.import_module(SANDBOX_MODULE)
    async with module.sandbox(products=products, seed=seed) as box:
        yield cast(Platforms, box)


def edit_a_week(platforms: Platforms, seed: int) -> None:
    """A merchant's week on both sides: a new ERP price list, shop renames of ERP-owned names
    (drift), descriptions rewritten on both sides (conflicts), goods received in the warehouse
    and sold on the web (stock changed on both sides, merged)."""
    rng = random.Random(seed + 7)
    keys = platforms.plain_articles()
    for key in rng.sample(keys, max(1, len(keys) // 50)):
        platforms.set_erp_price(key, (platforms.erp_price(key) * Decimal("1.05")).quantize(_CENT))
    for key in rng.sample(keys, max(1, len(keys) // 100)):
        platforms.rename_in_shop(key, platforms.shop_name(key) + " (new!)")
    for key in rng.sample(keys, max(1, len(keys) // 200)):
        platforms.set_erp_description(key, "Updated by the purchasing team.")
        platforms.set_shop_description(key, "Rewritten for the web by marketing.")
    stocked = platforms.stocked_articles()
    for key in rng.sample(stocked, max(1, len(keys) // 20)):
        received, sold = rng.randrange(5, 50), rng.randrange(1, 5)
        platforms.receive_in_erp(key, received)
        if platforms.shop_stock(key) >= sold:
            platforms.sell_in_shop(key, sold)


async def run_demo(
    store: Store,
    *,
    products: int,
    seed: int,
    progress: Progress | None = None,
    memory: bool = False,
) -> list[DemoRound]:
    """Run the demo against ``store``; returns each round's results by job.

    Raises :class:`DemoDiverged` when the two sides do not converge.
    """
    async with demo_platforms(products=products, seed=seed, memory=memory) as platforms:
        adapters = platforms.open_adapters()
        rounds: list[DemoRound] = []
        for title in ("first resync: match by SKU, create what is missing", "a week later"):
            if rounds:
                edit_a_week(platforms, seed)
            before = platforms.requests()
            results: dict[str, CycleResult] = {}
            for job_name, job in DEMO_JOBS.items():
                results[job_name] = await run_cycle(
                    store,
                    connection=CONNECTION,
                    job_name=job_name,
                    job=job,
                    rules=DEMO_RULES[job.kind],
                    adapters=dict(adapters),
                    full=True,
                    progress=progress,
                )
            after = platforms.requests()
            sent = {str(side): after[side] - before.get(side, 0) for side in after}
            rounds.append(DemoRound(title=title, results=results, requests=sent))
        await check_converged(adapters, rounds)
    return rounds


async def _read_all(adapter: Adapter, kind: str, fields: Collection[str]) -> dict[str, Fields]:
    snapshot = await adapter.snapshot(kind, None)
    adapter.rejected.clear()
    return {
        s.record.natural_key(): {f: v for f, v in to_fields(s.record).items() if f in fields}
        for s in snapshot.records
    }


async def check_converged(adapters: dict[Side, Adapter], rounds: list[DemoRound]) -> None:
    """Read both sides in full: apart from held conflicts, they must agree on every job field.

    Raises :class:`DemoDiverged` naming the first records that differ.
    """
    held = {(c.key, c.field) for r in rounds[-1].results.values() for c in r.conflicts}
    problems: list[str] = []
    for job in DEMO_JOBS.values():
        fields = job.fields or compared_fields(job.kind, adapters)
        erp = await _read_all(adapters["erp"], job.kind, fields)
        shop = await _read_all(adapters["shop"], job.kind, fields)
        if erp.keys() != shop.keys():
            only_erp, only_shop = sorted(erp.keys() - shop.keys()), sorted(shop.keys() - erp.keys())
            problems.append(
                f"{job.kind}: only in the ERP {only_erp[:5]}, only in the shop {only_shop[:5]}"
            )
        for key in sorted(erp.keys() & shop.keys()):
            left, right = erp[key], shop[key]
            differing = sorted(
                f for f in fields if left.get(f) != right.get(f) and (key, f) not in held
            )
            if differing:
                shown = ", ".join(f"{f}: {left.get(f)!r} / {right.get(f)!r}" for f in differing)
                problems.append(f"{job.kind} {key}: ERP / shop differ on {shown}")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise DemoDiverged("the two sides did not converge: " + "; ".join(problems[:10]) + more)
