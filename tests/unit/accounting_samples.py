"""Sample chart and documents shared by the accounting unit tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from rules.accounting.chart import AccountingConfig
from rules.accounting.documents import RefundDocument, SaleAmount, SaleDocument, TaxTotal

SIREN = "732829320"


def chart(**changes: Any) -> AccountingConfig:
    table: dict[str, Any] = {
        "siren": SIREN,
        "shipping_account": "708500",
        "fees_account": "708800",
        "vat": {
            "FR:20": {"sales": "707100", "vat": "445711"},
            "FR:5.5": {"sales": "707105", "vat": "445715"},
            "DE:19": {"sales": "707219", "vat": "445719"},
            "DE:7": {"sales": "707207", "vat": "445707"},
            "*:0": {"sales": "707900", "vat": "445700"},
        },
        "gateways": {
            "stripe": {"journal": "CB", "clearing": "511100", "label": "Card"},
            "bacs": {"journal": "BQ", "clearing": "512000", "label": "Bank transfer"},
        },
        **changes,
    }
    return msgspec.convert(table, AccountingConfig)


def order(ref: str = "101", **changes: Any) -> SaleDocument:
    """A DE consumer order: 100.00 at 19 %, 10.00 at 7 %, shipping 5.00 at 19 %."""
    fields: dict[str, Any] = {
        "ref": ref,
        "number": ref,
        "status": "processing",
        "currency": "EUR",
        "created_at": datetime(2026, 11, 3, 9, 0, tzinfo=UTC),
        "paid_at": datetime(2026, 11, 3, 9, 5, tzinfo=UTC),
        "customer_email": "anna@example.com",
        "customer_name": "Anna Schmidt",
        "country": "DE",
        "gateway": "stripe",
        "total": Decimal("135.65"),
        "amounts": (
            SaleAmount(kind="goods", label="Book", net=Decimal("100.00"), rate=Decimal(19)),
            SaleAmount(kind="goods", label="Tea", net=Decimal("10.00"), rate=Decimal(7)),
            SaleAmount(kind="shipping", label="DHL", net=Decimal("5.00"), rate=Decimal(19)),
        ),
        "taxes": (
            TaxTotal(rate=Decimal(19), amount=Decimal("19.95")),
            TaxTotal(rate=Decimal(7), amount=Decimal("0.70")),
        ),
        **changes,
    }
    return SaleDocument(**fields)


def refund(ref: str, amount: str, day: int = 10) -> RefundDocument:
    return RefundDocument(
        ref=ref, created_at=datetime(2026, 11, day, 12, tzinfo=UTC), amount=Decimal(amount)
    )
