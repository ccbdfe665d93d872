"""The decision: (base, ERP, shop) -> actions. Pure: no I/O, no clock, rules passed in.

For every record key, each field's last agreed value (the base), its ERP value and its shop value
are matched as in Unison's reconciler: nobody changed it → nothing; both hold the same value →
agreed; one side changed it → copied to the other (if the field may flow that way, else the change
is drift and is reverted); both changed it differently → the field's policy, or a conflict held
for a person.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Final, assert_never

import msgspec

from adapters.base import Fields, Side
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
    Why,
)
from rules.merge import as_number, merge_delta
from rules.policy import FieldRule, KindRules


class _Absent:
    """A field or record that is not there (distinct from a ``None`` value)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


def _by_side(ev: Any, sv: Any) -> tuple[tuple[Side, Any], tuple[Side, Any]]:
    return (("erp", ev), ("shop", sv))


class Observed(msgspec.Struct, frozen=True, kw_only=True):
    """One side's record: its field values and that platform's own modification time."""

    fields: Fields
    modified_at: datetime | None = None


class SideState(msgspec.Struct, frozen=True, kw_only=True):
    """One side's snapshot. When not ``complete`` (an incremental read), a record that is absent
    is taken as unchanged since the base."""

    records: Mapping[str, Observed]
    complete: bool


class Held(msgspec.Struct, frozen=True, kw_only=True):
    """An open conflict on a field; ``resolved`` once a person chose ``value``."""

    resolved: bool = False
    value: Any = None
    reason: str = ""
    """Why the conflict was opened, kept when it is shown again."""


def decide(
    base: Mapping[str, Fields],
    erp: SideState,
    shop: SideState,
    rules: KindRules,
    *,
    fields: Collection[str] | None = None,
    held: Mapping[tuple[str, str], Held] | None = None,
) -> list[Action]:
    """The actions that bring ``erp`` and ``shop`` into agreement, field by field.

    ``fields`` limits the decision to a job's fields (``None``: every field seen). ``held`` are
    the fields with an open or resolved conflict, by (key, field).
    """
    held = held or {}
    held_keys = {key for key, _ in held}
    erp_records, shop_records = erp.records, shop.records
    # In the order the records were read (memory-friendly), then those only the other side
    # or only the base knows.
    keys: list[str] = list(erp_records)
    keys.extend(key for key in shop_records if key not in erp_records)
    if erp.complete or shop.complete:
        keys.extend(key for key in base if key not in erp_records and key not in shop_records)
    if rules.skip_skus:
        keys = [key for key in keys if key.partition("|")[0] not in rules.skip_skus]
    by_key: list[tuple[str, list[Action]]] = []
    for key in keys:
        known = base.get(key)
        e = erp_records.get(key) or _unread(erp, known)
        s = shop_records.get(key) or _unread(shop, known)
        if isinstance(e, Observed) and isinstance(s, Observed):
            if fields is None and key not in held_keys and e.fields == s.fields:
                # Most records: unchanged on both sides, two dict comparisons and done.
                if known is not None and known == e.fields:
                    continue
                if not _base_holds(known, e.fields):
                    by_key.append((key, [AgreeRecord(key=key, fields=e.fields)]))
            elif key in held_keys or not _settled(known, e.fields, s.fields, fields):
                found = _decide_fields(key, known or {}, e, s, rules, fields, held)
                if found:
                    by_key.append((key, found))
        else:
            by_key.append((key, _decide_presence(key, known, e, s, rules)))
    # Sorting only the keys that need something keeps the output stable at little cost.
    by_key.sort(key=lambda item: item[0])
    return [action for _, found in by_key for action in found]


def _unread(side: SideState, known: Fields | None) -> Observed | _Absent:
    """A record the side's read did not return: unchanged since the base when the read was
    incremental, else absent."""
    if not side.complete and known is not None:
        return Observed(fields=known)
    return ABSENT


def _base_holds(known: Fields | None, fields: Fields) -> bool:
    """Whether the base already holds these values (it may hold other fields too)."""
    if known is None:
        return False
    return known == fields or all(known.get(f, ABSENT) == v for f, v in fields.items())


