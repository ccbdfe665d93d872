"""The Tryton adapter against a real Tryton 8.2 (see ``tryton_server``): every kind read and
written over JSON-RPC, incremental cursors with Tryton's traps, per-record errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from integration.tryton.tryton_server import TrytonService
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import rpc

from adapters.base import (
    AuthError,
    Create,
    Done,
    Failed,
    PermanentError,
    Seen,
    TransientError,
    Update,
)
from adapters.tryton.adapter import TrytonAdapter, create
from adapters.tryton.client import TrytonClient
from canonical.fields import to_fields
from canonical.models import Address, Customer, Product, Variant

__all__ = ["rpc"]  # the fixture, shared


@pytest.fixture
async def adapter(tryton: TrytonService) -> AsyncIterator[TrytonAdapter]:
    made = create(tryton.settings(), source="test.toml")
    try:
        yield made
    finally:
        await made.aclose()


def article(sku: str, price: str = "10.5", **extra: object) -> Create:
    record = Product(sku=sku, name=f"Article {sku}", price=Decimal(price), **extra)  # type: ignore[arg-type]
    return Create(key=sku, fields=to_fields(record))


def by_key(records: Sequence[Seen]) -> dict[str, Any]:
    """Records by natural key, untyped: each test knows the kind it reads."""
    return {r.record.natural_key(): r for r in records}


async def test_articles_written_then_read_back_with_prices_taxes_categories_and_variants(
    adapter: TrytonAdapter,
) -> None:
    results = await adapter.apply(
        "product",
        [
            article("P-1", cost=Decimal("4.25"), tax_code=TAX_NAME, category=("Shoes", "Running")),
            Create(
                key="P-2",
                fields=to_fields(
                    Product(
                        sku="P-2",
                        name="Boot",
                        price=Decimal("50"),
                        variants=(
                            Variant(sku="P-2-S", price=Decimal("50")),
                            Variant(sku="P-2-L", price=Decimal("55")),
                        ),
                    )
                ),
            ),
        ],
    )
    assert [type(r) for r in results] == [Done, Done], results

    snapshot = await adapter.snapshot("product", None)

    seen = by_key(snapshot.records)
    plain = seen["P-1"].record
    assert (plain.name, plain.price, plain.cost) == (
        "Article P-1",
        Decimal("10.5"),
        Decimal("4.25"),
    )
    assert plain.tax_code == TAX_NAME
    assert plain.category == ("Shoes", "Running")
    boot = seen["P-2"].record
    # Variants come back in SKU order, as every adapter reports them (one order on both sides).
    assert [(v.sku, v.price) for v in boot.variants] == [
        ("P-2-L", Decimal("55")),
        ("P-2-S", Decimal("50")),
    ]
    assert snapshot.complete and snapshot.cursor is not None
    assert adapter.rejected == []


async def test_a_create_of_an_existing_sku_updates_it_instead_of_duplicating(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    [first] = await adapter.apply("product", [article("DUP-1", "10")])
    [again] = await adapter.apply("product", [article("DUP-1", "12")])

    assert isinstance(first, Done) and isinstance(again, Done)
    assert again.ref == first.ref
    assert await rpc.search("product.product", [["code", "=", "DUP-1"]]) == [int(first.ref)]
    [seen] = await adapter.fetch("product", ["DUP-1"])
    assert seen.record.price == Decimal("12")  # type: ignore[attr-defined]


async def test_a_changed_category_replaces_the_article_s_categories_and_no_category_clears_them(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    tee = Product(
        sku="CAT-T", name="Tee", variants=(Variant(sku="CAT-T-S"), Variant(sku="CAT-T-M"))
    )
    made = await adapter.apply(
        "product",
        [
            article("CAT-1", category=("Shoes", "Running")),
            Create(key="CAT-T", fields=to_fields(tee) | {"category": ["Shoes", "Running"]}),
        ],
    )
    assert [type(r) for r in made] == [Done, Done], made
    refs = {r.key: r.ref for r in made if isinstance(r, Done)}
    templates = {
        row["code"]: row["id"]
        for row in await rpc.search_read(
            "product.template", [["code", "in", ["CAT-1", "CAT-T"]]], ["code"]
        )
    }

    async def categories(sku: str) -> list[str]:
        [row] = await rpc.read("product.template", [templates[sku]], ["categories"])
        names = await rpc.read("product.category", row["categories"], ["rec_name"])
        return sorted(n["rec_name"] for n in names)

    # A person also files the plain article under the category Concord is about to give it.
    [trail] = await rpc.execute("product.category", "create", [{"name": "Trail"}])
    await rpc.execute(
        "product.template", "write", [templates["CAT-1"]], {"categories": [["add", [trail]]]}
    )
    assert await categories("CAT-1") == ["Shoes / Running", "Trail"]

    def move(sku: str, path: list[str]) -> Update:
        return Update(key=sku, ref=refs[sku], fields={"category": path})

    moved = await adapter.apply("product", [move("CAT-1", ["Trail"]), move("CAT-T", ["Bags"])])

    assert moved == [Done(key="CAT-1", ref=refs["CAT-1"]), Done(key="CAT-T", ref=refs["CAT-T"])]
    assert await categories("CAT-1") == ["Trail"]
    assert await categories("CAT-T") == ["Bags"]

    cleared = await adapter.apply("product", [move("CAT-1", []), move("CAT-T", [])])

    assert [type(r) for r in cleared] == [Done, Done], cleared
    assert await categories("CAT-1") == [] and await categories("CAT-T") == []
    seen = by_key(await adapter.fetch("product", ["CAT-1", "CAT-T"]))
    assert seen["CAT-1"].record.category == () and seen["CAT-T"].record.category == ()


async def test_tryton_refusing_one_record_fails_that_record_only_with_tryton_s_message(
    adapter: TrytonAdapter,
) -> None:
    await adapter.apply("product", [article("TAKEN-A")])
    clash = Create(
        key="TAKEN",
        fields=to_fields(
            Product(
                sku="TAKEN", name="Clash", variants=(Variant(sku="TAKEN-A"), Variant(sku="TAKEN-B"))
            )
        ),
    )

    # Tryton's category tree keeps " / " as its separator: a name holding it is refused.
    slashed = article("BAGS-1", category=("Sacs / Bagages",))

    results = await adapter.apply(
        "product", [article("FINE-1"), clash, article("BAD", tax_code="VAT 99%"), slashed]
    )

    assert isinstance(results[0], Done)
    assert isinstance(results[1], Failed) and "must be unique" in results[1].reason
    assert isinstance(results[2], Failed)
    assert "tax_code" in results[2].reason and "VAT 99%" in results[2].reason
    assert isinstance(results[3], Failed)
    assert "category" in results[3].reason and "Sacs / Bagages" in results[3].reason


async def test_a_value_tryton_fails_on_fails_its_article_alone_naming_it_and_its_fields(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    made = await adapter.apply("product", [article("NUL-1"), article("NUL-2")])
    refs = {r.key: r.ref for r in made if isinstance(r, Done)}

    # Tryton does not check for NUL characters: PostgreSQL refuses them, a ServerError.
    results = await adapter.apply(
        "product",
        [
            Update(key="NUL-1", ref=refs["NUL-1"], fields={"name": "Mug\x00", "price": "3"}),
            Update(key="NUL-2", ref=refs["NUL-2"], fields={"name": "Mug"}),
            Create(key="NUL-3", fields=to_fields(Product(sku="NUL-3", name="Bowl\x00"))),
            article("NUL-4", category=("Bowls\x00",)),
        ],
    )

    assert results[1] == Done(key="NUL-2", ref=refs["NUL-2"])
    assert [type(r) for r in results] == [Failed, Done, Failed, Failed], results
    reasons = [r.reason for r in results if isinstance(r, Failed)]
    assert reasons[0].startswith("name, price: ") and "NUL-1" in reasons[0]
    assert "NUL" in reasons[0] and "ServerError" in reasons[0]
    assert reasons[1].startswith("active, name, sku: ") and "NUL-3" in reasons[1]
    assert reasons[2].startswith("category: ")
    names = await rpc.search_read("product.template", [["code", "like", "NUL-%"]], ["name"])
    assert sorted(n["name"] for n in names) == ["Article NUL-1", "Mug"]

    # Looking the batch's SKUs up fails for all of them: the batch fails, as the adapter's error.
    with pytest.raises(PermanentError, match=r"articles NUL-5, NUL-\x006: .*ServerError"):
        await adapter.apply("product", [article("NUL-5"), article("NUL-\x006")])


async def test_a_price_or_cost_that_is_no_number_fails_its_article_naming_the_field(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    boot = Product(
        sku="NNB-",
        name="Boot",
        variants=(Variant(sku="NNB-S", price=Decimal(50)), Variant(sku="NNB-M", price=Decimal(50))),
    )
    made = await adapter.apply(
        "product", [article("NNA-1"), Create(key="NNB-", fields=to_fields(boot))]
    )
    assert all(isinstance(r, Done) for r in made), made
    refs = {r.key: r.ref for r in made if isinstance(r, Done)}
    variants = [{"sku": "NNB-S", "price": "Infinity"}, {"sku": "NNB-M", "price": "50"}]

    results = await adapter.apply(
        "product",
        [
            # Field values as the engine carries them (decimals spelt as text).
            Create(key="NNA-2", fields={**article("NNA-2").fields, "price": "NaN"}),
            Create(key="NNA-3", fields={**article("NNA-3").fields, "cost": "-Infinity"}),
            Update(key="NNA-1", ref=refs["NNA-1"], fields={"price": "sNaN"}),
            Update(key="NNB-", ref=refs["NNB-"], fields={"variants": variants}),
            article("NNA-4", "12.50"),
        ],
    )

    assert [type(r) for r in results] == [Failed, Failed, Failed, Failed, Done], results
    assert [(r.key, r.reason) for r in results if isinstance(r, Failed)] == [
        ("NNA-2", "price: 'NaN' is not a finite number"),
        ("NNA-3", "cost: '-Infinity' is not a finite number"),
        ("NNA-1", "price: 'sNaN' is not a finite number"),
        ("NNB-", "variants: NNB-S: price: 'Infinity' is not a finite number"),
    ]
    rows = await rpc.search_read(
        "product.product", [["code", "like", "NN%"]], ["code", "list_price_used"]
    )
    assert {r["code"]: r["list_price_used"] for r in rows} == {
        "NNA-1": Decimal("10.5"),
        "NNA-4": Decimal("12.50"),
        "NNB-S": Decimal(50),
        "NNB-M": Decimal(50),
    }


async def test_incremental_reads_see_new_rows_template_edits_and_nothing_else(
    adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    await adapter.apply("product", [article("INC-1"), article("INC-2")])
    cursor = (await adapter.snapshot("product", None)).cursor
    assert cursor is not None

    quiet = await adapter.snapshot("product", cursor)
    assert quiet.records == [] and quiet.cursor == cursor and not quiet.complete

    # A price typed on the template: the product row's dates do not move.
    [product] = await rpc.search("product.product", [["code", "=", "INC-2"]])
    [row] = await rpc.read("product.product", [product], ["template"])
    await rpc.execute("product.template", "write", [row["template"]], {"list_price": Decimal("99")})
    await adapter.apply("product", [article("INC-3")])  # created: write_date still NULL

    changed = await adapter.snapshot("product", cursor)

    assert sorted(by_key(changed.records)) == ["INC-2", "INC-3"]
    assert changed.cursor is not None and changed.cursor > cursor


async def test_stock_is_counted_into_the_warehouse_and_read_back_incrementally(
    adapter: TrytonAdapter,
) -> None:
    await adapter.apply("product", [article("STK-1"), article("STK-2")])
    before = await adapter.snapshot("stock", None)
    assert by_key(before.records)["STK-1"].record.quantity == 0

    results = await adapter.apply(
        "stock",
        [
            Update(key="STK-1", ref="x", fields={"quantity": "7"}),
            Update(key="STK-2", ref="x", fields={"quantity": "2.5"}),
            Update(key="NOPE", ref="x", fields={"quantity": "1"}),
        ],
    )
    assert [type(r) for r in results] == [Done, Failed, Failed]
    # Units are counted whole: Tryton's own refusal, for that record only.
    assert "Quantity" in results[1].reason and "STK-2" in results[1].reason  # type: ignore[union-attr]
    assert "NOPE" in results[2].reason  # type: ignore[union-attr]
    await adapter.apply("stock", [Update(key="STK-2", ref="x", fields={"quantity": "2"})])
    await adapter.apply("stock", [Update(key="STK-1", ref="x", fields={"quantity": "3"})])

    changed = await adapter.snapshot("stock", before.cursor)

    quantities = {k: s.record.quantity for k, s in by_key(changed.records).items()}
    assert quantities == {"STK-1": Decimal("3"), "STK-2": Decimal("2")}


async def test_customers_with_addresses_are_written_once_and_read_back(
    adapter: TrytonAdapter,
) -> None:
    ann = Customer(
        email="Ann@Example.com",
        first_name="Ann",
        last_name="Smith",
        phone="+33 1 23",
        billing=Address(
            first_name="Ann",
            last_name="Smith",
            line1="1 rue X",
            city="Paris",
            postcode="75001",
            country="FR",
        ),
    )
    [made] = await adapter.apply("customer", [Create(key="ann@example.com", fields=to_fields(ann))])
    [again] = await adapter.apply(
        "customer", [Create(key="ann@example.com", fields=to_fields(ann))]
    )
    assert isinstance(made, Done) and isinstance(again, Done) and made.ref == again.ref

    [seen] = await adapter.fetch("customer", ["ANN@example.com"])

    record = seen.record
    assert (record.first_name, record.last_name, record.phone) == ("Ann", "Smith", "+33 1 23")  # type: ignore[attr-defined]
    assert record.billing == ann.billing  # type: ignore[attr-defined]


async def test_customer_specific_prices_come_from_the_party_s_price_list(
    adapter: TrytonAdapter,
) -> None:
    await adapter.apply("product", [article("PRC-1", "20"), article("PRC-2", "30")])
    bob = Customer(email="bob@example.com", first_name="Bob", last_name="Stone")
    await adapter.apply("customer", [Create(key=bob.email, fields=to_fields(bob))])
    key = "PRC-1|customer:bob@example.com|1"
    [written] = await adapter.apply(
        "price",
        [Create(key=key, fields={"sku": "PRC-1", "amount": "17.5", "customer": "bob@example.com"})],
    )
    assert isinstance(written, Done), written

    prices = by_key((await adapter.snapshot("price", None)).records)

    assert prices[key].record.amount == Decimal("17.5")
    assert prices["PRC-2|group:|1"].record.amount == Decimal("30")
    assert "PRC-2|customer:bob@example.com|1" not in prices


async def test_a_wrong_password_is_an_auth_error_and_a_closed_port_a_transient_one(
    tryton: TrytonService,
) -> None:
    wrong = tryton.directory / "wrong-password"
    wrong.write_text("not the password")
    refused = create(tryton.settings(password_file=str(wrong)), source="test.toml")
    closed = create(
        tryton.settings(url="http://127.0.0.1:9", max_attempts=2, timeout=2), source="test.toml"
    )
    try:
        with pytest.raises(AuthError, match="admin"):
            await refused.snapshot("product", None)
        with pytest.raises(TransientError):
            await closed.snapshot("product", None)
    finally:
        await refused.aclose()
        await closed.aclose()


async def test_small_pages_read_the_same_records_and_an_article_without_code_is_rejected(
    tryton: TrytonService, adapter: TrytonAdapter, rpc: TrytonClient
) -> None:
    await adapter.apply("product", [article(f"PG-{n}") for n in range(8)])
    unit = (await rpc.search("product.uom", [["symbol", "=", "u"]]))[0]
    [template] = await rpc.execute(
        "product.template",
        "create",
        [{"name": "No code", "type": "goods", "default_uom": unit, "products": [["create", [{}]]]}],
    )
    paged = create(tryton.settings(page_size=3), source="test.toml")
    try:
        small = await paged.snapshot("product", None)
        reasons = dict(paged.rejected)
    finally:
        await paged.aclose()

    whole = await adapter.snapshot("product", None)

    assert by_key(small.records) == by_key(whole.records)
    assert {f"PG-{n}" for n in range(8)} <= set(by_key(small.records))
    [product] = await rpc.search("product.product", [["template", "=", template]])
    assert "no code" in reasons[f"product.product/{product}"]


async def test_stock_on_shelves_below_storage_is_read_and_written_keeping_the_split(
    adapter: TrytonAdapter, rpc: TrytonClient, tryton: TrytonService
) -> None:
    await adapter.apply(
        "product",
        [article("SHELF-1"), article("SHELF-2"), article("WRAP-1", service=True)],
    )
    [warehouse] = await rpc.read("stock.location", [tryton.ids["warehouse"]], ["storage_location"])
    storage = warehouse["storage_location"]
    [shelf] = await rpc.execute(
        "stock.location", "create", [{"name": "Shelf 1", "type": "storage", "parent": storage}]
    )
    ids = {
        row["code"]: row["id"]
        for row in await rpc.search_read(
            "product.product", [["code", "in", ["SHELF-1", "SHELF-2"]]], ["code"]
        )
    }

    async def count(location: int, product: int, quantity: int) -> None:
        vals = {
            "location": location,
            "company": tryton.ids["company"],
            "lines": [["create", [{"product": product, "quantity": quantity}]]],
        }
        [inventory] = await rpc.execute("stock.inventory", "create", [vals])
        await rpc.execute("stock.inventory", "confirm", [inventory])

    for product in ids.values():
        await count(storage, product, 10)
        await count(shelf, product, 5)

    async def at(location: int) -> dict[str, Decimal]:
        rows = await rpc.read(
            "product.product",
            list(ids.values()),
            ["code", "quantity"],
            context={"locations": [location], "with_childs": False},
        )
        return {row["code"]: Decimal(str(row["quantity"])) for row in rows}

    read = await adapter.snapshot("stock", None)
    quantities = {k: s.record.quantity for k, s in by_key(read.records).items()}
    # Shelves below the storage zone count; a service has no stock record.
    assert quantities["SHELF-1"] == Decimal(15) and "WRAP-1" not in quantities
    products = {
        k: s.record for k, s in by_key((await adapter.snapshot("product", None)).records).items()
    }
    assert products["WRAP-1"].service is True and products["SHELF-1"].service is False

    results = await adapter.apply(
        "stock",
        [
            Update(key="SHELF-1", ref="x", fields={"quantity": "18"}),
            Update(key="SHELF-2", ref="x", fields={"quantity": "3"}),
            Update(key="WRAP-1", ref="x", fields={"quantity": "4"}),
        ],
    )

    assert [type(r) for r in results] == [Done, Done, Failed]
    assert "service" in results[2].reason  # type: ignore[union-attr]
    again = {
        k: s.record.quantity
        for k, s in by_key((await adapter.snapshot("stock", None)).records).items()
    }
    assert again["SHELF-1"] == Decimal(18) and again["SHELF-2"] == Decimal(3)
    assert await at(storage) == {"SHELF-1": Decimal(13), "SHELF-2": Decimal(0)}
    assert await at(shelf) == {"SHELF-1": Decimal(5), "SHELF-2": Decimal(3)}
