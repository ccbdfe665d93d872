"""Back to the shop: order statuses, shipping, invoices and refunds, both ways.

For every order imported in the last ``follow_days`` days, the ERP says where it stands
(:class:`~canonical.orders.OrderProgress`), and the shop is brought in line:

- its status through the connection's ``status_map`` (shipped -> completed, with a customer
  note carrying the carrier and tracking number first; a shop whose shipments are records of
  their own, :class:`~adapters.base.ShipmentTracking`, gets them on the shipment too);
- each posted invoice as a customer note with its number and PDF link;
- each ERP credit note as a shop refund (``api_refund: false``: no money moves);
- each shop refund as an ERP credit note (orders the shop changed since the last run only);
- an order cancelled in the shop after its import is cancelled in the ERP, or, when the ERP
  has shipped or invoiced it already (or cannot cancel), held as a dead letter saying so for a
  person to settle there (it is not written back to the shop's status meanwhile).

What was sent is kept as the base of kind ``order_status`` per order, so nothing is sent
twice in normal operation. Refunds are also deduplicated on the platforms themselves (a
refund's reason names its credit note; a credit note's reference names its refund), so a
crash between sending and recording does not refund twice; and before a customer note is sent
the order's notes are read, so a note sent by a run that stopped before recording it is
recorded, not sent again (the buyer is mailed once).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from adapters.base import (
    Adapter,
    AdapterError,
    OrderCancel,
    OrderFeedback,
    OrderImport,
    OrderNotes,
    PermanentError,
    ShipmentTracking,
    Side,
)
from canonical.errors import ConcordError
from canonical.models import Order
from canonical.orders import OrderProgress
from engine.cycle.run import CycleResult
from engine.orders.faults import checkpoint
from engine.orders.importer import OrderImportUnsupported, erp_orders
from engine.store.orders import Intent, OrderStore
from engine.store.state import CommitBatch, NewDeadLetter, Store
from rules import status_map
from rules.order_config import OrdersConfig

log = logging.getLogger("concord.orders")
JOB = "order-feedback"
KIND = "order_status"
_CHUNK = 100


def shop_feedback(adapters: Mapping[Side, Adapter]) -> OrderFeedback:
    shop = adapters["shop"]
    if not isinstance(shop, OrderFeedback):
        raise OrderImportUnsupported(
            f"the shop adapter {type(shop).__name__} cannot take order statuses and refunds"
        )
    return shop


class _Follow:
    """One order being brought in line, and what has been sent for it."""

    def __init__(self, intent: Intent, base: dict[str, Any] | None) -> None:
        self.key = intent.key
        self.shop_ref = intent.shop_ref or intent.key
        base = base or {}
        self.status: str | None = base.get("status")
        self.notes: list[str] = list(base.get("notes") or [])
        self.to_shop: dict[str, str] = dict(base.get("refunds_to_shop") or {})
        self.to_erp: dict[str, str] = dict(base.get("refunds_to_erp") or {})
        self.shop_cancelled = bool(base.get("shop_cancelled"))
        """The shop cancelled the order after its import: its status is not written back."""
        self.changed = False
        self.shop_notes: list[str] | None = None
        """The customer notes the shop order has, read once when a note is due."""

    def fields(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "notes": self.notes,
            "refunds_to_shop": self.to_shop,
            "refunds_to_erp": self.to_erp,
            "shop_cancelled": self.shop_cancelled,
        }


class _Feedback:
    def __init__(
        self, erp: OrderImport, shop: OrderFeedback, config: OrdersConfig, counts: Counter[str]
    ) -> None:
        self.erp, self.shop, self.config, self.counts = erp, shop, config, counts

    async def note(self, follow: _Follow, key: str, text: str) -> None:
        if key in follow.notes:
            return
        if isinstance(self.shop, OrderNotes):
            if follow.shop_notes is None:
                follow.shop_notes = await self.shop.customer_notes(follow.shop_ref)
            if text in follow.shop_notes:
                # Sent by a run that stopped before recording it: recorded now, not resent.
                follow.notes.append(key)
                follow.changed = True
                self.counts["notes_found_in_shop"] += 1
                return
        await self.shop.add_order_note(follow.shop_ref, text, customer=True)
        checkpoint("after_note")
        follow.notes.append(key)
        follow.changed = True
        self.counts["notes"] += 1

    async def ship(self, follow: _Follow, progress: OrderProgress) -> None:
        """The parcel's tracking on the shop's shipment, once per tracking number."""
        key = f"shipped:{progress.tracking_number or ''}"
        if not isinstance(self.shop, ShipmentTracking) or key in follow.notes:
            return
        await self.shop.fulfil(follow.shop_ref, progress.carrier, progress.tracking_number)
        follow.notes.append(key)
        follow.changed = True
        self.counts["shipments"] += 1

    async def cancel_in_erp(self, follow: _Follow, progress: OrderProgress) -> None:
        """The shop cancelled an imported order: cancel the ERP's, unless it went too far."""
        done = [i.number for i in progress.invoices]
        if progress.state in ("shipped", "done") or done:
            what = "invoiced (" + ", ".join(done) + ")" if done else "shipped"
            raise PermanentError(
                f"cancelled in the shop after its import, but the ERP's order is {what}: "
                "cancel or credit it in the ERP"
            )
        if not isinstance(self.erp, OrderCancel):
            raise PermanentError(
                "cancelled in the shop after its import; the ERP adapter cannot cancel orders: "
                "cancel it in the ERP"
            )
        await self.erp.cancel_sale_order(progress.ref)
        follow.status = status_map.shop_status(
            msgspec.structs.replace(progress, state="cancel"), self.config.status_map
        )
        follow.changed = True
        self.counts["cancelled_in_erp"] += 1

    async def bring_in_line(self, follow: _Follow, progress: OrderProgress) -> None:
        wanted = status_map.shop_status(progress, self.config.status_map)
        shipping = status_map.shipping_note(progress)
        if shipping and progress.state in ("shipped", "done"):
            await self.note(follow, f"shipping:{progress.tracking_number or ''}", shipping)
            await self.ship(follow, progress)
        if wanted and wanted != follow.status:
            await self.shop.set_order_status(follow.shop_ref, wanted)
            follow.status = wanted
            follow.changed = True
            self.counts["statuses"] += 1
        for invoice in progress.invoices:
            await self.note(follow, f"invoice:{invoice.number}", status_map.invoice_note(invoice))
        for credit in progress.credit_notes:
            if credit.shop_refund is not None or credit.number in follow.to_shop:
                continue
            reason = status_map.refund_reason(credit)
            existing = [
                r for r in await self.shop.list_refunds(follow.shop_ref) if r.reason == reason
            ]
            if existing:
                refund = existing[0].id
            else:
                refund = await self.shop.create_refund(follow.shop_ref, credit.amount, reason)
                self.counts["refunds_to_shop"] += 1
            follow.to_shop[credit.number] = refund
            follow.changed = True

    async def refunds_to_erp(self, follow: _Follow, reference: str) -> None:
        made_here = set(follow.to_shop.values())
        for refund in await self.shop.list_refunds(follow.shop_ref):
            if (
                refund.id in follow.to_erp
                or refund.id in made_here
                or status_map.made_from_credit_note(refund.reason)
            ):
                continue
            number = await self.erp.create_credit_note(
                reference, refund.amount, refund.reason, refund.id
            )
            follow.to_erp[refund.id] = number
            follow.changed = True
            self.counts["refunds_to_erp"] += 1


