"""Prometheus metrics: what the loop did (from Postgres) and how the request budgets are used.

:func:`metrics_text` renders the text exposition format (version 0.0.4) with prometheus_client;
:func:`metrics_handler` serves it as an aiohttp handler, for ``/metrics`` on ``concord serve``.
Job and connection figures come from the database, so any worker's page shows every worker's
work; budget figures are this process's budgets (the workers' own, when served by one).

The figures are read at each scrape, so they are handed to prometheus_client as metric
families from a collector of our own, in a registry of our own: the library's global registry
(and its process metrics) stays out, and several applications in one process never collide.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import accumulate

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from adapters.budget import HELD_BUCKETS, RequestBudget
from engine.loop.leases import Leases
from engine.loop.status import gather_status
from engine.store.state import Store
from web.review_store import ReviewStore, RunSeconds

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

RUN_SECONDS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""Upper bounds of the run duration buckets: a quick incremental cycle to an hour-long full one."""

_JOB = ["connection", "job"]
_LANE = ["account", "lane"]


def _gauge(name: str, help_text: str, labels: Sequence[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=labels)


def _counter(name: str, help_text: str, labels: Sequence[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name, help_text, labels=labels)


async def _job_families(store: Store) -> list[Metric]:
    written = _gauge(
        "concord_job_records_written",
        "Records written to either side by a job over the kept run history.",
        _JOB,
    )
    failed = _gauge(
        "concord_job_failed_runs", "Failed runs of a job in the kept run history.", _JOB
    )
    lag = _gauge("concord_job_lag_seconds", "Seconds since a job last ran successfully.", _JOB)
    late = _gauge("concord_job_late", "1 when a job has not succeeded since it was due.", _JOB)
    last = _gauge("concord_job_last_run_seconds", "How long a job's last run took.", _JOB)
    running = _gauge("concord_job_running", "1 while a worker holds the job's lease.", _JOB)
    conflicts = _gauge("concord_conflicts_open", "Conflicts waiting for a person.", ["connection"])
    letters = _gauge("concord_dead_letters_open", "Writes parked after failing.", ["connection"])
    intents = _gauge(
        "concord_intents_pending", "Order imports begun and not yet confirmed.", ["connection"]
    )
    for status in await gather_status(Leases(store.pool, "metrics")):
        conflicts.add_metric([status.connection], status.open_conflicts)
        letters.add_metric([status.connection], status.dead_letters)
        intents.add_metric([status.connection], status.pending_intents)
        for job in status.jobs:
            labels = [job.connection, job.job]
            written.add_metric(labels, job.records_written)
            failed.add_metric(labels, job.failed_runs)
            late.add_metric(labels, 1 if job.late else 0)
            running.add_metric(labels, 1 if job.running_on else 0)
            if job.lag_seconds is not None:
                lag.add_metric(labels, job.lag_seconds)
            if job.last_run is not None and job.last_run.seconds is not None:
                last.add_metric(labels, job.last_run.seconds)
    return [written, failed, lag, late, last, running, conflicts, letters, intents]


def _bounds(buckets: Sequence[float]) -> list[str]:
    """Bucket bounds as the ``le`` labels spell them, the last one unbounded."""
    return [*(str(b) for b in buckets), "+Inf"]


def _run_seconds(rows: Sequence[RunSeconds]) -> GaugeHistogramMetricFamily:
    """The durations of the finished runs in the kept run history, per job.

    A gauge histogram, not a histogram: the history is pruned (``keep_runs_days``), so a
    bucket's count can go down, which a histogram's counters never do.
    """
    family = GaugeHistogramMetricFamily(
        "concord_job_run_seconds",
        "How long a job's finished runs took, over the kept run history.",
        labels=_JOB,
    )
    bounds = _bounds(RUN_SECONDS_BUCKETS)
    jobs: dict[tuple[str, str], list[RunSeconds]] = {}
    for row in rows:
        jobs.setdefault((row.connection, row.job), []).append(row)
    for (connection, job), buckets in jobs.items():
        per_bucket = [0] * len(bounds)
        for bucket in buckets:
            per_bucket[bucket.bucket] += bucket.runs
        family.add_metric(
            [connection, job],
            list(zip(bounds, accumulate(per_bucket), strict=True)),
            gsum_value=sum(b.seconds for b in buckets),
        )
    return family


def _budget_families(budgets: Iterable[RequestBudget]) -> list[Metric]:
    requests = _counter(
        "concord_budget_requests", "Requests let through by a budget, by lane.", _LANE
    )
    waiting = _gauge("concord_budget_waiting", "Requests queued in a budget now, by lane.", _LANE)
    waited = _counter("concord_budget_wait_seconds", "Time requests spent queued, by lane.", _LANE)
    max_wait = _gauge(
        "concord_budget_max_wait_seconds", "Longest time one request was queued.", _LANE
    )
    in_flight = _gauge(
        "concord_budget_in_flight", "Requests of an account in flight now.", ["account"]
    )
    rate = _gauge("concord_budget_rate", "Requests per second allowed now (adaptive).", ["account"])
    max_rate = _gauge("concord_budget_max_rate", "Requests per second configured.", ["account"])
    throttled = _counter(
        "concord_budget_throttled", "Throttle signals (HTTP 429) received.", ["account"]
    )
    held = HistogramMetricFamily(
        "concord_budget_request_seconds",
        "How long requests were in flight to the platform, by lane.",
        labels=_LANE,
    )
    held_bounds = _bounds(HELD_BUCKETS)
    for budget in budgets:
        account = [budget.account]
        in_flight.add_metric(account, budget.in_flight)
        rate.add_metric(account, round(budget.current_rate(), 3))
        max_rate.add_metric(account, budget.max_rate)
        throttled.add_metric(account, budget.throttled)
        for lane, stats in budget.lanes.items():
            labels = [budget.account, lane]
            requests.add_metric(labels, stats.granted)
            waiting.add_metric(labels, stats.waiting)
            waited.add_metric(labels, round(stats.wait_seconds, 6))
            max_wait.add_metric(labels, round(stats.max_wait, 6))
            held.add_metric(
                labels,
                list(zip(held_bounds, accumulate(stats.held_counts), strict=True)),
                sum_value=round(stats.held_seconds, 6),
            )
    return [requests, waiting, waited, max_wait, in_flight, rate, max_rate, throttled, held]


class _Scrape(Collector):
    """The families read for one scrape, handed to prometheus_client to render."""

    def __init__(self, families: Sequence[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def metrics_text(store: Store, budgets: Iterable[RequestBudget]) -> str:
    """Every metric, in Prometheus's text format."""
    runs = await ReviewStore(store).run_seconds(RUN_SECONDS_BUCKETS)
    families = [*await _job_families(store), _run_seconds(runs), *_budget_families(budgets)]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Scrape(families))
    return generate_latest(registry).decode()


def metrics_handler(
    store: Store, budgets: Iterable[RequestBudget]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler serving :func:`metrics_text` (mount it at ``/metrics``)."""

    async def handle(request: web.Request) -> web.Response:
        text = await metrics_text(store, budgets)
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})

    return handle
