"""The order import: shop orders into the ERP as sale orders, exactly once.

Orders flow one way, shop -> ERP, once each; this is a job runner of its own, not the
field-by-field decision. Per order:

1. the intent (shop id, idempotency key, the sale order to create) is written to Postgres and
   committed;
2. the ERP is searched for the order's external reference;
3. only when it is absent is the sale order created; its total, as the ERP computed it, is
   compared with the shop's (a difference holds the order, left unconfirmed), then it is
   confirmed;
4. the intent is settled with the ERP id, and the order linked, in one transaction.

A run that stops anywhere leaves at most pending intents; the next run starts by settling them
(step 2 onwards, from the sale order kept in the intent), so a crash between the ERP create and
step 4 finds the document instead of making a second one. A Postgres unique index allows one
intent per shop order; a session lock per order keeps a webhook-triggered import and a polling
run from importing the same order at once.

Orders that cannot be imported faithfully are held as dead letters with the reason, and read
again on every run until they go through (or stop being importable). Orders are imported a
few at a time (within the ERP's request budget); each keeps its own intent and lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from adapters.base import (
    Adapter,
    AdapterError,
    OrderImport,
    OrderPricing,
    PermanentError,
    Seen,
    Side,
    TransientError,
)
from canonical.errors import ConcordError
from canonical.models import Order
from canonical.orders import ErpOrder, ErpPricing, SaleOrder
from engine.cycle.run import CycleResult
from engine.cycle.snapshot import Rejected
from engine.orders.faults import checkpoint
from engine.store.orders import KIND, OrderStore
from engine.store.state import CommitBatch, NewDeadLetter, Store
from rules.order_config import OrdersConfig
from rules.order_rules import OrderHeld, is_importable, to_sale_order

log = logging.getLogger("concord.orders")
JOB = "orders"


class OrderImportUnsupported(ConcordError):
    """The connection's ERP adapter cannot import orders."""


def erp_orders(adapters: Mapping[Side, Adapter]) -> OrderImport:
    """The ERP adapter as an order importer, or a clear error saying it is not one."""
    erp = adapters["erp"]
    if not isinstance(erp, OrderImport):
        raise OrderImportUnsupported(
            f"the ERP adapter {type(erp).__name__} cannot import orders "
            "(it lacks the OrderImport methods of adapters/base.py)"
        )
    return erp


