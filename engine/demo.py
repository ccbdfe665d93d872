"""``concord demo``: a two-way run between two simulated platforms, with drift and conflicts.

The ERP holds a generated catalogue; the shop was filled by hand earlier, so it lacks some
articles and has typos in others. A first resync matches what both have by SKU, creates the
rest and reverts the shop's typos on ERP-owned fields. Then both sides are edited the way a
merchant's week goes, and a second resync copies, merges and reverts, leaving the genuine
conflicts for a person.
"""

from __future__ import annotations

import random
from decimal import Decimal

import msgspec

from adapters.base import Side
from adapters.memory.adapter import MemoryAdapter, MemoryPlatform, load
from adapters.memory.catalogue import generate_products, generate_stock
from engine.config import JobConfig
from engine.cycle import CycleResult, Progress, run_cycle
from engine.store import Store
from rules.policy import FieldRule, KindRules

DEMO_RULES = {
    "product": KindRules(
        default=FieldRule(owner="erp"),
        fields={"description": FieldRule(owner="both", policy="manual")},
    ),
    "stock": KindRules(default=FieldRule(owner="both", policy="merge-delta")),
}
DEMO_JOBS = {
    "products": JobConfig(kind="product", every="1d"),
    "stock": JobConfig(kind="stock", every="10m"),
}


class DemoRound(msgspec.Struct):
    title: str
    results: dict[str, CycleResult]


def _seed_platforms(count: int, seed: int) -> tuple[MemoryPlatform, MemoryPlatform]:
    rng = random.Random(seed)
    erp, shop = MemoryPlatform(), MemoryPlatform()
    products = list(generate_products(count, seed=seed))
    stock = list(generate_stock(count, seed=seed))
    load(erp, products)
    load(erp, stock)
    for product, level in zip(products, stock, strict=True):
        if rng.random() < 0.9:  # the shop was filled by hand: some articles never made it
            typo = rng.random() < 0.03
            price = (product.price or Decimal(0)) + (Decimal("0.10") if typo else 0)
            shop.put(msgspec.structs.replace(product, price=price))
            shop.put(level)
    return erp, shop


def _edit_a_week(erp: MemoryPlatform, shop: MemoryPlatform, seed: int) -> None:
    rng = random.Random(seed + 7)
    keys = sorted(erp.keys("product") & shop.keys("product"))
    for key in rng.sample(keys, max(1, len(keys) // 50)):  # new price list in the ERP
        price = Decimal(erp.fields("product", key)["price"]) * Decimal("1.05")
        erp.edit("product", key, price=str(price.quantize(Decimal("0.01"))))
    for key in rng.sample(keys, max(1, len(keys) // 100)):  # a shop admin renames articles
        shop.edit("product", key, name=shop.fields("product", key)["name"] + " (new!)")
    for key in rng.sample(keys, max(1, len(keys) // 200)):  # both rewrite the description
        erp.edit("product", key, description="Updated by the purchasing team.")
        shop.edit("product", key, description="Rewritten for the web by marketing.")
    for key in rng.sample(sorted(erp.keys("stock") & shop.keys("stock")), max(1, len(keys) // 20)):
        received, sold = rng.randrange(5, 50), rng.randrange(1, 5)
        erp_qty = Decimal(erp.fields("stock", key)["quantity"]) + received
        shop_qty = max(Decimal(0), Decimal(shop.fields("stock", key)["quantity"]) - sold)
        erp.edit("stock", key, quantity=str(erp_qty))
        shop.edit("stock", key, quantity=str(shop_qty))


async def run_demo(
    store: Store, *, products: int, seed: int, progress: Progress | None = None
) -> list[DemoRound]:
    """Run the demo against ``store``; returns each round's results by job."""
    erp_platform, shop_platform = _seed_platforms(products, seed)
    adapters: dict[Side, MemoryAdapter] = {
        "erp": MemoryAdapter(erp_platform),
        "shop": MemoryAdapter(shop_platform),
    }
    rounds: list[DemoRound] = []
    for title in ("first resync: match by SKU, create what is missing", "a week later"):
        if rounds:
            _edit_a_week(erp_platform, shop_platform, seed)
        results: dict[str, CycleResult] = {}
        for job_name, job in DEMO_JOBS.items():
            results[job_name] = await run_cycle(
                store,
                connection="demo",
                job_name=job_name,
                job=job,
                rules=DEMO_RULES[job.kind],
                adapters=dict(adapters),
                full=True,
                progress=progress,
            )
        rounds.append(DemoRound(title=title, results=results))
    _check_converged(erp_platform, shop_platform, rounds)
    return rounds


def _check_converged(erp: MemoryPlatform, shop: MemoryPlatform, rounds: list[DemoRound]) -> None:
    """The demo proves its point: apart from held conflicts, both sides now agree."""
    held = {(c.key, c.field) for r in rounds[-1].results.values() for c in r.conflicts}
    for kind in ("product", "stock"):
        if erp.keys(kind) != shop.keys(kind):
            raise RuntimeError(f"{kind}: the two sides hold different keys")
        for key in erp.keys(kind):
            left, right = erp.fields(kind, key), shop.fields(kind, key)
            differing = {f for f in left if left[f] != right.get(f)} - {
                f for k, f in held if k == key
            }
            if differing:
                raise RuntimeError(f"{kind} {key}: {sorted(differing)} still differ")
