"""Named scenarios for the category tree: paths from ERP fields, and the shop tree's changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from canonical.models import Attribute, Product
from rules.categories import (
    CategoryError,
    CategoryPath,
    CategoryRule,
    Change,
    Create,
    Node,
    TreeChange,
    category_path,
    paths_of,
    plan_tree,
    with_root,
)

FOUR = CategoryRule(levels=["family", "sub_family", "range", "line"])
CODED = CategoryRule(levels=["family", "sub_family"], codes=["family_code", "sub_code"])
ERP_PATH = CategoryRule(levels=["category", "range"])
UNDER_ALL = CategoryRule(levels=["category"], root="All")


def article(category: tuple[str, ...] = (), **fields: str) -> Product:
    return Product(
        sku="A1",
        name="Article",
        category=category,
        attributes=tuple(Attribute(name=k, value=v) for k, v in fields.items()),
    )


@dataclass(frozen=True)
class PathScenario:
    name: str
    article: Product
    rule: CategoryRule
    expected: CategoryPath | str


PATHS = [
    PathScenario(
        "four ERP fields -> a four-level path",
        article(family="Clothing", sub_family="Tops", range="Summer", line="Basics"),
        FOUR,
        CategoryPath(("Clothing", "Tops", "Summer", "Basics")),
    ),
    PathScenario(
        "empty trailing levels -> a shorter path",
        article(family="Clothing", sub_family="Tops", range=" "),
        FOUR,
        CategoryPath(("Clothing", "Tops")),
    ),
    PathScenario(
        "no family at all -> no category",
        article(),
        FOUR,
        CategoryPath(()),
    ),
    PathScenario(
        "a level set under an empty one -> refused, naming both fields",
        article(family="Clothing", range="Summer"),
        FOUR,
        "article A1: range is 'Summer' but sub_family above it is empty",
    ),
    PathScenario(
        "codes beside names -> the path carries them",
        article(family="Clothing", family_code="CL", sub_family="Tops", sub_code="TP"),
        CODED,
        CategoryPath(("Clothing", "Tops"), ("CL", "TP")),
    ),
    PathScenario(
        "a name without its code -> refused, naming the code field",
        article(family="Clothing", family_code="CL", sub_family="Tops"),
        CODED,
        "article A1: sub_code \\(the code of sub_family 'Tops'\\) is empty",
    ),
    PathScenario(
        "the ERP's own category path, then a field below it",
        article(("Home", "Kitchen"), range="Knives"),
        ERP_PATH,
        CategoryPath(("Home", "Kitchen", "Knives")),
    ),
    PathScenario(
        "the ERP's path plus fields deeper than six levels -> refused",
        article(("A", "B", "C", "D", "E", "F"), range="G"),
        ERP_PATH,
        "article A1: category path A / B / C / D / E / F / G is deeper than 6 levels",
    ),
    PathScenario(
        "the ERP's path under its root (Odoo's All) -> the root left out",
        article(("All", "Sport", "Tops", "Summer", "Basics")),
        UNDER_ALL,
        CategoryPath(("Sport", "Tops", "Summer", "Basics")),
    ),
    PathScenario(
        "an ERP path under another top category -> kept whole",
        article(("Saleable", "Sport")),
        UNDER_ALL,
        CategoryPath(("Saleable", "Sport")),
    ),
    PathScenario(
        "an article in the root itself -> no category",
        article(("All",)),
        UNDER_ALL,
        CategoryPath(()),
    ),
    PathScenario(
        "six levels below the root -> accepted (the root is not a shop level)",
        article(("All", "A", "B", "C", "D", "E", "F")),
        UNDER_ALL,
        CategoryPath(("A", "B", "C", "D", "E", "F")),
    ),
]


@pytest.mark.parametrize("scenario", PATHS, ids=[s.name for s in PATHS])
def test_category_path(scenario: PathScenario) -> None:
    if isinstance(scenario.expected, str):
        with pytest.raises(CategoryError, match=scenario.expected):
            category_path(scenario.article, scenario.rule)
    else:
        assert category_path(scenario.article, scenario.rule) == scenario.expected


@dataclass(frozen=True)
class TreeScenario:
    name: str
    nodes: list[Node]
    paths: list[CategoryPath]
    changes: list[TreeChange]
    leaves: dict[CategoryPath, int] = field(default_factory=dict)


TOPS = CategoryPath(("Clothing", "Tops"))
SHIRTS = CategoryPath(("Clothing", "Shirts"))
CODED_TOPS = CategoryPath(("Clothing", "Tops"), ("CL", "TP"))
RENAMED = CategoryPath(("Clothing", "T-shirts"), ("CL", "TP"))
MOVED = CategoryPath(("Sport", "Tops"), ("SP", "TP"))

TREES = [
    TreeScenario(
        "empty shop -> each missing level created once for all paths",
        [],
        [TOPS, SHIRTS, TOPS],
        [
            Create(id=-1, name="Clothing", parent=0, slug=""),
            Create(id=-2, name="Tops", parent=-1, slug=""),
            Create(id=-3, name="Shirts", parent=-1, slug=""),
        ],
        {TOPS: -2, SHIRTS: -3},
    ),
    TreeScenario(
        "the tree holds the paths already -> nothing to do",
        [Node(id=1, name="Clothing"), Node(id=2, name="Tops", parent=1)],
        [TOPS],
        [],
        {TOPS: 2},
    ),
    TreeScenario(
        "a name differing only in case -> respelled as the ERP spells it, not duplicated",
        [Node(id=1, name="clothing"), Node(id=2, name="TOPS", parent=1)],
        [TOPS],
        [
            Change(id=1, name="Clothing", parent=0, slug=""),
            Change(id=2, name="Tops", parent=1, slug=""),
        ],
        {TOPS: 2},
    ),
    TreeScenario(
        "same name under another parent is another category",
        [Node(id=1, name="Sport"), Node(id=2, name="Tops", parent=1)],
        [TOPS],
        [
            Create(id=-1, name="Clothing", parent=0, slug=""),
            Create(id=-2, name="Tops", parent=-1, slug=""),
        ],
        {TOPS: -2},
    ),
    TreeScenario(
        "with codes, categories made by hand are adopted and given their code as slug",
        [Node(id=1, name="Clothing", slug="clothing"), Node(id=2, name="Tops", parent=1)],
        [CODED_TOPS],
        [
            Change(id=1, name="Clothing", parent=0, slug="cl"),
            Change(id=2, name="Tops", parent=1, slug="cl-tp"),
        ],
        {CODED_TOPS: 2},
    ),
    TreeScenario(
        "ERP family renamed (same code) -> the category is renamed, not duplicated",
        [Node(id=1, name="Clothing", slug="cl"), Node(id=2, name="Tops", parent=1, slug="cl-tp")],
        [RENAMED],
        [Change(id=2, name="T-shirts", parent=1, slug="cl-tp")],
        {RENAMED: 2},
    ),
    TreeScenario(
        "a code found under another parent -> moved there",
        [
            Node(id=1, name="Clothing", slug="cl"),
            Node(id=2, name="Tops", parent=1, slug="sp-tp"),
            Node(id=3, name="Sport", slug="sp"),
        ],
        [MOVED],
        [Change(id=2, name="Tops", parent=3, slug="sp-tp")],
        {MOVED: 2},
    ),
]


@pytest.mark.parametrize("scenario", TREES, ids=[s.name for s in TREES])
def test_plan_tree(scenario: TreeScenario) -> None:
    changes, leaves = plan_tree(scenario.nodes, scenario.paths)
    assert changes == scenario.changes
    assert leaves == scenario.leaves


def test_a_shop_path_written_back_goes_under_the_root_again() -> None:
    assert with_root(["Sport", "Tops"], UNDER_ALL) == ["All", "Sport", "Tops"]
    assert with_root([], UNDER_ALL) == []
    assert with_root(["Sport"], ERP_PATH) == ["Sport"]


def test_paths_of_a_tree_with_a_loop_stops() -> None:
    nodes = [Node(id=1, name="A", parent=2), Node(id=2, name="B", parent=1), Node(id=3, name="C")]
    assert paths_of(nodes) == {1: ("B", "A"), 2: ("A", "B"), 3: ("C",)}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"levels": []}, "at least one"),
        ({"levels": list("abcdefg")}, "at most 6 levels"),
        ({"levels": ["a", "b"], "codes": ["c"]}, "one code field per level"),
        ({"levels": ["category"], "codes": ["c"]}, "cannot be combined"),
        ({"levels": ["family"], "root": "All"}, "root: names the top of the ERP's own path"),
    ],
)
def test_a_rule_that_cannot_build_a_tree_is_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert(settings, CategoryRule)
