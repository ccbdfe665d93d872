"""The continuous loop behind ``concord run``: every job of every connection, on its schedule.

A :class:`Worker` registers its slots (:func:`plan_slots`), then claims what is due
(:class:`engine.loop.leases.Leases`), runs it (its runner, :mod:`engine.jobs`, in the lane
of its kind, :mod:`canonical.lanes`) while a heartbeat renews its lease, and records how it ended.
Any number of workers, on any number of machines, can share one database: a job is only ever run by
the worker holding its lease, and a job whose worker died is taken over when its lease expires.

Stopping (:meth:`Worker.run`'s ``stop`` event, set on SIGTERM/SIGINT) claims nothing more, lets
the jobs in flight finish and commit within ``shutdown_timeout``, interrupts what is still
running then (nothing of an interrupted cycle is committed: the next run redoes it), and gives
every lease back, so another worker can start the interrupted jobs at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from adapters.base import Adapter, Side
from adapters.budget import Budgets
from canonical.errors import ConcordError
from canonical.lanes import in_lane, lane_of_kind
from engine.config import Config
from engine.jobs import (
    JobContext,
    full_schedule_of,
    load_runner,
    runner_name,
    schedule_of,
    scheduled_jobs,
)
from engine.loop.budget_grants import PostgresGrants
from engine.loop.leases import Claim, Leases, Slot
from engine.runtime import open_adapters
from engine.schedule import next_due, parse_schedule
from engine.store.fencing import Fence, FencedOut, fenced
from engine.store.health import StoreUnreachable
from engine.store.state import Store

log = logging.getLogger("concord.worker")

AdapterOpener = Callable[[Config, str], AbstractAsyncContextManager[Mapping[Side, Adapter]]]


class WorkerSettings(msgspec.Struct, frozen=True, kw_only=True):
    lease_seconds: float = 30.0
    """How long a claim holds its job without a heartbeat; a dead worker's job waits this long."""
    poll_seconds: float = 5.0
    """Longest wait between looks at the schedule (other workers may have changed it)."""
    max_jobs: int = 4
    """Jobs this worker runs at once (jobs of one account share its request budget)."""
    shutdown_timeout: float = 30.0
    """Seconds from a stop request to exit, at most."""
    retry_failed_after: float = 300.0
    """A failed run is retried after this long, or at its next due time if sooner."""
    keep_runs_days: int = 30
    prune_every: float = 3600.0


def plan_slots(config: Config, now: datetime | None = None) -> list[Slot]:
    """The slots of every job of every connection: its usual run and, for runners that have
    one, its periodic full resync (first due one full period from now: a job's first usual run
    reads everything anyway)."""
    now = now or datetime.now(UTC)
    slots: list[Slot] = []
    for connection_name, connection in config.connections.items():
        for job_name, job in scheduled_jobs(connection).items():
            slots.append(
                Slot(
                    connection=connection_name,
                    slot=job_name,
                    job=job_name,
                    mode="incremental",
                    schedule=schedule_of(job),
                )
            )
            full = full_schedule_of(job)
            if full is not None:
                first = parse_schedule(full).next_after(now)
                slots.append(
                    Slot(
                        connection=connection_name,
                        slot=f"{job_name}:full",
                        job=job_name,
                        mode="full",
                        schedule=full,
                        first_after=(first - now).total_seconds(),
                    )
                )
    return slots


def worker_name() -> str:
    """This worker's name in leases and claims: host, process and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class _Lost(Exception):
    """The claim's lease was lost while its job ran."""


