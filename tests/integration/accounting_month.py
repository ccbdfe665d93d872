"""A month of simulated web sales for the accounting tests: several countries, payment
methods and refunds, placed straight into the WooCommerce simulator with its clock set."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from adapters.woocommerce.simulator import Store as ShopStore
from adapters.woocommerce.simulator import model as m
from adapters.woocommerce.simulator.orders_logic import create_refund
from rules.accounting.chart import AccountingConfig

RATES = {  # country -> tax class -> percent (each taxes shipping at the standard rate)
    "FR": {"standard": "20", "reduced-rate": "5.5", "zero-rate": "0"},
    "DE": {"standard": "19", "reduced-rate": "7", "zero-rate": "0"},
    "BE": {"standard": "21", "reduced-rate": "6", "zero-rate": "0"},
    "IT": {"standard": "22", "reduced-rate": "10", "zero-rate": "0"},
    "ES": {"standard": "21", "reduced-rate": "10", "zero-rate": "0"},
    "CH": {"standard": "0", "reduced-rate": "0", "zero-rate": "0"},
}
COUNTRIES = ("FR",) * 10 + ("DE",) * 4 + ("BE", "BE", "IT", "IT", "ES", "CH")
GATEWAYS = (
    ("stripe", "Credit card"),
    ("stripe", "Credit card"),
    ("ppcp-gateway", "PayPal"),
    ("bacs", "Direct bank transfer"),
)
MONTH_START = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 November in Paris
MONTH = timedelta(days=29, hours=22)


def chart(**changes: Any) -> AccountingConfig:
    """The books of the simulated shop: a French seller under the one-stop shop."""
    vat: dict[str, dict[str, str]] = {"*:0": {"sales": "707900", "vat": "445700"}}
    for n, (country, rates) in enumerate(sorted(RATES.items())):
        for m_, percent in enumerate(sorted({r for r in rates.values() if r != "0"})):
            vat[f"{country}:{percent}"] = {
                "sales": f"7071{n}{m_}",
                "vat": f"44571{n}{m_}",
            }
    table: dict[str, Any] = {
        "siren": "732829320",
        "timezone": "Europe/Paris",
        "customer_mode": "per_customer",
        "shipping_account": "708500",
        "fees_account": "708800",
        "vat": vat,
        "gateways": {
            "stripe": {"journal": "CB", "clearing": "511100", "label": "Card"},
            "ppcp-gateway": {"journal": "PP", "clearing": "512200", "label": "PayPal"},
            "bacs": {"journal": "BQ", "clearing": "512000", "label": "Bank transfer"},
        },
        **changes,
    }
    return msgspec.convert(table, AccountingConfig)


def plant_rates(shop: ShopStore) -> None:
    """The shop's tax table: a rate per destination country and tax class."""
    for country, rates in RATES.items():
        for tax_class, percent in rates.items():
            rate_id = 100 + len(shop.tax_rates)
            shop.tax_rates[rate_id] = m.TaxRate(
                id=rate_id,
                country=country,
                rate=f"{Decimal(percent):.4f}",
                name=f"VAT {country} {percent}",
                tax_class=tax_class,
            )


def plant_catalogue(shop: ShopStore) -> list[str]:
    """Twelve articles in the three tax classes; returns their SKUs."""
    skus = []
    for n in range(12):
        tax_class = ("", "", "reduced-rate", "zero-rate")[n % 4]
        price = f"{7 + n * 3.35:.2f}"
        shop.add_product(
            sku=f"ART-{n:03d}", name=f"Article {n}", regular_price=price, tax_class=tax_class
        )
        skus.append(f"ART-{n:03d}")
    return skus


def place_month(
    shop: ShopStore, count: int = 1000, *, seed: int = 7, unknown_gateway_every: int = 0
) -> list[m.Order]:
    """``count`` paid orders spread over November 2026; about 8 % refunded (half in full),
    some a few days later (a few in December). ``unknown_gateway_every``: every n-th order is
    paid cash on delivery, a method the books do not map."""
    rng = random.Random(seed)
    skus = plant_catalogue(shop)
    plant_rates(shop)
    orders = []
    for n in range(count):
        moment = MONTH_START + MONTH * n / count
        shop.clock = lambda at=moment: at
        country = rng.choice(COUNTRIES)
        method, title = rng.choice(GATEWAYS)
        if unknown_gateway_every and n % unknown_gateway_every == unknown_gateway_every - 1:
            method, title = "cod", "Cash on delivery"
        address = {
            "first_name": f"Buyer{n % 97}",
            "last_name": "Test",
            "country": country,
            "email": f"buyer{n % 97}@example.com",
        }
        fields: dict[str, Any] = {
            "billing": address,
            "shipping": {k: v for k, v in address.items() if k != "email"},
            "payment_method": method,
            "payment_method_title": title,
            "transaction_id": f"tx_{n}",
        }
        if rng.random() < 0.6:
            fields["shipping_lines"] = [
                {"method_title": "Colissimo", "total": rng.choice(("4.90", "7.50"))}
            ]
        if rng.random() < 0.1:
            fields["fee_lines"] = [{"name": "Gift wrap", "total": "2.50"}]
        lines = [(rng.choice(skus), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
        order = shop.add_order(lines, status="processing", **fields)
        orders.append(order)
    for order in orders:
        if rng.random() >= 0.08:
            continue
        paid = datetime.fromisoformat(order.date_paid_gmt or "").replace(tzinfo=UTC)
        when = paid + timedelta(days=rng.randint(0, 6), hours=1)
        shop.clock = lambda at=when: at
        total = Decimal(order.total)
        amount = total if rng.random() < 0.5 else (total * Decimal(rng.randint(5, 90)) / 100)
        create_refund(
            shop,
            order,
            {"amount": f"{amount:.2f}", "api_refund": False, "reason": "returned"},
        )
    shop.clock = lambda: datetime.now(UTC)
    return orders
