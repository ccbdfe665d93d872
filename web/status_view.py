"""What the status page shows: each job's last run, recent runs, dead letters with a retry
action, held orders, and the latest decisions of the review trail.

The markup is ``web/templates/status.html``; this module chooses what goes into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from engine.config import JobConfig
from engine.orders.held import held_orders
from engine.store.state import RunRow
from web.context import Nav
from web.review_store import DeadLetter, Event

JobsByConnection = Mapping[str, Mapping[str, JobConfig]]


def _jobs(
    jobs: JobsByConnection, last: Sequence[RunRow]
) -> list[tuple[str, JobConfig | None, RunRow | None]]:
    """Every configured job and every job that ran, with its configuration and last run."""
    latest = {(r.connection, r.job): r for r in last}
    names = sorted({(c, j) for c, js in jobs.items() for j in js} | set(latest))
    return [
        (f"{connection} / {job}", jobs.get(connection, {}).get(job), latest.get((connection, job)))
        for connection, job in names
    ]


def status_context(
    *,
    jobs: JobsByConnection,
    last_runs: Sequence[RunRow],
    runs: Sequence[RunRow],
    letters: Sequence[DeadLetter],
    events: Sequence[Event],
    nav: Nav,
    notices: Sequence[tuple[str, str]],
    now: datetime | None = None,
) -> dict[str, Any]:
    """``status.html``, the whole status page."""
    return {
        "title": "Status · Concord",
        "nav": nav,
        "notices": notices,
        "script": True,
        "now": now or datetime.now(UTC),
        # How many orders are held per kind of reason (each is listed with the dead letters).
        "held": list(held_orders(letters).by_reason.items()),
        "held_count": sum(1 for letter in letters if letter.kind == "order"),
        "letters": letters,
        "jobs": _jobs(jobs, last_runs),
        "runs": runs,
        "events": events,
    }
