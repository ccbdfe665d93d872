"""The shapes the state store reads and writes, as msgspec Structs.

Field values are JSON builtins (see :mod:`canonical.fields`); JSON ``null`` and an absent value are
both read back as ``None``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from adapters.base import Side

ConflictStatus = Literal["open", "resolved", "applied", "dismissed"]
ResolutionSource = Literal["erp", "shop", "value"]


class StoredRecord(msgspec.Struct, frozen=True):
    """What the store knows of one record: its base fields and its refs on each side.

    ``fields`` is ``None`` for a linked record with no base yet (or when only the index was
    loaded, see :meth:`engine.store.state.Store.load_index`); a ref is ``None`` when the record
    is not linked on that side.
    """

    key: str
    fields: dict[str, Any] | None
    erp_ref: str | None
    shop_ref: str | None
    erp_seen: bytes | None = None
    """The digest of the record the ERP answered when it last equalled the base (None: not
    known to); see :mod:`engine.cycle.seen`."""
    shop_seen: bytes | None = None
    """The same for the shop."""

    def seen(self, side: Side) -> bytes | None:
        return self.erp_seen if side == "erp" else self.shop_seen


class NewConflict(msgspec.Struct, frozen=True):
    """A field both sides changed differently, as the decision found it in this cycle."""

    key: str
    field: str
    base: Any
    erp: Any
    shop: Any
    reason: str
    suggested: Side | None = None
    """The computed default; the person's choice is kept apart, in the resolution."""


class NewDeadLetter(msgspec.Struct, frozen=True):
    """A write that failed for good (or too often), parked until someone looks at it."""

    key: str
    side: Side
    operation: dict[str, Any]
    reason: str


class CommitBatch(msgspec.Struct):
    """Everything one cycle of one job changes in the store, committed at once.

    ``base_updates`` are merged into the stored fields (top-level keys replace, others stay);
    ``base_deletes`` are applied before them. In ``links`` a ``None`` ref keeps the stored one.
    ``conflicts_closed`` and ``dead_letters_cleared`` are applied before the new ones, so a
    (key, field) both closed and found again ends with one fresh open conflict.
    """

    connection: str
    kind: str
    job: str
    mode: str
    started_at: datetime
    status: str
    counts: dict[str, int] = {}
    error: str | None = None
    base_updates: list[tuple[str, dict[str, Any]]] = []
    base_deletes: list[str] = []
    links: list[tuple[str, str | None, str | None]] = []
    conflicts_found: list[NewConflict] = []
    conflicts_closed: list[tuple[str, str, str]] = []
    """(key, field, new status): ``"applied"`` or ``"dismissed"``."""
    dead_letters: list[NewDeadLetter] = []
    dead_letters_cleared: list[tuple[str, str]] = []
    """(key, side) of writes that went through after all."""
    cursors: dict[str, str] = {}
    """Side -> where the next incremental read of this job starts."""
    seen: list[tuple[str, bytes | None, bytes | None]] = []
    """(key, ERP digest, shop digest) of records with a base: set after the base's changes."""


class ConflictRow(msgspec.Struct, frozen=True):
    """A conflict as stored: the three values, the computed default and the person's choice."""

    id: int
    connection: str
    kind: str
    key: str
    field: str
    base: Any
    erp: Any
    shop: Any
    reason: str
    suggested: str | None
    status: str
    resolution: Any
    resolution_source: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RunRow(msgspec.Struct, frozen=True):
    """One run of one job: when, how it ended and what it did."""

    id: int
    connection: str
    job: str
    mode: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]
    error: str | None


class DeadLetterRow(msgspec.Struct, frozen=True):
    """A parked write, with how often and since when it failed."""

    id: int
    connection: str
    kind: str
    key: str
    side: str
    operation: dict[str, Any]
    reason: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    status: str
    cleared_at: datetime | None
