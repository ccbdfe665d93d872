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
from typing import Any, Protocol

import msgspec

from adapters.base import Adapter, Done, Failed, ItemResult, Operation, Seen, Side, Snapshot
from engine.actions import (
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
from engine.config import JobConfig
from engine.decide import Held, Observed, SideState, decide
from engine.fields import Fields, to_fields
from engine.push import Pusher, plan
from engine.store import CommitBatch, NewConflict, NewDeadLetter, Store, StoredRecord
from rules.policy import KindRules

log = logging.getLogger("concord.cycle")
SIDES: tuple[Side, Side] = ("erp", "shop")


class Progress(Protocol):
    """Where a cycle reports how far it got (a progress bar, or nothing)."""

    def stage(self, name: str, total: int | None) -> None: ...

    def advance(self, count: int) -> None: ...


class _Silent:
    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


class Rejected(msgspec.Struct, frozen=True):
    """A record left out of the cycle because its data cannot be trusted."""

    side: Side
    key: str
    reason: str


class CycleResult(msgspec.Struct, kw_only=True):
    run_id: int | None
    counts: dict[str, int]
    seconds: float
    conflicts: list[Conflict]
    failures: list[NewDeadLetter]
    reports: list[Report]
    rejected: list[Rejected]
    operations: dict[str, list[Operation]]


class _Read(msgspec.Struct, kw_only=True):
    """One side's snapshot, checked and indexed by natural key."""

    observed: dict[str, Observed]
    refs: dict[str, str]
    complete: bool
    cursor: str | None
    count: int


def _ingest(side: Side, snapshot: Snapshot, rejected: list[Rejected]) -> _Read:
    """Index a snapshot by natural key, setting aside records whose key is missing or repeated:
    matching them would guess, so they are reported instead."""
    by_key: dict[str, list[Seen]] = {}
    for seen in snapshot.records:
        key = seen.record.natural_key().strip()
        if not key:
            field = type(seen.record).KEY
            rejected.append(
                Rejected(
                    side,
                    f"{side}:{seen.ref}",
                    f"record {seen.ref}: {field} is empty; it cannot be matched",
                )
            )
            continue
        by_key.setdefault(key, []).append(seen)
    observed: dict[str, Observed] = {}
    refs: dict[str, str] = {}
    for key, seens in by_key.items():
        if len({s.ref for s in seens}) > 1:
            ids = ", ".join(sorted({s.ref for s in seens}))
            rejected.append(Rejected(side, key, f"{key!r} is used by several records ({ids})"))
            continue
        seen = seens[-1]
        observed[key] = Observed(fields=to_fields(seen.record), modified_at=seen.modified_at)
        refs[key] = seen.ref
    return _Read(
        observed=observed,
        refs=refs,
        complete=snapshot.complete,
        cursor=snapshot.cursor,
        count=len(snapshot.records),
    )


def _drain_adapter_rejects(side: Side, adapter: Adapter, rejected: list[Rejected]) -> None:
    """Adapters set aside records they could not even convert (invalid prices, bad text)."""
    if adapter.rejected:
        rejected.extend(Rejected(side, f"{side}:{ref}", reason) for ref, reason in adapter.rejected)
        adapter.rejected.clear()


async def _fetch_missing(
    adapter: Adapter,
    kind: str,
    read: _Read,
    wanted: set[str],
    rejected: list[Rejected],
    side: Side,
) -> None:
    """Complete an incremental read with the records the decision needs to see."""
    missing = sorted(wanted - read.observed.keys())
    if read.complete or not missing:
        return
    found = _ingest(
        side,
        Snapshot(records=await adapter.fetch(kind, missing), cursor=None, complete=False),
        rejected,
    )
    read.observed.update(found.observed)
    read.refs.update(found.refs)


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
) -> CycleResult:
    """Run one cycle. With ``dry_run`` nothing is written anywhere: the plan is returned."""
    progress = progress or _Silent()
    started, clock = datetime.now(UTC), time.perf_counter()
    kind = job.kind
    mode = "dry-run" if dry_run else ("full" if full else "incremental")
    try:
        await store.ensure_connection(connection)
        stored, cursors, conflicts, dead = await asyncio.gather(
            store.load_records(connection, kind),
            store.load_cursors(connection, job_name),
            store.load_conflicts(connection, kind),
            store.list_dead_letters(connection),
        )
        progress.stage("snapshot", None)
        rejected: list[Rejected] = []
        snapshots = await asyncio.gather(
            *(adapters[side].snapshot(kind, None if full else cursors.get(side)) for side in SIDES)
        )
        reads: dict[Side, _Read] = {}
        for side, snapshot in zip(SIDES, snapshots, strict=True):
            _drain_adapter_rejects(side, adapters[side], rejected)
            reads[side] = _ingest(side, snapshot, rejected)
        base = {key: rec.fields for key, rec in stored.items() if rec.fields is not None}
        retry_keys = {d.key for d in dead if d.kind == kind} | {key for key, _ in conflicts}
        for side, other in zip(SIDES, reversed(SIDES), strict=True):
            new_elsewhere = reads[other].observed.keys() - base.keys()
            await _fetch_missing(
                adapters[side], kind, reads[side], new_elsewhere | retry_keys, rejected, side
            )
            _drain_adapter_rejects(side, adapters[side], rejected)
        excluded = {r.key for r in rejected}
        held = {
            (key, field): Held(
                resolved=row.status == "resolved", value=row.resolution, reason=row.reason
            )
            for (key, field), row in conflicts.items()
        }
        states = {
            side: SideState(
                records={k: v for k, v in reads[side].observed.items() if k not in excluded},
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
        if dry_run:
            return _result(None, started, clock, actions, {}, rejected, reads, operations)
        total = sum(len(ops) for ops in operations.values())
        progress.stage("push", total)
        pushed = await asyncio.gather(
            *(
                Pusher(adapters[side], kind, on_progress=progress.advance).push(operations[side])
                for side in SIDES
            )
        )
        results: dict[Side, dict[str, ItemResult]] = dict(zip(SIDES, pushed, strict=True))
        result = _result(None, started, clock, actions, results, rejected, reads, operations)
        progress.stage("commit", None)
        batch = _commit_batch(
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
        )
        result.run_id = await store.commit(batch)
        _log_outcome(connection, job_name, actions, result)
        return result
    except Exception as exc:
        if not dry_run:
            await _record_failure(store, connection, job_name, mode, started, exc)
        raise


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


def _refs(side: Side, stored: Mapping[str, StoredRecord], read: _Read) -> dict[str, str]:
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
    reads: Mapping[Side, _Read],
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
    reads: Mapping[Side, _Read],
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


def _commit_batch(
    connection: str,
    kind: str,
    job: str,
    mode: str,
    started: datetime,
    actions: Sequence[Action],
    results: Mapping[Side, Mapping[str, ItemResult]],
    operations: Mapping[Side, Sequence[Operation]],
    rejected: Sequence[Rejected],
    reads: Mapping[Side, _Read],
    stored: Mapping[str, StoredRecord],
    counts: dict[str, int],
) -> CommitBatch:
    def done(side: Side, key: str) -> Done | None:
        result = results[side].get(key)
        return result if isinstance(result, Done) else None

    updates: dict[str, dict[str, Any]] = {}
    failed_fields: set[tuple[str, str]] = set()
    new_refs: dict[str, dict[Side, str]] = {}
    forgotten: list[str] = []
    found: list[NewConflict] = []
    closing: list[CloseConflict] = []
    for action in actions:
        match action:
            case Agree(key=key, field=field, value=value):
                updates.setdefault(key, {})[field] = value
            case AgreeRecord(key=key, fields=fields):
                updates.setdefault(key, {}).update(fields)
            case SetField(key=key, field=field, value=value, side=side):
                if done(side, key):
                    updates.setdefault(key, {})[field] = value
                else:
                    failed_fields.add((key, field))
            case CreateRecord(key=key, side=side, fields=fields):
                created = done(side, key)
                if created is not None:
                    updates.setdefault(key, {}).update(fields)
                    new_refs.setdefault(key, {})[side] = created.ref
            case Forget(key=key):
                forgotten.append(key)
            case Conflict() as c:
                found.append(
                    NewConflict(
                        key=c.key,
                        field=c.field,
                        base=c.base,
                        erp=c.erp,
                        shop=c.shop,
                        reason=c.reason,
                        suggested=c.suggested,
                    )
                )
            case CloseConflict() as close:
                closing.append(close)
            case ArchiveRecord() | Report():
                pass
    closed: list[tuple[str, str, str]] = [
        (c.key, c.field, c.status)
        for c in closing
        if c.status == "dismissed" or (c.key, c.field) not in failed_fields
    ]
    links = _changed_links(reads, stored, new_refs)
    dead_letters: list[NewDeadLetter] = []
    cleared: list[tuple[str, str]] = []
    for side in SIDES:
        ops = {op.key: op for op in operations[side]}
        for key, result in results[side].items():
            if isinstance(result, Failed):
                dead_letters.append(
                    NewDeadLetter(
                        key=key,
                        side=side,
                        reason=result.reason,
                        operation=msgspec.to_builtins(ops[key]),
                    )
                )
            else:
                cleared.append((key, side))
    for bad in rejected:
        dead_letters.append(
            NewDeadLetter(key=bad.key, side=bad.side, reason=bad.reason, operation={})
        )
    cursors: dict[str, str] = {
        side: read.cursor for side, read in reads.items() if read.cursor is not None
    }
    return CommitBatch(
        connection=connection,
        kind=kind,
        job=job,
        mode=mode,
        started_at=started,
        status="ok" if not dead_letters else "partial",
        counts=counts,
        error=None,
        base_updates=list(updates.items()),
        base_deletes=forgotten,
        links=links,
        conflicts_found=found,
        conflicts_closed=closed,
        dead_letters=dead_letters,
        dead_letters_cleared=cleared,
        cursors=cursors,
    )


def _changed_links(
    reads: Mapping[Side, _Read],
    stored: Mapping[str, StoredRecord],
    new_refs: Mapping[str, Mapping[Side, str]],
) -> list[tuple[str, str | None, str | None]]:
    links: list[tuple[str, str | None, str | None]] = []
    keys = reads["erp"].refs.keys() | reads["shop"].refs.keys() | new_refs.keys()
    for key in keys:
        erp_ref = new_refs.get(key, {}).get("erp") or reads["erp"].refs.get(key)
        shop_ref = new_refs.get(key, {}).get("shop") or reads["shop"].refs.get(key)
        known = stored.get(key)
        if known is None or (erp_ref or known.erp_ref, shop_ref or known.shop_ref) != (
            known.erp_ref,
            known.shop_ref,
        ):
            links.append((key, erp_ref, shop_ref))
    return links


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


def fields_of(records: Sequence[Seen]) -> list[Fields]:
    """The field values of snapshot records (for reports and tests)."""
    return [to_fields(seen.record) for seen in records]
