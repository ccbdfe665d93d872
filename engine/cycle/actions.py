"""What the decision says to do: a closed set of frozen, tagged records.

The decision (:mod:`engine.cycle.decide`) returns a list of these; the planner turns the writes into
operations per side, and the commit turns the rest into base, conflict and report rows.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from adapters.base import Fields, Side

Why = Literal[
    "changed",  # only one side changed since the base: copied to the other
    "drift",  # the side that does not own the field changed it: reverted
    "initial",  # no agreed value yet (first run): the owner's value is taken
    "erp-wins",
    "shop-wins",
    "newest",  # decided by comparing the two servers' own modification times
    "merged",  # merge-delta: base + change on the ERP + change in the shop
    "resolved",  # a person resolved the conflict
]


class SetField(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Write ``value`` into ``field`` of record ``key`` on ``side``; on success it is the base."""

    key: str
    field: str
    value: Any
    side: Side
    why: Why
    note: str = ""


class Agree(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Both sides hold ``value`` already: the base moves to it, nothing is written."""

    key: str
    field: str
    value: Any


class AgreeRecord(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Both sides hold the same record (typically matched on a first run): the base becomes
    ``fields`` as a whole, nothing is written. One action instead of one per field."""

    key: str
    fields: Fields


class CreateRecord(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create the record on ``side`` from the other side's fields."""

    key: str
    side: Side
    fields: Fields


class ArchiveRecord(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Take the record out of use on ``side`` (its counterpart is gone)."""

    key: str
    side: Side


class Forget(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The record is gone from both sides: drop its base and links."""

    key: str


class Conflict(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A field the rules could not settle; it is held on both sides until a person decides.

    ``suggested`` is the computed default direction, kept apart from the person's choice.
    """

    key: str
    field: str
    base: Any
    erp: Any
    shop: Any
    reason: str
    suggested: Side | None = None


class CloseConflict(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """A held field is settled: by a person's resolution (``applied``) or because both sides
    now agree (``dismissed``)."""

    key: str
    field: str
    status: Literal["applied", "dismissed"]


class Report(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Something a person should know that needs no write (a record lost on one side)."""

    key: str
    message: str


Action = (
    SetField
    | Agree
    | AgreeRecord
    | CreateRecord
    | ArchiveRecord
    | Forget
    | Conflict
    | CloseConflict
    | Report
)