class Worker:
    """Runs the jobs of ``config`` that are due, with the other workers of the same database."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        settings: WorkerSettings | None = None,
        owner: str | None = None,
        budgets: Budgets | None = None,
        adapters: AdapterOpener = open_adapters,
    ) -> None:
        self.config = config
        self.store = store
        self.settings = settings or WorkerSettings()
        self.leases = Leases(store.pool, owner or worker_name())
        self.budgets = budgets or Budgets(grants=PostgresGrants(store.pool))
        self.slots = plan_slots(config)
        self._open_adapters = adapters
        self._running: dict[asyncio.Task[None], Claim] = {}
        self._unrecorded: list[tuple[Claim, str, int | None, str | None]] = []
        """Runs that ended while the database was unreachable: recorded once it is back."""
        self._pruned_at = float("-inf")

    @property
    def owner(self) -> str:
        return self.leases.owner

    async def run(self, stop: asyncio.Event) -> None:
        """Run due jobs until ``stop`` is set, then shut down within ``shutdown_timeout``."""
        await self.leases.register(self.slots)
        log.info("worker %s: %d scheduled slots", self.owner, len(self.slots))
        health = self.store.health
        with self.budgets.shared():
            async with health.watching() if health is not None else nullcontext():
                stopping = asyncio.create_task(stop.wait())
                try:
                    while not stop.is_set():
                        if not await self._store_back(stopping):
                            continue
                        await self._record_unrecorded()
                        await self._prune()
                        await self._claim_due(stop)
                        await self._wait(stopping)
                finally:
                    stopping.cancel()
                    await self._shut_down()

    async def _store_back(self, stopping: asyncio.Task[bool]) -> bool:
        """Wait while the database is unreachable (its watch retries, and says so once); true
        when it answers, false when stopping came first or a running job ended meanwhile."""
        health = self.store.health
        if health is None or health.reachable:
            return True
        back = asyncio.ensure_future(health.wait_reachable())
        try:
            await asyncio.wait(
                {back, stopping, *self._running}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            back.cancel()
        self._reap({task for task in self._running if task.done()})
        return health.reachable

    async def _store_failed(self, what: str, exc: ConcordError) -> None:
        """Log a failed operation on the store, unless the database is unreachable: its watch
        then says so in one line, rather than every operation in one each."""
        health = self.store.health
        if health is not None:
            health.suspect()
            if not await health.answers():
                log.debug("%s: %s", what, exc)
                return
        log.error("%s: %s", what, exc)

    async def _claim_due(self, stop: asyncio.Event) -> None:
        while len(self._running) < self.settings.max_jobs and not stop.is_set():
            try:
                claim = await self.leases.claim(self.slots, self.settings.lease_seconds)
            except ConcordError as exc:
                await self._store_failed("cannot claim jobs", exc)
                return
            if claim is None:
                return
            log.info(
                "%s/%s: started%s",
                claim.connection,
                claim.slot,
                " (taken over from an expired lease)" if claim.took_over else "",
            )
            task = asyncio.create_task(self._run_claim(claim))
            self._running[task] = claim

    async def _wait(self, stopping: asyncio.Task[bool]) -> None:
        timeout = self.settings.poll_seconds
        if len(self._running) < self.settings.max_jobs:
            try:
                due = await self.leases.wait_seconds(self.slots)
            except ConcordError as exc:
                await self._store_failed("cannot read schedules", exc)
                due = None
            if due is not None:
                timeout = min(timeout, due)
        done, _ = await asyncio.wait(
            {stopping, *self._running}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        self._reap(done)

    def _reap(self, done: set[asyncio.Task[Any]]) -> None:
        for task in done:
            claim = self._running.pop(task, None)
            if claim is not None and not task.cancelled() and task.exception() is not None:
                # _run_claim records every outcome itself: this is a bug, said loudly.
                log.error("%s/%s: %r", claim.connection, claim.slot, task.exception())

    async def _shut_down(self) -> None:
        if not self._running:
            return
        log.info("stopping: waiting for %d running job(s)", len(self._running))
        # Keep a little of the allowed time to give leases back after interrupting jobs.
        grace = self.settings.shutdown_timeout - min(5.0, self.settings.shutdown_timeout / 4)
        _, late = await asyncio.wait(set(self._running), timeout=max(grace, 0.0))
        for task in late:
            log.warning("%s: interrupted by the shutdown", self._running[task].slot)
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        self._running.clear()

    async def _prune(self) -> None:
        if time.monotonic() - self._pruned_at < self.settings.prune_every:
            return
        self._pruned_at = time.monotonic()
        try:
            gone = await self.leases.prune(self.settings.keep_runs_days)
        except ConcordError as exc:
            await self._store_failed("cannot prune run history", exc)
            return
        if gone:
            log.info("pruned %d runs older than %d days", gone, self.settings.keep_runs_days)

    async def _run_claim(self, claim: Claim) -> None:
        """Run one claimed job under a heartbeat, then record how it ended."""
        started = time.monotonic()
        health = self.store.health
        job = self._run_job(claim)
        job_task = asyncio.create_task(job if health is None else health.while_reachable(job))
        heartbeat = asyncio.create_task(self._heartbeat(claim, job_task))
        outcome, run_id, error = "ok", None, None
        try:
            run_id = await job_task
        except asyncio.CancelledError:
            if heartbeat.done() and not heartbeat.cancelled() and heartbeat.result():
                outcome, error = "lost", heartbeat.result()
            else:
                outcome, error = "interrupted", "stopped before the run could commit"
            # Let the job unwind (close its adapters) before its lease is given back.
            job_task.cancel()
            await asyncio.wait({job_task})
        except StoreUnreachable as exc:
            outcome, error = "interrupted", str(exc)
        except FencedOut as exc:
            outcome, error = "lost", str(exc)
        except Exception as exc:  # a failed run is recorded, and retried; the loop goes on
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            # Its renewal may be mid-query: let it unwind before the end is recorded.
            heartbeat.cancel()
            await asyncio.wait({heartbeat})
        took = time.monotonic() - started
        if outcome == "ok":
            log.info("%s/%s: done in %.1fs", claim.connection, claim.slot, took)
        else:
            log.warning(
                "%s/%s: %s after %.1fs: %s", claim.connection, claim.slot, outcome, took, error
            )
        await self._finish(claim, outcome, run_id, error)

    async def _finish(
        self, claim: Claim, outcome: str, run_id: int | None, error: str | None
    ) -> None:
        schedule = parse_schedule(claim.schedule)
        retry = timedelta(seconds=self.settings.retry_failed_after)

        def following(now: datetime) -> datetime:
            if outcome == "interrupted":
                return now  # due again at once, for whichever worker is still up
            regular = next_due(schedule, claim.due_at, now)
            return min(regular, now + retry) if outcome == "failed" else regular

        try:
            kept = await self.leases.finish(
                claim, outcome=outcome, run_id=run_id, error=error, next_due=following
            )
        except ConcordError as exc:
            health = self.store.health
            if health is not None and not await health.answers():
                # Recorded once the database is back: the job is then due again at once.
                self._unrecorded.append((claim, outcome, run_id, error))
                return
            # The lease expires by itself; the job is then due again for any worker.
            log.error(
                "%s/%s: cannot record the end of the run: %s", claim.connection, claim.slot, exc
            )
            return
        if not kept:
            log.warning("%s/%s: the lease was taken over meanwhile", claim.connection, claim.slot)

    async def _record_unrecorded(self) -> None:
        waiting, self._unrecorded = self._unrecorded, []
        for claim, outcome, run_id, error in waiting:
            await self._finish(claim, outcome, run_id, error)

    async def _run_job(self, claim: Claim) -> int | None:
        connection = self.config.connections[claim.connection]
        job = scheduled_jobs(connection)[claim.job]
        runner = load_runner(runner_name(job))
        fence = Fence(connection=claim.connection, job=claim.job, token=claim.id)
        with in_lane(lane_of_kind(job.kind)), fenced(fence):
            async with self._open_adapters(self.config, claim.connection) as adapters:
                outcome = await runner(
                    JobContext(
                        store=self.store,
                        connection=claim.connection,
                        job_name=claim.job,
                        job=job,
                        adapters=adapters,
                        full=claim.mode == "full",
                        rules=connection.rules_for(job.kind),
                        transforms=connection.transforms,
                        orders=connection.orders,
                        accounting=connection.accounting,
                    )
                )
        return outcome.run_id

    async def _heartbeat(self, claim: Claim, job: asyncio.Task[Any]) -> str:
        """Renew the lease while the job runs; cancel the job and return why if it is lost."""
        every = self.settings.lease_seconds / 3
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(every)
            try:
                held = await self.leases.renew(claim, self.settings.lease_seconds)
            except ConcordError as exc:
                # With a watch on the database, it stops the job if the server is gone.
                await self._store_failed(f"{claim.connection}/{claim.slot}: cannot renew", exc)
                if time.monotonic() - renewed < self.settings.lease_seconds:
                    continue
                why = f"the lease could not be renewed for {self.settings.lease_seconds:g}s"
            else:
                if held:
                    renewed = time.monotonic()
                    continue
                why = "the lease expired and another worker took the job"
            log.error("%s/%s: %s; stopping the job", claim.connection, claim.slot, why)
            job.cancel()
            return why


async def run_until_stopped(config: Config, store: Store, settings: WorkerSettings) -> None:
    """Run a :class:`Worker` until SIGTERM or SIGINT, then shut it down within its timeout."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    try:
        worker = Worker(config, store, settings=settings)
        log.info("worker %s starting", worker.owner)
        await worker.run(stop)
        log.info("worker %s stopped", worker.owner)
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
