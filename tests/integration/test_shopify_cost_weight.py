"""An article's cost and weight in Shopify, on each variant's inventory item: written and read
back equal by every channel (calls and bulk mutations, pages and bulk reads), a weight kept in
another unit read in kilograms, and what Shopify would not keep as sent refused. The simulator
over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from shopify_sim_fixtures import Client, running_shop

from adapters.base import Create, Done, Failed, Update
from adapters.shopify import simulator
from adapters.shopify.adapter import ShopifyAdapter
from adapters.shopify.settings import ShopifySettings
from adapters.simkit import serve
from canonical.fields import to_fields
from canonical.models import Attribute, Product, Variant

MUG = Product(
    sku="MUG-1",
    name="Mug",
    price=Decimal("12.50"),
    cost=Decimal("4.20"),
    weight=Decimal("0.35"),
)
BOOT = Product(
    sku="BOOT",
    name="Boot",
    variants=(
        Variant(
            sku="BOOT-38",
            attributes=(Attribute(name="Size", value="38"),),
            price=Decimal("59"),
            cost=Decimal("21.5"),
            weight=Decimal("0.9"),
        ),
        Variant(
            sku="BOOT-40",
            attributes=(Attribute(name="Size", value="40"),),
            price=Decimal("61"),
            cost=Decimal("22"),
            weight=Decimal("1.125"),
        ),
        # No cost and no weight of its own: none is written, none read.
        Variant(sku="BOOT-42", attributes=(Attribute(name="Size", value="42"),), price=Decimal(61)),
    ),
)


def _adapter(url: str, channel: str) -> ShopifyAdapter:
    bulk = channel == "bulk"
    return ShopifyAdapter(
        ShopifySettings(
            url=url,
            access_token="shpat_test",
            location="Warehouse",
            bulk_read_above=0 if bulk else 10**6,
            bulk_write_above=0 if bulk else 10**6,
            calls_beside_bulk=False,
            bulk_poll_seconds=0.05,
        )
    )


@pytest.fixture(params=["calls", "bulk"])
async def shop(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, ShopifyAdapter]]:
    """An empty shop; the adapter writes and reads in full call by call and page by page, or
    by bulk mutations and bulk queries."""
    app = simulator.create_app(settings=simulator.Settings(bucket_size=2000, restore_rate=1000))
    async with serve(app) as url:
        adapter = _adapter(url, request.param)
        try:
            yield app, adapter
        finally:
            await adapter.aclose()


async def _read_back(adapter: ShopifyAdapter) -> dict[str, Product]:
    """Every article as a fresh adapter reads it (nothing remembered from the writes)."""
    fresh = ShopifyAdapter(adapter.settings)
    try:
        snapshot = await fresh.snapshot("product", None)
    finally:
        await fresh.aclose()
    return {s.record.natural_key(): s.record for s in snapshot.records}  # type: ignore[misc]


def _variant(app: Any, sku: str) -> Any:
    store = simulator.shop_of(app).store
    return next(v for v in store.variants.values() if v.sku == sku)


async def test_cost_and_weight_read_back_as_written_each_variant_its_own(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    app, adapter = shop
    results = await adapter.apply(
        "product", [Create(key=p.sku, fields=to_fields(p)) for p in (MUG, BOOT)]
    )
    assert all(isinstance(r, Done) for r in results), results
    assert await _read_back(adapter) == {"MUG-1": MUG, "BOOT": BOOT}
    # Shopify holds the weight in kilograms, and 0 kg for none.
    held = _variant(app, "BOOT-40")
    assert (held.cost, held.weight, held.weight_unit) == (Decimal("22.00"), 1.125, "KILOGRAMS")
    assert (_variant(app, "BOOT-42").cost, _variant(app, "BOOT-42").weight) == (None, 0.0)
    # A changed cost and a weight taken away are written, the rest kept.
    [mug] = [r for r in results if r.key == "MUG-1"]
    assert isinstance(mug, Done)
    change = Update(key="MUG-1", ref=mug.ref, fields={"cost": "4.5", "weight": None})
    assert isinstance((await adapter.apply("product", [change]))[0], Done)
    seen = await _read_back(adapter)
    assert seen["MUG-1"] == Product(
        sku="MUG-1", name="Mug", price=Decimal("12.50"), cost=Decimal("4.5")
    )


async def test_a_weight_kept_in_another_unit_reads_in_kilograms(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    app, adapter = shop
    assert all(
        isinstance(r, Done)
        for r in await adapter.apply(
            "product", [Create(key=p.sku, fields=to_fields(p)) for p in (MUG, BOOT)]
        )
    )
    store = simulator.shop_of(app).store
    # The merchant weighs in grams and in pounds in the shop's admin.
    for sku, value, unit in (("MUG-1", 350.0, "GRAMS"), ("BOOT-38", 2.0, "POUNDS")):
        variant = _variant(app, sku)
        variant.weight, variant.weight_unit = value, unit
        store.touch_product(store.products[variant.product_id])
    seen = await _read_back(adapter)
    assert seen["MUG-1"].weight == Decimal("0.35")  # the same weight: nothing to write
    assert seen["BOOT"].variants[0].weight == Decimal("0.90718474")
    assert seen["BOOT"].variants[1].weight == Decimal("1.125")


async def test_a_cost_or_weight_shopify_would_not_keep_as_sent_is_refused(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    _, adapter = shop
    fine = Product(sku="OK-1", name="Fine", price=Decimal(3), cost=Decimal("1.25"))
    rounded = Product(sku="CENT-1", name="Tenth of a cent", price=Decimal(3), cost=Decimal("1.255"))
    heavy = Product(
        sku="HEAVY-1", name="Too precise", price=Decimal(3), weight=Decimal("0.1234567890123456789")
    )
    results = await adapter.apply(
        "product", [Create(key=p.sku, fields=to_fields(p)) for p in (fine, rounded, heavy)]
    )
    done, cent, precise = results
    assert isinstance(done, Done)
    assert isinstance(cent, Failed) and "cost" in cent.reason and not cent.transient
    assert isinstance(precise, Failed) and "weight" in precise.reason
    assert set(await _read_back(adapter)) == {"OK-1"}  # nothing rounded was written


async def test_a_price_shopify_would_round_or_sell_at_nothing_is_refused(
    shop: tuple[Any, ShopifyAdapter],
) -> None:
    _, adapter = shop
    fine = Product(sku="OK-2", name="Fine", price=Decimal("3.10"))
    rounded = Product(sku="MILL-1", name="Mill", price=Decimal("3.105"))
    unpriced = Product(sku="FREE-1", name="No price yet")
    no_variant_price = Product(
        sku="TEE",
        name="Tee",
        variants=(
            Variant(sku="TEE-S", attributes=(Attribute(name="Size", value="S"),), price=Decimal(9)),
            Variant(sku="TEE-M", attributes=(Attribute(name="Size", value="M"),)),
        ),
    )
    products = (fine, rounded, unpriced, no_variant_price)
    results = await adapter.apply(
        "product", [Create(key=p.sku, fields=to_fields(p)) for p in products]
    )
    done, mill, free, tee = results
    assert isinstance(done, Done)
    assert isinstance(mill, Failed) and "price: 3.105 of MILL-1" in mill.reason
    assert isinstance(free, Failed) and "price: FREE-1 has none" in free.reason
    assert isinstance(tee, Failed) and "price: TEE-M has none" in tee.reason
    assert not any(r.transient for r in (mill, free, tee))
    # A price taken away later is refused too: the shop keeps the one it has.
    assert isinstance(done, Done)
    cleared = Update(key="OK-2", ref=done.ref, fields={"price": None})
    [refused] = await adapter.apply("product", [cleared])
    assert isinstance(refused, Failed) and "price: OK-2 has none" in refused.reason
    assert (await _read_back(adapter)) == {"OK-2": fine}


SET = (
    "mutation Set($input: ProductSetInput!) { productSet(input: $input) {"
    " product { variants(first: 5) { nodes { inventoryItem {"
    " unitCost { amount currencyCode } measurement { weight { value unit } } } } } }"
    " userErrors { field message code } } }"
)


def _one_variant(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "input": {
            "title": "Checked",
            "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
            "variants": [
                {
                    "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                    "price": "5.00",
                    "inventoryItem": {"sku": "CHK-1", **item},
                }
            ],
        }
    }


async def _check(client: Client, item: dict[str, Any]) -> Any:
    _, body = await client.post(SET, _one_variant(item))
    return body


async def test_the_simulator_keeps_and_checks_cost_and_weight_as_shopify_does() -> None:
    async with running_shop(products=0) as client:
        kept = await _check(
            client, {"cost": "2.5", "measurement": {"weight": {"value": 250, "unit": "GRAMS"}}}
        )
        [node] = kept["data"]["productSet"]["product"]["variants"]["nodes"]
        assert node["inventoryItem"] == {
            "unitCost": {"amount": "2.50", "currencyCode": "EUR"},
            "measurement": {"weight": {"value": 250.0, "unit": "GRAMS"}},
        }
        # The schema refuses a unit outside WeightUnit and a field Shopify does not have.
        for wrong in (
            {"measurement": {"weight": {"value": 1, "unit": "STONES"}}},
            {"measurement": {"weight": {"value": 1}}},
            {"weight": 1},
            {"unitCost": "1.00"},
        ):
            body = await _check(client, wrong)
            assert body.get("errors") and not body.get("data"), (wrong, body)
        negative = await _check(
            client, {"cost": "-1", "measurement": {"weight": {"value": -0.5, "unit": "KILOGRAMS"}}}
        )
        payload = negative["data"]["productSet"]
        assert payload["product"] is None
        assert [e["field"][-1] for e in payload["userErrors"]] == ["cost", "value"]
