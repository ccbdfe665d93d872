"""The order jobs as the scheduler sees them: which jobs a connection gets, and their runners.

A connection whose ``[orders]`` table maps taxes (the sign it imports orders; ``enabled =
false`` turns them off again) gets three jobs: ``orders`` (the import, every ``orders.every``),
``order-feedback`` (statuses, invoices, refunds back, same interval) and ``order-audit``
(every ``orders.audit_every``, daily by default).

Registering them with the loop (engine/runner_names.py)::

    JOB_SOURCES.append("engine.orders.jobs:order_jobs")
    RUNNERS["orders"] = RunnerSpec(target="engine.orders.jobs:import_job")
    RUNNERS["order-feedback"] = RunnerSpec(target="engine.orders.jobs:feedback_job")
    RUNNERS["order-audit"] = RunnerSpec(target="engine.orders.jobs:audit_job", full_resync=False)

The runners need the connection's :class:`~rules.order_config.OrdersConfig`: the job context
must carry it as ``orders`` (see :class:`OrderJobContext`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from adapters.base import Adapter, Side
from engine.config import ConnectionConfig, JobConfig
from engine.jobs import JobOutcome
from rules.order_config import OrdersConfig

if TYPE_CHECKING:
    from engine.store.state import Store


class OrderJobContext(Protocol):
    """What an order job needs of the scheduler's job context."""

    @property
    def store(self) -> Store: ...
    @property
    def connection(self) -> str: ...
    @property
    def job_name(self) -> str: ...
    @property
    def adapters(self) -> Mapping[Side, Adapter]: ...
    @property
    def full(self) -> bool: ...
    @property
    def orders(self) -> OrdersConfig: ...


def order_jobs(connection: ConnectionConfig) -> dict[str, JobConfig]:
    """The order jobs of ``connection``: none without a tax mapping (orders would all be held)
    or when ``orders.enabled`` is false."""
    orders = connection.orders
    if not orders.enabled or not orders.taxes:
        return {}
    return {
        "orders": JobConfig(kind="order", every=orders.every, run="orders"),
        "order-feedback": JobConfig(kind="order_status", every=orders.every, run="order-feedback"),
        "order-audit": JobConfig(kind="order", every=orders.audit_every, run="order-audit"),
    }


async def import_job(context: OrderJobContext) -> JobOutcome:
    """Import the shop's paid orders into the ERP (see :mod:`engine.orders.importer`)."""
    from engine.orders.importer import run_orders

    result = await run_orders(
        context.store,
        connection=context.connection,
        adapters=context.adapters,
        config=context.orders,
        full=context.full,
        job=context.job_name,
    )
    return JobOutcome(run_id=result.run_id, counts=result.counts)


async def feedback_job(context: OrderJobContext) -> JobOutcome:
    """Bring order statuses, invoices and refunds in line (see :mod:`engine.orders.feedback`)."""
    from engine.orders.feedback import run_feedback

    result = await run_feedback(
        context.store,
        connection=context.connection,
        adapters=context.adapters,
        config=context.orders,
        full=context.full,
        job=context.job_name,
    )
    return JobOutcome(run_id=result.run_id, counts=result.counts)


async def audit_job(context: OrderJobContext) -> JobOutcome:
    """The daily order audit (see :mod:`engine.orders.audit`)."""
    from engine.orders.audit import run_audit

    report = await run_audit(
        context.store,
        connection=context.connection,
        adapters=context.adapters,
        config=context.orders,
        job=context.job_name,
    )
    return JobOutcome(run_id=report.run_id, counts=report.counts)
