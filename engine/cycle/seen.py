"""Knowing a record is unchanged without decoding it: the digest of what each side answered.

Most of a catalogue does not change between two full cycles. Deciding so field by field means
turning every record read into field values (:func:`canonical.fields.to_fields`), decoding every
base row from JSON and comparing the two: most of a full resync's CPU and its peak of memory.
Instead, each base row keeps, per side, the digest of the record that side answered when its
fields last equalled the base (``erp_seen``, ``shop_seen``). A full cycle loads only those
digests and the links (:meth:`engine.store.state.Store.load_index`); a record whose digest is
the one kept is the base, untouched. Only the records changed on either side have their bases
loaded (:func:`load_changed_bases`), and the decision sees only them: a record the same on both
sides has nothing to decide.

A digest covers the canonical record as the adapter mapped it, every field included, and a tag
of what the cycle leaves out: a change of connection settings, or of an adapter's mapping, gives
new digests, never a wrong match. It is kept only while it is true (:func:`seen_rows`): cleared
for a side written to (what it holds now was not read) and whenever the base moves, unless the
side's record read in this cycle equals the new base.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from adapters.base import SIDES, Operation, Side
from canonical.models import Record
from engine.cycle.decide import Observed
from engine.cycle.snapshot import Digest, SideRead, share_equal_values
from engine.store.rows import StoredRecord

if TYPE_CHECKING:
    from engine.store.state import Store

_encode = msgspec.json.Encoder().encode
_LOADED_AT_ONCE = 5000
"""Bases loaded by one query: each part's values equal to what a side read become that side's
objects before the next part is decoded, so a description is in memory once, not twice."""


def digester(kind: str, left_out: Collection[str], fields: Collection[str] | None) -> Digest:
    """The digest of a record read in a cycle of ``kind`` that leaves ``left_out`` aside and
    compares ``fields`` (None: all): 16 bytes of BLAKE2b over the tag and the record's JSON."""
    tag = _encode([kind, sorted(left_out), None if fields is None else sorted(fields)])

    def digest(record: Record) -> bytes:
        return hashlib.blake2b(tag + _encode(record), digest_size=16).digest()

    return digest


async def load_changed_bases(
    store: Store,
    connection: str,
    kind: str,
    index: Mapping[str, StoredRecord],
    reads: Mapping[Side, SideRead],
    keep: Collection[str],
) -> dict[str, StoredRecord]:
    """The stored records the decision needs after a full read against ``index``: the base of
    every record not the same on both sides (or in ``keep``: a dead letter or a conflict to
    settle), loaded now, and the links alone of the others. A side's record that was the same
    as its base becomes that base again in the side's read, for the decision to see."""
    unchanged = (reads["erp"].same.keys() & reads["shop"].same.keys()) - set(keep)
    wanted = [key for key in index if key not in unchanged]
    stored = {key: index[key] for key in unchanged}
    for start in range(0, len(wanted), _LOADED_AT_ONCE):
        loaded = await store.load_records(connection, kind, wanted[start : start + _LOADED_AT_ONCE])
        for key, rec in loaded.items():
            if rec.fields is not None:
                for side in SIDES:
                    if (seen := reads[side].observed.get(key)) is not None:
                        share_equal_values(rec.fields, seen.fields)
        stored.update(loaded)
    for side in SIDES:
        read = reads[side]
        for key, modified_at in read.same.items():
            if key in unchanged:
                continue
            base = stored[key].fields if key in stored else None
            if base is None:
                # Its base was there when the index was read: only another process could have
                # removed it meanwhile, which the job's lease rules out.
                raise RuntimeError(f"{kind} {key}: its base went away during the cycle")
            read.observed[key] = Observed(fields=base, modified_at=modified_at)
    return stored


def seen_rows(
    stored: Mapping[str, StoredRecord],
    reads: Mapping[Side, SideRead],
    updates: Mapping[str, dict[str, Any]],
    deletes: Collection[str],
    operations: Mapping[Side, Sequence[Operation]],
) -> list[tuple[str, bytes | None, bytes | None]]:
    """The seen digests a cycle's commit sets, for the records whose digests change: a side
    keeps or gets one only when its record, as read now, equals the base after the commit."""
    written = {side: {op.key for op in operations[side]} for side in SIDES}
    keys = updates.keys() | reads["erp"].digests.keys() | reads["shop"].digests.keys()
    rows: list[tuple[str, bytes | None, bytes | None]] = []
    for key in keys:
        old = stored.get(key)
        old_fields = None if old is None or key in deletes else old.fields
        change = updates.get(key)
        if old_fields is None and change is None:
            continue  # no base row to keep a digest on
        final = change if old_fields is None else {**old_fields, **(change or {})}
        moved = final != old_fields
        erp, shop = (
            _digest_now(side, key, reads[side], old, final, moved, key in written[side])
            for side in SIDES
        )
        before = (None, None) if old is None or key in deletes else (old.erp_seen, old.shop_seen)
        if (erp, shop) != before:
            rows.append((key, erp, shop))
    return rows


def _digest_now(
    side: Side,
    key: str,
    read: SideRead,
    old: StoredRecord | None,
    final: dict[str, Any] | None,
    moved: bool,
    written: bool,
) -> bytes | None:
    if written:
        return None  # what the side holds now was sent, not read
    kept = None if old is None else old.seen(side)
    if key in read.same:
        return kept if not moved or read.observed[key].fields == final else None
    fresh = read.digests.get(key)
    if fresh is not None:
        seen = read.observed.get(key)
        return fresh if seen is not None and seen.fields == final else None
    return None if moved else kept  # not read in this cycle: true while the base stays
