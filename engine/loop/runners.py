"""Job runners: what the scheduler calls when a job is due, by name.

The scheduler knows nothing of what a job does. A job names its runner (``run = "audit"`` in its
table) or gets the default of its kind; the runner receives a :class:`JobContext` (the store, the
connection's two adapters, the job, whether this is the full resync) and returns a
:class:`JobOutcome`. Runners are imported on first use, as adapters are.

To add a runner, list it in :data:`RUNNERS` (and in :data:`DEFAULT_RUNNER` for the kinds it
should run by default); it may give its own default interval and say whether a weekly full run
makes sense for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import msgspec

from adapters.base import Adapter, Side
from engine.config import ConnectionConfig, JobConfig, jobs_of
from engine.cycle.transforms import Transforms
from engine.loop.schedule import DEFAULT_EVERY, DEFAULT_FULL_EVERY, FALLBACK_EVERY
from rules.accounting.chart import AccountingConfig
from rules.order_config import OrdersConfig
from rules.policy import KindRules

if TYPE_CHECKING:
    from engine.store.state import Store


@dataclass(frozen=True, kw_only=True)
class JobContext:
    """Everything a runner gets for one run of one job."""

    store: Store
    connection: str
    job_name: str
    job: JobConfig
    adapters: Mapping[Side, Adapter]
    full: bool
    """The periodic full resync rather than the usual (incremental) run."""
    rules: KindRules
    """The connection's rules for the job's kind."""
    transforms: Transforms | None = None
    """The connection's catalogue rules."""
    orders: OrdersConfig = field(default_factory=OrdersConfig)
    """The connection's web-order settings (for the order jobs)."""
    accounting: AccountingConfig | None = None
    """The connection's books (for the booking job, engine/accounting/jobs.py)."""


class JobOutcome(msgspec.Struct, kw_only=True):
    """What a run did: its run row, if it wrote one, and its counts."""

    run_id: int | None
    counts: dict[str, int] = {}


JobRunner = Callable[[JobContext], Awaitable[JobOutcome]]


class RunnerSpec(msgspec.Struct, frozen=True, kw_only=True):
    target: str
    """``module:function`` of the :data:`JobRunner`."""
    every: str | None = None
    """Default schedule of its jobs; ``None``: the kind's default."""
    full_resync: bool = True
    """Whether its jobs also get the weekly full run."""


RUNNERS: dict[str, RunnerSpec] = {
    "cycle": RunnerSpec(target="engine.loop.runners:run_sync_cycle"),
    "orders": RunnerSpec(target="engine.orders.jobs:import_job"),
    "order-feedback": RunnerSpec(target="engine.orders.jobs:feedback_job"),
    "order-audit": RunnerSpec(target="engine.orders.jobs:audit_job", full_resync=False),
    "accounting": RunnerSpec(target="engine.accounting.jobs:booking_job", full_resync=False),
}
"""Runners by name."""

DEFAULT_RUNNER: dict[str, str] = {}
"""The runner of a job that names none, by kind; any other kind runs the sync cycle."""

JOB_SOURCES: list[str] = ["engine.orders.jobs:order_jobs", "engine.accounting.jobs:accounting_jobs"]
"""``module:function``s giving a connection's jobs that are not in its ``jobs`` table (say, the
order import configured in its own table): ``(ConnectionConfig) -> dict[str, JobConfig]``."""


def scheduled_jobs(connection: ConnectionConfig) -> dict[str, JobConfig]:
    """Every job the loop runs for ``connection``: its ``jobs`` (or the defaults), then those
    of :data:`JOB_SOURCES`."""
    jobs = dict(jobs_of(connection))
    for source in JOB_SOURCES:
        module_name, _, attribute = source.partition(":")
        extra = getattr(importlib.import_module(module_name), attribute)
        jobs.update(cast(Callable[[ConnectionConfig], dict[str, JobConfig]], extra)(connection))
    return jobs


def runner_name(job: JobConfig) -> str:
    """The name of the runner that runs ``job``."""
    return job.run or DEFAULT_RUNNER.get(job.kind, "cycle")


def schedule_of(job: JobConfig) -> str:
    """When ``job`` runs: its ``every``, else its runner's default, else its kind's."""
    spec = check_runner(runner_name(job))
    return job.every or spec.every or DEFAULT_EVERY.get(job.kind, FALLBACK_EVERY)


def full_schedule_of(job: JobConfig) -> str | None:
    """When ``job`` runs in full, or ``None`` when its runner has no full run."""
    if not check_runner(runner_name(job)).full_resync:
        return None
    return job.full_every or DEFAULT_FULL_EVERY


def check_runner(name: str) -> RunnerSpec:
    """The runner called ``name``; ``LookupError`` lists the known ones."""
    try:
        return RUNNERS[name]
    except KeyError:
        known = ", ".join(sorted(RUNNERS))
        raise LookupError(f"unknown job runner {name!r} (known: {known})") from None


def load_runner(name: str) -> JobRunner:
    """The runner function called ``name``."""
    module_name, _, attribute = check_runner(name).target.partition(":")
    return cast(JobRunner, getattr(importlib.import_module(module_name), attribute))


async def run_sync_cycle(context: JobContext) -> JobOutcome:
    """The reconcile cycle: incremental normally, a full read for the periodic resync."""
    from engine.cycle.run import run_cycle

    result = await run_cycle(
        context.store,
        connection=context.connection,
        job_name=context.job_name,
        job=context.job,
        rules=context.rules,
        adapters=context.adapters,
        full=context.full,
        transforms=context.transforms,
    )
    return JobOutcome(run_id=result.run_id, counts=result.counts)
