"""The continuous loop behind ``concord run``: every job of every connection, on its schedule.

A :class:`Worker` registers its slots (:func:`plan_slots`), then claims what is due
(:class:`engine.leases.Leases`), runs it (its runner, :mod:`engine.runners`, in the lane of its
kind, :mod:`engine.lanes`) while a heartbeat renews its lease, and records how it ended. Any
number of workers, on any number of machines, can share one database: a job is only ever run by
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
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

import msgspec

from adapters.base import Adapter, Side
from adapters.budget import Budgets
from engine.config import Config
from engine.errors import ConcordError
from engine.fencing import Fence, FencedOut, fenced
from engine.lanes import in_lane, lane_of_kind
from engine.leases import Claim, Leases, Slot
from engine.runners import (
    JobContext,
    full_schedule_of,
    load_runner,
    runner_name,
    schedule_of,
    scheduled_jobs,
)
from engine.runtime import open_adapters
from engine.schedule import next_due, parse_schedule
from engine.store import Store
from rules.policy import KindRules

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
        self.budgets = budgets or Budgets()
        self.slots = plan_slots(config)
        self._open_adapters = adapters
        self._running: dict[asyncio.Task[None], Claim] = {}
        self._pruned_at = float("-inf")

    @property
    def owner(self) -> str:
        return self.leases.owner

    async def run(self, stop: asyncio.Event) -> None:
        """Run due jobs until ``stop`` is set, then shut down within ``shutdown_timeout``."""
        await self.leases.register(self.slots)
        log.info("worker %s: %d scheduled slots", self.owner, len(self.slots))
        with self.budgets.shared():
            stopping = asyncio.create_task(stop.wait())
            try:
                while not stop.is_set():
                    await self._prune()
                    await self._claim_due(stop)
                    await self._wait(stopping)
            finally:
                stopping.cancel()
                await self._shut_down()

    async def _claim_due(self, stop: asyncio.Event) -> None:
        while len(self._running) < self.settings.max_jobs and not stop.is_set():
            try:
                claim = await self.leases.claim(self.slots, self.settings.lease_seconds)
            except ConcordError as exc:
                log.error("cannot claim jobs: %s", exc)
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
                log.error("cannot read schedules: %s", exc)
                due = None
            if due is not None:
                timeout = min(timeout, due)
        done, _ = await asyncio.wait(
            {stopping, *self._running}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for task in done:
            claim = self._running.pop(task, None)  # type: ignore[arg-type]
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
            log.error("cannot prune run history: %s", exc)
            return
        if gone:
            log.info("pruned %d runs older than %d days", gone, self.settings.keep_runs_days)

    async def _run_claim(self, claim: Claim) -> None:
        """Run one claimed job under a heartbeat, then record how it ended."""
        started = time.monotonic()
        job_task = asyncio.create_task(self._run_job(claim))
        heartbeat = asyncio.create_task(self._heartbeat(claim, job_task))
        outcome, run_id, error = "ok", None, None
        try:
            run_id = await job_task
        except asyncio.CancelledError:
            if heartbeat.done() and not heartbeat.cancelled() and heartbeat.result():
                outcome, error = "lost", "the lease expired and another worker took the job"
            else:
                outcome, error = "interrupted", "stopped before the run could commit"
            # Let the job unwind (close its adapters) before its lease is given back.
            job_task.cancel()
            await asyncio.wait({job_task})
        except FencedOut as exc:
            outcome, error = "lost", str(exc)
        except Exception as exc:  # a failed run is recorded, and retried; the loop goes on
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            heartbeat.cancel()
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
            # The lease expires by itself; the job is then due again for any worker.
            log.error(
                "%s/%s: cannot record the end of the run: %s", claim.connection, claim.slot, exc
            )
            return
        if not kept:
            log.warning("%s/%s: the lease was taken over meanwhile", claim.connection, claim.slot)

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
                        rules=connection.rules.get(job.kind, KindRules()),
                        transforms=connection.transforms,
                        orders=connection.orders,
                    )
                )
        return outcome.run_id

    async def _heartbeat(self, claim: Claim, job: asyncio.Task[int | None]) -> bool:
        """Renew the lease while the job runs; cancel the job and return true if it is lost."""
        every = self.settings.lease_seconds / 3
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(every)
            try:
                held = await self.leases.renew(claim, self.settings.lease_seconds)
            except ConcordError as exc:
                log.warning("%s/%s: cannot renew the lease: %s", claim.connection, claim.slot, exc)
                held = time.monotonic() - renewed < self.settings.lease_seconds
            else:
                renewed = time.monotonic() if held else renewed
            if not held:
                log.error("%s/%s: lease lost; stopping the job", claim.connection, claim.slot)
                job.cancel()
                return True


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
