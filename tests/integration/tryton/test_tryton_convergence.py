"""The convergence law between a real Tryton and the WooCommerce simulator: after any successful
cycle, the next full and the next incremental cycle of each job write nothing and report no drift,
with the README's default configuration (every field both adapters carry), on a varied catalogue
a merchant keeps in Tryton, through rounds of edits made by people on both sides."""

from __future__ import annotations

import random
from decimal import Decimal

from integration.convergence_law import README_RULES, assert_idle
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import Sides, rpc, sides

from adapters.base import Create, Done, Update
from adapters.tryton.client import TrytonClient
from adapters.woocommerce.simulator import model as shop_model
from canonical.fields import to_fields
from canonical.models import Product, Variant
from engine.config import ConnectionConfig, JobConfig, parse_config
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store

__all__ = ["rpc", "sides"]  # the fixtures, shared

CONNECTION: ConnectionConfig = parse_config(
    README_RULES.replace('type = "odoo"', 'type = "tryton"'), source="test.toml"
).connections["main"]
ARCHIVED_LATER = "ART-007"
CASE_TWINS = ("CASE-001", "case-001")
"""Two Tryton articles whose codes differ only by case: WooCommerce holds one SKU for both, so
one of them is held (a dead letter naming both) until a person renames it."""


def catalogue(rng: random.Random) -> list[Product]:
    """What a merchant keeps: plain articles with costs, taxes and nested categories, unicode
    names, articles with variants entered out of SKU order, services, archived
    articles and two codes that differ only by case."""
    names = ("Tasse", "Café moulu", "Thé vert 緑茶", "Bouilloire", "Sac à dos", "Écharpe")
    categories = (("Cuisine", "Tasses"), ("Bagagerie", "Sacs & valises"), ("Épicerie",), ())
    out = []
    for n in range(1, 25):
        out.append(
            Product(
                sku=f"ART-{n:03d}",
                name=f"{rng.choice(names)} {n}",
                description=f"Article {n}, fait main" if n % 3 else "",
                price=Decimal(rng.randrange(199, 9999)) / 100,
                cost=Decimal(rng.randrange(50, 150)) / 100,
                tax_code=TAX_NAME if n % 5 else None,
                category=categories[n % len(categories)],
            )
        )
    for n, sizes in enumerate((("M", "L", "S"), ("XL", "M"), ("40", "38", "42", "39")), start=1):
        out.append(
            Product(
                sku=f"TEE{n}",
                name=f"T-shirt coton bio {n}",
                price=Decimal("19.90"),
                tax_code=TAX_NAME,
                category=("Vêtements",),
                variants=tuple(
                    Variant(sku=f"TEE{n}-{size}", price=Decimal("19.90") + i)
                    for i, size in enumerate(sizes)
                ),
            )
        )
    out += [
        Product(sku="WRAP-1", name="Emballage cadeau", price=Decimal("3.50"), service=True),
        Product(sku="SETUP-1", name="Mise en service", price=Decimal("49"), service=True),
        Product(sku="OLD-1", name="Ancien modèle", price=Decimal("12"), active=False),
        Product(sku="OLD-2", name="Fin de série", price=Decimal("8.20"), active=False),
    ]
    out += [Product(sku=sku, name=f"Mug {sku}", price=Decimal("8")) for sku in CASE_TWINS]
    return out


async def plant(sides: Sides, rpc: TrytonClient, rng: random.Random) -> None:
    """The catalogue in Tryton, stock counted into storage and onto a shelf below it."""
    articles = catalogue(rng)
    results = await sides.erp.apply(
        "product", [Create(key=p.sku, fields=to_fields(p)) for p in articles]
    )
    assert [r for r in results if not isinstance(r, Done)] == []
    goods = [
        sku
        for p in articles
        if p.active and not p.service
        for sku in ([v.sku for v in p.variants] or [p.sku])
    ]
    counted = await sides.erp.apply(
        "stock",
        [Update(key=sku, ref="", fields={"quantity": str(rng.randrange(0, 40))}) for sku in goods],
    )
    assert [r for r in counted if not isinstance(r, Done)] == []
    [warehouse] = await rpc.read(
        "stock.location", [sides.tryton.ids["warehouse"]], ["storage_location"]
    )
    [shelf] = await rpc.execute(
        "stock.location",
        "create",
        [{"name": "Étagère A", "type": "storage", "parent": warehouse["storage_location"]}],
    )
    products = await rpc.search_read("product.product", [["code", "in", goods[:6]]], ["code"])
    [inventory] = await rpc.execute(
        "stock.inventory",
        "create",
        [
            {
                "location": shelf,
                "company": sides.tryton.ids["company"],
                "lines": [["create", [{"product": p["id"], "quantity": 7} for p in products]]],
            }
        ],
    )
    await rpc.execute("stock.inventory", "confirm", [inventory])


