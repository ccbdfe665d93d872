"""A dead letter retried by a later cycle goes through the catalogue rules like a read record.

The retried record is fetched by key after the snapshot was mapped; it must be mapped too, or a
held article would be published as the ERP holds it (its ERP tax code as the shop's tax class,
its category under the ERP's root).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from odoo_woo_pair import Pair, open_pair

from engine.store.state import Store

CONFIG = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "erp" }

[connections.main.transforms.categories]
levels = ["category"]
root = "All"

[connections.main.transforms.taxes]
products = { "VAT 20%" = "standard" }
"""


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async for opened in open_pair(tmp_path, CONFIG):
        yield opened


async def test_a_retried_article_with_an_unmapped_tax_stays_held(pair: Pair, store: Store) -> None:
    odoo = pair.odoo
    sport = odoo.add(
        "product.category",
        name="Sport",
        parent_id=odoo.find("product.category", [["name", "=", "All"]])[0],
    )
    mapped = odoo.add("account.tax", name="VAT 20%", amount=20.0, type_tax_use="sale")
    unmapped = odoo.add("account.tax", name="VAT 7%", amount=7.0, type_tax_use="sale")
    for sku, tax in (("BALL-1", mapped), ("BALL-2", unmapped)):
        odoo.add(
            "product.template",
            name=f"Ball {sku}",
            default_code=sku,
            list_price=19.9,
            categ_id=sport,
            taxes_id=[tax],
        )

    first = await pair.cycle(store, "product")
    assert first.counts["created_shop"] == 1
    assert [(r.key, "VAT 7%" in r.reason) for r in first.rejected] == [("BALL-2", True)]

    # Nothing changed: the next cycle reads nothing new and retries the held article by key.
    retried = await pair.cycle(store, "product", full=False)

    assert [(r.key, "VAT 7%" in r.reason) for r in retried.rejected] == [("BALL-2", True)]
    assert retried.counts.get("created_shop", 0) == 0
    assert pair.sim.product_by_sku("BALL-2") is None
    assert {c.name for c in pair.sim.categories.values()} >= {"Sport"}
    assert "All" not in {c.name for c in pair.sim.categories.values()}