class _Run:
    """One run's state: counts, held orders and cleared dead letters."""

    def __init__(
        self, store: Store, connection: str, erp: OrderImport, pricing: ErpPricing | None = None
    ) -> None:
        self.store = store
        self.pricing = pricing
        self.orders = OrderStore(store)
        self.connection = connection
        self.erp = erp
        self.counts: Counter[str] = Counter()
        self.held: list[NewDeadLetter] = []
        self.cleared: list[tuple[str, str]] = []

    async def settle(self, key: str, shop_ref: str, sale: SaleOrder) -> str:
        """Steps 2-4 for an order whose intent is written: find or create, check its total,
        confirm, settle."""
        found = (await self.erp.find_orders_by_reference([sale.reference])).get(sale.reference)
        checkpoint("after_lookup")
        if found is None:
            made = await self.erp.create_sale_order(sale)
            checkpoint("after_create")
            _check_total(key, sale, made)
            await self.erp.confirm_sale_order(made.ref)
            checkpoint("after_confirm")
            self.counts["imported"] += 1
            ref = made.ref
        else:
            ref = found.ref
            if found.state in ("draft", "sent"):
                _check_total(key, sale, found)
                await self.erp.confirm_sale_order(ref)
            self.counts["found_in_erp"] += 1
        await self.orders.done(self.connection, key, shop_ref, ref)
        checkpoint("after_done")
        self.cleared.append((key, "erp"))
        return ref

    async def recover(self) -> None:
        """Settle the intents a stopped run left pending, from the sale order they hold."""
        for intent in await self.orders.pending(self.connection):
            async with self.orders.exclusive(self.connection, intent.shop_ref or "") as mine:
                if not mine:
                    continue
                current = (await self.orders.of_keys(self.connection, [intent.key]))[intent.key]
                if current.state != "pending":
                    continue  # settled by another worker meanwhile
                sale = msgspec.convert(intent.payload, SaleOrder)
                await self._attempt(intent.key, intent.shop_ref or "", sale, recovered=True)
        checkpoint("recovered")

    async def _attempt(self, key: str, shop_ref: str, sale: SaleOrder, *, recovered: bool) -> None:
        try:
            await self.settle(key, shop_ref, sale)
            if recovered:
                self.counts["recovered"] += 1
        except TransientError:
            raise  # the intent stays pending; the next run settles it
        except TotalMismatch as exc:
            await self.orders.failed(self.connection, key, str(exc))
            self.hold(key, shop_ref, str(exc))
        except PermanentError as exc:
            await self.orders.failed(self.connection, key, str(exc))
            self.hold(key, shop_ref, f"order {key}: the ERP refused it: {exc}")

    def hold(self, key: str, shop_ref: str, reason: str) -> None:
        log.warning("%s/%s held: %s", self.connection, key, reason)
        self.counts["held"] += 1
        self.held.append(
            NewDeadLetter(
                key=key, side="erp", operation={"op": "import", "shop_ref": shop_ref}, reason=reason
            )
        )

    async def import_one(self, seen: Seen, config: OrdersConfig, imported: set[str]) -> None:
        order = seen.record
        assert isinstance(order, Order)
        key = order.number
        if key in imported:
            # Read again (the cursor's overlap, a status update): nothing to write at all.
            self.counts["already_imported"] += 1
            self.cleared.append((key, "erp"))
            return
        if not is_importable(order, config):
            self.counts["not_importable"] += 1
            self.cleared.append((key, "erp"))
            return
        try:
            sale = to_sale_order(order, config, self.pricing)
        except OrderHeld as held:
            self.hold(key, seen.ref, str(held))
            return
        async with self.orders.exclusive(self.connection, seen.ref) as mine:
            if not mine:
                self.counts["busy_elsewhere"] += 1
                return
            checkpoint("before_intent")
            payload = msgspec.to_builtins(sale)
            intent = await self.orders.begin(self.connection, key, seen.ref, payload)
            checkpoint("after_intent")
            if intent.state == "done":
                self.counts["already_imported"] += 1
                self.cleared.append((key, "erp"))
                return
            await self._attempt(key, seen.ref, sale, recovered=False)


