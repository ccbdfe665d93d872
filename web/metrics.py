"""Prometheus metrics: what the loop did (from Postgres) and how the request budgets are used.

:func:`metrics_text` renders the text exposition format (version 0.0.4);
:func:`metrics_handler` serves it as an aiohttp handler, for ``/metrics`` on ``concord serve``.
Job and connection figures come from the database, so any worker's page shows every worker's
work; budget figures are this process's budgets (the workers' own, when served by one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from adapters.budget import RequestBudget
from engine.loop.leases import Leases
from engine.loop.status import gather_status
from engine.store.state import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = dict[str, str]


class _Family:
    """One metric: its help, its type and its samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.name = name
        self.kind = kind
        self.help = help_text
        self.samples: list[tuple[Labels, float]] = []

    def add(self, labels: Labels, value: float) -> None:
        self.samples.append((labels, value))

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in self.samples:
            inside = ",".join(f'{key}="{_escape(text)}"' for key, text in labels.items())
            lines.append(f"{self.name}{{{inside}}} {_number(value)}")
        return lines


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def metrics_text(store: Store, budgets: Iterable[RequestBudget]) -> str:
    """Every metric, in Prometheus's text format."""
    families = {
        name: _Family(name, kind, help_text)
        for name, kind, help_text in (
            (
                "concord_job_records_written",
                "gauge",
                "Records written to either side by a job over the kept run history.",
            ),
            ("concord_job_failed_runs", "gauge", "Failed runs of a job in the kept run history."),
            ("concord_job_lag_seconds", "gauge", "Seconds since a job last ran successfully."),
            ("concord_job_late", "gauge", "1 when a job has not succeeded since it was due."),
            ("concord_job_last_run_seconds", "gauge", "How long a job's last run took."),
            ("concord_job_running", "gauge", "1 while a worker holds the job's lease."),
            ("concord_conflicts_open", "gauge", "Conflicts waiting for a person."),
            ("concord_dead_letters_open", "gauge", "Writes parked after failing."),
            ("concord_intents_pending", "gauge", "Order imports begun and not yet confirmed."),
            (
                "concord_budget_requests_total",
                "counter",
                "Requests let through by a budget, by lane.",
            ),
            ("concord_budget_waiting", "gauge", "Requests queued in a budget now, by lane."),
            (
                "concord_budget_wait_seconds_total",
                "counter",
                "Time requests spent queued, by lane.",
            ),
            ("concord_budget_max_wait_seconds", "gauge", "Longest time one request was queued."),
            ("concord_budget_in_flight", "gauge", "Requests of an account in flight now."),
            ("concord_budget_rate", "gauge", "Requests per second allowed now (adaptive)."),
            ("concord_budget_max_rate", "gauge", "Requests per second configured."),
            ("concord_budget_throttled_total", "counter", "Throttle signals (HTTP 429) received."),
        )
    }
    for status in await gather_status(Leases(store.pool, "metrics")):
        where = {"connection": status.connection}
        families["concord_conflicts_open"].add(where, status.open_conflicts)
        families["concord_dead_letters_open"].add(where, status.dead_letters)
        families["concord_intents_pending"].add(where, status.pending_intents)
        for job in status.jobs:
            labels = {"connection": job.connection, "job": job.job}
            families["concord_job_records_written"].add(labels, job.records_written)
            families["concord_job_failed_runs"].add(labels, job.failed_runs)
            families["concord_job_late"].add(labels, 1 if job.late else 0)
            families["concord_job_running"].add(labels, 1 if job.running_on else 0)
            if job.lag_seconds is not None:
                families["concord_job_lag_seconds"].add(labels, job.lag_seconds)
            if job.last_run is not None and job.last_run.seconds is not None:
                families["concord_job_last_run_seconds"].add(labels, job.last_run.seconds)
    for budget in budgets:
        account = {"account": budget.account}
        families["concord_budget_in_flight"].add(account, budget.in_flight)
        families["concord_budget_rate"].add(account, round(budget.current_rate(), 3))
        families["concord_budget_max_rate"].add(account, budget.max_rate)
        families["concord_budget_throttled_total"].add(account, budget.throttled)
        for lane, stats in budget.lanes.items():
            labels = {**account, "lane": lane}
            families["concord_budget_requests_total"].add(labels, stats.granted)
            families["concord_budget_waiting"].add(labels, stats.waiting)
            families["concord_budget_wait_seconds_total"].add(labels, round(stats.wait_seconds, 6))
            families["concord_budget_max_wait_seconds"].add(labels, round(stats.max_wait, 6))
    lines = [line for family in families.values() for line in family.render()]
    return "\n".join(lines) + "\n"


def metrics_handler(
    store: Store, budgets: Iterable[RequestBudget]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler serving :func:`metrics_text` (mount it at ``/metrics``)."""

    async def handle(request: web.Request) -> web.Response:
        text = await metrics_text(store, budgets)
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    return handle
