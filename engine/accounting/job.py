"""The booking run: the shop's documents of a period become booked entries, exactly once.

1. The shop adapter hands over every order changed since the period's first day, with its
   refunds (:class:`~engine.accounting.source.AccountingSource`).
2. The documents already booked are looked up by the shop's ids (``sale:<order id>``,
   ``payment:<order id>``, ``credit:<refund id>``, ``refund-payment:<refund id>``).
3. The rules (:func:`rules.accounting.entries.plan`) make the entries of the others.
4. Each entry is booked in a transaction of its own (:meth:`~engine.accounting.store.Ledger.
   book`): its number, the entry and its documents together, or nothing. A document booked
   meanwhile by another run is refused there, so nothing is booked twice whatever runs at once
   or stops where.
5. With ``accounting.erp`` the period's booked entries are posted into the ERP's journals,
   exactly once each (:mod:`engine.accounting.erp`).
6. Documents that cannot be booked (an unmapped VAT rate, an unknown payment method, a total
   that does not add up) are held as dead letters with the reason, shown by ``concord status``,
   and tried again by every run over their period; booked ones clear theirs.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from adapters.base import Adapter, AdapterError, Side
from canonical.errors import ConcordError
from engine.accounting.erp import post_entries
from engine.accounting.source import erp_journals, shop_source
from engine.accounting.store import AlreadyBooked, Ledger
from engine.orders.faults import checkpoint
from engine.store.state import CommitBatch, NewDeadLetter, Store
from rules.accounting.chart import AccountingConfig
from rules.accounting.documents import SaleDocument
from rules.accounting.entries import Entry, Held, plan
from rules.accounting.ledger import Booked

log = logging.getLogger("concord.accounting")
JOB = "accounting"
KIND = "accounting"


class BookingResult(msgspec.Struct, kw_only=True):
    """What a run booked (or, dry, would book) and held."""

    run_id: int | None
    counts: dict[str, int]
    booked: list[Booked]
    planned: list[Entry]
    held: list[Held]
    documents: list[SaleDocument]


def candidate_keys(docs: list[SaleDocument]) -> list[str]:
    """Every document key the orders and refunds could be booked under."""
    keys: list[str] = []
    for doc in docs:
        keys += [f"sale:{doc.ref}", f"payment:{doc.ref}"]
        for refund in doc.refunds:
            keys += [f"credit:{refund.ref}", f"refund-payment:{refund.ref}"]
    return keys


def period_start(start: date, zone: ZoneInfo) -> datetime:
    """The first moment of ``start`` in the books' time zone, in UTC, a second early."""
    return datetime.combine(start, time(), zone).astimezone(UTC) - timedelta(seconds=1)


async def run_booking(
    store: Store,
    *,
    connection: str,
    adapters: Mapping[Side, Adapter],
    config: AccountingConfig,
    start: date,
    end: date,
    today: date | None = None,
    dry_run: bool = False,
    job: str = JOB,
) -> BookingResult:
    """Book the documents of ``connection`` dated from ``start`` to ``end`` (inclusive) not
    booked yet. ``dry_run`` plans and writes nothing. Sales of ``today`` and later wait when
    the books take one entry per day."""
    zone = ZoneInfo(config.timezone)
    today = today or datetime.now(zone).date()
    started = datetime.now(UTC)
    await store.ensure_connection(connection)
    checkpoint("accounting_start")
    source, shop = shop_source(adapters), adapters["shop"]
    erp = erp_journals(adapters) if config.erp and not dry_run else None
    ledger = Ledger(store)
    counts: Counter[str] = Counter()
    try:
        docs = await source.sales_documents(period_start(start, zone))
        rejected = list(shop.rejected)
        shop.rejected.clear()
        keys = candidate_keys(docs)
        booked_keys = await ledger.booked_of(connection, keys)
        planned = plan(docs, config, zone, start=start, end=end, booked=booked_keys, open_day=today)
        counts.update(
            read=len(docs),
            held=len(planned.held),
            waiting=planned.waiting,
            rejected=len(rejected),
            planned=len(planned.entries),
        )
        if dry_run:
            return BookingResult(
                run_id=None,
                counts=dict(counts),
                booked=[],
                planned=planned.entries,
                held=planned.held,
                documents=docs,
            )
        booked: list[Booked] = []
        for entry in planned.entries:
            checkpoint("accounting_before_book")
            try:
                booked.append(await ledger.book(connection, entry, today))
            except AlreadyBooked:
                counts["booked_elsewhere"] += 1
                continue
            counts["booked"] += 1
            counts[f"booked_{entry.kind}"] += 1
            checkpoint("accounting_after_book")
        held_keys = {h.key for h in planned.held}
        done = booked_keys | {s for b in booked for s in b.entry.sources}
        letters = [
            NewDeadLetter(key=h.key, side="shop", operation={"op": "book"}, reason=h.reason)
            for h in planned.held
        ] + [
            NewDeadLetter(key=f"order:{ref}", side="shop", operation={"op": "read"}, reason=reason)
            for ref, reason in rejected
        ]
        cleared = [(key, "shop") for key in sorted(done - held_keys)]
        if erp is not None:
            period = await ledger.between(connection, start, end)
            posting = await post_entries(
                store, connection, erp, period, config.erp_reference_prefix
            )
            counts.update(posting.counts)
            letters += posting.held
            cleared += posting.cleared
        for letter in letters:
            log.warning("%s/%s held: %s", connection, letter.key, letter.reason)
        checkpoint("accounting_before_commit")
        run_id = await store.commit(
            CommitBatch(
                connection=connection,
                kind=KIND,
                job=job,
                mode=f"{start.isoformat()}..{end.isoformat()}",
                started_at=started,
                status="ok",
                counts=dict(counts),
                dead_letters=letters,
                dead_letters_cleared=cleared,
            )
        )
        checkpoint("accounting_after_commit")
    except (AdapterError, ConcordError) as exc:
        await store.record_failed_run(
            connection, job, "period", started, f"{type(exc).__name__}: {exc}", dict(counts)
        )
        raise
    return BookingResult(
        run_id=run_id,
        counts=dict(counts),
        booked=booked,
        planned=planned.entries,
        held=planned.held,
        documents=docs,
    )
