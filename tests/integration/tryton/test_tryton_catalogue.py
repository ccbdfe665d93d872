"""Catalogue rules end to end from a real Tryton: plain articles grouped into a variable product
in the WooCommerce simulator, and a customer's negotiated price, kept in a Tryton price list
assigned to the customer, published in the variation's meta data."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from integration.tryton.tryton_setup import TAX_NAME
from integration.tryton.tryton_shop import Sides, rpc, sides

from adapters.base import Create
from adapters.tryton.adapter import TrytonAdapter
from adapters.tryton.client import TrytonClient
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import model as shop_model
from canonical.fields import to_fields
from canonical.models import Customer, Product
from engine.config import JobConfig
from engine.cycle.run import CycleResult, run_cycle
from engine.store.state import Store
from rules.policy import FieldRule, KindRules
from rules.transforms import Transforms

__all__ = ["rpc", "sides"]  # the fixtures, shared

ERP_OWNS = KindRules(default=FieldRule(owner="erp"))
TRANSFORMS = msgspec.convert(
    {
        "variants": {
            "pattern": r"^(?P<parent>TEE\d+)-(?P<colour>[A-Z]+)-(?P<size>[A-Z]+)$",
            "attributes": {"colour": "Colour", "size": "Size"},
        },
        "taxes": {"products": {TAX_NAME: "standard"}},
        "prices": {},
    },
    Transforms,
)
SKUS = ("TEE001-RED-S", "TEE001-RED-M", "TEE001-BLUE-M")
ANN = "Ann@Example.com"
META = "_concord_price_customer_ann@example.com"


async def cycle(store: Store, sides: Sides, kind: str) -> CycleResult:
    return await run_cycle(
        store,
        connection="main",
        job_name=kind,
        job=JobConfig(kind=kind),
        rules=ERP_OWNS,
        adapters=dict(sides.adapters),
        full=True,
        transforms=TRANSFORMS,
    )


async def plant(erp: TrytonAdapter) -> None:
    """Three plain Tryton articles of one model, and a customer."""
    articles = [
        Create(
            key=sku,
            fields=to_fields(
                Product(
                    sku=sku,
                    name=f"Tee 1 {sku.split('-')[1].title()} {sku.split('-')[2]}",
                    price=Decimal("20"),
                    tax_code=TAX_NAME,
                )
            ),
        )
        for sku in SKUS
    ]
    await erp.apply("product", articles)
    ann = Customer(email=ANN, first_name="Ann", last_name="Lake")
    await erp.apply("customer", [Create(key=ann.email.lower(), fields=to_fields(ann))])


async def give_price_list(rpc: TrytonClient, email: str, sku: str, formula: str) -> int:
    """What a salesperson does: a price list with one line for ``sku``, assigned to the party
    with this e-mail. Returns the line's id."""
    [product] = await rpc.search("product.product", [["code", "=", sku]])
    [mechanism] = await rpc.search_read(
        "party.contact_mechanism", [["type", "=", "email"], ["value", "ilike", email]], ["party"]
    )
    [price_list] = await rpc.execute(
        "product.price_list",
        "create",
        [{"name": "Ann's prices", "price": "list_price"}],
    )
    [line] = await rpc.execute(
        "product.price_list.line",
        "create",
        [{"price_list": price_list, "product": product, "formula": formula, "sequence": 0}],
    )
    await rpc.execute("party.party", "write", [mechanism["party"]], {"sale_price_list": price_list})
    return int(line)


def _meta(shop: ShopStore, sku: str) -> dict[str, object]:
    item = shop.product_by_sku(sku)
    assert item is not None, f"no {sku} in the shop"
    return {e.key: e.value for e in item.meta_data}


async def test_a_customer_price_list_in_tryton_reaches_the_variation_s_meta_data(
    store: Store, sides: Sides, rpc: TrytonClient
) -> None:
    await plant(sides.erp)
    line = await give_price_list(rpc, ANN, "TEE001-RED-M", "17.5")

    products = await cycle(store, sides, "product")

    assert products.failures == [] and products.rejected == []
    tee = sides.shop.product_by_sku("TEE001")
    assert isinstance(tee, shop_model.Product) and tee.type == "variable"
    assert sorted(sides.shop.variations[v].sku for v in tee.variations) == sorted(SKUS)

    prices = await cycle(store, sides, "price")

    assert prices.failures == [] and prices.rejected == []
    assert _meta(sides.shop, "TEE001-RED-M") == {META: "17.5"}
    assert _meta(sides.shop, "TEE001-RED-S") == {} and _meta(sides.shop, "TEE001-BLUE-M") == {}
    assert {sides.shop.variations[v].regular_price for v in tee.variations} == {"20"}
    again = await cycle(store, sides, "price")
    assert again.operations == {"erp": [], "shop": []}

    # The salesperson renegotiates: the next price cycle carries the new amount over.
    await rpc.execute("product.price_list.line", "write", [line], {"formula": "16"})

    renegotiated = await cycle(store, sides, "price")

    assert renegotiated.failures == []
    assert [op.key for op in renegotiated.operations["shop"]] == [
        "TEE001-RED-M|customer:ann@example.com|1"
    ]
    assert _meta(sides.shop, "TEE001-RED-M") == {META: "16"}

    # The negotiated price ends: the shop's entry is emptied, as the pricing plugins expect.
    await rpc.execute("product.price_list.line", "delete", [line])

    withdrawn = await cycle(store, sides, "price")

    assert withdrawn.failures == []
    assert _meta(sides.shop, "TEE001-RED-M") == {META: ""}
    assert {sides.shop.variations[v].regular_price for v in tee.variations} == {"20"}
