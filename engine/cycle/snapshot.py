"""Reading one side for a cycle: the snapshot indexed by natural key, checked, and completed.

Records whose key is missing or repeated on one side are set aside as :class:`Rejected` rather
than matched: matching them would be a guess. An incremental read is completed with the records
the decision needs to see (new on the other side, or with a pending dead letter or conflict).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from adapters.base import Adapter, Reject, Seen, Side, Snapshot
from canonical.fields import Fields, to_fields
from canonical.models import Record
from engine.cycle.carried import drop
from engine.cycle.decide import Observed
from engine.store.rows import StoredRecord

Digest = Callable[[Record], bytes]
"""A record's digest, as :func:`engine.cycle.seen.digester` makes them."""


class Rejected(msgspec.Struct, frozen=True):
    """A record left out of the cycle because its data cannot be trusted."""

    side: Side
    key: str
    reason: str
    ref: str | None = None
    """The platform's reference of a record rejected without its natural key (``key`` is
    then ``side:ref``): the cycle looks it up among the links to hold the article it was."""


class SideRead(msgspec.Struct, kw_only=True):
    """One side's snapshot, checked and indexed by natural key."""

    observed: dict[str, Observed]
    refs: dict[str, str]
    complete: bool
    cursor: str | None
    count: int
    same: dict[str, datetime | None] = {}
    """Records whose digest is the one kept beside their base (so equal to it, and not in
    ``observed`` until :func:`engine.cycle.seen.load_changed_bases`), with their stamps."""
    digests: dict[str, bytes] = {}
    """The digest of every other record read, for the commit (:mod:`engine.cycle.seen`)."""


class Indexer:
    """Indexes one side's records by natural key, part by part as they are read.

    Records whose key is missing or used by several records are set aside as
    :class:`Rejected` (matching them would guess); a record seen twice (a page that shifted
    during the read) counts once, the later reading winning. With the base (``known``), a
    field value equal to the base's becomes the base's object, so an unchanged catalogue is in
    memory once, not once per side and once more as base. Fields in ``left_out`` (those the
    connection does not synchronise, see :mod:`engine.cycle.carried`) are dropped as each record is
    indexed, so that a record equal to its base is seen so at once.

    With ``digest``, each record's digest is taken first (:mod:`engine.cycle.seen`); one equal
    to the digest kept in ``index`` for this side is only noted as the same as its base.
    """

    def __init__(
        self,
        side: Side,
        rejected: list[Rejected],
        known: Mapping[str, StoredRecord] | None = None,
        left_out: frozenset[str] = frozenset(),
        *,
        digest: Digest | None = None,
        index: Mapping[str, StoredRecord] | None = None,
    ) -> None:
        self.side = side
        self.rejected = rejected
        self.known = known
        self.left_out = left_out
        self.digest = digest
        self.index = index
        self.read = SideRead(observed={}, refs={}, complete=False, cursor=None, count=0)
        self._ref_of: dict[str, str] = {}
        self._repeated: dict[str, set[str]] = {}

    def add(self, records: list[Seen]) -> None:
        """Index these records; the list is emptied (each record can go once indexed)."""
        self.read.count += len(records)
        for seen in records:
            self._add(seen)
        records.clear()

    def _add(self, seen: Seen) -> None:
        key = seen.record.natural_key().strip()
        if not key:
            field = type(seen.record).KEY
            self.rejected.append(
                Rejected(
                    self.side,
                    f"{self.side}:{seen.ref}",
                    f"{field} is empty; the record cannot be matched",
                    ref=seen.ref,
                )
            )
            return
        if key in self._repeated:
            self._repeated[key].add(seen.ref)
            return
        first = self._ref_of.setdefault(key, seen.ref)
        if first != seen.ref:
            self._repeated[key] = {first, seen.ref}
            for indexed in (self.read.observed, self.read.refs, self.read.same, self.read.digests):
                indexed.pop(key, None)
            return
        if self.digest is not None:
            digest = self.digest(seen.record)
            stored = self.index.get(key) if self.index is not None else None
            # A record read twice (a page that shifted) is what its later reading says.
            if stored is not None and stored.seen(self.side) == digest:
                self.read.same[key] = seen.modified_at
                self.read.refs[key] = seen.ref
                self.read.observed.pop(key, None)
                self.read.digests.pop(key, None)
                return
            self.read.same.pop(key, None)
            self.read.digests[key] = digest
        _observe(self.side, key, seen, self.read, self.rejected, self.known, self.left_out)

    def finish(self, snapshot: Snapshot) -> SideRead:
        """The side's read, with the snapshot's cursor and completeness; repeated keys are
        reported now that every record using them is known."""
        for key, refs in self._repeated.items():
            ids = ", ".join(sorted(refs))
            self.rejected.append(
                Rejected(self.side, key, f"{key!r} is used by several records ({ids})")
            )
        self.read.complete = snapshot.complete
        self.read.cursor = snapshot.cursor
        return self.read


