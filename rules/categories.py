"""The shop's category tree built from ERP fields, and the changes that make a shop's tree hold
the paths wanted (pure).

An article's category path comes from up to six ERP fields (family / sub-family / range ...),
each read from the article's attributes, or from the ERP's own category path (``"category"``).
When codes are configured (a family code beside the family name), each category is identified
by its code path, carried in the shop as the category's slug: an ERP family renamed keeps its
code, so its shop category is renamed instead of a second one being created.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from canonical.models import Product

MAX_LEVELS = 6
"""Deepest tree the rule builds: beyond that shop menus and breadcrumbs stop being usable."""
ERP_CATEGORY = "category"
"""A level source meaning the ERP's own category path (all its levels)."""
CODES_FIELD = "category_codes"
"""Extra field of a shop-bound product write: the codes of its category path, top first."""


class CategoryError(ValueError):
    """An article whose category path cannot be built; the message names it and the field."""


class CategoryRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[connections.<name>.transforms.categories]``.

    ``levels`` lists the ERP fields giving each level's name, top first (``"category"`` for the
    ERP's own path). ``codes``, when set, lists beside each level the ERP field giving its code.
    ``root`` names the ERP's own top category, left out of the shop's paths: every Odoo
    category sits under "All", which a shop menu should not show.
    """

    levels: list[str]
    codes: list[str] = []
    root: str | None = None

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("levels: name at least one ERP field")
        if len(self.levels) > MAX_LEVELS:
            raise ValueError(f"levels: at most {MAX_LEVELS} levels, got {len(self.levels)}")
        if self.codes and len(self.codes) != len(self.levels):
            raise ValueError("codes: one code field per level, or none at all")
        if self.codes and ERP_CATEGORY in self.levels:
            raise ValueError("codes cannot be combined with the ERP's own category path")
        if self.root is not None and (ERP_CATEGORY not in self.levels or not self.root.strip()):
            raise ValueError(f"root: names the top of the ERP's own path; list {ERP_CATEGORY!r}")

    def consumed(self) -> frozenset[str]:
        """ERP fields the rule reads (they do not become product attributes)."""
        return frozenset(f for f in (*self.levels, *self.codes) if f != ERP_CATEGORY)


class CategoryPath(msgspec.Struct, frozen=True):
    """The names of a category path, top first, and their codes (empty: no codes)."""

    names: tuple[str, ...]
    codes: tuple[str, ...] = ()


def _field(article: Product, name: str) -> str:
    for attribute in article.attributes:
        if attribute.name == name:
            return attribute.value.strip()
    return ""


def erp_path(category: Sequence[str], rule: CategoryRule) -> list[str]:
    """The ERP's own category path as the shop shows it: ``root`` left out when on top."""
    names = [v.strip() for v in category if v.strip()]
    if rule.root is not None and names and names[0] == rule.root.strip():
        names = names[1:]
    return names


def with_root(path: Sequence[str], rule: CategoryRule) -> list[str]:
    """A shop category path as the ERP keeps it: under ``root`` again (writing back)."""
    if rule.root is None or not path:
        return list(path)
    return [rule.root.strip(), *path]


def category_path(article: Product, rule: CategoryRule) -> CategoryPath:
    """The category path of ``article``. Empty trailing levels shorten the path; an empty level
    above a set one is an error (the tree would have a hole)."""
    names: list[str] = []
    codes: list[str] = []
    empty: str | None = None
    for index, source in enumerate(rule.levels):
        values = (
            erp_path(article.category, rule)
            if source == ERP_CATEGORY
            else [_field(article, source)]
        )
        for value in values:
            if not value:
                empty = empty or source
                continue
            if empty is not None:
                raise CategoryError(
                    f"article {article.sku}: {source} is {value!r} but {empty} above it is empty"
                )
            names.append(value)
            if rule.codes:
                code = _field(article, rule.codes[index])
                if not code:
                    raise CategoryError(
                        f"article {article.sku}: {rule.codes[index]} (the code of {source} "
                        f"{value!r}) is empty"
                    )
                codes.append(code)
    if len(names) > MAX_LEVELS:
        raise CategoryError(
            f"article {article.sku}: category path {' / '.join(names)} is deeper than "
            f"{MAX_LEVELS} levels"
        )
    return CategoryPath(tuple(names), tuple(codes))


# -- the shop's tree --------------------------------------------------------------------------


class Node(msgspec.Struct, frozen=True, kw_only=True):
    """A category the shop holds."""

    id: int
    name: str
    parent: int = 0
    slug: str = ""


class Create(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Create a category. ``id`` is a placeholder (negative) that later changes refer to."""

    id: int
    name: str
    parent: int
    slug: str


class Change(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Rename or move an existing category (or give it its code as slug)."""

    id: int
    name: str
    parent: int
    slug: str


TreeChange = Create | Change


def slug_of(codes: Sequence[str]) -> str:
    """The slug identifying a category by its code path: ``("CL", "TS")`` -> ``"cl-ts"``."""
    text = "-".join(codes).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def plan_tree(
    nodes: Iterable[Node], paths: Iterable[CategoryPath]
) -> tuple[list[TreeChange], dict[CategoryPath, int]]:
    """The changes that make the tree hold every path, and each path's leaf id.

    A level with a code is found by its slug wherever it is, then renamed or moved if its name
    or parent changed; without a code (or when no category has that slug yet) it is found by
    name under its parent, case-insensitively as the shop compares them. Missing levels are
    created once, however many paths share them. Leaf ids of created levels are placeholders
    (negative) until the changes are applied.
    """
    by_id: dict[int, Node] = {n.id: n for n in nodes}
    changes: list[TreeChange] = []
    leaves: dict[CategoryPath, int] = {}
    next_placeholder = -1
    for path in paths:
        if path in leaves:
            continue
        parent = 0
        for depth, name in enumerate(path.names):
            slug = slug_of(path.codes[: depth + 1]) if path.codes else ""
            found = _find(by_id.values(), slug, parent, name)
            if found is None:
                node = Node(id=next_placeholder, name=name, parent=parent, slug=slug)
                next_placeholder -= 1
                changes.append(Create(id=node.id, name=name, parent=parent, slug=slug))
            elif (found.name, found.parent) != (name, parent) or (slug and found.slug != slug):
                node = Node(id=found.id, name=name, parent=parent, slug=slug or found.slug)
                changes.append(Change(id=node.id, name=name, parent=parent, slug=node.slug))
            else:
                node = found
            by_id[node.id] = node
            parent = node.id
        leaves[path] = parent
    return changes, leaves


def _find(nodes: Iterable[Node], slug: str, parent: int, name: str) -> Node | None:
    candidates = list(nodes)
    if slug:
        for node in candidates:
            if node.slug == slug:
                return node
    wanted = name.lower()
    for node in candidates:
        if node.parent == parent and node.name.lower() == wanted:
            # A category made by hand before codes were configured: adopted, given its code.
            return node
    return None


def paths_of(nodes: Iterable[Node]) -> dict[int, tuple[str, ...]]:
    """Each category id's path of names, top first (a loop in parents stops the walk)."""
    by_id: Mapping[int, Node] = {n.id: n for n in nodes}
    out: dict[int, tuple[str, ...]] = {}
    for node_id in by_id:
        names: list[str] = []
        seen: set[int] = set()
        current = by_id.get(node_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            names.append(current.name)
            current = by_id.get(current.parent)
        out[node_id] = tuple(reversed(names))
    return out
