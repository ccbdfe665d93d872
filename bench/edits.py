"""Seeded edits made inside a simulator's process, the way a merchant's week changes data.

Both simulators draw the same keys from the same seed over the same sorted key list, so the
ERP and the shop agree on which products were edited on both sides (the conflicts) without
talking to each other. Edits go through each simulator's own admin methods, so modification
dates move exactly as they would after an edit in Odoo or in wp-admin.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import msgspec

from adapters.odoo.mapping import common_prefix
from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.seed import warehouse_location
from adapters.odoo.simulator.store import OdooStore
from adapters.woocommerce.simulator.catalogue import description
from adapters.woocommerce.simulator.records import Sellable
from adapters.woocommerce.simulator.store import Store as ShopStore
from bench.setup import WEB_DESCRIPTION


class Pick(msgspec.Struct, frozen=True):
    """Which products a resync edit touches: ERP only, shop only, and both (conflicts)."""

    erp_only: list[str]
    shop_only: list[str]
    both: list[str]


class EditReport(msgspec.Struct, kw_only=True):
    """What an edit changed; ``prices`` are (product key, new price) of ERP price changes."""

    changed: int = 0
    prices: list[tuple[str, str]] = []


def text(rng: random.Random, low: int, high: int) -> str:
    """A product description of realistic length, as the simulators generate them."""
    return description(rng, low, high)


def pick(keys: list[str], *, seed: int, share: float, conflict_share: float) -> Pick:
    """``share`` of the keys edited on each side, ``conflict_share`` of them on both."""
    ordered = sorted(keys)
    random.Random(seed).shuffle(ordered)
    changed = max(1, round(len(ordered) * share))
    both = min(changed, round(len(ordered) * conflict_share))
    return Pick(
        both=ordered[:both],
        erp_only=ordered[both:changed],
        shop_only=ordered[changed : 2 * changed - both],
    )


# -- the ERP (Odoo simulator) -------------------------------------------------------------


def enrich_erp(store: OdooStore, seed: int) -> None:
    """Give the seeded Odoo articles descriptions and weights of realistic size."""
    rng = random.Random(seed * 7919 + 1)
    for row in store.tables["product.template"].values():
        row[WEB_DESCRIPTION] = text(rng, 60, 220)
    for row in store.tables["product.product"].values():
        row["weight"] = round(rng.uniform(0.05, 25.0), 2)


def _erp_templates(store: OdooStore) -> dict[str, tuple[int, list[int]]]:
    """Templates by the canonical product key (the SKU, or the variants' common prefix)."""
    out: dict[str, tuple[int, list[int]]] = {}
    for tid, row in store.tables["product.template"].items():
        variants = list(row.get("product_variant_ids", []))
        codes = [store.tables["product.product"][v].get("default_code") or "" for v in variants]
        if not codes or not all(codes):
            continue
        key = codes[0] if len(codes) == 1 else common_prefix(codes)
        out[key] = (tid, variants)
    return out


def edit_erp_resync(store: OdooStore, *, seed: int, share: float, conflict: float) -> EditReport:
    """New prices on the ERP's share; the conflicting ones also get a new description."""
    templates = _erp_templates(store)
    chosen = pick(list(templates), seed=seed, share=share, conflict_share=conflict)
    report = EditReport()
    for key in [*chosen.erp_only, *chosen.both]:
        tid, _variants = templates[key]
        row = store.tables["product.template"][tid]
        price = (Decimal(str(row["list_price"])) * Decimal("1.05")).quantize(Decimal("0.01"))
        vals: dict[str, Any] = {"list_price": float(price)}
        if key in chosen.both:
            vals[WEB_DESCRIPTION] = f"<p>Updated by the purchasing team ({seed}).</p>"
        store.write("product.template", [tid], vals)
        report.changed += 1
        report.prices.append((key, f"{price:f}"))
    return report


def _stock_pick(keys: list[str], seed: int, share: float, side: int) -> list[str]:
    ordered = sorted(keys)
    random.Random(seed).shuffle(ordered)
    chosen = ordered[: max(2, round(len(ordered) * share))]
    return chosen[side::2]


def edit_erp_stock(store: OdooStore, *, seed: int, share: float) -> EditReport:
    """Goods received on half of the ``share`` of articles (the other half sells in the shop)."""
    location = warehouse_location(store)
    quants = {
        row["product_id"]: qid
        for qid, row in store.tables["stock.quant"].items()
        if row.get("location_id") == location
    }
    by_code = {
        str(row["default_code"]): pid
        for pid, row in store.tables["product.product"].items()
        if row.get("default_code")
    }
    rng = random.Random(seed + 1)
    report = EditReport()
    for sku in _stock_pick(list(by_code), seed, share, 0):
        quant = quants.get(by_code[sku])
        if quant is None:
            continue
        counted = float(store.tables["stock.quant"][quant]["quantity"]) + rng.randrange(5, 50)
        store.write("stock.quant", [quant], {"inventory_quantity": counted})
        call(store, "stock.quant", "action_apply_inventory", [quant], {}, {})
        report.changed += 1
    return report


# -- the shop (WooCommerce simulator) -----------------------------------------------------


def edit_shop_resync(store: ShopStore, *, seed: int, share: float, conflict: float) -> EditReport:
    """New descriptions written for the web on the shop's share, the conflicting ones included."""
    products = {p.sku: p.id for p in store.products.values() if p.sku}
    chosen = pick(list(products), seed=seed, share=share, conflict_share=conflict)
    rng = random.Random(seed + 2)
    report = EditReport()
    for key in [*chosen.shop_only, *chosen.both]:
        if key in chosen.both:
            description = f"<p>Rewritten for the web by marketing ({seed}).</p>"
        else:
            description = text(rng, 60, 220)
        store.edit_product(products[key], description=description)
        report.changed += 1
    return report


def edit_shop_stock(store: ShopStore, *, seed: int, share: float) -> EditReport:
    """Sales in the shop on the other half of the ``share`` of articles."""
    sellables: list[Sellable] = [*store.products.values(), *store.variations.values()]
    items = {item.sku: item for item in sellables if item.sku and item.manage_stock}
    rng = random.Random(seed + 3)
    report = EditReport()
    for sku in _stock_pick(list(items), seed, share, 1):
        item = items[sku]
        sold = min(item.stock_quantity or 0, rng.randrange(1, 5))
        if sold and store.move_stock(item, -sold) is not None:
            report.changed += 1
    return report


def place_orders(store: ShopStore, *, seed: int, count: int) -> EditReport:
    """``count`` web orders of one to three articles each, paid ("processing")."""
    sellables: list[Sellable] = [*store.products.values(), *store.variations.values()]
    skus = sorted(
        item.sku
        for item in sellables
        if item.sku and item.manage_stock and (item.stock_quantity or 0) > 10
    )
    rng = random.Random(seed + 5)
    report = EditReport()
    for n in range(count if skus else 0):
        lines = [
            (sku, rng.randint(1, 2)) for sku in rng.sample(skus, min(len(skus), rng.randint(1, 3)))
        ]
        buyer = n % 400
        address = {
            "first_name": "Buyer",
            "last_name": str(buyer),
            "address_1": f"{buyer} rue de la Paix",
            "city": "Paris",
            "postcode": "75002",
            "country": "FR",
            "email": f"buyer{buyer}@example.com",
        }
        store.add_order(
            lines,
            status="processing",
            email=f"buyer{buyer}@example.com",
            billing=address,
            shipping={k: v for k, v in address.items() if k != "email"},
        )
        report.changed += 1
    return report
