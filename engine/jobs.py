"""What the scheduler hands a job and gets back, and which jobs a connection has.

The scheduler knows nothing of what a job does: the runner a job names
(:mod:`engine.runner_names`) receives a :class:`JobContext` (the store, the connection's two
adapters, the job, whether this is the full resync) and returns a :class:`JobOutcome`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import msgspec

from adapters.base import Adapter, Side
from engine.config import ConnectionConfig, JobConfig, jobs_of
from engine.runner_names import DEFAULT_RUNNER, JOB_SOURCES, check_runner
from engine.schedule import DEFAULT_EVERY, DEFAULT_FULL_EVERY, FALLBACK_EVERY
from rules.accounting.chart import AccountingConfig
from rules.order_config import OrdersConfig
from rules.policy import KindRules
from rules.transforms import Transforms

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


def load_runner(name: str) -> JobRunner:
    """The runner function called ``name``."""
    module_name, _, attribute = check_runner(name).target.partition(":")
    return cast(JobRunner, getattr(importlib.import_module(module_name), attribute))
