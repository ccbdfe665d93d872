"""What a cycle commits: the new base, links, conflicts, dead letters and cursors, computed from
the decision and the push results. Base moves only for writes that went through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from adapters.base import SIDES, Done, Failed, ItemResult, Operation, Side
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
from engine.cycle.seen import seen_rows
from engine.cycle.snapshot import Rejected, SideRead
from engine.store.state import CommitBatch, NewConflict, NewDeadLetter, StoredRecord


def commit_batch(
    connection: str,
    kind: str,
    job: str,
    mode: str,
    started: datetime,
    actions: Sequence[Action],
    results: Mapping[Side, Mapping[str, ItemResult]],
    operations: Mapping[Side, Sequence[Operation]],
    rejected: Sequence[Rejected],
    reads: Mapping[Side, SideRead],
    stored: Mapping[str, StoredRecord],
    counts: dict[str, int],
    *,
    parked: Sequence[tuple[str, str]] = (),
) -> CommitBatch:
    """``parked`` are the (key, side) of the kind's open dead letters: one whose record the
    cycle saw on both sides and found nothing left to write for is cleared too (it agrees
    now, so no write will ever clear it)."""

    def done(side: Side, key: str) -> Done | None:
        result = results[side].get(key)
        return result if isinstance(result, Done) else None

    updates: dict[str, dict[str, Any]] = {}
    copied: set[str] = set()
    failed_fields: set[tuple[str, str]] = set()
    # Per side, not per key: a dict per created record was 60 MB of a 300,000-article export.
    new_refs: dict[Side, dict[str, str]] = {side: {} for side in SIDES}
    forgotten: list[str] = []
    found: list[NewConflict] = []
    closing: list[CloseConflict] = []
    for action in actions:
        match action:
            case Agree(key=key, field=field, value=value):
                _merge(updates, copied, key, {field: value})
            case AgreeRecord(key=key, fields=fields):
                _merge(updates, copied, key, fields)
            case SetField(key=key, field=field, value=value, side=side):
                if done(side, key):
                    _merge(updates, copied, key, {field: value})
                else:
                    failed_fields.add((key, field))
            case CreateRecord(key=key, side=side, fields=fields):
                created = done(side, key)
                if created is not None:
                    _merge(updates, copied, key, fields)
                    new_refs[side][key] = created.ref
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
    # Only open dead letters can be cleared: a pair for every write that went through was a
    # list as long as the catalogue after an export, for a statement that cleared nothing.
    open_letters = set(parked)
    cleared: list[tuple[str, str]] = []
    for side in SIDES:
        ops: dict[str, Operation] | None = None
        for key, result in results[side].items():
            if isinstance(result, Failed):
                ops = ops if ops is not None else {op.key: op for op in operations[side]}
                dead_letters.append(
                    NewDeadLetter(
                        key=key,
                        side=side,
                        reason=result.reason,
                        operation=msgspec.to_builtins(ops[key]),
                    )
                )
            elif (key, side) in open_letters:
                cleared.append((key, side))
    for bad in rejected:
        dead_letters.append(
            NewDeadLetter(key=bad.key, side=bad.side, reason=bad.reason, operation={})
        )
    still_wrong = {d.key for d in dead_letters} | {c.key for c in found}
    # A letter is about one side: once that side is read whole and has nothing left to be
    # written, it is cleared even when the other side is written to (the cycle that sends a
    # record fixed in the ERP clears the ERP's letter of it, not the cycle after).
    written = {(op.key, side) for side in SIDES for op in operations[side]} if parked else set()
    cleared.extend(
        (key, side)
        for key, side in parked
        if key not in still_wrong
        and (key, side) not in written
        and all(key in reads[s].observed for s in SIDES)
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
        seen=seen_rows(stored, reads, updates, set(forgotten), operations),
    )


def _merge(
    updates: dict[str, dict[str, Any]], copied: set[str], key: str, fields: dict[str, Any]
) -> None:
    """Merge ``fields`` into ``key``'s base update. The first fields of a key are borrowed, not
    copied (an export's every record: copies were about 100 MB at 300,000 articles); a
    borrowed dict is copied (and noted in ``copied``, the few keys merged into more than once)
    only when more is merged into it, never changed in place."""
    mine = updates.get(key)
    if mine is None:
        updates[key] = fields
        return
    if key not in copied:
        mine = updates[key] = dict(mine)
        copied.add(key)
    mine.update(fields)


def _changed_links(
    reads: Mapping[Side, SideRead],
    stored: Mapping[str, StoredRecord],
    new_refs: Mapping[Side, Mapping[str, str]],
) -> list[tuple[str, str | None, str | None]]:
    links: list[tuple[str, str | None, str | None]] = []
    new_erp, new_shop = new_refs["erp"], new_refs["shop"]
    keys = reads["erp"].refs.keys() | reads["shop"].refs.keys() | new_erp.keys() | new_shop.keys()
    for key in keys:
        erp_ref = new_erp.get(key) or reads["erp"].refs.get(key)
        shop_ref = new_shop.get(key) or reads["shop"].refs.get(key)
        known = stored.get(key)
        if known is None or (erp_ref or known.erp_ref, shop_ref or known.shop_ref) != (
            known.erp_ref,
            known.shop_ref,
        ):
            links.append((key, erp_ref, shop_ref))
    return links