async def run_orders(
    store: Store,
    *,
    connection: str,
    adapters: Mapping[Side, Adapter],
    config: OrdersConfig,
    full: bool,
    keys: Sequence[str] | None = None,
    job: str = JOB,
) -> CycleResult:
    """Import the connection's importable shop orders into the ERP, exactly once each.

    ``full`` reads every shop order; otherwise those modified since the job's cursor (minus
    the adapter's overlap), plus every held order. ``keys`` imports just these orders (a
    webhook's) and leaves the cursor alone. Returns the run's counts; the run is recorded
    (``concord status`` shows it) and held orders are dead letters.
    """
    started, clock = datetime.now(UTC), time.perf_counter()
    mode = "webhook" if keys is not None else ("full" if full else "incremental")
    await store.ensure_connection(connection)
    checkpoint("run_start")
    erp = erp_orders(adapters)
    run = _Run(store, connection, erp)
    shop = adapters["shop"]
    rejected: list[Rejected] = []
    try:
        if isinstance(erp, OrderPricing):
            run.pricing = await erp.order_pricing()
        await run.recover()
        cursors = await store.load_cursors(connection, job)
        held_keys = [
            d.key
            for d in await store.list_dead_letters(connection)
            if d.kind == KIND and d.side == "erp"
        ]
        new_cursor: str | None = None
        if keys is not None:
            seen = await shop.fetch(KIND, list(dict.fromkeys(keys)))
        else:
            snapshot = await shop.snapshot(KIND, None if full else cursors.get("shop"))
            seen, new_cursor = list(snapshot.records), snapshot.cursor
            have = {s.record.natural_key() for s in seen}
            retry = [k for k in held_keys if k not in have]
            if retry:
                seen += await shop.fetch(KIND, retry)
        for ref, reason in shop.rejected:
            rejected.append(Rejected("shop", ref, reason))
            run.held.append(
                NewDeadLetter(
                    key=ref, side="shop", operation={"op": "read", "shop_ref": ref}, reason=reason
                )
            )
        shop.rejected.clear()
        run.counts["read"] = len(seen)
        seen.sort(key=lambda s: (_created(s), s.ref))
        known = await run.orders.of_keys(connection, [s.record.natural_key() for s in seen])
        imported = {key for key, intent in known.items() if intent.state == "done"}
        await _in_parallel(
            [run.import_one(one, config, imported) for one in seen],
            _parallel_imports(store, adapters["erp"]),
        )
        run.counts["rejected"] = len(rejected)
        checkpoint("before_commit")
        batch = CommitBatch(
            connection=connection,
            kind=KIND,
            job=job,
            mode=mode,
            started_at=started,
            status="ok",
            counts=dict(run.counts),
            dead_letters=run.held,
            dead_letters_cleared=[c for c in run.cleared if c[0] not in {h.key for h in run.held}],
            cursors={"shop": new_cursor} if new_cursor else {},
        )
        run_id = await store.commit(batch)
        checkpoint("after_commit")
    except (AdapterError, ConcordError) as exc:
        await store.record_failed_run(
            connection, job, mode, started, f"{type(exc).__name__}: {exc}", dict(run.counts)
        )
        raise
    return CycleResult(
        run_id=run_id,
        counts=dict(run.counts),
        seconds=time.perf_counter() - clock,
        conflicts=[],
        failures=run.held,
        reports=[],
        rejected=rejected,
        operations={},
    )


class TotalMismatch(ConcordError):
    """The ERP's document does not total the shop's order: it is held, left unconfirmed."""


def _check_total(key: str, sale: SaleOrder, erp: ErpOrder) -> None:
    if sale.total is None or erp.total is None or erp.total == sale.total:
        return
    raise TotalMismatch(
        f"order {key}: the ERP's sale order {erp.name or erp.ref} totals {erp.total:f}, the "
        f"shop's order {sale.total:f} (a difference of {erp.total - sale.total:f}); it is left "
        "unconfirmed in the ERP until its lines are corrected there"
    )


def _parallel_imports(store: Store, erp: Adapter) -> int:
    """Orders imported at once: as many as the ERP takes requests at once, and never so many
    that their per-order locks (one pooled connection each) starve the pool."""
    room = max(1, store.pool.get_max_size() // 2 - 1)
    return max(1, min(erp.capabilities.max_concurrency, room))


async def _in_parallel(jobs: Sequence[Coroutine[Any, Any, None]], width: int) -> None:
    """Run ``jobs`` ``width`` at a time, in their order. After a failure no job is started
    and those under way finish (an order is never cut between its ERP calls and its intent's
    settling), then the first failure is raised."""
    queue = iter(jobs)
    failures: list[BaseException] = []

    async def worker() -> None:
        for job in queue:
            if failures:
                job.close()
                continue
            try:
                await job
            except Exception as exc:  # re-raised below, once the others have ended
                failures.append(exc)

    await asyncio.gather(*(worker() for _ in range(max(1, width))))
    if failures:
        raise failures[0]


def _created(seen: Seen) -> datetime:
    record = seen.record
    return record.created_at if isinstance(record, Order) else datetime.min.replace(tzinfo=UTC)
