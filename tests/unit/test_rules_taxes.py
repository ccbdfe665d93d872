"""Named scenarios for tax mapping: products (ERP code <-> shop class) and orders (country)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import pytest

from rules.taxes import (
    CountryTable,
    TaxError,
    TaxRule,
    erp_tax_code,
    order_tax_code,
    shop_tax_class,
)

RULE = TaxRule(products={"VAT20": "standard", "VAT5.5": "reduced-rate", "VAT0": "zero-rate"})
AMBIGUOUS = TaxRule(products={"VAT20": "standard", "VAT20-B2B": "standard"})
OSS: CountryTable = {
    "FR": {"standard": "FR-20", "reduced-rate": "FR-5.5"},
    "DE": {"standard": "OSS-DE-19", "reduced-rate": "OSS-DE-7"},
    "BE": "OSS-BE-21",
}


@dataclass(frozen=True)
class Case:
    name: str
    value: str | None
    expected: str  # the mapped value, or the error message


TO_SHOP = [
    Case("mapped ERP code -> its shop class", "VAT5.5", "reduced-rate"),
    Case("spaces around the code are not part of it", " VAT20 ", "standard"),
    Case(
        "unmapped ERP code -> held, naming it and what is mapped",
        "VAT7",
        "article A1: ERP tax code 'VAT7' is not mapped (mapped: VAT0, VAT20, VAT5.5)",
    ),
    Case("no tax code -> held", None, "article A1: tax_code is empty"),
]
TO_ERP = [
    Case("shop class -> the one ERP code mapped to it", "zero-rate", "VAT0"),
    Case("WooCommerce's empty class is the standard one", "", "VAT20"),
    Case("a class nothing maps to -> refused", "luxury", "shop tax class 'luxury' has no ERP"),
]
ORDERS = [
    (Case("French order, standard class -> French VAT", "FR|standard", "FR-20")),
    (Case("German consumer, reduced class -> German OSS rate", "DE|reduced-rate", "OSS-DE-7")),
    (Case("country lower-cased in the address -> still found", "de|standard", "OSS-DE-19")),
    (Case("country with one code for every class", "BE|reduced-rate", "OSS-BE-21")),
    (Case("no class on the line -> standard", "FR|", "FR-20")),
    (
        Case(
            "unmapped country -> held, naming it",
            "IT|standard",
            "order 1001: destination country 'IT' has no tax mapping (mapped: BE, DE, FR)",
        )
    ),
    (
        Case(
            "unmapped class in a mapped country -> held, naming both",
            "DE|zero-rate",
            "order 1001: tax class 'zero-rate' has no mapping for country 'DE'",
        )
    ),
    (Case("no country -> held", "|standard", "order 1001: no destination country")),
]


def _check(expected: str, compute: object) -> None:
    assert callable(compute)
    if expected.startswith(("article", "order", "shop tax")):
        with pytest.raises(TaxError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            compute()
    else:
        assert compute() == expected


@pytest.mark.parametrize("case", TO_SHOP, ids=[c.name for c in TO_SHOP])
def test_product_tax_code_to_shop_class(case: Case) -> None:
    _check(case.expected, lambda: shop_tax_class(case.value, RULE, record="article A1"))


@pytest.mark.parametrize("case", TO_ERP, ids=[c.name for c in TO_ERP])
def test_shop_class_back_to_erp_code(case: Case) -> None:
    _check(case.expected, lambda: erp_tax_code(case.value, RULE, record="p"))


@pytest.mark.parametrize("case", ORDERS, ids=[c.name for c in ORDERS])
def test_order_line_tax_per_destination_country(case: Case) -> None:
    assert case.value is not None
    country, tax_class = case.value.split("|")
    _check(case.expected, lambda: order_tax_code(OSS, country, tax_class, record="order 1001"))


def test_a_class_two_erp_codes_map_to_cannot_be_written_back() -> None:
    with pytest.raises(TaxError, match=r"several ERP tax codes \(VAT20, VAT20-B2B\)"):
        erp_tax_code("standard", AMBIGUOUS, record="p")


def test_an_empty_product_table_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="at least one ERP tax code"):
        msgspec.convert({"products": {}}, TaxRule)
