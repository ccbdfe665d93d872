"""Named scenarios for prices: sale prices and dates, customer- and group-specific prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from canonical.models import Price, Product, Variant
from rules.prices import PriceError, PriceRule, check_prices, erp_group, shop_price

RULE = PriceRule(groups={"Wholesale": "wholesale_customer", "Retailers": "retailer"})


def product(price: str | None = "10", sale: str | None = None, **extra: object) -> Product:
    return Product(
        sku="A1",
        name="A",
        price=None if price is None else Decimal(price),
        sale_price=None if sale is None else Decimal(sale),
        **extra,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Sale:
    name: str
    product: Product
    error: str | None = None


SALES = [
    Sale("regular price only -> published", product()),
    Sale("sale price below the regular one -> published", product(sale="8")),
    Sale(
        "sale with dates in order -> published",
        product(sale="8", sale_from=date(2025, 6, 1), sale_to=date(2025, 6, 30)),
    ),
    Sale(
        "sale price not below the regular one -> held",
        product(sale="10"),
        "article A1: sale_price 10 is not below the regular price 10",
    ),
    Sale("sale price without a regular price -> held", product(None, "5"), "without a regular"),
    Sale("negative price -> held", product("-1"), "article A1: price -1 is negative"),
    Sale(
        "sale ending before it starts -> held",
        product(sale="8", sale_from=date(2025, 6, 30), sale_to=date(2025, 6, 1)),
        "article A1: sale_to 2025-06-01 is before sale_from 2025-06-30",
    ),
    Sale(
        "sale dates without a sale price -> held",
        product(sale_from=date(2025, 6, 1)),
        "sale dates without a sale price",
    ),
    Sale(
        "a variant's sale price above its price -> held, naming the variant",
        product(None, variants=(Variant(sku="A1-S", price=Decimal(5), sale_price=Decimal(6)),)),
        "variant A1-S: sale_price 6 is not below the regular price 5",
    ),
]


@pytest.mark.parametrize("case", SALES, ids=[c.name for c in SALES])
def test_sale_prices(case: Sale) -> None:
    if case.error is None:
        check_prices(case.product)
    else:
        with pytest.raises(PriceError, match=case.error):
            check_prices(case.product)


@dataclass(frozen=True)
class Scoped:
    name: str
    price: Price
    expected: Price | str


def price(**fields: object) -> Price:
    return Price(sku="A1", amount=Decimal("9.5"), **fields)  # type: ignore[arg-type]


SCOPED = [
    Scoped("a price for everyone -> unchanged", price(), price()),
    Scoped(
        "a customer's price -> e-mail lower-cased, as the shop matches customers",
        price(customer=" Anna@Example.COM"),
        price(customer="anna@example.com"),
    ),
    Scoped(
        "a group's price -> the shop's name for the group",
        price(group="Wholesale", min_quantity=Decimal(10)),
        price(group="wholesale_customer", min_quantity=Decimal(10)),
    ),
    Scoped(
        "an unmapped group -> held, naming it, never published to the wrong customers",
        price(group="VIP"),
        "customer group 'VIP' is not mapped to a shop group \\(mapped: Retailers, Wholesale\\)",
    ),
    Scoped(
        "customer and group at once -> held", price(customer="a@b.c", group="Wholesale"), "not both"
    ),
    Scoped("a customer that is not an e-mail -> held", price(customer="Anna"), "not an e-mail"),
    Scoped("a negative amount -> held", Price(sku="A1", amount=Decimal(-1)), "is negative"),
]


@pytest.mark.parametrize("case", SCOPED, ids=[c.name for c in SCOPED])
def test_customer_and_group_prices(case: Scoped) -> None:
    if isinstance(case.expected, str):
        with pytest.raises(PriceError, match=case.expected):
            shop_price(case.price, RULE)
    else:
        assert shop_price(case.price, RULE) == case.expected


def test_a_shop_group_maps_back_to_its_erp_name() -> None:
    assert erp_group("retailer", RULE, record="p") == "Retailers"
    assert erp_group(None, RULE, record="p") is None
    with pytest.raises(PriceError, match="maps back to 0 ERP groups"):
        erp_group("unknown", RULE, record="p")
