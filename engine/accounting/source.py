"""What adapters offer the books: the shop's documents (``AccountingSource``) and, where the
ERP has journals, a place to post the entries (``JournalEntries``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from adapters.base import Adapter, Side
from canonical.errors import ConcordError
from rules.accounting.documents import SaleDocument
from rules.accounting.entries import Entry


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


@runtime_checkable
class JournalEntries(Protocol):
    """Optional capability of an ERP adapter: booked entries posted into its journals, found
    again by reference. Neither method needs to be idempotent on its own: the engine writes an
    intent first and looks the reference up before any create (engine/accounting/erp.py).
    Implementations: ``adapters/odoo/journal_entries.py``."""

    async def find_journal_entries(self, references: Sequence[str]) -> dict[str, str]:
        """The ERP's ids of the journal entries carrying these references."""
        ...

    async def create_journal_entry(self, entry: Entry, reference: str) -> str:
        """Create and post ``entry`` under ``reference``; a journal or an account the ERP
        lacks is a :class:`~adapters.base.PermanentError` naming it."""
        ...


def erp_journals(adapters: Mapping[Side, Adapter]) -> JournalEntries:
    """The ERP adapter as a poster of journal entries, or a clear error saying it is not."""
    erp = adapters["erp"]
    if not isinstance(erp, JournalEntries):
        raise AccountingUnsupported(
            f"the ERP adapter {type(erp).__name__} cannot post journal entries (it lacks the "
            "JournalEntries methods of engine/accounting/source.py); set accounting.erp = false"
        )
    return erp
