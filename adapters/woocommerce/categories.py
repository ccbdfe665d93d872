"""The shop's category tree, as paths of names (``("Clothing", "T-shirts")``) both ways.

Canonical products carry a category as a path; WooCommerce wants term ids. The tree is read
once (and again after each full product snapshot); paths the shop lacks are created level by
level, reusing a term that already exists under that parent (``term_exists`` names it).
"""

from __future__ import annotations

import asyncio

from adapters.base import PermanentError
from adapters.woocommerce import schema
from adapters.woocommerce.client import WooClient

PATH = "/products/categories"


class CategoryTree:
    """Category ids and paths of one shop."""

    def __init__(self, client: WooClient) -> None:
        self._client = client
        self._by_id: dict[int, schema.Category] = {}
        self._ids: dict[tuple[str, ...], int] = {}
        self._paths: dict[int, tuple[str, ...]] = {}
        self._loaded = False
        self._lock = asyncio.Lock()

    async def load(self, rejected: list[tuple[str, str]]) -> dict[int, tuple[str, ...]]:
        """Read the whole tree; returns each category id's path."""
        categories = await self._client.list_all(PATH, {}, schema.Category, rejected)
        self._by_id = {c.id: c for c in categories}
        self._paths = {c.id: self._path(c.id) for c in categories}
        self._ids = {path: cid for cid, path in self._paths.items()}
        self._loaded = True
        return self._paths

    def _path(self, category_id: int) -> tuple[str, ...]:
        names: list[str] = []
        seen: set[int] = set()
        current = self._by_id.get(category_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            names.append(current.name)
            current = self._by_id.get(current.parent)
        return tuple(reversed(names))

    async def paths(self, rejected: list[tuple[str, str]]) -> dict[int, tuple[str, ...]]:
        if not self._loaded:
            async with self._lock:
                if not self._loaded:
                    await self.load(rejected)
        return self._paths

    async def resolve(self, path: tuple[str, ...], rejected: list[tuple[str, str]]) -> int:
        """The id of the category at ``path``, creating the missing levels."""
        await self.paths(rejected)
        async with self._lock:
            parent = 0
            for depth in range(1, len(path) + 1):
                prefix = path[:depth]
                known = self._ids.get(prefix)
                if known is None:
                    known = await self._create(prefix[-1], parent)
                    self._ids[prefix] = known
                    self._paths[known] = prefix
                parent = known
            return parent

    async def _create(self, name: str, parent: int) -> int:
        answer = await self._client.post(PATH, {"name": name, "parent": parent}, schema.Category)
        if isinstance(answer, schema.Category):
            return answer.id
        if answer.code == "term_exists" and answer.resource_id is not None:
            return answer.resource_id
        raise PermanentError(f"category {name!r}: {answer.reason()}")
