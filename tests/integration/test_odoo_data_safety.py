"""What the Odoo adapter reads must be what Odoo holds, and what it writes must read back as
written: stock below the warehouse location, category names with " / ", services and
archived articles, the template's modification time, Odoo's rounding of prices. Against the
Odoo simulator over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from integration.test_odoo_adapter import running as odoo_running

from adapters.base import Create, Done, Failed, Update
from adapters.odoo.adapter import OdooAdapter
from adapters.odoo.simulator.app import create_app, store_of
from adapters.odoo.simulator.dispatch import call
from adapters.odoo.simulator.errors import OdooError
from adapters.odoo.simulator.seed import warehouse_location
from adapters.odoo.simulator.store import OdooStore
from canonical.fields import to_fields
from canonical.models import Price, Product


@asynccontextmanager
async def running(app: web.Application, tmp_path: Path) -> AsyncIterator[OdooAdapter]:
    async with odoo_running(app, tmp_path, overlap_seconds=0) as adapter:
        yield adapter


def shelf(store: OdooStore, name: str = "Shelf 1") -> int:
    [found] = store.find("stock.location", [["complete_name", "=", f"WH/Stock/{name}"]])
    return found


def count(store: OdooStore, product: int, location: int, quantity: float) -> None:
    """A person counting ``quantity`` of ``product`` at ``location`` in Odoo."""
    quant = store.add(
        "stock.quant", product_id=product, location_id=location, inventory_quantity=quantity
    )
    call(store, "stock.quant", "action_apply_inventory", [quant], {}, {})


def quantities(store: OdooStore, product: int) -> dict[str, float]:
    """The product's quant quantities by location's complete name."""
    out: dict[str, float] = {}
    for quant in store.tables["stock.quant"].values():
        if quant["product_id"] == product and quant.get("quantity"):
            name = store.display_name("stock.location", quant["location_id"])
            out[name] = out.get(name, 0.0) + quant["quantity"]
    return out


def stocks(seen: Any) -> dict[str, Decimal]:
    return {s.record.sku: s.record.quantity for s in seen}


async def test_stock_below_the_warehouse_location_is_counted(tmp_path: Path) -> None:
    app = create_app(products=0)
    store = store_of(app)
    main = warehouse_location(store)
    split = store.add("product.product", name="Split", default_code="SP-1")
    shelved = store.add("product.product", name="Shelved", default_code="SP-2")
    count(store, split, main, 10)
    count(store, split, shelf(store), 5)
    count(store, shelved, shelf(store, "Shelf 2"), 4)
    async with running(app, tmp_path) as adapter:
        full = await adapter.snapshot("stock", None)
        fetched = await adapter.fetch("stock", ["SP-1", "SP-2"])
        later = datetime.now(UTC) + timedelta(seconds=2)
        store.clock = lambda: later
        count(store, shelved, shelf(store, "Shelf 2"), 6)
        changed = await adapter.snapshot("stock", full.cursor)
    assert stocks(full.records) == {"SP-1": Decimal(15), "SP-2": Decimal(4)}
    assert stocks(fetched) == {"SP-1": Decimal(15), "SP-2": Decimal(4)}
    # SP-1 was counted in the cursor's own second, so it is read again, unchanged.
    assert stocks(changed.records) == {"SP-1": Decimal(15), "SP-2": Decimal(6)}


async def test_stock_written_over_shelves_reads_back_as_written_and_keeps_the_split(
    tmp_path: Path,
) -> None:
    app = create_app(products=0)
    store = store_of(app)
    main = warehouse_location(store)
    grow = store.add("product.product", name="Grow", default_code="W-1")
    shrink = store.add("product.product", name="Shrink", default_code="W-2")
    only_shelf = store.add("product.product", name="Only on a shelf", default_code="W-3")
    for product in (grow, shrink):
        count(store, product, main, 10)
        count(store, product, shelf(store), 5)
    count(store, only_shelf, shelf(store), 8)
    count(store, only_shelf, shelf(store, "Shelf 2"), 2)
    async with running(app, tmp_path) as adapter:
        results = await adapter.apply(
            "stock",
            [
                Update(key="W-1", ref=str(grow), fields={"quantity": "18"}),
                Update(key="W-2", ref=str(shrink), fields={"quantity": "3"}),
                Update(key="W-3", ref=str(only_shelf), fields={"quantity": "7"}),
            ],
        )
        read = await adapter.snapshot("stock", None)
        again = await adapter.apply(
            "stock", [Update(key="W-1", ref=str(grow), fields={"quantity": "18"})]
        )
    assert [type(r) for r in results] == [Done, Done, Done]
    assert stocks(read.records) == {"W-1": Decimal(18), "W-2": Decimal(3), "W-3": Decimal(7)}
    # The difference is counted where the warehouse keeps its stock; a shelf gives up only
    # what the location itself cannot, the fullest first.
    assert quantities(store, grow) == {"WH/Stock": 13.0, "WH/Stock/Shelf 1": 5.0}
    assert quantities(store, shrink) == {"WH/Stock/Shelf 1": 3.0}
    assert quantities(store, only_shelf) == {"WH/Stock/Shelf 1": 5.0, "WH/Stock/Shelf 2": 2.0}
    # Writing the quantity Odoo already holds changes no quant.
    assert [type(r) for r in again] == [Done]
    assert quantities(store, grow) == {"WH/Stock": 13.0, "WH/Stock/Shelf 1": 5.0}


async def test_seeded_shelves_count_in_the_stock_read(tmp_path: Path) -> None:
    app = create_app(products=60, seed=5)
    store = store_of(app)
    main = warehouse_location(store)
    totals: dict[int, float] = {}
    for quant in store.tables["stock.quant"].values():
        totals[quant["product_id"]] = totals.get(quant["product_id"], 0.0) + quant["quantity"]
    shelved = {
        q["product_id"]
        for q in store.tables["stock.quant"].values()
        if q["location_id"] != main and q["quantity"]
    }
    assert shelved, "the seed keeps some stock on shelves"
    async with running(app, tmp_path) as adapter:
        read = stocks((await adapter.snapshot("stock", None)).records)
    for product in shelved:
        sku = store.tables["product.product"][product]["default_code"]
        assert read[sku] == Decimal(str(totals[product]))


async def test_a_category_name_with_a_slash_stays_one_level(tmp_path: Path) -> None:
    app = create_app(products=0)
    store = store_of(app)
    [top] = store.find("product.category", [["name", "=", "All"]])
    bags = store.add("product.category", name="Sacs / Bagages", parent_id=top)
    assert store.get("product.category", bags, "complete_name")["complete_name"] == (
        "All / Sacs / Bagages"
    )
    store.add("product.product", name="Valise", default_code="BAG-1", categ_id=bags)
    async with running(app, tmp_path) as adapter:
        [seen] = await adapter.fetch("product", ["BAG-1"])
        results = await adapter.apply(
            "product",
            [
                Create(
                    key="BAG-2",
                    fields=to_fields(
                        Product(sku="BAG-2", name="Cabine", category=("All", "Sacs / Bagages"))
                    ),
                ),
                Create(
                    key="BAG-3",
                    fields=to_fields(
                        Product(
                            sku="BAG-3",
                            name="Trousse",
                            category=("All", "Sacs / Bagages", "Petits / Grands"),
                        )
                    ),
                ),
            ],
        )
        written = await adapter.fetch("product", ["BAG-2", "BAG-3"])
    assert isinstance(seen.record, Product)
    assert seen.record.category == ("All", "Sacs / Bagages")
    assert [type(r) for r in results] == [Done, Done]
    by_sku = {s.record.sku: s.record for s in written}
    assert isinstance(by_sku["BAG-2"], Product) and isinstance(by_sku["BAG-3"], Product)
    assert by_sku["BAG-2"].category == ("All", "Sacs / Bagages")
    assert by_sku["BAG-3"].category == ("All", "Sacs / Bagages", "Petits / Grands")
    # The existing category was found under its parent, not created again.
    assert store.find("product.category", [["name", "=", "Sacs / Bagages"]]) == [bags]


async def test_services_and_archived_articles(tmp_path: Path) -> None:
    app = create_app(products=0)
    store = store_of(app)
    main = warehouse_location(store)
    service = store.add("product.product", name="Gift wrap", default_code="SV-1", type="service")
    goods = store.add("product.product", name="Mug", default_code="GD-1")
    count(store, goods, main, 4)
    archived = store.add("product.template", name="Old mug", default_code="OLD-1")
    store.edit("product.template", archived, active=False)
    async with running(app, tmp_path) as adapter:
        products = {
            s.record.sku: s.record for s in (await adapter.snapshot("product", None)).records
        }
        stock = await adapter.snapshot("stock", None)
        fetched = await adapter.fetch("stock", ["SV-1", "GD-1"])
        refused = await adapter.apply(
            "stock", [Update(key="SV-1", ref=str(service), fields={"quantity": "5"})]
        )
        created = await adapter.apply(
            "product",
            [Create(key="SV-2", fields=to_fields(Product(sku="SV-2", name="Setup", service=True)))],
        )
        [new] = await adapter.fetch("product", ["SV-2"])
    assert products["SV-1"] == Product(
        sku="SV-1", name="Gift wrap", price=Decimal(1), cost=Decimal(0), service=True
    )
    assert isinstance(products["GD-1"], Product) and products["GD-1"].service is False
    assert isinstance(products["OLD-1"], Product) and products["OLD-1"].active is False
    # A service keeps no stock: never read as a stock record, never written one.
    assert "SV-1" not in stocks(stock.records) and stocks(fetched) == {"GD-1": Decimal(4)}
    assert stocks(stock.records)["GD-1"] == Decimal(4)
    assert [type(r) for r in refused] == [Failed]
    assert isinstance(refused[0], Failed) and "service" in refused[0].reason
    assert not [q for q in store.tables["stock.quant"].values() if q["product_id"] == service]
    assert [type(r) for r in created] == [Done]
    assert isinstance(new.record, Product) and new.record.service is True


async def test_a_template_edit_makes_the_article_newer(tmp_path: Path) -> None:
    app = create_app(products=0)
    store = store_of(app)
    moment = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    store.clock = lambda: moment
    variant = store.add("product.product", name="Lamp", default_code="LA-1")
    template = store.tables["product.product"][variant]["product_tmpl_id"]
    moment += timedelta(seconds=3)
    store.edit("product.template", template, name="Desk lamp", list_price=12.5)
    async with running(app, tmp_path) as adapter:
        [product] = (await adapter.snapshot("product", None)).records
        [price] = (await adapter.snapshot("price", None)).records
        [fetched] = await adapter.fetch("product", ["LA-1"])
    later = datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)
    assert isinstance(product.record, Product) and product.record.name == "Desk lamp"
    assert product.modified_at == later and fetched.modified_at == later
    assert isinstance(price.record, Price) and price.modified_at == later


async def test_what_is_written_reads_back_exactly(tmp_path: Path) -> None:
    app = create_app(products=0)
    written = Product(
        sku="UNI-1",
        name="  Thé vert « Sencha » 緑茶  ",
        short_description="Feuilles entières\n\tÉté 2026 ",
        price=Decimal("12.30"),
        cost=Decimal("4.1"),
        weight=Decimal("0.25"),
        category=("All", "Épicerie / Thés"),
    )
    async with running(app, tmp_path) as adapter:
        results = await adapter.apply("product", [Create(key="UNI-1", fields=to_fields(written))])
        [seen] = await adapter.fetch("product", ["UNI-1"])
        refused = await adapter.apply(
            "product",
            [
                Update(key="UNI-1", ref=seen.ref, fields={"price": "9.999"}),
                Update(key="UNI-1", ref=seen.ref, fields={"weight": "0.125"}),
            ],
        )
        prices = await adapter.apply(
            "price",
            [
                Update(key="UNI-1|group:|1", ref=seen.ref, fields={"amount": "7.005"}),
                Update(key="UNI-1|group:|1", ref=seen.ref, fields={"amount": "7.50"}),
            ],
        )
        [after] = await adapter.fetch("product", ["UNI-1"])
    assert [type(r) for r in results] == [Done]
    assert to_fields(seen.record) == to_fields(written)
    # Odoo rounds a price to its precision (2 decimals by default): 9.999 would be kept as 10.0
    # and read back as another price, so it is refused naming the field, and nothing changes.
    assert [type(r) for r in refused] == [Failed, Failed]
    reasons = [r.reason for r in refused if isinstance(r, Failed)]
    assert "price: 9.999" in reasons[0] and "'Product Price' (2)" in reasons[0]
    assert "weight: 0.125" in reasons[1] and "'Stock Weight' (2)" in reasons[1]
    assert [type(r) for r in prices] == [Failed, Done]
    assert isinstance(after.record, Product)
    assert after.record.price == Decimal("7.5") and after.record.weight == Decimal("0.25")


async def test_the_simulator_rounds_prices_as_odoo_does(tmp_path: Path) -> None:
    store = store_of(create_app(products=0))
    product = store.add("product.product", name="Round", default_code="R-1", list_price=9.995)
    row = store.get("product.product", product, "list_price", "standard_price")
    assert row["list_price"] == 10.0
    store.edit("product.product", product, standard_price=1.234, weight=0.005)
    row = store.get("product.product", product, "standard_price", "weight")
    assert row["standard_price"] == 1.23 and row["weight"] == 0.01
    [precision] = store.find("decimal.precision", [["name", "=", "Product Price"]])
    store.edit("decimal.precision", precision, digits=3)
    store.edit("product.product", product, list_price=9.995)
    assert store.get("product.product", product, "list_price")["list_price"] == 9.995


async def test_the_simulator_walks_location_and_category_trees() -> None:
    store = store_of(create_app(products=0))
    main = warehouse_location(store)
    bin_ = store.add("stock.location", name="Bin A", location_id=shelf(store))
    path = store.get("stock.location", bin_, "parent_path", "complete_name")
    parent = store.tables["stock.location"][main]["location_id"]
    assert path["parent_path"] == f"{parent}/{main}/{shelf(store)}/{bin_}/"
    assert path["complete_name"] == "WH/Stock/Shelf 1/Bin A"
    below = store.find("stock.location", [["id", "child_of", main]])
    assert set(below) == {main, shelf(store), shelf(store, "Shelf 2"), bin_}
    assert store.find("stock.location", [["id", "parent_of", bin_]]) == [
        parent,
        main,
        shelf(store),
        bin_,
    ]
    assert set(store.find("stock.location", [["id", "child_of", "WH/Stock/Shelf 1"]])) == {
        shelf(store),
        bin_,
    }
    [top] = store.find("product.category", [["name", "=", "All"]])
    [boots] = store.find("product.category", [["name", "=", "Boots"]])
    with pytest.raises(OdooError, match="Recursion"):
        store.edit("product.category", top, parent_id=boots)
    assert store.tables["product.category"][top].get("parent_id") is False
