"""One reconcile cycle for one connection and one job: snapshot → decide → plan → push → commit.

Base moves only in the commit, in one transaction, and only for what was written: a crash
anywhere before it leaves base as it was, and the next cycle redoes the work (pushes are
idempotent: creations match on the natural key).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

import msgspec

from adapters.base import (
    SIDES,
    Adapter,
    Failed,
    ItemResult,
    Operation,
    Seen,
    Side,
    SnapshotInParts,
)
from engine.config import JobConfig
from engine.cycle.actions import (
    Action,
    Agree,
    AgreeRecord,
    ArchiveRecord,
    CloseConflict,
    Conflict,
    CreateRecord,
    Forget,
    Report,
    SetField,
)
from engine.cycle.carried import uncarried, without
from engine.cycle.commit import commit_batch
from engine.cycle.decide import Held, SideState, decide
from engine.cycle.push import Pusher, plan
from engine.cycle.seen import digester, load_changed_bases
from engine.cycle.snapshot import (
    CollectorPause,
    Indexer,
    Rejected,
    SideRead,
    drain_rejects,
    fetch_missing,
    held_by_link,
    ingest_in_turns,
)
from engine.cycle.transforms import Pipeline
from engine.store.fencing import FencedOut
from engine.store.state import NewDeadLetter, Store, StoredRecord
from rules.policy import KindRules
from rules.transforms import Transforms

log = logging.getLogger("concord.cycle")


class Progress(Protocol):
    """Where a cycle reports how far it got (a progress bar, or nothing)."""

    def stage(self, name: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


class CycleResult(msgspec.Struct, kw_only=True):
    run_id: int | None
    counts: dict[str, int]
    seconds: float
    conflicts: list[Conflict]
    failures: list[NewDeadLetter]
    reports: list[Report]
    rejected: list[Rejected]
    operations: dict[str, list[Operation]]

    def kept(self) -> CycleResult:
        """What a caller holding several results keeps of this one: all but the operations of a
        cycle that wrote, which hold every value written (after an export, the catalogue: kept,
        one job's catalogue stayed in memory while the next job ran)."""
        if self.run_id is None:
            return self  # a dry run: its operations are the plan to show
        return msgspec.structs.replace(self, operations={})


async def run_cycle(
    store: Store,
    *,
    connection: str,
    job_name: str,
    job: JobConfig,
    rules: KindRules,
    adapters: Mapping[Side, Adapter],
    full: bool,
    dry_run: bool = False,
    progress: Progress | None = None,
    transforms: Transforms | None = None,
) -> CycleResult:
    """Run one cycle. With ``dry_run`` nothing is written anywhere: the plan is returned.
    ``transforms`` are the connection's catalogue rules (see :mod:`engine.cycle.transforms`)."""
    progress = progress or _Silent()
    started, clock = datetime.now(UTC), time.perf_counter()
    kind = job.kind
    mode = "dry-run" if dry_run else ("full" if full else "incremental")
    reading = CollectorPause()  # until the plan is made: the CPU-heavy part of a cycle
    try:
        await store.ensure_connection(connection)
        cursors, conflicts, dead = await asyncio.gather(
            store.load_cursors(connection, job_name),
            store.load_conflicts(connection, kind),
            store.list_dead_letters(connection),
        )
        retry_keys = {d.key for d in dead if d.kind == kind} | {key for key, _ in conflicts}
        progress.stage("snapshot", None)
        rejected: list[Rejected] = []
        pipeline = Pipeline(
            transforms or Transforms(), kind, adapters, store=store, connection=connection
        )
        left_out = uncarried(kind, adapters, pipeline.translated(), pipeline.built_variants())
        since = {
            side: None if full or pipeline.full_read(side) else cursors.get(side) for side in SIDES
        }
        incremental = all(since[side] is not None for side in SIDES)
        # Records reaching the decision as read are known unchanged by their digests alone.
        digest = digester(kind, left_out, job.fields) if pipeline.keeps_records() else None
        # A full read of either side needs every base row (or, with digests, every record's
        # digests: the index), loaded when a side first needs it: a side read in parts before
        # its first part (each part is indexed against it), a side read whole once it has
        # answered (not at the start: the base and a whole side's records in memory at once
        # would be the cycle's peak). An incremental cycle needs only the rows of what it read
        # (a few, usually).
        whole_base: asyncio.Future[dict[str, StoredRecord]] | None = None

        def base_loading() -> asyncio.Future[dict[str, StoredRecord]]:
            nonlocal whole_base
            if whole_base is None:
                load = store.load_index if digest is not None else store.load_records
                whole_base = asyncio.ensure_future(load(connection, kind))
            return whole_base

        async def against() -> tuple[
            dict[str, StoredRecord] | None, dict[str, StoredRecord] | None
        ]:
            # What a side is indexed against: the bases, or with digests the index of them.
            if incremental:
                return None, None
            loaded = await base_loading()
            return (None, loaded) if digest is not None else (loaded, None)

        set_aside: dict[Side, list[Rejected]] = {side: [] for side in SIDES}

        async def read(side: Side) -> SideRead:
            # Each side is indexed as soon as it has answered (part by part when the adapter
            # can hand its records over so), while the other is still read; the platform's
            # records are let go once indexed, and values equal to the base share the base's
            # (one copy of an unchanged catalogue in memory, not three).
            adapter = adapters[side]
            if isinstance(adapter, SnapshotInParts):
                base, index = await against()
                indexer = Indexer(side, set_aside[side], base, left_out, digest=digest, index=index)

                async def take(part: list[Seen]) -> None:
                    indexer.add(part)
                    await asyncio.sleep(0)

                done = await adapter.snapshot_parts(kind, since[side], take)
                drain_rejects(side, adapter, set_aside[side])
                return indexer.finish(done)
            snapshot = await adapter.snapshot(kind, since[side])
            drain_rejects(side, adapter, set_aside[side])
            base, index = await against()
            return await ingest_in_turns(
                side,
                snapshot,
                set_aside[side],
                known=base,
                left_out=left_out,
                digest=digest,
                index=index,
            )

        try:
            indexed = await asyncio.gather(*(read(side) for side in SIDES))
        finally:
            if whole_base is not None and not whole_base.done():
                whole_base.cancel()  # a side failed: the cycle stops here
        stored_all = None if whole_base is None else whole_base.result()
        reads: dict[Side, SideRead] = dict(zip(SIDES, indexed, strict=True))
        if stored_all is not None and digest is not None:
            stored_all = await load_changed_bases(
                store, connection, kind, stored_all, reads, retry_keys
            )
        rejected += set_aside["erp"] + set_aside["shop"]
        await pipeline.on_snapshot(reads, rejected)
        if stored_all is not None:
            stored = stored_all
        elif any(reads[side].complete for side in SIDES):
            # An adapter may answer in full even when asked for changes (no cursor filter on
            # that platform): the decision then weighs every record, so it needs every base.
            stored = await store.load_records(connection, kind)
        else:
            read_keys = reads["erp"].observed.keys() | reads["shop"].observed.keys()
            stored = await store.load_records(connection, kind, read_keys | retry_keys)
        base = {key: rec.fields for key, rec in stored.items() if rec.fields is not None}
        for side, other in zip(SIDES, reversed(SIDES), strict=True):
            new_elsewhere = reads[other].observed.keys() - base.keys()
            fetched = await fetch_missing(
                adapters[side], kind, reads[side], new_elsewhere | retry_keys, rejected, side
            )
            drain_rejects(side, adapters[side], rejected)
            if fetched is not None:
                if side == "erp":
                    # A retried record goes through the catalogue rules like any other read.
                    await pipeline.map_erp(fetched, rejected)
                reads[side].observed.update(fetched.observed)
                reads[side].refs.update(fetched.refs)
        pipeline.on_fetched(reads)
        if unkeyed := {(r.side, r.ref) for r in rejected if r.ref is not None}:
            rejected = held_by_link(rejected, await store.keys_of_refs(connection, kind, unkeyed))
        excluded = {r.key for r in rejected}
        held = {
            (key, field): Held(
                resolved=row.status == "resolved", value=row.resolution, reason=row.reason
            )
            for (key, field), row in conflicts.items()
        }
        states = {
            side: SideState(
                # Transforms rebuild records whole: what is not synchronised goes again.
                records={
                    k: without(v, left_out)
                    for k, v in reads[side].observed.items()
                    if k not in excluded
                },
                complete=reads[side].complete,
            )
            for side in SIDES
        }
        actions = decide(
            {k: v for k, v in base.items() if k not in excluded},
            states["erp"],
            states["shop"],
            rules,
            fields=job.fields,
            held=held,
        )
        refs = {side: _refs(side, stored, reads[side]) for side in SIDES}
        operations = plan(actions, refs)
        reading.release()
        if dry_run:
            return _result(None, started, clock, actions, {}, rejected, reads, operations)
        total = sum(len(ops) for ops in operations.values())
        progress.stage("push", total)
        outgoing = pipeline.outgoing(operations, reads)
        pushed = await asyncio.gather(
            *(
                Pusher(adapters[side], kind, on_progress=progress.advance).push(outgoing[side])
                for side in SIDES
            )
        )
        results = pipeline.fold(dict(zip(SIDES, pushed, strict=True)))
        result = _result(None, started, clock, actions, results, rejected, reads, operations)
        progress.stage("commit", None)
        batch = commit_batch(
            connection,
            kind,
            job_name,
            mode,
            started,
            actions,
            results,
            operations,
            rejected,
            reads,
            stored,
            result.counts,
            parked=[(d.key, d.side) for d in dead if d.kind == kind],
        )
        result.run_id = await store.commit(batch)
        _log_outcome(connection, job_name, actions, result)
        return result
    except Exception as exc:
        # A fenced-out run belongs to a claim that is over: it leaves no row at all.
        if not dry_run and not isinstance(exc, FencedOut):
            await _record_failure(store, connection, job_name, mode, started, exc)
        raise
    finally:
        reading.release()


async def _record_failure(
    store: Store, connection: str, job: str, mode: str, started: datetime, exc: Exception
) -> None:
    try:
        await store.record_failed_run(
            connection=connection,
            job=job,
            mode=mode,
            started_at=started,
            error=f"{type(exc).__name__}: {exc}",
        )
    except Exception as secondary:  # the store itself may be what failed
        log.error("could not record the failed run: %s", secondary)


def _refs(side: Side, stored: Mapping[str, StoredRecord], read: SideRead) -> dict[str, str]:
    refs = {
        key: ref
        for key, rec in stored.items()
        if (ref := (rec.erp_ref if side == "erp" else rec.shop_ref)) is not None
    }
    refs.update(read.refs)
    return refs


def _count(
    actions: Sequence[Action],
    results: Mapping[Side, Mapping[str, ItemResult]],
    reads: Mapping[Side, SideRead],
    rejected: Sequence[Rejected],
    operations: Mapping[Side, Sequence[Operation]],
) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for side in SIDES:
        counts[f"read_{side}"] = reads[side].count
        counts[f"writes_{side}"] = len(operations[side])
        counts[f"failed_{side}"] = sum(
            isinstance(r, Failed) for r in results.get(side, {}).values()
        )
    for action in actions:
        match action:
            case SetField(why="drift"):
                counts["drift"] += 1
                counts["fields_copied"] += 1
            case SetField():
                counts["fields_copied"] += 1
            case Agree():
                counts["agreed"] += 1
            case AgreeRecord():
                counts["matched"] += 1
            case CreateRecord(side=side):
                counts[f"created_{side}"] += 1
            case ArchiveRecord():
                counts["archived"] += 1
            case Forget():
                counts["forgotten"] += 1
            case Conflict():
                counts["conflicts"] += 1
            case Report():
                counts["reported"] += 1
            case CloseConflict():
                counts["conflicts_closed"] += 1
    counts["rejected"] = len(rejected)
    return dict(counts)


def _result(
    run_id: int | None,
    started: datetime,
    clock: float,
    actions: Sequence[Action],
    results: Mapping[Side, Mapping[str, ItemResult]],
    rejected: list[Rejected],
    reads: Mapping[Side, SideRead],
    operations: Mapping[Side, list[Operation]],
) -> CycleResult:
    failures = [
        NewDeadLetter(key=key, side=side, operation={}, reason=result.reason)
        for side, by_key in results.items()
        for key, result in by_key.items()
        if isinstance(result, Failed)
    ]
    return CycleResult(
        run_id=run_id,
        counts=_count(actions, results, reads, rejected, operations),
        seconds=time.perf_counter() - clock,
        conflicts=[a for a in actions if isinstance(a, Conflict)],
        failures=failures,
        reports=[a for a in actions if isinstance(a, Report)],
        rejected=rejected,
        operations={side: list(ops) for side, ops in operations.items()},
    )


def _log_outcome(connection: str, job: str, actions: Sequence[Action], result: CycleResult) -> None:
    for action in actions:
        match action:
            case SetField(why="drift" | "newest" | "merged", key=key, field=field, side=side):
                log.info(
                    "%s/%s %s.%s -> %s (%s) %s",
                    connection,
                    job,
                    key,
                    field,
                    side,
                    action.why,
                    action.note,
                )
            case Report(key=key, message=message):
                log.warning("%s/%s %s: %s", connection, job, key, message)
            case _:
                pass
    for failure in result.failures:
        log.warning(
            "%s/%s %s on %s failed: %s", connection, job, failure.key, failure.side, failure.reason
        )
    for bad in result.rejected:
        log.warning("%s/%s %s on %s rejected: %s", connection, job, bad.key, bad.side, bad.reason)
    log.info(
        "%s/%s done in %.2fs: %s",
        connection,
        job,
        result.seconds,
        ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()) if v),
    )
