"""The order audit: every importable shop order is in the ERP once, and nothing else is.

It compares the shop's orders (a full read) with the ERP's web orders (those whose external
reference carries the connection's ``reference_prefix``) and finds:

- ``missing_in_erp``: an importable shop order with no ERP document, whether held (the reason
  is given), never imported, or imported and then deleted from the ERP behind Concord's back;
- ``unknown_in_shop``: an ERP web order whose reference names no shop order;
- ``duplicate_in_erp``: one reference on several ERP documents.

Findings are kept (``concord audit orders`` lists them) and counted in the run record, which
``concord status`` shows. The audit reads and reports; it never creates or deletes anything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime

import msgspec

from adapters.base import Adapter, AdapterError, Side
from canonical.errors import ConcordError
from canonical.models import Order
from engine.orders.importer import erp_orders
from engine.store.orders import KIND, Finding, OrderStore
from engine.store.state import CommitBatch, Store
from rules.order_config import OrdersConfig
from rules.order_rules import is_importable, reference_of, since_moment

JOB = "order-audit"


class AuditReport(msgspec.Struct, kw_only=True):
    """What one audit found, and its run."""

    run_id: int | None
    counts: dict[str, int]
    findings: list[Finding]
    seconds: float


async def run_audit(
    store: Store,
    *,
    connection: str,
    adapters: Mapping[Side, Adapter],
    config: OrdersConfig,
    since: datetime | None = None,
    full: bool = True,
    job: str = JOB,
) -> AuditReport:
    """Compare the shop's orders created since ``since`` (default: the configured ``since``,
    else all) with the ERP's web orders; record and return the findings."""
    started, clock = datetime.now(UTC), time.perf_counter()
    del full  # an audit always reads everything
    if since is None and config.since:
        since = since_moment(config.since)
    elif since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    await store.ensure_connection(connection)
    orders = OrderStore(store)
    try:
        erp = erp_orders(adapters)
        shop = adapters["shop"]
        snapshot = await shop.snapshot(KIND, None)
        shop.rejected.clear()
        shop_orders = [s.record for s in snapshot.records if isinstance(s.record, Order)]
        numbers = {o.number for o in shop_orders}
        in_erp = {o.reference: o for o in await erp.list_web_orders(config.reference_prefix, since)}
        wanted = {
            reference_of(o, config): o
            for o in shop_orders
            if is_importable(o, config) and (since is None or o.created_at >= since)
        }
        intents = await orders.of_keys(connection, [o.number for o in wanted.values()])
        held = {
            d.key: d.reason
            for d in await store.list_dead_letters(connection)
            if d.kind == KIND and d.side == "erp"
        }
        findings: list[Finding] = []
        for reference, order in sorted(wanted.items()):
            if reference in in_erp:
                continue
            intent = intents.get(order.number)
            if order.number in held:
                why = f"held: {held[order.number]}"
            elif intent is not None and intent.state == "done":
                why = f"imported as ERP document {intent.erp_ref}, which the ERP no longer has"
            elif intent is not None:
                why = f"import {intent.state}"
            else:
                why = "never imported yet"
            findings.append(
                Finding(
                    connection=connection,
                    kind=KIND,
                    key=order.number,
                    problem="missing_in_erp",
                    detail=f"shop order {order.number} ({order.status}, created "
                    f"{order.created_at:%Y-%m-%d %H:%M}) has no ERP sale order "
                    f"{reference!r}: {why}",
                )
            )
        prefix = config.reference_prefix
        for reference, found in sorted(in_erp.items()):
            number = reference[len(prefix) :]
            if number not in numbers:
                findings.append(
                    Finding(
                        connection=connection,
                        kind=KIND,
                        key=reference,
                        problem="unknown_in_shop",
                        detail=f"ERP sale order {found.name or found.ref} ({found.state}) has "
                        f"reference {reference!r} but the shop has no order {number!r}",
                    )
                )
            if found.duplicates:
                findings.append(
                    Finding(
                        connection=connection,
                        kind=KIND,
                        key=reference,
                        problem="duplicate_in_erp",
                        detail=f"reference {reference!r} is on ERP documents "
                        f"{', '.join((found.ref, *found.duplicates))}",
                    )
                )
        await orders.record_findings(connection, findings)
        counts = {
            "shop_orders": len(wanted),
            "erp_orders": len(in_erp),
            "missing_in_erp": sum(f.problem == "missing_in_erp" for f in findings),
            "unknown_in_shop": sum(f.problem == "unknown_in_shop" for f in findings),
            "duplicate_in_erp": sum(f.problem == "duplicate_in_erp" for f in findings),
        }
        run_id = await store.commit(
            CommitBatch(
                connection=connection,
                kind=KIND,
                job=job,
                mode="full",
                started_at=started,
                status="ok",
                counts=counts,
            )
        )
    except (AdapterError, ConcordError) as exc:
        await store.record_failed_run(
            connection, job, "full", started, f"{type(exc).__name__}: {exc}"
        )
        raise
    return AuditReport(
        run_id=run_id, counts=counts, findings=findings, seconds=time.perf_counter() - clock
    )
