"""Rounding lines make the ERP's predicted total the shop's, whatever the ERP rounds (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canonical.orders import ErpPricing, SaleLine
from engine.orders.held import reason_kind
from rules.order_amounts import AmountsError, erp_total, fit_lines, money

RATES = {"VAT 20%": Decimal(20), "VAT 5.5%": Decimal("5.5")}
PER_LINE = ErpPricing(tax_rates=RATES)
GLOBALLY = ErpPricing(tax_rates=RATES, per_line=False)


def line(quantity: int, unit: str, code: str | None = "VAT 20%", discount: str = "0") -> SaleLine:
    return SaleLine(
        sku="A",
        name="A",
        quantity=Decimal(quantity),
        unit_price=Decimal(unit),
        discount_percent=Decimal(discount),
        tax_code=code,
    )


def shop_total(priced: list[tuple[SaleLine, Decimal]]) -> Decimal:
    """The shop's way: net per line, tax per line rounded (WooCommerce's default)."""
    total = Decimal(0)
    for sale_line, net in priced:
        rate = RATES.get(sale_line.tax_code or "", Decimal(0))
        total += net + money(net * rate / 100)
    return total


def test_a_unit_price_the_erp_rounds_gets_a_rounding_line_taxed_like_it() -> None:
    thousand = line(1000, "3.771")
    total = shop_total([(thousand, Decimal("3771.00"))])

    lines = fit_lines([(thousand, Decimal("3771.00"))], total, PER_LINE, rounding_sku="ROUND")

    assert [(x.sku, x.name, x.unit_price, x.tax_code) for x in lines] == [
        ("A", "A", Decimal("3.77"), "VAT 20%"),
        ("ROUND", "Rounding: VAT 20%", Decimal("1.00"), "VAT 20%"),
    ]
    assert erp_total(lines, PER_LINE) == total == Decimal("4525.20")


def test_tax_rounded_once_per_document_leaves_an_untaxed_cent_line() -> None:
    # 0.006 of tax a line: the shop rounds each to 0.01 (0.03), the ERP the sum 0.018 (0.02).
    priced = [(line(1, "0.03"), Decimal("0.03")) for _ in range(3)]
    total = shop_total(priced)

    lines = fit_lines(priced, total, GLOBALLY, rounding_sku=None)

    assert lines[-1].name == "Rounding" and lines[-1].tax_code is None
    assert lines[-1].unit_price == Decimal("0.01")
    assert erp_total(lines, GLOBALLY) == total


def test_more_than_a_cent_a_line_is_no_rounding_and_is_refused() -> None:
    priced = [(line(1, "10.00"), Decimal("10.00"))]
    with pytest.raises(AmountsError, match="a tax mapped to another rate"):
        fit_lines(priced, Decimal("10.55"), PER_LINE, rounding_sku=None)
    with pytest.raises(AmountsError, match="no tax 'VAT 7%'"):
        fit_lines(
            [(line(1, "1", "VAT 7%"), Decimal(1))], Decimal("1.07"), PER_LINE, rounding_sku=None
        )


@given(
    st.lists(
        st.tuples(
            st.integers(1, 2000),
            st.decimals(Decimal("0.001"), Decimal("999.999"), places=3),
            st.sampled_from(["VAT 20%", "VAT 5.5%", None]),
            st.sampled_from(["0", "10", "15", "33.3333"]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([PER_LINE, GLOBALLY, ErpPricing(tax_rates=RATES, price_digits=4)]),
)
def test_the_erp_total_is_the_shops_for_any_lines(
    specs: list[tuple[int, Decimal, str | None, str]], pricing: ErpPricing
) -> None:
    priced = []
    for quantity, unit, code, discount in specs:
        sale_line = line(quantity, f"{unit}", code, discount)
        gross = Decimal(quantity) * unit
        priced.append((sale_line, money(gross - money(gross * Decimal(discount) / 100))))
    total = shop_total(priced)

    lines = fit_lines(priced, total, pricing, rounding_sku=None)

    assert erp_total(lines, pricing) == total
    assert all(
        x.unit_price == x.unit_price.quantize(Decimal("0.0001")) for x in lines[: len(specs)]
    )


def test_reasons_are_counted_without_the_order_and_its_values() -> None:
    assert reason_kind("order 1042: no tax mapping for destination country 'US' (add it)") == (
        "no tax mapping for destination country '…' (add it)"
    )
    assert (
        reason_kind("order 7: the ERP's sale order S00012 totals 41.99, the shop's order 42.00")
        == "the ERP's sale order S# totals #, the shop's order #"
    )
