"""The ``[connections.<name>.orders]`` table: which web orders go to the ERP, and how.

::

    [connections.main.orders]
    statuses = ["processing"]          # shop statuses that make an order importable
    paid = true                        # ... or any order the shop marks as paid
    exclude = ["cancelled", "failed", "refunded", "trash", "checkout-draft"]
    taxes = { FR = "VAT 20%", DE = { standard = "MwSt 19%", reduced-rate = "MwSt 7%" } }
    shipping_sku = "SHIP"              # the ERP article for shipping lines (none: a text line)
    fee_sku = "FEE"                    # the ERP article for fee lines (none: a text line)
    rounding_sku = "ROUND"             # the ERP article for rounding lines (none: a text line)
    reference_prefix = ""              # put before the shop's number on the ERP document
    since = "2025-01-01"               # never import orders created before this day
    every = "5m"                       # how often the import runs (webhooks come in between)
    audit_every = "1d"
    follow_days = 60                   # statuses, invoices and refunds followed this long
    status_map = { sale = "processing", shipped = "completed", cancel = "cancelled" }
    webhook_secret_env = "WC_WEBHOOK_SECRET"

``taxes`` maps the destination country (shipping address, else billing) to the ERP's tax
code, for every line or per shop tax class. An unmapped country holds the order with a reason
naming it: a tax is never guessed.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from canonical.orders import SaleLine
from canonical.secrets import read_secret

Country = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
TaxCode = Annotated[str, msgspec.Meta(min_length=1)]

DEFAULT_STATUS_MAP = {
    "sale": "processing",
    "shipped": "completed",
    "done": "completed",
    "cancel": "cancelled",
}
"""ERP state -> shop status. ``shipped`` is an order whose deliveries are all done."""


class OrdersConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How one connection imports web orders and reports their progress back."""

    enabled: bool = True
    statuses: tuple[str, ...] = ("processing",)
    paid: bool = True
    exclude: tuple[str, ...] = ("cancelled", "failed", "refunded", "trash", "checkout-draft")
    taxes: dict[Country, TaxCode | dict[str, TaxCode]] = {}
    shipping_sku: str | None = None
    fee_sku: str | None = None
    rounding_sku: str | None = None
    reference_prefix: str = ""
    since: str | None = None
    every: str = "5m"
    audit_every: str = "1d"
    follow_days: int = 60
    status_map: dict[str, str] = msgspec.field(default_factory=lambda: dict(DEFAULT_STATUS_MAP))
    webhook_secret_env: str | None = None
    webhook_secret_file: str | None = None

    def line_skus(self) -> frozenset[str]:
        """The ERP articles shipping, fee and rounding lines are booked on (when importing)."""
        if not self.enabled:
            return frozenset()
        named = (self.shipping_sku, self.fee_sku, self.rounding_sku)
        return frozenset(sku for sku in named if sku)


def article_setting(line: SaleLine) -> str:
    """The setting that names the ERP article of a line sent without one, for reasons that
    tell the merchant what to set (a fee and a rounding line look alike once built)."""
    return "shipping_sku" if line.is_shipping else "fee_sku or rounding_sku"


def webhook_secret(config: OrdersConfig, *, source: str, prefix: str) -> str:
    """The webhook secret from ``webhook_secret_env`` or ``webhook_secret_file``; ``prefix``
    is the table's path (``connections.main.orders``) for errors."""
    settings = {
        key: value
        for key, value in (
            ("webhook_secret_env", config.webhook_secret_env),
            ("webhook_secret_file", config.webhook_secret_file),
        )
        if value
    }
    return read_secret(settings, "webhook_secret", source=source, prefix=prefix)
