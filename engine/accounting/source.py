"""What a shop adapter offers the books: the ``AccountingSource`` capability."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from adapters.base import Adapter, Side
from engine.errors import ConcordError
from rules.accounting.documents import SaleDocument


@runtime_checkable
class AccountingSource(Protocol):
    """Optional capability of a shop adapter: its orders with their refunds, in the shop's own
    figures (amounts before VAT with the rate charged, VAT totals per rate, payment method).
    Orders it cannot read faithfully go to the adapter's ``rejected``.
    Implementations: ``adapters/woocommerce/accounting.py``."""

    async def sales_documents(self, since: datetime) -> list[SaleDocument]:
        """Every order changed since ``since`` (so every order paid or refunded since then),
        with all its refunds."""
        ...


class AccountingUnsupported(ConcordError):
    """The connection's shop adapter cannot hand its sales to the books."""


def shop_source(adapters: Mapping[Side, Adapter]) -> AccountingSource:
    """The shop adapter as a source of sales documents, or a clear error saying it is not."""
    shop = adapters["shop"]
    if not isinstance(shop, AccountingSource):
        raise AccountingUnsupported(
            f"the shop adapter {type(shop).__name__} cannot hand its sales to the books "
            "(it lacks sales_documents of engine/accounting/source.py)"
        )
    return shop
