"""Sales, payments and credit notes as journal entries (rules/accounting/entries.py)."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date
from decimal import Decimal

import msgspec
import pytest
from accounting_samples import chart, order, refund

from canonical.errors import ConfigError
from engine.config import parse_config
from rules.accounting.chart import check_chart
from rules.accounting.documents import SaleAmount, TaxTotal
from rules.accounting.entries import (
    Entry,
    EntryHeld,
    credit_note_entry,
    customer_code,
    payment_entry,
    plan,
    prorate,
    sale_entry,
)

NOV = (date(2026, 11, 1), date(2026, 11, 30))


def by_account(entry: Entry) -> dict[str, Decimal]:
    """Credit minus debit per account."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in entry.lines:
        sums[line.account] += line.credit - line.debit
    return dict(sums)


def test_a_sale_books_revenue_and_vat_per_rate_of_the_destination_country() -> None:
    entry = sale_entry(order(), chart(), UTC)
    assert entry.debit == entry.credit == Decimal("135.65")
    assert by_account(entry) == {
        "411000": Decimal("-135.65"),
        "707219": Decimal("100.00"),
        "707207": Decimal("10.00"),
        "708500": Decimal("5.00"),
        "445719": Decimal("19.95"),
        "445707": Decimal("0.70"),
    }
    assert entry.day == date(2026, 11, 3) and entry.journal == "VE"


def test_a_french_rate_charged_to_a_german_consumer_is_held_under_oss() -> None:
    wrong = order(
        amounts=(SaleAmount(kind="goods", label="Book", net=Decimal(100), rate=Decimal(20)),),
        taxes=(TaxTotal(rate=Decimal(20), amount=Decimal(20)),),
        total=Decimal(120),
    )
    with pytest.raises(EntryHeld, match=r"order 101: VAT 20% .* DE has no VAT rate 20%"):
        sale_entry(wrong, chart(), UTC)
    # Without the one-stop shop the seller's own VAT is right, on the French accounts.
    entry = sale_entry(wrong, chart(oss=False), UTC)
    assert by_account(entry)["445711"] == Decimal(20)


def test_an_unmapped_rate_is_held_naming_the_key_to_add() -> None:
    with pytest.raises(EntryHeld, match=r'no accounts for VAT rate 7% in DE \(add "DE:7"'):
        sale_entry(order(), chart(vat={"DE:19": {"sales": "707219", "vat": "445719"}}), UTC)


def test_an_unknown_payment_method_holds_the_payment_but_not_the_sale() -> None:
    doc = order(gateway="cod")
    result = plan([doc], chart(), UTC, start=NOV[0], end=NOV[1], booked=set())
    assert [e.key for e in result.entries] == ["sale:101"]
    assert [h.key for h in result.held] == ["payment:101"]
    assert "payment method 'cod' has no journal" in result.held[0].reason


def test_a_cent_of_rounding_goes_to_the_rounding_accounts_and_more_is_held() -> None:
    up = sale_entry(order(total=Decimal("135.66")), chart(), UTC)
    assert by_account(up)["758000"] == Decimal("0.01")
    down = sale_entry(order(total=Decimal("135.64")), chart(), UTC)
    assert by_account(down)["658000"] == Decimal("-0.01")
    with pytest.raises(EntryHeld, match="is not a rounding"):
        sale_entry(order(total=Decimal("136.65")), chart(), UTC)


def test_the_payment_is_lettered_against_the_sale() -> None:
    config = chart()
    sale, payment = sale_entry(order(), config, UTC), payment_entry(order(), config, UTC)
    assert payment.journal == "CB"
    assert by_account(payment) == {"511100": Decimal("-135.65"), "411000": Decimal("135.65")}
    sale_match = {line.match for line in sale.lines if line.account == "411000"}
    pay_match = {line.match for line in payment.lines if line.account == "411000"}
    assert sale_match == pay_match == {"S101"}


def test_a_partial_refund_reverses_the_sale_in_proportion_to_the_cent() -> None:
    config = chart()
    note = credit_note_entry(order(), refund("900", "45.22"), config, UTC)
    assert note.debit == note.credit == Decimal("45.22")
    sums = by_account(note)
    assert sums["411000"] == Decimal("45.22")
    assert sum((v for k, v in sums.items() if k != "411000"), Decimal(0)) == Decimal("-45.22")
    # 45.22 is about a third of 135.65: each line a third, to the cent.
    assert sums["707219"] == Decimal("-33.33") or sums["707219"] == Decimal("-33.34")
    full = credit_note_entry(order(), refund("901", "135.65"), config, UTC)
    assert by_account(full) == {
        k: -v for k, v in by_account(sale_entry(order(), config, UTC)).items()
    }


def test_prorate_adds_up_exactly() -> None:
    shares = prorate([Decimal("10.00"), Decimal("10.00"), Decimal("10.00")], Decimal("10.00"))
    assert sum(shares) == Decimal("10.00") and sorted(shares) == [
        Decimal("3.33"),
        Decimal("3.33"),
        Decimal("3.34"),
    ]


