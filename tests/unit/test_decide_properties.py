"""Properties of the decision over generated worlds of base, ERP and shop.

Keys, fields and values come from small domains so that sides collide with each other and with
the base. ``push`` applies a decision as a perfect push and commit would, so that a cycle can be
followed by the next one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, assert_never, get_args

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import Fields
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
from engine.cycle.decide import Held, Observed, SideState, decide
from rules.merge import merge_delta
from rules.policy import FieldRule, KindRules, Policy

KEYS = ("A", "B", "C")
FIELDS = ("price", "stock", "name", "active")
NUMBERS = st.sampled_from([0, 1, 2, 5, "0", "1.5", "2", "7.25"])
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "price": st.sampled_from(["9.5", "10", "12", None]),
    "stock": st.one_of(NUMBERS, st.just("lots")),
    "name": st.sampled_from(["Mug", "Cup", "Mug XL"]),
    "active": st.booleans(),
}
CLOCKS = st.sampled_from([None, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)])
POLICIES = st.sampled_from(["erp-wins", "shop-wins", "newest", "manual", "merge-delta"])
FIELD_RULES = st.builds(
    FieldRule,
    # ``both`` is where the policies are; give it half of the draws.
    owner=st.sampled_from(["erp", "shop", "both", "both"]),
    policy=POLICIES,
)


def kind_rules(
    default: st.SearchStrategy[FieldRule], max_fields: int
) -> st.SearchStrategy[KindRules]:
    return st.builds(
        KindRules,
        default=default,
        fields=st.dictionaries(st.sampled_from(FIELDS), FIELD_RULES, max_size=max_fields),
        create_in_shop=st.booleans(),
        create_in_erp=st.booleans(),
        when_erp_lost=st.sampled_from(["archive", "forget", "report"]),
        when_shop_lost=st.sampled_from(["recreate", "forget", "report"]),
    )


RULES = kind_rules(FIELD_RULES, max_fields=len(FIELDS))
"""A rule per field, drawn independently."""
MODES = ("mixed", "erp-wins", "shop-wins", "newest", "manual", "merge-delta")
"""``mixed``: :data:`RULES`. A policy name: every field owned by both sides under that policy,
so that each policy surely meets sides that both changed."""


UNIFORM = {policy: FieldRule(owner="both", policy=policy) for policy in get_args(Policy)}


def rules_for(mode: str) -> st.SearchStrategy[KindRules]:
    if mode == "mixed":
        return RULES
    return kind_rules(st.just(UNIFORM[mode]), max_fields=0)


WRITES = (SetField, Agree, AgreeRecord, CreateRecord, ArchiveRecord, Forget, CloseConflict)
"""Everything but conflicts and reports: actions that write to a side or move the base."""


@st.composite
def records(draw: st.DrawFn) -> Fields:
    """A record carrying most fields; ``name`` and ``active`` are sometimes missing."""
    required = {"price": VALUES["price"], "stock": VALUES["stock"]}
    optional = {"name": VALUES["name"], "active": VALUES["active"]}
    return draw(st.fixed_dictionaries(required, optional=optional))


@dataclass(frozen=True)
class World:
    """A base, each side as it really is, and the snapshot read from it."""

    base: dict[str, Fields]
    erp: dict[str, Fields]
    shop: dict[str, Fields]
    erp_read: SideState
    shop_read: SideState


@st.composite
def worlds(draw: st.DrawFn) -> World:
    base = {key: draw(records()) for key in KEYS if draw(st.integers(0, 3))}

    def variant(key: str) -> Fields | None:
        known = base.get(key)
        # Mostly edits of the base, so that both sides change the same fields.
        how = draw(st.sampled_from(["absent", "fresh", "same", "edited", "edited", "edited"]))
        if how == "absent":
            return None
        if how == "fresh" or known is None:
            return draw(records())
        if how == "same":
            return dict(known)
        edits = draw(st.fixed_dictionaries({}, optional={name: VALUES[name] for name in FIELDS}))
        return {**known, **edits}

    def read(seen: dict[str, Fields], complete: bool) -> tuple[dict[str, Fields], SideState]:
        snapshot = SideState(
            records={
                key: Observed(fields=copy.deepcopy(fields), modified_at=draw(CLOCKS))
                for key, fields in seen.items()
            },
            complete=complete,
        )
        # An incremental read leaves out what did not change: the side still holds the base.
        actual = seen if complete else {**copy.deepcopy(base), **seen}
        return copy.deepcopy(actual), snapshot

    erp_seen = {key: fields for key in KEYS if (fields := variant(key)) is not None}
    shop_seen = {key: fields for key in KEYS if (fields := variant(key)) is not None}
    erp, erp_read = read(erp_seen, draw(st.booleans()))
    shop, shop_read = read(shop_seen, draw(st.booleans()))
    return World(base=base, erp=erp, shop=shop, erp_read=erp_read, shop_read=shop_read)


@dataclass(frozen=True)
class Pushed:
    """The sides and base after a perfect push and commit, and the fields left held."""

    base: dict[str, Fields]
    erp: dict[str, Fields]
    shop: dict[str, Fields]
    held: dict[tuple[str, str], Held]


def push(world: World, actions: list[Action]) -> Pushed:
    base = copy.deepcopy(world.base)
    sides = {"erp": copy.deepcopy(world.erp), "shop": copy.deepcopy(world.shop)}
    held: dict[tuple[str, str], Held] = {}
    for action in actions:
        match action:
            case SetField():
                sides[action.side][action.key][action.field] = action.value
                base.setdefault(action.key, {})[action.field] = action.value
            case Agree():
                base.setdefault(action.key, {})[action.field] = action.value
            case AgreeRecord():
                base.setdefault(action.key, {}).update(action.fields)
            case CreateRecord():
                sides[action.side][action.key] = dict(action.fields)
                base[action.key] = dict(action.fields)
            case ArchiveRecord():
                sides[action.side][action.key]["active"] = False
            case Forget():
                base.pop(action.key, None)
            case Conflict():
                held[(action.key, action.field)] = Held()
            case CloseConflict() | Report():
                pass
            case unreachable:
                assert_never(unreachable)
    return Pushed(base=base, erp=sides["erp"], shop=sides["shop"], held=held)


def full_read(records: dict[str, Fields]) -> SideState:
    return SideState(
        records={key: Observed(fields=copy.deepcopy(fields)) for key, fields in records.items()},
        complete=True,
    )


def without_forget_then_create(rules: KindRules) -> KindRules:
    """``forget`` drops the base of a record still on one side; with creation on in that
    direction, the next cycle sees a new record and creates it. That is a second write by
    design, not a cycle that failed to settle, so those two combinations are left out."""
    if rules.when_shop_lost == "forget":
        rules = msgspec.structs.replace(rules, create_in_shop=False)
    if rules.when_erp_lost == "forget":
        rules = msgspec.structs.replace(rules, create_in_erp=False)
    return rules


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=60, deadline=None)
@given(world=worlds(), data=st.data())
def test_second_cycle_after_a_successful_one_writes_nothing(
    world: World, mode: str, data: st.DataObject
) -> None:
    rules = data.draw(rules_for(mode), label="rules")
    rules = without_forget_then_create(rules)
    first = decide(world.base, world.erp_read, world.shop_read, rules)
    after = push(world, first)

    second = decide(after.base, full_read(after.erp), full_read(after.shop), rules, held=after.held)

    assert [a for a in second if isinstance(a, WRITES)] == []
    assert {(a.key, a.field) for a in second if isinstance(a, Conflict)} == set(after.held)
    for action in second:
        if isinstance(action, Conflict):
            assert action.reason == "held until resolved"


@settings(max_examples=300, deadline=None)
@given(world=worlds(), rules=RULES)
def test_owned_field_is_never_written_on_its_owner_side(world: World, rules: KindRules) -> None:
    actions = decide(world.base, world.erp_read, world.shop_read, rules)

    for action in actions:
        if isinstance(action, SetField):
            assert rules.rule(action.field).owner != action.side, action


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=60, deadline=None)
@given(world=worlds(), data=st.data())
def test_after_a_push_both_sides_agree_outside_conflicts(
    world: World, mode: str, data: st.DataObject
) -> None:
    rules = data.draw(rules_for(mode), label="rules")
    after = push(world, decide(world.base, world.erp_read, world.shop_read, rules))

    for key in after.erp.keys() & after.shop.keys():
        erp, shop = after.erp[key], after.shop[key]
        for name in erp.keys() & shop.keys():
            if (key, name) not in after.held:
                assert erp[name] == shop[name], (key, name)
                assert after.base[key][name] == erp[name], (key, name)


@settings(max_examples=200, deadline=None)
@given(
    world=worlds(),
    rules=RULES,
    held=st.dictionaries(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(FIELDS)),
        st.builds(Held, resolved=st.booleans(), value=VALUES["name"]),
        max_size=3,
    ),
    scope=st.none() | st.lists(st.sampled_from(FIELDS), unique=True),
)
def test_decide_is_deterministic_and_leaves_its_inputs_alone(
    world: World,
    rules: KindRules,
    held: dict[tuple[str, str], Held],
    scope: list[str] | None,
) -> None:
    inputs = (world.base, world.erp_read, world.shop_read, rules, scope, held)
    before = copy.deepcopy(inputs)

    first = decide(world.base, world.erp_read, world.shop_read, rules, fields=scope, held=held)
    again = decide(world.base, world.erp_read, world.shop_read, rules, fields=scope, held=held)
    shuffled = decide(
        reversed_dicts(world.base),
        SideState(records=reversed_dicts(world.erp_read.records), complete=world.erp_read.complete),
        SideState(
            records=reversed_dicts(world.shop_read.records), complete=world.shop_read.complete
        ),
        rules,
        fields=None if scope is None else list(reversed(scope)),
        held=reversed_dicts(held),
    )

    assert first == again == shuffled
    assert inputs == before


def reversed_dicts(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """The same mapping built in reverse order, nested field dicts included."""
    return {
        key: reversed_dicts(value) if isinstance(value, dict) else value
        for key, value in reversed(list(mapping.items()))
    }


@settings(max_examples=200, deadline=None)
@given(
    world=worlds(),
    rules=RULES,
    scope=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True),
)
def test_a_job_decides_only_its_own_fields(
    world: World, rules: KindRules, scope: list[str]
) -> None:
    actions = decide(world.base, world.erp_read, world.shop_read, rules, fields=scope)

    for action in actions:
        if isinstance(action, SetField | Agree | Conflict | CloseConflict):
            assert action.field in scope, action


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=40, deadline=None)
@given(world=worlds(), data=st.data())
def test_resolved_conflicts_are_applied_then_the_cycle_is_quiet(
    world: World, mode: str, data: st.DataObject
) -> None:
    rules = data.draw(rules_for(mode), label="rules")
    rules = without_forget_then_create(rules)
    first = push(world, decide(world.base, world.erp_read, world.shop_read, rules))
    resolutions = {
        spot: Held(resolved=True, value=data.draw(VALUES[spot[1]])) for spot in first.held
    }

    applying = decide(
        first.base, full_read(first.erp), full_read(first.shop), rules, held=resolutions
    )
    closed = {(a.key, a.field) for a in applying if isinstance(a, CloseConflict)}
    assert closed == set(resolutions)
    assert all(a.status == "applied" for a in applying if isinstance(a, CloseConflict))
    assert not [a for a in applying if isinstance(a, Conflict)]

    settled = push(
        World(
            base=first.base,
            erp=first.erp,
            shop=first.shop,
            erp_read=full_read(first.erp),
            shop_read=full_read(first.shop),
        ),
        applying,
    )
    for (key, name), hold in resolutions.items():
        assert settled.erp[key][name] == settled.shop[key][name] == hold.value
    quiet = decide(settled.base, full_read(settled.erp), full_read(settled.shop), rules)
    assert [a for a in quiet if not isinstance(a, Report)] == []


def _as_number(value: Any) -> Decimal:
    return Decimal(value)


@settings(max_examples=300, deadline=None)
@given(base=NUMBERS, erp=NUMBERS, shop=NUMBERS)
def test_merge_delta_is_never_negative_and_adds_both_changes(
    base: Any, erp: Any, shop: Any
) -> None:
    merged = merge_delta(base, erp, shop)

    assert merged is not None
    exact = _as_number(erp) + _as_number(shop) - _as_number(base)
    assert _as_number(merged) == max(exact, Decimal(0))


@settings(max_examples=200, deadline=None)
@given(world=worlds())
def test_merged_counts_written_by_decide_are_never_negative(world: World) -> None:
    rules = KindRules(default=FieldRule(owner="both", policy="merge-delta"))
    actions = decide(world.base, world.erp_read, world.shop_read, rules)

    for action in actions:
        if isinstance(action, SetField) and action.why == "merged":
            assert _as_number(action.value) >= 0, action