def ingest(side: Side, snapshot: Snapshot, rejected: list[Rejected]) -> SideRead:
    """Index a whole snapshot by natural key (see :class:`Indexer`)."""
    indexer = Indexer(side, rejected)
    indexer.add(snapshot.records)
    return indexer.finish(snapshot)


async def ingest_in_turns(
    side: Side,
    snapshot: Snapshot,
    rejected: list[Rejected],
    *,
    known: Mapping[str, StoredRecord] | None = None,
    left_out: frozenset[str] = frozenset(),
    turn: int = 2000,
    digest: Digest | None = None,
    index: Mapping[str, StoredRecord] | None = None,
) -> SideRead:
    """:func:`ingest`, giving the event loop back every ``turn`` records (a 300,000-article
    read must not stall lease heartbeats or the order lane)."""
    indexer = Indexer(side, rejected, known, left_out, digest=digest, index=index)
    records = snapshot.records
    while records:
        part = records[:turn]
        del records[:turn]  # each record can go once indexed
        indexer.add(part)
        await asyncio.sleep(0)
    return indexer.finish(snapshot)


def _observe(
    side: Side,
    key: str,
    seen: Seen,
    read: SideRead,
    rejected: list[Rejected],
    known: Mapping[str, StoredRecord] | None = None,
    left_out: frozenset[str] = frozenset(),
) -> None:
    fields = to_fields(seen.record)
    if left_out:
        drop(fields, left_out)
    stored = known.get(key) if known is not None else None
    if stored is not None and stored.fields is not None:
        if fields == stored.fields:
            # The base holds these very values (PostgreSQL took them, so no NUL either).
            read.observed[key] = Observed(fields=stored.fields, modified_at=seen.modified_at)
            read.refs[key] = seen.ref
            return
        share_equal_values(fields, stored.fields)
    # PostgreSQL text and JSONB refuse NUL characters: kept, one would fail the whole commit,
    # every record of the cycle with it.
    if _may_have_nul(key, fields) and (_has_nul(key) or _has_nul(fields)):
        where = f"{side}:{seen.ref}" if _has_nul(key) else key
        bad = [name for name, value in fields.items() if _has_nul(value)] or ["the key"]
        rejected.append(
            Rejected(
                side,
                where,
                f"record {seen.ref}: {', '.join(bad)} contains a NUL character (U+0000), "
                "which cannot be stored; remove it on the platform",
            )
        )
        return
    read.observed[key] = Observed(fields=fields, modified_at=seen.modified_at)
    read.refs[key] = seen.ref


def share_equal_values(fields: Fields, base: Fields) -> None:
    """Each value equal to the base's (of the same type: ``1 == True`` in Python, not in
    JSON) becomes the base's object, so that the platform's copy of a long description can go
    even when another field of the record differs."""
    for name, value in fields.items():
        old = base.get(name, _MISSING)
        if old is not value and type(old) is type(value) and old == value:
            fields[name] = old


