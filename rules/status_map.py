"""From where an order stands in the ERP to what the shop shows (pure).

The mapping is the connection's ``status_map`` (ERP state -> shop status; see
:data:`rules.order_config.DEFAULT_STATUS_MAP`). A state it does not list changes nothing in
the shop. The texts of the notes sent with a change live here too, so they read the same
everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from canonical.orders import CreditNote, InvoiceInfo, OrderProgress

FINAL_SHOP_STATUSES = frozenset({"completed", "cancelled", "refunded"})
CREDIT_NOTE_REASON = "Credit note "
"""A shop refund made from an ERP credit note has this reason, followed by its number."""


def shop_status(progress: OrderProgress, mapping: Mapping[str, str]) -> str | None:
    """The shop status for the order's ERP state, or ``None`` when the mapping is silent."""
    return mapping.get(progress.state)


def shipping_note(progress: OrderProgress) -> str | None:
    """The note telling the buyer how the parcel travels, when the ERP knows."""
    if not progress.tracking_number and not progress.carrier:
        return None
    text = "Your order has shipped"
    if progress.carrier:
        text += f" with {progress.carrier}"
    if progress.tracking_number:
        text += f"; tracking number {progress.tracking_number}"
    return text + "."


def invoice_note(invoice: InvoiceInfo) -> str:
    text = f"Invoice {invoice.number} ({invoice.total:f})"
    return f"{text}: {invoice.pdf_url}" if invoice.pdf_url else text


def refund_reason(credit_note: CreditNote) -> str:
    """The reason of the shop refund made from an ERP credit note (names the note)."""
    reason = f"{CREDIT_NOTE_REASON}{credit_note.number}"
    return f"{reason}: {credit_note.reason}" if credit_note.reason else reason


def made_from_credit_note(reason: str) -> bool:
    """Whether a shop refund was made from an ERP credit note (so it is not sent back)."""
    return reason.startswith(CREDIT_NOTE_REASON)
