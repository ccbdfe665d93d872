"""The shop's category tree, as paths of names (``("Clothing", "T-shirts")``) both ways.

Canonical products carry a category as a path; WooCommerce wants term ids. The tree is read
once (and again after each full product snapshot). A path the shop lacks is completed level by
level by :func:`rules.categories.plan_tree`: missing levels are created once (reusing a term
that already exists under that parent, which ``term_exists`` names), and when the path comes
with codes each level is found by its code (kept as the category's slug), so a family renamed
in the ERP is renamed in the shop instead of duplicated.

WooCommerce files a product saved without a category under its default category
("Uncategorized", slug ``uncategorized``, created on install and never deletable): that
category's path is the empty one, so "no category" reads back as no category.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from adapters.base import PermanentError
from adapters.woocommerce import schema
from adapters.woocommerce.client import WooClient
from rules.categories import CategoryPath, Change, Create, Node, paths_of, plan_tree

PATH = "/products/categories"
DEFAULT_SLUG = "uncategorized"


class CategoryTree:
    """Category ids and paths of one shop."""

    def __init__(self, client: WooClient) -> None:
        self._client = client
        self._nodes: dict[int, Node] = {}
        self._paths: dict[int, tuple[str, ...]] = {}
        self._loaded = False
        self._lock = asyncio.Lock()
        self.changes = 0
        """Categories created, renamed or moved by this adapter (for reports and tests)."""

    async def load(self, rejected: list[tuple[str, str]]) -> dict[int, tuple[str, ...]]:
        """Read the whole tree; returns each category id's path."""
        categories = await self._client.list_all(PATH, {}, schema.Category, rejected)
        self._nodes = {
            c.id: Node(id=c.id, name=c.name, parent=c.parent, slug=c.slug) for c in categories
        }
        self._index()
        self._loaded = True
        return self._paths

    def _index(self) -> None:
        self._paths = paths_of(self._nodes.values())
        for node in self._nodes.values():
            if node.slug == DEFAULT_SLUG and not node.parent:
                self._paths[node.id] = ()

    async def paths(self, rejected: list[tuple[str, str]]) -> dict[int, tuple[str, ...]]:
        if not self._loaded:
            async with self._lock:
                if not self._loaded:
                    await self.load(rejected)
        return self._paths

    async def resolve(
        self,
        path: tuple[str, ...],
        rejected: list[tuple[str, str]],
        codes: Sequence[str] = (),
    ) -> int:
        """The id of the category at ``path``, creating, renaming or moving levels as needed."""
        await self.paths(rejected)
        async with self._lock:
            wanted = CategoryPath(tuple(path), tuple(codes))
            changes, leaves = plan_tree(self._nodes.values(), [wanted])
            ids: dict[int, int] = {}
            for change in changes:
                parent = ids.get(change.parent, change.parent)
                if isinstance(change, Create):
                    real = await self._create(change.name, parent, change.slug)
                    ids[change.id] = real
                    node = Node(id=real, name=change.name, parent=parent, slug=change.slug)
                else:
                    assert isinstance(change, Change)
                    await self._change(change, parent)
                    node = Node(id=change.id, name=change.name, parent=parent, slug=change.slug)
                self._nodes[node.id] = node
                self.changes += 1
            if changes:
                self._index()
            leaf = leaves[wanted]
            return ids.get(leaf, leaf)

    async def _create(self, name: str, parent: int, slug: str) -> int:
        body: dict[str, Any] = {"name": name, "parent": parent}
        if slug:
            body["slug"] = slug
        answer = await self._client.post(PATH, body, schema.Category)
        if isinstance(answer, schema.Category):
            return answer.id
        if answer.code == "term_exists" and answer.resource_id is not None:
            return answer.resource_id
        raise PermanentError(f"category {name!r}: {answer.reason()}")

    async def _change(self, change: Change, parent: int) -> None:
        body: dict[str, Any] = {"id": change.id, "name": change.name, "parent": parent}
        if change.slug:
            body["slug"] = change.slug
        reply = await self._client.batch(PATH, update=[body])
        entry = reply.update[0] if reply.update else None
        if entry is None or entry.error is not None:
            reason = entry.error.reason() if entry and entry.error else "no answer"
            raise PermanentError(f"category {change.name!r}: {reason}")
