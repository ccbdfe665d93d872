"""Job runners by name: what ``run = "..."`` in a job's table may name, and where each lives.

A job names its runner or gets the default of its kind. Each name points at a ``module:function``
imported on first use (as adapters are), so that reading a configuration imports no job's code.
To add a runner, list it in :data:`RUNNERS` (and in :data:`DEFAULT_RUNNER` for the kinds it
should run by default); it may give its own default interval and say whether a weekly full run
makes sense for it.
"""

from __future__ import annotations

import msgspec


class RunnerSpec(msgspec.Struct, frozen=True, kw_only=True):
    target: str
    """``module:function`` of the :data:`JobRunner`."""
    every: str | None = None
    """Default schedule of its jobs; ``None``: the kind's default."""
    full_resync: bool = True
    """Whether its jobs also get the weekly full run."""


RUNNERS: dict[str, RunnerSpec] = {
    "cycle": RunnerSpec(target="engine.cycle.job:run_sync_cycle"),
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


def check_runner(name: str) -> RunnerSpec:
    """The runner called ``name``; ``LookupError`` lists the known ones."""
    try:
        return RUNNERS[name]
    except KeyError:
        known = ", ".join(sorted(RUNNERS))
        raise LookupError(f"unknown job runner {name!r} (known: {known})") from None