def _settled(known: Fields | None, e: Fields, s: Fields, scope: Collection[str] | None) -> bool:
    """Whole-record comparison first: most records are unchanged, and comparing two dicts is
    far cheaper than walking their fields."""
    if scope is None:
        return e == s and known == e
    return all(e.get(f, ABSENT) == s.get(f, ABSENT) == (known or {}).get(f, ABSENT) for f in scope)


def _decide_presence(
    key: str, known: Fields | None, e: Observed | _Absent, s: Observed | _Absent, rules: KindRules
) -> list[Action]:
    """A record missing on one side (or on both). An article archived in the ERP is never
    created in the shop (only one already there is archived, through its ``active`` field)."""
    if isinstance(e, Observed):
        if e.fields.get("active") is False and not isinstance(s, Observed):
            return []
        if known is None:
            if rules.create_in_shop:
                return [CreateRecord(key=key, side="shop", fields=e.fields)]
            return [
                Report(key=key, message="only in the ERP; the rules do not create it in the shop")
            ]
        match rules.when_shop_lost:
            case "recreate":
                return [CreateRecord(key=key, side="shop", fields=e.fields)]
            case "forget":
                return [Forget(key=key)]
            case "report":
                return [Report(key=key, message="gone from the shop; kept in the ERP")]
            case unreachable:
                assert_never(unreachable)
    if isinstance(s, Observed):
        if known is None:
            if rules.create_in_erp:
                return [CreateRecord(key=key, side="erp", fields=s.fields)]
            return [
                Report(key=key, message="only in the shop; the rules do not create it in the ERP")
            ]
        match rules.when_erp_lost:
            case "archive":
                if s.fields.get("active") is False:
                    return []
                return [ArchiveRecord(key=key, side="shop")]
            case "forget":
                return [Forget(key=key)]
            case "report":
                return [Report(key=key, message="gone from the ERP; left in the shop")]
            case unreachable:
                assert_never(unreachable)
    return [Forget(key=key)]


def _decide_fields(
    key: str,
    known: Fields,
    e: Observed,
    s: Observed,
    rules: KindRules,
    scope: Collection[str] | None,
    held: Mapping[tuple[str, str], Held],
) -> list[Action]:
    names = scope if scope is not None else (e.fields.keys() | s.fields.keys())
    actions: list[Action] = []
    for name in sorted(names):
        b = known.get(name, ABSENT)
        ev = e.fields.get(name, ABSENT)
        sv = s.fields.get(name, ABSENT)
        if ev is ABSENT or sv is ABSENT:
            # A field one platform does not carry is not synchronised.
            continue
        hold = held.get((key, name))
        if hold is not None:
            actions.extend(_decide_held(key, name, b, ev, sv, hold))
        elif ev == sv:
            if b != ev:
                actions.append(Agree(key=key, field=name, value=ev))
        else:
            actions.extend(_decide_field(key, name, b, e, s, rules.rule(name)))
    return actions


def _decide_held(key: str, name: str, b: Any, ev: Any, sv: Any, hold: Held) -> list[Action]:
    if hold.resolved:
        writes: list[Action] = [
            SetField(key=key, field=name, value=hold.value, side=side, why="resolved")
            for side, current in _by_side(ev, sv)
            if current != hold.value
        ]
        if not writes:
            writes.append(Agree(key=key, field=name, value=hold.value))
        return [*writes, CloseConflict(key=key, field=name, status="applied")]
    if ev == sv:
        agreed: list[Action] = [] if b == ev else [Agree(key=key, field=name, value=ev)]
        return [*agreed, CloseConflict(key=key, field=name, status="dismissed")]
    return [_conflict(key, name, b, ev, sv, hold.reason or "held until resolved")]


