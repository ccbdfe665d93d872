"""The sync cycle as a job of the loop (the runner named ``cycle``)."""

from __future__ import annotations

from engine.cycle.run import run_cycle
from engine.jobs import JobContext, JobOutcome


async def run_sync_cycle(context: JobContext) -> JobOutcome:
    """The reconcile cycle: incremental normally, a full read for the periodic resync."""
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
