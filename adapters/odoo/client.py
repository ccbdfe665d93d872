"""ORM calls with paging on top of a transport, and the small lookups every kind needs.

Full reads count first, then ask for every page at once (ordered by id, so a page's content
does not move while others are read), and on while the last page comes back full (a count cut
short still reads as a number); the HTTP client bounds how many are in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from adapters.base import PermanentError
from adapters.odoo.transport import Transport
from adapters.odoo.wire import (
    CategoryRow,
    CountryRow,
    PrecisionRow,
    TaxRow,
    fields_of,
    ref_id,
    text,
)

R = TypeVar("R", bound=msgspec.Struct)
ALL = {"active_test": False}
"""Context that includes archived records: a full read must see them to notice archiving."""


def list_of(row_type: type[R]) -> type[list[R]]:
    """``list[row_type]`` as a runtime type for the decoder."""
    shape: Any = list[row_type]  # type: ignore[valid-type]
    return shape  # type: ignore[no-any-return]


def chunks(values: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class OdooClient:
    """Paged reads and cached lookups (taxes, countries, categories, the stock location)."""

    def __init__(self, transport: Transport, *, page_size: int) -> None:
        self.transport = transport
        self.page_size = page_size
        self._taxes: dict[int, str] | None = None
        self._countries: dict[int, str] | None = None
        self._categories: dict[int, CategoryRow] | None = None
        self._precisions: dict[str, int] | None = None

    async def call(
        self,
        model: str,
        method: str,
        params: Mapping[str, Any],
        *,
        result: Any,
        ids: Sequence[int] = (),
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        return await self.transport.call(
            model, method, params, result=result, ids=ids, context=context
        )

    async def count(self, model: str, domain: list[Any], context: Mapping[str, Any]) -> int:
        found = await self.call(
            model, "search_count", {"domain": domain}, result=int, context=context
        )
        return int(found)

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        row_type: type[R],
        *,
        context: Mapping[str, Any] = ALL,
        order: str = "id asc",
    ) -> list[R]:
        """Every row matching ``domain``: a count, then all pages concurrently."""
        total = await self.count(model, domain, context)
        fields = fields_of(row_type)

        async def page(offset: int) -> list[R]:
            params = {
                "domain": domain,
                "fields": fields,
                "offset": offset,
                "limit": self.page_size,
                "order": order,
            }
            rows: list[R] = await self.call(
                model, "search_read", params, result=list_of(row_type), context=context
            )
            return rows

        pages = await asyncio.gather(*(page(o) for o in range(0, total, self.page_size)))
        # A count is one number: a reply cut short still reads as a (smaller) number. So pages
        # are read on while the last one comes back full; a wrong count never loses rows.
        while pages and len(pages[-1]) == self.page_size:
            pages.append(await page(len(pages) * self.page_size))
        return [row for rows in pages for row in rows]

    async def read(self, model: str, ids: Sequence[int], row_type: type[R]) -> list[R]:
        """Rows by id, in chunks of a page."""
        fields = fields_of(row_type)

        async def chunk(part: list[int]) -> list[R]:
            rows: list[R] = await self.call(
                model, "read", {"fields": fields}, result=list_of(row_type), ids=part
            )
            return rows

        parts = await asyncio.gather(*(chunk(p) for p in chunks(list(ids), self.page_size)))
        return [row for rows in parts for row in rows]

    async def search(
        self, model: str, domain: list[Any], *, context: Mapping[str, Any] = ALL
    ) -> list[int]:
        found: list[int] = await self.call(
            model, "search", {"domain": domain}, result=list[int], context=context
        )
        return found

    async def taxes(self, *, refresh: bool = False) -> dict[int, str]:
        """Sales taxes by id, their name being the tax code."""
        if self._taxes is None or refresh:
            rows = await self.search_read("account.tax", [], TaxRow)
            self._taxes = {row.id: text(row.name) for row in rows}
        return self._taxes

    async def countries(self) -> dict[int, str]:
        """Country codes by id."""
        if self._countries is None:
            rows = await self.search_read("res.country", [], CountryRow)
            self._countries = {row.id: text(row.code) for row in rows}
        return self._countries

    async def categories(self, *, refresh: bool = False) -> dict[int, tuple[str, ...]]:
        """Every category's path of names from the top, by id, built from the parent chain:
        a name may itself contain " / ", so Odoo's ``complete_name`` cannot be split."""
        rows = await self._category_rows(refresh=refresh)
        paths: dict[int, tuple[str, ...]] = {}

        def path(rid: int, seen: tuple[int, ...] = ()) -> tuple[str, ...]:
            if rid not in paths:
                row = rows[rid]
                parent = ref_id(row.parent_id)
                above = path(parent, (*seen, rid)) if parent in rows and parent not in seen else ()
                paths[rid] = (*above, text(row.name).strip())
            return paths[rid]

        for rid in rows:
            path(rid)
        return paths

    async def _category_rows(self, *, refresh: bool) -> dict[int, CategoryRow]:
        if self._categories is None or refresh:
            rows = await self.search_read("product.category", [], CategoryRow)
            self._categories = {row.id: row for row in rows}
        return self._categories

    async def category_id(self, path: Sequence[str]) -> int | None:
        """The category at ``path`` ("All", "Shoes"), created (with its parents) if missing;
        each level is matched by name under its parent, never through ``complete_name``."""
        rows = await self._category_rows(refresh=False)
        parent: int | None = None
        for name in path:
            found = [
                row.id
                for row in rows.values()
                if text(row.name).strip() == name.strip() and ref_id(row.parent_id) == parent
            ]
            if found:
                parent = min(found)
                continue
            vals: dict[str, Any] = {"name": name, "parent_id": parent or False}
            [created] = await self.call(
                "product.category", "create", {"vals_list": [vals]}, result=list[int]
            )
            rows[created] = CategoryRow(
                id=created, name=name, parent_id=(parent, "") if parent else False
            )
            parent = created
        return parent

    async def precision(self, usage: str) -> int:
        """Decimals Odoo keeps for a ``decimal.precision`` usage ("Product Price"): a float
        with digits is rounded to them when written. Odoo's own default is 2."""
        if self._precisions is None:
            rows = await self.search_read("decimal.precision", [], PrecisionRow)
            self._precisions = {text(row.name): row.digits for row in rows}
        return self._precisions.get(usage, 2)

    async def location_id(self, setting: int | str | None) -> int:
        """The stock location to read and count: by id, by (complete) name, or the first
        internal one."""
        if isinstance(setting, int):
            return setting
        domain: list[Any] = [["usage", "=", "internal"]]
        if setting:
            domain = ["|", ["complete_name", "=", setting], ["name", "=", setting], *domain]
        found: list[int] = await self.call(
            "stock.location",
            "search",
            {"domain": domain, "limit": 1, "order": "id asc"},
            result=list[int],
        )
        if not found:
            raise PermanentError(f"Odoo has no internal stock location {setting or ''!r}".strip())
        return found[0]
