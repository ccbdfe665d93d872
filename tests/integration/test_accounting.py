"""The books from the WooCommerce simulator over HTTP, on real Postgres: a month of 1,000
orders with refunds, several countries and payment methods, booked and written as a FEC."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from accounting_month import chart, place_month

from adapters import simkit
from adapters.base import Adapter, Side
from adapters.memory.adapter import MemoryAdapter
from adapters.woocommerce import adapter as wc_adapter
from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import create_app as shop_app
from adapters.woocommerce.simulator import store_of as shop_store
from engine.accounting.export import export_file
from engine.accounting.job import run_booking
from engine.accounting.jobs import booking_period
from engine.accounting.store import Ledger
from engine.config import ConnectionConfig
from engine.jobs import JobContext, load_runner, schedule_of, scheduled_jobs
from engine.store.state import Store
from rules.accounting.chart import AccountingConfig, parse_vat_key
from rules.accounting.fec import COLUMNS
from rules.accounting.fec_check import check_fec
from rules.policy import KindRules

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
TODAY = date(2026, 12, 4)


class Shop(msgspec.Struct, kw_only=True):
    store: ShopStore
    adapters: dict[Side, Adapter]


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    app = shop_app()
    (tmp_path / "ck").write_text("ck_test")
    (tmp_path / "cs").write_text("cs_test")
    async with simkit.serve(app) as url:
        adapter = wc_adapter.create(
            {
                "url": url,
                "consumer_key_file": str(tmp_path / "ck"),
                "consumer_secret_file": str(tmp_path / "cs"),
                "requests_per_second": 1000,
            },
            source="test.toml",
        )
        try:
            yield Shop(store=shop_store(app), adapters={"erp": MemoryAdapter(), "shop": adapter})
        finally:
            await adapter.aclose()


async def book_and_export(
    store: Store, shop: Shop, config: AccountingConfig, out: Path, period: tuple[date, date]
) -> tuple[dict[str, int], str]:
    result = await run_booking(
        store,
        connection="main",
        adapters=shop.adapters,
        config=config,
        start=period[0],
        end=period[1],
        today=TODAY,
    )
    path, _ = await export_file(
        store,
        connection="main",
        config=config,
        start=period[0],
        end=period[1],
        fmt="fec",
        output=out,
    )
    assert path.name == f"732829320FEC{period[1]:%Y%m%d}.txt"
    return result.counts, path.read_bytes().decode("iso8859_15")


def fec_table(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    return [dict(zip(COLUMNS, line.split("\t"), strict=True)) for line in lines[1:]]


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def shop_vat_by_rate(
    shop: ShopStore, start: datetime, end: datetime
) -> dict[tuple[str, Decimal], Decimal]:
    """The VAT the shop charged per (destination country, rate) on the orders paid in the
    period (its tax lines, items and shipping)."""
    totals: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for order in shop.orders.values():
        paid = datetime.fromisoformat(order.date_paid_gmt or "").replace(tzinfo=UTC)
        if not start <= paid < end:
            continue
        for line in order.tax_lines:
            key = (order.shipping.country, Decimal(str(line.rate_percent)))
            totals[key] += Decimal(line.tax_total) + Decimal(line.shipping_tax_total)
    return {k: v for k, v in totals.items() if v}


async def test_a_month_of_1000_orders_is_booked_once_balanced_and_as_the_shop_charged(
    store: Store, shop: Shop, tmp_path: Path
) -> None:
    orders = place_month(shop.store, 1000, unknown_gateway_every=250)
    config = chart()

    counts, text = await book_and_export(store, shop, config, tmp_path, NOVEMBER)

    assert counts["read"] == 1000
    # Four orders were paid cash on delivery, which the books do not map: their payments
    # (and the refunds' payments, if any) are held, their sales booked.
    held = [d for d in await store.list_dead_letters("main") if d.kind == "accounting"]
    assert {d.key.split(":")[0] for d in held} <= {"payment", "refund-payment"}
    assert len([d for d in held if d.key.startswith("payment:")]) == 4
    assert all("payment method 'cod' has no journal" in d.reason for d in held)
    assert counts["booked_sale"] == 1000 and counts["booked_payment"] == 996
    refunds = [r for rs in shop.store.refunds.values() for r in rs]
    in_november = [r for r in refunds if r.date_created_gmt < "2026-11-30T23:00:00"]
    assert counts["booked_credit_note"] == len(in_november) > 40

    assert check_fec(text, name="732829320FEC20261130.txt") == []
    table = fec_table(text)
    numbers = sorted({int(row["EcritureNum"]) for row in table})
    assert numbers == list(range(1, counts["booked"] + 1))
    per_entry: dict[str, Decimal] = defaultdict(Decimal)
    for row in table:
        per_entry[row["EcritureNum"]] += amount(row["Debit"]) - amount(row["Credit"])
    assert set(per_entry.values()) == {Decimal(0)}
    journals = Counter(row["JournalCode"] for row in table if row["CompteNum"] != "411000")
    assert {"VE", "CB", "PP", "BQ"} <= set(journals)

    # The VAT of every rate and country, as the shop totalled it, on its own account.
    vat_account = {accounts.vat: parse_vat_key(key) for key, accounts in config.vat.items()}
    booked_vat: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    for row in table:
        if (
            row["JournalCode"] == "VE"
            and row["CompteNum"] in vat_account
            and "refund" not in row["EcritureLib"]
        ):
            country, rate = vat_account[row["CompteNum"]] or ("", Decimal(0))
            booked_vat[(country, rate)] += amount(row["Credit"]) - amount(row["Debit"])
    start = datetime(2026, 10, 31, 23, tzinfo=UTC)
    expected = shop_vat_by_rate(shop.store, start, datetime(2026, 11, 30, 23, tzinfo=UTC))
    assert {k: v for k, v in booked_vat.items() if v} == expected
    assert {country for country, _ in expected} == {"FR", "DE", "BE", "IT", "ES"}

    # Every sale's customer line is lettered with its payment, except the unmapped ones.
    sale_letters = Counter(
        row["EcritureLet"] for row in table if row["EcritureLet"].startswith("S")
    )
    assert len(sale_letters) == 996 and set(sale_letters.values()) == {2}
    assert sum(Decimal(o.total) for o in orders) == sum(
        amount(row["Debit"])
        for row in table
        if row["JournalCode"] == "VE" and row["CompteNum"] == "411000"
    )

    # A second run books nothing, holds the same, and writes the same file.
    again, text_again = await book_and_export(store, shop, config, tmp_path, NOVEMBER)
    assert again.get("booked", 0) == 0 and again["held"] == counts["held"]
    assert text_again == text
    assert sum((await Ledger(store).counts("main")).values()) == counts["booked"]

    # December: the late refunds, numbered on from November's last entry.
    december = (date(2026, 12, 1), date(2026, 12, 31))
    later, text_december = await book_and_export(store, shop, config, tmp_path, december)
    assert later["booked_credit_note"] == len(refunds) - len(in_november)
    assert check_fec(text_december) == []
    first = (
        min(int(row["EcritureNum"]) for row in fec_table(text_december)) if later["booked"] else 0
    )
    assert first in (0, counts["booked"] + 1)


async def test_one_sales_entry_per_day_and_a_held_rate_released_once_mapped(
    store: Store, shop: Shop, tmp_path: Path
) -> None:
    place_month(shop.store, 120, seed=3)
    partial = chart(entry_per="day")
    without_belgium = msgspec.structs.replace(
        partial, vat={k: v for k, v in partial.vat.items() if not k.startswith("BE:")}
    )

    counts, text = await book_and_export(store, shop, without_belgium, tmp_path, NOVEMBER)

    held = [d for d in await store.list_dead_letters("main") if d.kind == "accounting"]
    assert held and all("in BE" in d.reason and "accounting.vat" in d.reason for d in held)
    assert check_fec(text) == []
    day_entries = {row["EcritureNum"] for row in fec_table(text) if row["PieceRef"].startswith("D")}
    assert 25 <= len(day_entries) <= 30 and counts["booked_sales_day"] == len(day_entries)

    counts, text = await book_and_export(store, shop, partial, tmp_path, NOVEMBER)

    assert counts["held"] == 0 and counts["booked"] > 0
    assert [d for d in await store.list_dead_letters("main") if d.kind == "accounting"] == []
    assert check_fec(text) == []


async def test_the_loop_books_from_last_month_to_today(store: Store, shop: Shop) -> None:
    books = chart(since="2026-11-15")
    connection = msgspec.convert(
        {"erp": {"type": "memory"}, "shop": {"type": "woocommerce"}}, ConnectionConfig
    )
    connection = msgspec.structs.replace(connection, accounting=books)
    job = scheduled_jobs(connection)["accounting"]
    assert job.run == "accounting" and schedule_of(job) == "1d"
    assert booking_period(books, date(2026, 12, 4)) == (date(2026, 11, 15), date(2026, 12, 4))
    assert booking_period(chart(), date(2027, 1, 9)) == (date(2026, 12, 1), date(2027, 1, 9))
    place_month(shop.store, 40, seed=5)
    shop.store.clock = lambda: datetime.now(UTC)
    shop.store.add_order(
        [("ART-000", 1)],
        status="processing",
        payment_method="stripe",
        billing={"country": "FR", "email": "now@example.com"},
    )
    outcome = await load_runner("accounting")(
        JobContext(
            store=store,
            connection="main",
            job_name="accounting",
            job=job,
            adapters=shop.adapters,
            full=False,
            rules=KindRules(),
            accounting=books,
        )
    )
    assert outcome.run_id is not None
    # Today's order and the November orders from the 15th on: each a sale and a payment.
    paid_since = [
        o for o in shop.store.orders.values() if (o.date_paid_gmt or "") >= "2026-11-14T23:00:00"
    ]
    assert outcome.counts["booked_sale"] == len(paid_since) > 1
    runs = await store.list_runs("main")
    assert runs[0].job == "accounting" and runs[0].status == "ok"