_MISSING = object()


def _may_have_nul(key: str, fields: Fields) -> bool:
    """A quick screen for :func:`_has_nul`: JSON spells NUL ``\\u0000``, so a record whose
    encoding lacks that text has none (one encode is far cheaper than walking every value)."""
    if "\x00" in key:
        return True
    try:
        return b"\\u0000" in _encode(fields)
    except (TypeError, msgspec.EncodeError):
        return True  # not plain JSON: let the walk decide


_encode = msgspec.json.Encoder().encode


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class CollectorPause:
    """Pauses Python's cyclic garbage collector while a cycle reads and decides.

    A full read builds millions of small objects (platform structs, records, field dicts) that
    all live until the cycle ends; the collector would walk them again at every full
    collection while they pile up (about 40 % of a 30,000-product resync's CPU). Memory is
    still freed by reference counting; only cyclic garbage waits for :meth:`release`. Pauses
    nest (concurrent cycles): the collector comes back, if it was on, when the last one ends.
    """

    _active = 0
    _was_enabled = False

    def __init__(self) -> None:
        if CollectorPause._active == 0:
            CollectorPause._was_enabled = gc.isenabled()
            gc.disable()
        CollectorPause._active += 1
        self._held = True

    def release(self) -> None:
        """End this pause (again is harmless)."""
        if not self._held:
            return
        self._held = False
        CollectorPause._active -= 1
        if CollectorPause._active == 0 and CollectorPause._was_enabled:
            gc.enable()


def drain_rejects(side: Side, adapter: Adapter, rejected: list[Rejected]) -> None:
    """Adapters set aside records they could not even convert (invalid prices, bad text).
    One whose natural key the adapter names is rejected under that key, so the cycle holds
    that record rather than take it for gone from the side; the reason names the record."""
    for entry in adapter.rejected:
        ref, reason = entry
        key = entry.key if isinstance(entry, Reject) else None
        if key is None:
            linked = entry.seen_as if isinstance(entry, Reject) else ref
            rejected.append(Rejected(side, f"{side}:{ref}", reason, ref=linked))
        else:
            rejected.append(Rejected(side, key, f"{side} record {ref}: {reason}"))
    adapter.rejected.clear()


async def fetch_missing(
    adapter: Adapter,
    kind: str,
    read: SideRead,
    wanted: set[str],
    rejected: list[Rejected],
    side: Side,
) -> SideRead | None:
    """The records an incremental read lacks that the decision needs to see (new on the other
    side, or with a pending dead letter or conflict), fetched by key; None when none is
    missing. The caller maps them as it mapped the read, then adds them to it. A record this
    side's read already rejected is not fetched again, so it is reported once."""
    refused = {r.key for r in rejected if r.side == side}
    missing = sorted(wanted - read.observed.keys() - refused)
    if read.complete or not missing:
        return None
    return ingest(
        side,
        Snapshot(records=await adapter.fetch(kind, missing), cursor=None, complete=False),
        rejected,
    )


def held_by_link(
    rejected: list[Rejected], linked: Mapping[tuple[Side, str], str]
) -> list[Rejected]:
    """Rejects without a natural key whose ref is linked (``linked``: (side, ref) -> key) put
    under the linked record's key: an article whose SKU was emptied, or whose answer no longer
    decodes, is then held like any rejected article rather than taken for gone."""
    out: list[Rejected] = []
    for bad in rejected:
        key = None if bad.ref is None else linked.get((bad.side, bad.ref))
        if key is None:
            out.append(bad)
        else:
            named = bad.key.removeprefix(f"{bad.side}:")  # the adapter's name for the record
            reason = f"{bad.side} record {named}, linked to {key!r}: {bad.reason}"
            out.append(Rejected(bad.side, key, reason))
    return out