def _decide_field(
    key: str, name: str, b: Any, e: Observed, s: Observed, rule: FieldRule
) -> list[Action]:
    """One field whose two sides differ."""
    ev, sv = e.fields[name], s.fields[name]
    erp_changed, shop_changed = ev != b, sv != b
    first = b is ABSENT
    match rule.owner:
        case "erp":
            why: Why = "initial" if first else ("drift" if shop_changed else "changed")
            return [SetField(key=key, field=name, value=ev, side="shop", why=why)]
        case "shop":
            why = "initial" if first else ("drift" if erp_changed else "changed")
            return [SetField(key=key, field=name, value=sv, side="erp", why=why)]
        case "both":
            pass
        case unreachable:
            assert_never(unreachable)
    if rule.policy == "merge-delta" and not first and not erp_changed and _below_zero(sv):
        # A shop count below zero (selling on backorder) is never copied into the ERP: merging
        # floors it. The ERP's own count below zero (sold before received) is its to keep.
        return _apply_policy(key, name, b, e, s, rule)
    if not first and not shop_changed:
        return [SetField(key=key, field=name, value=ev, side="shop", why="changed")]
    if not first and not erp_changed:
        return [SetField(key=key, field=name, value=sv, side="erp", why="changed")]
    return _apply_policy(key, name, b, e, s, rule)


def _below_zero(value: Any) -> bool:
    number = as_number(value)
    return number is not None and number < 0


def _apply_policy(
    key: str, name: str, b: Any, e: Observed, s: Observed, rule: FieldRule
) -> list[Action]:
    """Both sides changed the field differently (or there is no base to tell who did)."""
    ev, sv = e.fields[name], s.fields[name]
    match rule.policy:
        case "erp-wins":
            return [SetField(key=key, field=name, value=ev, side="shop", why="erp-wins")]
        case "shop-wins":
            return [SetField(key=key, field=name, value=sv, side="erp", why="shop-wins")]
        case "newest":
            return _newest(key, name, b, e, s)
        case "manual":
            reason = "no agreed value yet" if b is ABSENT else "changed on both sides"
            return [_conflict(key, name, b, ev, sv, reason)]
        case "merge-delta":
            if b is ABSENT:
                # Nothing to merge from: the ERP holds the warehouse's count.
                note = "no base to merge from: the ERP's count is taken"
                return [
                    SetField(key=key, field=name, value=ev, side="shop", why="initial", note=note)
                ]
            merged = merge_delta(b, ev, sv)
            if merged is None:
                return [_conflict(key, name, b, ev, sv, "merge-delta needs numbers")]
            return [
                SetField(key=key, field=name, value=merged, side=side, why="merged")
                for side, current in _by_side(ev, sv)
                if current != merged
            ] or [Agree(key=key, field=name, value=merged)]
        case unreachable:
            assert_never(unreachable)


def _newest(key: str, name: str, b: Any, e: Observed, s: Observed) -> list[Action]:
    ev, sv = e.fields[name], s.fields[name]
    if e.modified_at is None or s.modified_at is None or e.modified_at == s.modified_at:
        return [_conflict(key, name, b, ev, sv, "newest: modification times missing or equal")]
    if (e.modified_at.tzinfo is None) != (s.modified_at.tzinfo is None):
        # One platform gave a local time without its offset: the two cannot be ordered.
        return [_conflict(key, name, b, ev, sv, "newest: one modification time has no zone")]
    note = (
        f"decided by the servers' clocks: ERP modified {e.modified_at.isoformat()}, "
        f"shop modified {s.modified_at.isoformat()}"
    )
    if e.modified_at > s.modified_at:
        return [SetField(key=key, field=name, value=ev, side="shop", why="newest", note=note)]
    return [SetField(key=key, field=name, value=sv, side="erp", why="newest", note=note)]


def _conflict(key: str, name: str, b: Any, ev: Any, sv: Any, reason: str) -> Conflict:
    return Conflict(
        key=key,
        field=name,
        base=None if b is ABSENT else b,
        erp=ev,
        shop=sv,
        reason=reason,
        suggested=_suggest(b, ev, sv),
    )


def _suggest(b: Any, ev: Any, sv: Any) -> Side | None:
    """The computed default for a person reviewing the conflict: the side that kept the base
    is the one that did not change, so the other is the likely intent; otherwise none."""
    if b is ABSENT:
        return None
    if ev == b:
        return "shop"
    if sv == b:
        return "erp"
    return None
