"""An article Tryton answers with bad data is held, not lost: agreed with the shop, then priced
NaN in Tryton's database, it is rejected by the adapter; the cycle archives nothing, writes
nothing for it and keeps its base, a dead letter names the record, the field and the reason,
and once the price is fixed the article converges. A real Tryton, the WooCommerce simulator."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
from integration.tryton.test_tryton_sync import cycle, plant
from integration.tryton.tryton_server import on_database
from integration.tryton.tryton_shop import Sides, rpc, sides

from adapters.tryton.client import TrytonClient
from engine.store.state import Store

__all__ = ["rpc", "sides"]  # the fixtures, shared

SQL_NAN = "update product_list_price set list_price = 'NaN' where template = $1"


async def test_an_agreed_article_priced_nan_in_tryton_is_held_not_archived(
    store: Store, sides: Sides, rpc: TrytonClient
) -> None:
    await plant(sides.erp, {"NAN-1": 3, "NAN-2": 4})
    first = await cycle(store, sides, "product")
    assert first.counts.get("created_shop") == 2, first.counts
    agreed = (await store.load_records("main", "product"))["NAN-1"].fields
    [row] = await rpc.search_read("product.product", [["code", "=", "NAN-1"]], ["template"])
    # Tryton's forms refuse NaN; a PostgreSQL numeric column takes it (an import, a script).
    database = await asyncpg.connect(on_database(sides.tryton.server_url, sides.tryton.database))
    try:
        await database.execute(SQL_NAN, row["template"])
    finally:
        await database.close()

    held = await cycle(store, sides, "product")

    item = sides.shop.product_by_sku("NAN-1")
    assert item is not None and item.status == "publish" and item.regular_price == "10.5"
    assert held.operations == {"erp": [], "shop": []}, held.operations
    assert (await store.load_records("main", "product"))["NAN-1"].fields == agreed
    [letter] = [d for d in await store.list_dead_letters("main") if d.key == "NAN-1"]
    assert letter.side == "erp"
    assert f"product.product/{row['id']}" in letter.reason, letter.reason
    assert "list_price" in letter.reason and "NaN" in letter.reason, letter.reason

    await rpc.execute("product.template", "write", [row["template"]], {"list_price": Decimal(12)})
    fixed = await cycle(store, sides, "product")
    assert [op.key for op in fixed.operations["shop"]] == ["NAN-1"], fixed.operations
    assert sides.shop.product_by_sku("NAN-1").regular_price == "12"  # type: ignore[union-attr]
    # Read whole from Tryton again, the article's ERP letter is cleared by that very cycle.
    assert all(d.key != "NAN-1" for d in await store.list_dead_letters("main"))
    settled = await cycle(store, sides, "product")
    assert settled.operations == {"erp": [], "shop": []}, settled.operations
