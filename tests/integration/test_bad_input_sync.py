"""Bad input on either side, through whole cycles between the Odoo and WooCommerce simulators.

Each bad record is reported on its own (a rejected record, kept as a dead letter) with the reason;
the cycle never crashes and every other record is synced.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest

from adapters.sandbox import Sandbox, sandbox
from engine.cli.demo import DEMO_JOBS, DEMO_RULES
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store

MEGABYTE = 1024 * 1024


@pytest.fixture
async def box() -> AsyncIterator[Sandbox]:
    async with sandbox(products=60, seed=4, shop_share=0.5, typo_rate=0.0) as running:
        yield running


async def resync(store: Store, box: Sandbox) -> dict[str, CycleResult]:
    results = {}
    for name, job in DEMO_JOBS.items():
        results[name] = await run_cycle(
            store,
            connection="bad",
            job_name=name,
            job=job,
            rules=DEMO_RULES[job.kind],
            adapters=box.open_adapters(),
            full=True,
        )
    return results


def reasons(result: CycleResult) -> dict[str, str]:
    return {f"{r.side} {r.key}": r.reason for r in result.rejected}


# aiohttp advises streaming bodies over 1 MB; the batch carrying the long description is one.
async def test_bad_records_are_reported_one_by_one_and_the_rest_syncs(
    store: Store, box: Sandbox
) -> None:
    erp, shop = box.erp_store, box.shop_store
    plain = box.plain_articles()
    await resync(store, box)  # a clean first resync: base holds every article
    # ERP: an article without internal reference, and one reference used twice.
    no_code = erp.add("product.product", name="Article without reference")
    erp.unique_default_code = False
    twins = [erp.add("product.product", name=f"Twin {n}", default_code="TWIN-1") for n in (1, 2)]
    # ERP: a 1 MB description, which the shop must take like any other.
    long_text = "Long description. " * (MEGABYTE // 18 + 1)
    box.set_erp_description(plain[0], long_text)
    # Shop: no SKU, a price that is not a number, a description saved in Latin-1 by an old
    # import plugin (invalid UTF-8 in the answer), and a SKU held by two products.
    no_sku = shop.add_product(sku="", name="Hand-made entry")
    box.set_shop_price(plain[1], "12,50 EUR")  # type: ignore[arg-type]
    latin1 = box._shop_item(plain[2])
    latin1.description = msgspec.Raw(b'"Caf\xe9 au lait mug"')  # type: ignore[assignment]
    twin = shop.add_product(sku="SHOP-TWIN", name="Original")
    clone = shop.add_product(sku="SHOP-TWIN-TMP", name="Copy")
    clone.sku = "SHOP-TWIN"  # a duplicate the shop's own check missed (an import, a plugin)

    results = await resync(store, box)

    products = reasons(results["products"])
    assert "no internal reference" in products[f"erp erp:product.product/{no_code}"]
    # The ERP adapter itself notices the reference used twice, names both records and holds
    # the reference (which of the two is the article would be a guess).
    assert f"{twins[1]}: duplicate key" in products["erp TWIN-1"]
    assert f"also on record {twins[0]}" in products["erp TWIN-1"]
    assert "no SKU" in products[f"shop shop:{no_sku.id}"]
    # A price that is not a number holds its article, named: it is not gone from the shop.
    unpriced = products[f"shop {plain[1]}"]
    assert f"record {box._shop_item(plain[1]).id}:" in unpriced and "regular_price" in unpriced
    # The undecodable answer is still the linked product's: its article is held, named.
    undecodable = products[f"shop {plain[2]}"]
    assert "UTF-8" in undecodable and f"record {latin1.id}, linked to" in undecodable
    assert "several records" in products["shop SHOP-TWIN"]
    assert (
        f"{twin.id}" in products["shop SHOP-TWIN"] and f"{clone.id}" in products["shop SHOP-TWIN"]
    )
    assert len(products) == 6
    assert results["products"].failures == []
    assert results["stock"].failures == []
    # The rest synced: every good ERP article is in the shop, the long description included.
    assert box._shop_item(plain[0]).description == long_text
    adapters = box.open_adapters()
    erp_records = {
        s.record.natural_key(): s.record
        for s in (await adapters["erp"].snapshot("product", None)).records
    }
    shop_records = {
        s.record.natural_key(): s.record
        for s in (await adapters["shop"].snapshot("product", None)).records
    }
    for adapter in adapters.values():
        adapter.rejected.clear()
    good = erp_records.keys() - {plain[1], plain[2], "TWIN-1"}
    assert len(good) > 40
    assert all(shop_records[key].name == erp_records[key].name for key in good)  # type: ignore[attr-defined]
    letters = {(d.side, d.key) for d in await store.list_dead_letters("bad")}
    assert ("shop", "SHOP-TWIN") in letters and ("erp", "TWIN-1") in letters
    # A second resync reports the same records again and still syncs nothing wrong.
    again = await resync(store, box)
    assert reasons(again["products"]).keys() == products.keys()
    assert again["products"].counts.get("created_shop", 0) == 0