async def run_feedback(
    store: Store,
    *,
    connection: str,
    adapters: Mapping[Side, Adapter],
    config: OrdersConfig,
    full: bool,
    job: str = JOB,
) -> CycleResult:
    """Bring the shop in line with the ERP for the orders imported recently (see above)."""
    started, clock = datetime.now(UTC), time.perf_counter()
    mode = "full" if full else "incremental"
    counts: Counter[str] = Counter()
    await store.ensure_connection(connection)
    try:
        work = _Feedback(erp_orders(adapters), shop_feedback(adapters), config, counts)
        since = started - timedelta(days=config.follow_days)
        followed = await OrderStore(store).imported_since(connection, since)
        stored = await store.load_records(connection, KIND)
        follows = {
            i.key: _Follow(i, stored[i.key].fields if i.key in stored else None) for i in followed
        }
        cursors = await store.load_cursors(connection, job)
        changed = await adapters["shop"].snapshot("order", None if full else cursors.get("shop"))
        adapters["shop"].rejected.clear()
        touched = {s.record.natural_key() for s in changed.records}
        cancelled = {
            s.record.number
            for s in changed.records
            if isinstance(s.record, Order) and s.record.status == "cancelled"
        }
        failures: list[NewDeadLetter] = []
        keys = list(follows)
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            references = {f"{config.reference_prefix}{k}": k for k in part}
            for progress in await work.erp.order_progress(list(references)):
                follow = follows[references[progress.reference]]
                try:
                    if progress.state != "cancel" and (
                        follow.shop_cancelled or follow.key in cancelled
                    ):
                        if not follow.shop_cancelled:
                            follow.shop_cancelled = follow.changed = True
                            await work.cancel_in_erp(follow, progress)
                        continue  # flagged: a person settles it in the ERP
                    await work.bring_in_line(follow, progress)
                    if full or follow.key in touched:
                        await work.refunds_to_erp(follow, progress.reference)
                except PermanentError as exc:
                    failures.append(
                        NewDeadLetter(
                            key=follow.key,
                            side="shop",
                            operation={"op": "feedback"},
                            reason=f"order {follow.key}: {exc}",
                        )
                    )
        counts["followed"] = len(follows)
        counts["failed"] = len(failures)
        batch = CommitBatch(
            connection=connection,
            kind=KIND,
            job=job,
            mode=mode,
            started_at=started,
            status="ok",
            counts=dict(counts),
            base_updates=[(f.key, f.fields()) for f in follows.values() if f.changed],
            dead_letters=failures,
            cursors={"shop": changed.cursor} if changed.cursor else {},
        )
        run_id = await store.commit(batch)
    except (AdapterError, ConcordError) as exc:
        await store.record_failed_run(
            connection, job, mode, started, f"{type(exc).__name__}: {exc}", dict(counts)
        )
        raise
    return CycleResult(
        run_id=run_id,
        counts=dict(counts),
        seconds=time.perf_counter() - clock,
        conflicts=[],
        failures=failures,
        reports=[],
        rejected=[],
        operations={},
    )