def test_per_customer_accounts_are_auxiliary_accounts_of_the_collective_one() -> None:
    config = chart(customer_mode="per_customer")
    entry = sale_entry(order(), config, UTC)
    customer = next(line for line in entry.lines if line.account == "411000")
    assert customer.aux == customer_code("Anna@Example.com ", "C") and customer.aux.startswith("C")
    assert customer.aux_label == "Anna Schmidt"
    with pytest.raises(EntryHeld, match="customer_email 'nobody' is not an e-mail"):
        sale_entry(order(customer_email="nobody"), config, UTC)


def test_one_entry_per_day_keeps_a_customer_line_per_order() -> None:
    config = chart(entry_per="day")
    docs = [order("101"), order("102"), order("103", paid_at=order().paid_at.replace(day=4))]  # type: ignore[union-attr]
    result = plan(
        docs, config, UTC, start=NOV[0], end=NOV[1], booked=set(), open_day=date(2026, 11, 4)
    )
    days = [e for e in result.entries if e.kind == "sales_day"]
    assert len(days) == 1 and result.waiting == 1
    day = days[0]
    assert day.sources == ("sale:101", "sale:102")
    assert len([line for line in day.lines if line.account == "411000"]) == 2
    assert by_account(day)["445719"] == Decimal("39.90")
    assert day.debit == day.credit


def test_a_rerun_plans_nothing_already_booked_and_refunds_in_their_own_period() -> None:
    doc = order(refunds=(refund("900", "10.00", day=2),))
    first = plan([doc], chart(), UTC, start=NOV[0], end=NOV[1], booked=set())
    assert [e.kind for e in first.entries] == ["credit_note", "refund_payment", "sale", "payment"]
    keys = {source for e in first.entries for source in e.sources}
    again = plan([doc], chart(), UTC, start=NOV[0], end=NOV[1], booked=keys)
    assert again.entries == [] and again.held == []
    december = plan(
        [doc], chart(), UTC, start=date(2026, 12, 1), end=date(2026, 12, 31), booked=set()
    )
    assert december.entries == []


def test_unpaid_and_foreign_currency_orders() -> None:
    unpaid = order(paid_at=None, status="pending")
    assert plan([unpaid], chart(), UTC, start=NOV[0], end=NOV[1], booked=set()).entries == []
    dollars = plan([order(currency="USD")], chart(), UTC, start=NOV[0], end=NOV[1], booked=set())
    assert {h.key for h in dollars.held} == {"sale:101", "payment:101"}
    assert "currency 'USD'" in dollars.held[0].reason


def test_the_chart_is_checked_with_record_field_and_reason() -> None:
    assert check_chart(chart()) == []
    bad = chart(
        siren="123456789",
        vat={
            "DE:20": {"sales": "70A", "vat": "445719"},
            "Germany": {"sales": "707", "vat": "4457"},
        },
        gateways={"stripe": {"journal": "VE", "clearing": "x"}},
    )
    found = {(p.record, p.field): p.reason for p in check_chart(bad)}
    assert "not a SIREN" in found[("", "siren")]
    assert "DE has no VAT rate 20" in found[("vat.DE:20", "(key)")]
    assert "not an account number" in found[("vat.DE:20", "sales")]
    assert "expected <country>:<rate>" in found[("vat.Germany", "(key)")]
    assert "is the sales journal" in found[("gateways.stripe", "journal")]
    assert "not an account number" in found[("gateways.stripe", "clearing")]
    with pytest.raises(msgspec.ValidationError, match="shipping_account"):
        msgspec.convert({"siren": "732829320", "fees_account": "7088"}, type(chart()))


@pytest.mark.parametrize(
    "module",
    [
        "rules.accounting.entries",
        "rules.accounting.fec",
        "rules.accounting.fec_check",
        "rules.accounting.csv_journal",
    ],
)
def test_the_accounting_rules_speak_neither_http_nor_sql(module: str) -> None:
    code = f"import sys, {module}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "aiohttp" not in loaded and "asyncpg" not in loaded


CONFIG = """
[connections.main.erp]
type = "memory"
[connections.main.shop]
type = "memory"
[connections.main.accounting]
siren = "732829320"
shipping_account = "708500"
fees_account = "708800"
timezone = "Europe/Paris"
[connections.main.accounting.vat]
"FR:20" = { sales = "707100", vat = "445711" }
"""


def test_the_configuration_names_the_accounting_key_and_reason() -> None:
    assert parse_config(CONFIG, source="c.toml").connections["main"].accounting is not None
    with pytest.raises(ConfigError) as bad_rate:
        parse_config(CONFIG.replace('"FR:20"', '"DE:20"'), source="c.toml")
    assert bad_rate.value.key == "connections.main.accounting.vat.DE:20.(key)"
    assert "DE has no VAT rate 20" in bad_rate.value.reason
    with pytest.raises(ConfigError) as bad_zone:
        parse_config(CONFIG.replace("Europe/Paris", "Mars/Olympus"), source="c.toml")
    assert bad_zone.value.key == "connections.main.accounting.timezone"
    with pytest.raises(ConfigError) as unknown:
        parse_config(CONFIG + 'secret = "x"\n', source="c.toml")
    assert "accounting" in unknown.value.key
