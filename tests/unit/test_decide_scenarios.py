"""Named two-sided scenarios for the decision: (base, ERP, shop, rules, held) -> actions.

Each row is one situation a merchant would recognise, with the exact list of actions expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

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
from rules.policy import FieldRule, KindRules, Policy

K = "MUG-1"
EARLY = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
LATE = datetime(2024, 3, 1, 9, 15, tzinfo=UTC)
CLOCKS_ERP_EARLY = (
    "decided by the servers' clocks: "
    "ERP modified 2024-03-01T08:00:00+00:00, shop modified 2024-03-01T09:15:00+00:00"
)
CLOCKS_ERP_LATE = (
    "decided by the servers' clocks: "
    "ERP modified 2024-03-01T09:15:00+00:00, shop modified 2024-03-01T08:00:00+00:00"
)
NO_BASE_TO_MERGE = "no base to merge from: the ERP's count is taken"

ERP_OWNS = FieldRule(owner="erp")
SHOP_OWNS = FieldRule(owner="shop")


def both(policy: Policy) -> FieldRule:
    return FieldRule(owner="both", policy=policy)


def per_field(**by_field: FieldRule) -> KindRules:
    return KindRules(fields=by_field)


def side(
    records: dict[str, Fields], *, complete: bool = True, at: datetime | None = None
) -> SideState:
    return SideState(
        records={key: Observed(fields=fields, modified_at=at) for key, fields in records.items()},
        complete=complete,
    )


def one(fields: Fields, *, at: datetime | None = None) -> SideState:
    """A complete snapshot holding only record ``K``."""
    return side({K: fields}, at=at)


EMPTY = side({})


@dataclass(frozen=True)
class Scenario:
    name: str
    base: dict[str, Fields]
    erp: SideState
    shop: SideState
    expected: list[Action]
    rules: KindRules = field(default_factory=KindRules)
    held: dict[tuple[str, str], Held] | None = None
    fields: tuple[str, ...] | None = None


SCENARIOS: list[Scenario] = [
    # --- one field, owner both (default rules: both / manual) ---------------------------------
    Scenario(
        "nothing changed on either side -> no action",
        base={K: {"price": "10"}},
        erp=one({"price": "10"}),
        shop=one({"price": "10"}),
        expected=[],
    ),
    Scenario(
        "same change made on both sides -> agreed, base moves",
        base={K: {"price": "10"}},
        erp=one({"price": "12"}),
        shop=one({"price": "12"}),
        expected=[AgreeRecord(key=K, fields={"price": "12"})],
    ),
    Scenario(
        "same change on both sides in one field of several -> that field agreed",
        base={K: {"price": "10", "name": "Mug"}},
        erp=one({"price": "12", "name": "Mug"}),
        shop=one({"price": "12", "name": "Mug (new)"}),
        rules=KindRules(default=FieldRule(owner="erp")),
        expected=[
            SetField(key=K, field="name", value="Mug", side="shop", why="drift"),
            Agree(key=K, field="price", value="12"),
        ],
    ),
    Scenario(
        "price changed in ERP only -> copied to shop",
        base={K: {"price": "10"}},
        erp=one({"price": "12.5"}),
        shop=one({"price": "10"}),
        expected=[SetField(key=K, field="price", value="12.5", side="shop", why="changed")],
    ),
    Scenario(
        "description changed in shop only -> copied to ERP",
        base={K: {"description": "A mug"}},
        erp=one({"description": "A mug"}),
        shop=one({"description": "A large mug"}),
        expected=[
            SetField(key=K, field="description", value="A large mug", side="erp", why="changed")
        ],
    ),
    Scenario(
        "EAN cleared in ERP (None) -> None copied to shop",
        base={K: {"ean": "4006381333931"}},
        erp=one({"ean": None}),
        shop=one({"ean": "4006381333931"}),
        expected=[SetField(key=K, field="ean", value=None, side="shop", why="changed")],
    ),
    # --- owned fields: changes flow from the owner, the other side's edits are drift -----------
    Scenario(
        "ERP changes ERP-owned price -> copied to shop",
        base={K: {"price": "10"}},
        erp=one({"price": "11"}),
        shop=one({"price": "10"}),
        rules=per_field(price=ERP_OWNS),
        expected=[SetField(key=K, field="price", value="11", side="shop", why="changed")],
    ),
    Scenario(
        "shop edits ERP-owned name -> drift reverted",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=ERP_OWNS),
        expected=[SetField(key=K, field="name", value="Mug", side="shop", why="drift")],
    ),
    Scenario(
        "both edit ERP-owned name -> shop gets ERP value as drift",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=ERP_OWNS),
        expected=[SetField(key=K, field="name", value="Mug XL", side="shop", why="drift")],
    ),
    Scenario(
        "shop changes shop-owned SEO title -> copied to ERP",
        base={K: {"seo_title": "Mug"}},
        erp=one({"seo_title": "Mug"}),
        shop=one({"seo_title": "Best mug"}),
        rules=per_field(seo_title=SHOP_OWNS),
        expected=[SetField(key=K, field="seo_title", value="Best mug", side="erp", why="changed")],
    ),
    Scenario(
        "ERP edits shop-owned SEO title -> drift reverted",
        base={K: {"seo_title": "Best mug"}},
        erp=one({"seo_title": "MUG 0.3L"}),
        shop=one({"seo_title": "Best mug"}),
        rules=per_field(seo_title=SHOP_OWNS),
        expected=[SetField(key=K, field="seo_title", value="Best mug", side="erp", why="drift")],
    ),
    Scenario(
        "both edit shop-owned SEO title -> ERP gets shop value as drift",
        base={K: {"seo_title": "Mug"}},
        erp=one({"seo_title": "MUG 0.3L"}),
        shop=one({"seo_title": "Best mug"}),
        rules=per_field(seo_title=SHOP_OWNS),
        expected=[SetField(key=K, field="seo_title", value="Best mug", side="erp", why="drift")],
    ),
    # --- first run: no base for the field ------------------------------------------------------
    Scenario(
        "first run, ERP-owned price differs -> ERP's value, initial",
        base={},
        erp=one({"price": "10"}),
        shop=one({"price": "9.5"}),
        rules=per_field(price=ERP_OWNS),
        expected=[SetField(key=K, field="price", value="10", side="shop", why="initial")],
    ),
    Scenario(
        "first run, shop-owned SEO title differs -> shop's value, initial",
        base={},
        erp=one({"seo_title": ""}),
        shop=one({"seo_title": "Best mug"}),
        rules=per_field(seo_title=SHOP_OWNS),
        expected=[SetField(key=K, field="seo_title", value="Best mug", side="erp", why="initial")],
    ),
    Scenario(
        "first run, field known to base but new on both sides -> owner's value, initial",
        base={K: {"price": "10"}},
        erp=one({"price": "10", "weight": "0.3"}),
        shop=one({"price": "10", "weight": "0.25"}),
        rules=per_field(weight=ERP_OWNS),
        expected=[SetField(key=K, field="weight", value="0.3", side="shop", why="initial")],
    ),
    Scenario(
        "first run, erp-wins name differs -> ERP's value",
        base={},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("erp-wins")),
        expected=[SetField(key=K, field="name", value="Mug", side="shop", why="erp-wins")],
    ),
    Scenario(
        "first run, shop-wins name differs -> shop's value",
        base={},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("shop-wins")),
        expected=[SetField(key=K, field="name", value="Cup", side="erp", why="shop-wins")],
    ),
    Scenario(
        "first run, manual name differs -> conflict: no agreed value yet",
        base={},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Cup"}),
        expected=[
            Conflict(
                key=K,
                field="name",
                base=None,
                erp="Mug",
                shop="Cup",
                reason="no agreed value yet",
                suggested=None,
            )
        ],
    ),
    Scenario(
        "first run, newest name with both clocks -> later side wins, said to be by the clocks",
        base={},
        erp=one({"name": "Mug"}, at=LATE),
        shop=one({"name": "Cup"}, at=EARLY),
        rules=per_field(name=both("newest")),
        expected=[
            SetField(
                key=K, field="name", value="Mug", side="shop", why="newest", note=CLOCKS_ERP_LATE
            )
        ],
    ),
    Scenario(
        "first run, newest name without clocks -> conflict",
        base={},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("newest")),
        expected=[
            Conflict(
                key=K,
                field="name",
                base=None,
                erp="Mug",
                shop="Cup",
                reason="newest: modification times missing or equal",
                suggested=None,
            )
        ],
    ),
    Scenario(
        "first run, merge-delta stock differs -> ERP's count, with a note",
        base={},
        erp=one({"stock": 12}),
        shop=one({"stock": 9}),
        rules=per_field(stock=both("merge-delta")),
        expected=[
            SetField(
                key=K, field="stock", value=12, side="shop", why="initial", note=NO_BASE_TO_MERGE
            )
        ],
    ),
    Scenario(
        "first run, same SKU on both sides -> matched field by field, never duplicated",
        base={},
        erp=side({"SKU-7": {"name": "Mug", "price": "10"}}),
        shop=side({"SKU-7": {"name": "Mug", "price": "9"}}),
        rules=per_field(price=ERP_OWNS),
        expected=[
            Agree(key="SKU-7", field="name", value="Mug"),
            SetField(key="SKU-7", field="price", value="10", side="shop", why="initial"),
        ],
    ),
    # --- both changed, owner both: the policy decides ------------------------------------------
    Scenario(
        "both changed, erp-wins -> shop gets ERP value",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("erp-wins")),
        expected=[SetField(key=K, field="name", value="Mug XL", side="shop", why="erp-wins")],
    ),
    Scenario(
        "both changed, shop-wins -> ERP gets shop value",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("shop-wins")),
        expected=[SetField(key=K, field="name", value="Cup", side="erp", why="shop-wins")],
    ),
    Scenario(
        "both changed, newest, shop edited later -> ERP gets shop value, by the clocks",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}, at=EARLY),
        shop=one({"name": "Cup"}, at=LATE),
        rules=per_field(name=both("newest")),
        expected=[
            SetField(
                key=K, field="name", value="Cup", side="erp", why="newest", note=CLOCKS_ERP_EARLY
            )
        ],
    ),
    Scenario(
        "both changed, newest, ERP edited later -> shop gets ERP value, by the clocks",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}, at=LATE),
        shop=one({"name": "Cup"}, at=EARLY),
        rules=per_field(name=both("newest")),
        expected=[
            SetField(
                key=K, field="name", value="Mug XL", side="shop", why="newest", note=CLOCKS_ERP_LATE
            )
        ],
    ),
    Scenario(
        "both changed, newest, shop clock missing -> conflict",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}, at=LATE),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("newest")),
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug XL",
                shop="Cup",
                reason="newest: modification times missing or equal",
                suggested=None,
            )
        ],
    ),
    Scenario(
        "both changed, newest, equal clocks -> conflict",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}, at=EARLY),
        shop=one({"name": "Cup"}, at=EARLY),
        rules=per_field(name=both("newest")),
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug XL",
                shop="Cup",
                reason="newest: modification times missing or equal",
                suggested=None,
            )
        ],
    ),
    Scenario(
        "only ERP changed, newest without clocks -> copied, clocks not needed",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Mug"}),
        rules=per_field(name=both("newest")),
        expected=[SetField(key=K, field="name", value="Mug XL", side="shop", why="changed")],
    ),
    Scenario(
        "both changed, manual -> conflict with no suggestion",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Cup"}),
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug XL",
                shop="Cup",
                reason="changed on both sides",
                suggested=None,
            )
        ],
    ),
    # --- merge-delta counters ------------------------------------------------------------------
    Scenario(
        "stock sold in shop and received in ERP -> merged",
        base={K: {"stock": 10}},
        erp=one({"stock": 20}),
        shop=one({"stock": 7}),
        rules=per_field(stock=both("merge-delta")),
        expected=[
            SetField(key=K, field="stock", value=17, side="erp", why="merged"),
            SetField(key=K, field="stock", value=17, side="shop", why="merged"),
        ],
    ),
    Scenario(
        "stock as decimal strings -> merged, spelled as a normalised decimal",
        base={K: {"stock": "10.5"}},
        erp=one({"stock": "12"}),
        shop=one({"stock": "9.25"}),
        rules=per_field(stock=both("merge-delta")),
        expected=[
            SetField(key=K, field="stock", value="10.75", side="erp", why="merged"),
            SetField(key=K, field="stock", value="10.75", side="shop", why="merged"),
        ],
    ),
    Scenario(
        "stock oversold on both sides -> merged, floored at zero",
        base={K: {"stock": 5}},
        erp=one({"stock": 1}),
        shop=one({"stock": 2}),
        rules=per_field(stock=both("merge-delta")),
        expected=[
            SetField(key=K, field="stock", value=0, side="erp", why="merged"),
            SetField(key=K, field="stock", value=0, side="shop", why="merged"),
        ],
    ),
    Scenario(
        "stock floored at zero already in ERP -> only the shop written",
        base={K: {"stock": 5}},
        erp=one({"stock": 0}),
        shop=one({"stock": 2}),
        rules=per_field(stock=both("merge-delta")),
        expected=[SetField(key=K, field="stock", value=0, side="shop", why="merged")],
    ),
    Scenario(
        "stock received in ERP only -> copied, not merged",
        base={K: {"stock": 10}},
        erp=one({"stock": 15}),
        shop=one({"stock": 10}),
        rules=per_field(stock=both("merge-delta")),
        expected=[SetField(key=K, field="stock", value=15, side="shop", why="changed")],
    ),
    Scenario(
        "stock below zero in the shop only (backorders) -> never copied, floored at zero",
        base={K: {"stock": 5}},
        erp=one({"stock": 5}),
        shop=one({"stock": -2}),
        rules=per_field(stock=both("merge-delta")),
        expected=[
            SetField(key=K, field="stock", value=0, side="erp", why="merged"),
            SetField(key=K, field="stock", value=0, side="shop", why="merged"),
        ],
    ),
    Scenario(
        "stock below zero in the ERP only (sold before received) -> copied as it is",
        base={K: {"stock": 5}},
        erp=one({"stock": -5}),
        shop=one({"stock": 5}),
        rules=per_field(stock=both("merge-delta")),
        expected=[SetField(key=K, field="stock", value=-5, side="shop", why="changed")],
    ),
    Scenario(
        "merge-delta on text values -> conflict",
        base={K: {"stock": "many"}},
        erp=one({"stock": "few"}),
        shop=one({"stock": "none"}),
        rules=per_field(stock=both("merge-delta")),
        expected=[
            Conflict(
                key=K,
                field="stock",
                base="many",
                erp="few",
                shop="none",
                reason="merge-delta needs numbers",
                suggested=None,
            )
        ],
    ),
    # --- which fields are decided --------------------------------------------------------------
    Scenario(
        "field the shop does not carry -> not synchronised",
        base={K: {"price": "10", "cost": "6"}},
        erp=one({"price": "12", "cost": "7"}),
        shop=one({"price": "10"}),
        expected=[SetField(key=K, field="price", value="12", side="shop", why="changed")],
    ),
    Scenario(
        "stock job (fields=stock) -> price change left for its own job",
        base={K: {"price": "10", "stock": 5}},
        erp=one({"price": "12", "stock": 5}),
        shop=one({"price": "10", "stock": 3}),
        fields=("stock",),
        expected=[SetField(key=K, field="stock", value=3, side="erp", why="changed")],
    ),
    Scenario(
        "stock job on a record changed only outside its fields -> no action",
        base={K: {"price": "10", "stock": 5}},
        erp=one({"price": "12", "stock": 5}),
        shop=one({"price": "10", "stock": 5}),
        fields=("stock",),
        expected=[],
    ),
    Scenario(
        "stock job, held conflict on name outside its fields -> left alone",
        base={K: {"name": "Mug", "stock": 5}},
        erp=one({"name": "Mug XL", "stock": 5}),
        shop=one({"name": "Cup", "stock": 4}),
        fields=("stock",),
        held={(K, "name"): Held()},
        expected=[SetField(key=K, field="stock", value=4, side="erp", why="changed")],
    ),
    # --- held conflicts ------------------------------------------------------------------------
    Scenario(
        "held conflict, sides still differ -> re-emitted with current values, nothing written",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Big cup"}),
        held={(K, "name"): Held()},
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug XL",
                shop="Big cup",
                reason="held until resolved",
                suggested=None,
            )
        ],
    ),
    Scenario(
        "held conflict, shop went back to base -> still held, ERP suggested",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Mug"}),
        held={(K, "name"): Held()},
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug XL",
                shop="Mug",
                reason="held until resolved",
                suggested="erp",
            )
        ],
    ),
    Scenario(
        "held conflict, ERP went back to base -> still held, shop suggested",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Cup"}),
        rules=per_field(name=both("erp-wins")),
        held={(K, "name"): Held()},
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug",
                shop="Cup",
                reason="held until resolved",
                suggested="shop",
            )
        ],
    ),
    Scenario(
        "held conflict, sides now agree -> agreed and dismissed",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Mug XL"}),
        held={(K, "name"): Held()},
        expected=[
            Agree(key=K, field="name", value="Mug XL"),
            CloseConflict(key=K, field="name", status="dismissed"),
        ],
    ),
    Scenario(
        "held conflict, both back to base -> dismissed, base unchanged",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug"}),
        shop=one({"name": "Mug"}),
        held={(K, "name"): Held()},
        expected=[CloseConflict(key=K, field="name", status="dismissed")],
    ),
    Scenario(
        "held conflict resolved by a person -> applied to both",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Cup"}),
        held={(K, "name"): Held(resolved=True, value="Mug (large)")},
        expected=[
            SetField(key=K, field="name", value="Mug (large)", side="erp", why="resolved"),
            SetField(key=K, field="name", value="Mug (large)", side="shop", why="resolved"),
            CloseConflict(key=K, field="name", status="applied"),
        ],
    ),
    Scenario(
        "held conflict resolved to the ERP's value -> written to the shop only",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug XL"}),
        shop=one({"name": "Cup"}),
        held={(K, "name"): Held(resolved=True, value="Mug XL")},
        expected=[
            SetField(key=K, field="name", value="Mug XL", side="shop", why="resolved"),
            CloseConflict(key=K, field="name", status="applied"),
        ],
    ),
    Scenario(
        "held conflict resolved to a value both now hold -> agreed and applied",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Cup"}),
        shop=one({"name": "Cup"}),
        held={(K, "name"): Held(resolved=True, value="Cup")},
        expected=[
            Agree(key=K, field="name", value="Cup"),
            CloseConflict(key=K, field="name", status="applied"),
        ],
    ),
    Scenario(
        "held conflict on name, price changed in ERP -> price still copied",
        base={K: {"name": "Mug", "price": "10"}},
        erp=one({"name": "Mug XL", "price": "11"}),
        shop=one({"name": "Cup", "price": "10"}),
        held={(K, "name"): Held()},
        expected=[
            Conflict(
                key=K,
                field="name",
                base="Mug",
                erp="Mug XL",
                shop="Cup",
                reason="held until resolved",
                suggested=None,
            ),
            SetField(key=K, field="price", value="11", side="shop", why="changed"),
        ],
    ),
    # --- records present on one side only ------------------------------------------------------
    Scenario(
        "new article in ERP -> created in shop",
        base={},
        erp=one({"name": "Mug", "price": "10"}),
        shop=EMPTY,
        expected=[CreateRecord(key=K, side="shop", fields={"name": "Mug", "price": "10"})],
    ),
    Scenario(
        "new article in ERP, shop creation off -> reported",
        base={},
        erp=one({"name": "Mug"}),
        shop=EMPTY,
        rules=KindRules(create_in_shop=False),
        expected=[Report(key=K, message="only in the ERP; the rules do not create it in the shop")],
    ),
    Scenario(
        "web-only product in shop, ERP creation off (default) -> reported",
        base={},
        erp=EMPTY,
        shop=one({"name": "Gift card"}),
        expected=[Report(key=K, message="only in the shop; the rules do not create it in the ERP")],
    ),
    Scenario(
        "web-only product in shop, ERP creation on -> created in ERP",
        base={},
        erp=EMPTY,
        shop=one({"name": "Gift card"}),
        rules=KindRules(create_in_erp=True),
        expected=[CreateRecord(key=K, side="erp", fields={"name": "Gift card"})],
    ),
    Scenario(
        "shop lost a known product, default rules -> reported, ERP never deleted from",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug"}),
        shop=EMPTY,
        expected=[Report(key=K, message="gone from the shop; kept in the ERP")],
    ),
    Scenario(
        "shop lost a known product, recreate -> created again from the ERP's values",
        base={K: {"name": "Mug", "price": "10"}},
        erp=one({"name": "Mug", "price": "11"}),
        shop=EMPTY,
        rules=KindRules(when_shop_lost="recreate"),
        expected=[CreateRecord(key=K, side="shop", fields={"name": "Mug", "price": "11"})],
    ),
    Scenario(
        "shop lost a known product, forget -> base dropped",
        base={K: {"name": "Mug"}},
        erp=one({"name": "Mug"}),
        shop=EMPTY,
        rules=KindRules(when_shop_lost="forget"),
        expected=[Forget(key=K)],
    ),
    Scenario(
        "ERP lost a known product, default rules -> archived in shop",
        base={K: {"name": "Mug", "active": True}},
        erp=EMPTY,
        shop=one({"name": "Mug", "active": True}),
        expected=[ArchiveRecord(key=K, side="shop")],
    ),
    Scenario(
        "ERP lost a product already inactive in the shop -> nothing",
        base={K: {"name": "Mug", "active": True}},
        erp=EMPTY,
        shop=one({"name": "Mug", "active": False}),
        expected=[],
    ),
    Scenario(
        "ERP lost a known product, forget -> base dropped",
        base={K: {"name": "Mug"}},
        erp=EMPTY,
        shop=one({"name": "Mug"}),
        rules=KindRules(when_erp_lost="forget"),
        expected=[Forget(key=K)],
    ),
    Scenario(
        "ERP lost a known product, report -> reported, shop left as is",
        base={K: {"name": "Mug"}},
        erp=EMPTY,
        shop=one({"name": "Mug"}),
        rules=KindRules(when_erp_lost="report"),
        expected=[Report(key=K, message="gone from the ERP; left in the shop")],
    ),
    Scenario(
        "gone from both sides -> forgotten",
        base={K: {"name": "Mug"}},
        erp=EMPTY,
        shop=EMPTY,
        expected=[Forget(key=K)],
    ),
    # --- incremental snapshots -----------------------------------------------------------------
    Scenario(
        "incremental shop read without the record -> taken as unchanged, ERP change copied",
        base={K: {"price": "10"}},
        erp=one({"price": "12"}),
        shop=side({}, complete=False),
        expected=[SetField(key=K, field="price", value="12", side="shop", why="changed")],
    ),
    Scenario(
        "incremental ERP read without the record -> shop change copied to ERP",
        base={K: {"price": "10"}},
        erp=side({}, complete=False),
        shop=one({"price": "9"}),
        expected=[SetField(key=K, field="price", value="9", side="erp", why="changed")],
    ),
    Scenario(
        "incremental reads on both sides, record in neither -> nothing, not forgotten",
        base={K: {"price": "10"}},
        erp=side({}, complete=False),
        shop=side({}, complete=False),
        expected=[],
    ),
    Scenario(
        "incremental shop read, full ERP read lost the record -> ERP-lost rule (archive)",
        base={K: {"name": "Mug"}},
        erp=EMPTY,
        shop=side({}, complete=False),
        expected=[ArchiveRecord(key=K, side="shop")],
    ),
    Scenario(
        "incremental ERP read, full shop read lost the record -> shop-lost rule (report)",
        base={K: {"name": "Mug"}},
        erp=side({}, complete=False),
        shop=EMPTY,
        expected=[Report(key=K, message="gone from the shop; kept in the ERP")],
    ),
    # --- order ---------------------------------------------------------------------------------
    Scenario(
        "several records and fields -> ordered by key, then field",
        base={"B": {"stock": 1, "name": "b"}, "A": {"price": "1"}},
        erp=side({"C": {"name": "c"}, "B": {"stock": 2, "name": "bb"}, "A": {"price": "2"}}),
        shop=side({"B": {"stock": 1, "name": "b"}, "A": {"price": "1"}}),
        expected=[
            SetField(key="A", field="price", value="2", side="shop", why="changed"),
            SetField(key="B", field="name", value="bb", side="shop", why="changed"),
            SetField(key="B", field="stock", value=2, side="shop", why="changed"),
            CreateRecord(key="C", side="shop", fields={"name": "c"}),
        ],
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    actions = decide(
        scenario.base,
        scenario.erp,
        scenario.shop,
        scenario.rules,
        fields=scenario.fields,
        held=scenario.held,
    )
    assert actions == scenario.expected


def test_scenario_names_are_unique() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names))
    assert len(names) >= 30


def test_skipped_skus_are_left_alone_on_both_sides_prices_included() -> None:
    # The ERP's shipping article and a customer's price for it: neither is created nor
    # compared; the shop's stale price of the other article still is.
    erp = side({"SHIP": {"price": "4.90"}, "SHIP|customer:a@b.c|1": {"price": "3"}})
    shop = side({"MUG-1|customer:a@b.c|1": {"price": "8"}})
    base = {"MUG-1|customer:a@b.c|1": {"price": "7"}}
    rules = KindRules(default=ERP_OWNS, skip_skus=frozenset({"SHIP"}))

    actions = decide(base, erp, shop, rules)

    assert {a.key for a in actions} == {"MUG-1|customer:a@b.c|1"}
    assert not any(isinstance(a, CreateRecord) for a in actions)