async def edit_both_sides(sides: Sides, rpc: TrytonClient, rng: random.Random, round_: int) -> None:
    """What people do between two cycles: prices, names, categories and variants' prices in
    Tryton, an article archived and one added there; descriptions edited and stock sold in the
    shop."""
    templates = await rpc.search_read(
        "product.template",
        [["code", "like", "ART-%"], ["active", "=", True]],
        ["code", "name"],
    )
    for row in rng.sample(templates, 4):
        price = Decimal(rng.randrange(199, 9999)) / 100
        await rpc.execute("product.template", "write", [row["id"]], {"list_price": price})
    for row in rng.sample(templates, 2):
        name = f"  {row['name']} Ünïcode {round_} "
        await rpc.execute("product.template", "write", [row["id"]], {"name": name})
    if round_ == 1:
        # One article re-filed under another category, one taken out of any.
        [grocery] = await rpc.search("product.category", [["name", "=", "Épicerie"]])
        for code, category in (("ART-001", [grocery]), ("ART-002", [])):
            [row] = await rpc.search_read("product.template", [["code", "=", code]], ["categories"])
            actions = [["remove", row["categories"]]] + ([["add", category]] if category else [])
            await rpc.execute("product.template", "write", [row["id"]], {"categories": actions})
    variants = await rpc.search("product.product", [["code", "like", "TEE%-%"]])
    variant = rng.choice(variants)
    price = Decimal(rng.randrange(1500, 3000)) / 100
    await rpc.execute("product.product", "write", [variant], {"list_price": price})
    if round_ == 2:
        # Tryton warns before archiving an article still in stock: the merchant clears it first.
        gone = next(row for row in templates if row["code"] == ARCHIVED_LATER)
        [cleared] = await sides.erp.apply(
            "stock", [Update(key=ARCHIVED_LATER, ref="", fields={"quantity": "0"})]
        )
        assert isinstance(cleared, Done), cleared
        await rpc.execute("product.template", "write", [gone["id"]], {"active": False})
    if round_ == 3:
        new = Product(sku="NEW-1", name="Nouveauté", price=Decimal("15"), tax_code=TAX_NAME)
        [done] = await sides.erp.apply("product", [Create(key=new.sku, fields=to_fields(new))])
        assert isinstance(done, Done), done
    shop = sides.shop
    simple = [p for p in shop.products.values() if p.type == "simple" and p.status == "publish"]
    for item in rng.sample(simple, 2):
        item.description = f"<p>Retouché dans la boutique {rng.randrange(1000)}</p>"
        shop.touch(item)
    stocked = [p for p in simple if p.manage_stock and (p.stock_quantity or 0) > 2]
    for item in rng.sample(stocked, 3):
        assert item.stock_quantity is not None
        item.stock_quantity -= rng.randrange(1, 3)
        shop.touch(item)


async def cycle(store: Store, sides: Sides, kind: str, *, full: bool = True) -> CycleResult:
    return await run_cycle(
        store,
        connection="main",
        job_name=kind,
        job=JobConfig(kind=kind),
        rules=CONNECTION.rules[kind],
        adapters=dict(sides.adapters),
        full=full,
        transforms=CONNECTION.transforms,
    )


async def test_after_any_successful_cycle_the_next_writes_nothing_tryton(
    store: Store, sides: Sides, rpc: TrytonClient
) -> None:
    rng = random.Random(20261205)
    await plant(sides, rpc, rng)
    held: set[str] = set()
    for round_ in range(4):
        if round_:
            await edit_both_sides(sides, rpc, rng, round_)
        for kind in ("product", "stock"):
            done = await cycle(store, sides, kind)
            collisions = {f.key for f in done.failures if "sku_collision" in f.reason}
            held |= collisions
            assert done.rejected == [], (round_, kind, done.rejected)
            assert [f for f in done.failures if f.key not in held] == [], (round_, kind)
        for kind in ("product", "stock"):
            for full in (True, False):
                again = await cycle(store, sides, kind, full=full)
                assert_idle(again, held=held, context=(round_, kind, full))

    # One of the case twins is held, naming both; the shop holds the other once.
    assert len(held) == 1 and held < set(CASE_TWINS)
    shop = sides.shop
    assert sorted(p.sku for p in shop.products.values() if p.sku.lower() == "case-001") in (
        ["CASE-001"],
        ["case-001"],
    )
    # Archived articles never reached the shop; the one archived later is hidden there.
    assert shop.product_by_sku("OLD-1") is None and shop.product_by_sku("OLD-2") is None
    archived = shop.product_by_sku(ARCHIVED_LATER)
    assert archived is not None and archived.status != "publish"
    # Services are virtual and not stock-managed; variants all present; names trimmed.
    wrap = shop.product_by_sku("WRAP-1")
    assert isinstance(wrap, shop_model.Product) and wrap.virtual and not wrap.manage_stock
    tee = shop.product_by_sku("TEE3")
    assert isinstance(tee, shop_model.Product) and tee.type == "variable"
    assert sorted(shop.variations[v].sku for v in tee.variations) == [
        "TEE3-38",
        "TEE3-39",
        "TEE3-40",
        "TEE3-42",
    ]
    assert all(p.name == p.name.strip() for p in shop.products.values())
    assert shop.product_by_sku("NEW-1") is not None
    refiled = [shop.product_by_sku(sku) for sku in ("ART-001", "ART-002")]
    assert [[t.id for t in p.categories] for p in refiled if p] == [
        [next(c.id for c in shop.categories.values() if c.name == "Épicerie")],
        [shop.default_category],
    ]
