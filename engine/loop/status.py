"""What ``concord status`` and the metrics show: per connection and job, how the loop is doing.

Per job: its last run (when, how long, counts, error), how long since its last successful run
(the *lag*) against its schedule, failed runs and records written over the kept history, and
which worker runs it now. Per connection: pending order intents, dead letters, open conflicts.
Everything comes from Postgres, so any machine sees what every worker did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec

from engine.loop.leases import Leases
from engine.schedule import parse_schedule

LATE_GRACE = timedelta(seconds=60)
"""How far past its due time a job's success may be before it counts as late."""


class LastRun(msgspec.Struct, kw_only=True):
    id: int
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None
    counts: dict[str, int]
    error: str | None


class JobStatus(msgspec.Struct, kw_only=True):
    connection: str
    job: str
    schedule: str | None
    next_due: datetime | None
    last_run: LastRun | None
    last_success_at: datetime | None
    lag_seconds: float | None
    """Seconds since the last successful run ended; ``None`` if it never succeeded."""
    late: bool
    """No success since the schedule's due time (plus a minute's grace)."""
    failed_runs: int
    """Failed runs in the kept history."""
    records_written: int
    """Records written to either side over the kept history."""
    running_on: str | None
    """The worker holding the job's lease now."""


class ConnectionStatus(msgspec.Struct, kw_only=True):
    connection: str
    pending_intents: int
    dead_letters: int
    open_conflicts: int
    jobs: list[JobStatus]


async def gather_status(
    leases: Leases,
    connection: str | None = None,
    schedules: Mapping[tuple[str, str], str] | None = None,
) -> list[ConnectionStatus]:
    """The status of every connection (or one). ``schedules`` gives the configured schedule of
    jobs by (connection, job): configured jobs that never ran are listed too."""
    job_rows = await leases.fetch("status_jobs", connection)
    connection_rows = await leases.fetch("status_connections", connection)
    jobs: dict[tuple[str, str], JobStatus] = {}
    for row in job_rows:
        key = (row["connection"], row["job"])
        jobs[key] = _job_status(dict(row), (schedules or {}).get(key) or row["schedule"])
    for key, schedule in (schedules or {}).items():
        if key not in jobs and (connection is None or key[0] == connection):
            jobs[key] = _never_ran(key, schedule)
    statuses = []
    for row in connection_rows:
        name = row["connection"]
        statuses.append(
            ConnectionStatus(
                connection=name,
                pending_intents=row["pending_intents"],
                dead_letters=row["dead_letters"],
                open_conflicts=row["open_conflicts"],
                jobs=[jobs[key] for key in sorted(jobs) if key[0] == name],
            )
        )
    known = {s.connection for s in statuses}
    for name in sorted({key[0] for key in jobs} - known):
        statuses.append(
            ConnectionStatus(
                connection=name,
                pending_intents=0,
                dead_letters=0,
                open_conflicts=0,
                jobs=[jobs[key] for key in sorted(jobs) if key[0] == name],
            )
        )
    return statuses


def _job_status(row: Mapping[str, Any], schedule: str | None) -> JobStatus:
    now: datetime = row["now"]
    last = None
    if row["run_id"] is not None:
        finished = row["finished_at"]
        last = LastRun(
            id=row["run_id"],
            mode=row["mode"],
            status=row["status"],
            started_at=row["started_at"],
            finished_at=finished,
            seconds=(finished - row["started_at"]).total_seconds() if finished else None,
            counts=dict(row["counts"] or {}),
            error=row["error"],
        )
    success: datetime | None = row["last_ok_at"]
    return JobStatus(
        connection=row["connection"],
        job=row["job"],
        schedule=schedule,
        next_due=row["next_due"],
        last_run=last,
        last_success_at=success,
        lag_seconds=None if success is None else max(0.0, (now - success).total_seconds()),
        late=_late(schedule, success, now),
        failed_runs=row["failed_runs"],
        records_written=row["records_written"],
        running_on=row["running_on"],
    )


def _never_ran(key: tuple[str, str], schedule: str) -> JobStatus:
    return JobStatus(
        connection=key[0],
        job=key[1],
        schedule=schedule,
        next_due=None,
        last_run=None,
        last_success_at=None,
        lag_seconds=None,
        late=False,
        failed_runs=0,
        records_written=0,
        running_on=None,
    )


def _late(schedule: str | None, success: datetime | None, now: datetime) -> bool:
    if schedule is None or success is None:
        return False
    try:
        due = parse_schedule(schedule).next_after(success)
    except ValueError:
        return False
    return now > due + LATE_GRACE


def describe_seconds(seconds: float) -> str:
    """``"2h05m"``, ``"3m12s"``, ``"41s"``: a duration as a person reads it."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def status_lines(statuses: list[ConnectionStatus]) -> list[str]:
    """The status as lines for a terminal: one per connection, then one per job."""
    lines: list[str] = []
    for status in statuses:
        lines.append(
            f"{status.connection}: pending intents: {status.pending_intents}, "
            f"dead letters: {status.dead_letters}, open conflicts: {status.open_conflicts}"
        )
        for job in status.jobs:
            lines.append("  " + _job_line(job))
    return lines


def _job_line(job: JobStatus) -> str:
    label = f"{job.connection}/{job.job}:"
    run = job.last_run
    if run is None:
        head = f"{label} never ran"
    else:
        took = f"{run.seconds:.1f}s" if run.seconds is not None else "unfinished"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()) if v)
        head = f"{label} {run.status} {run.mode} at {run.started_at:%Y-%m-%d %H:%M:%S} ({took})"
        head += f" {counts}" if counts else ""
        head += f" error: {run.error}" if run.error else ""
    parts = [head]
    if job.lag_seconds is not None:
        lag = f"lag {describe_seconds(job.lag_seconds)}"
        lag += f" (every {job.schedule})" if job.schedule else ""
        parts.append(lag + (" LATE" if job.late else ""))
    elif job.schedule:
        parts.append(f"no success yet (every {job.schedule})")
    if job.failed_runs:
        parts.append(f"failed runs: {job.failed_runs}")
    if job.running_on:
        parts.append(f"running on {job.running_on}")
    elif job.next_due is not None:
        parts.append(f"next {job.next_due:%Y-%m-%d %H:%M:%S}")
    return " | ".join(parts)
