"""Small reference tables every kind needs, read once per adapter and kept.

Taxes, account categories, product categories, countries, currencies, the unit and the
warehouse's locations are a few dozen rows that change rarely; reading them per snapshot would
cost more calls than the records themselves. Product categories are refreshed when a path is
not found (a person may have added one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from adapters.base import PermanentError
from adapters.tryton.client import TrytonClient


class Warehouse(msgspec.Struct, frozen=True):
    """The warehouse whose stock is synchronised, and where counted stock comes from."""

    id: int
    storage: int
    lost_found: int


class Lookups:
    """Cached reference data of one database."""

    def __init__(self, client: TrytonClient, *, warehouse: str) -> None:
        self.client = client
        self._warehouse_setting = warehouse
        self._warehouse: Warehouse | None = None
        self._unit: int | None = None
        self._taxes: dict[int, str] | None = None
        self._account_categories: dict[int, str | None] | None = None
        self._categories: dict[int, tuple[str, ...]] | None = None
        self._categories_fresh = False
        """Whether the category tree was read during the batch being written."""
        self._countries: dict[int, str] | None = None
        self._currencies: dict[int, str] | None = None

    async def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            name = self._warehouse_setting
            found = await self.client.search_read(
                "stock.location",
                [["type", "=", "warehouse"], ["OR", ["code", "=", name], ["name", "=", name]]],
                ["storage_location"],
            )
            if not found:
                raise PermanentError(f"Tryton has no warehouse with code or name {name!r}")
            lost = await self.client.search("stock.location", [["type", "=", "lost_found"]])
            if not lost:
                raise PermanentError("Tryton has no lost-and-found location to count stock from")
            self._warehouse = Warehouse(found[0]["id"], found[0]["storage_location"], lost[0])
        return self._warehouse

    async def unit(self) -> int:
        """The "Unit" unit of measure web articles are sold in."""
        if self._unit is None:
            found = await self.client.search("product.uom", [["symbol", "=", "u"]], limit=1)
            if not found:
                raise PermanentError("Tryton has no unit of measure with symbol 'u'")
            self._unit = found[0]
        return self._unit

    async def taxes(self) -> dict[int, str]:
        """Tax names by id; the name is the tax code other platforms map to."""
        if self._taxes is None:
            rows = await self.client.search_read("account.tax", [], ["name"])
            self._taxes = {row["id"]: str(row["name"]) for row in rows}
        return self._taxes

    async def account_categories(self) -> dict[int, str | None]:
        """The tax code (first customer tax) of each accounting product category."""
        if self._account_categories is None:
            taxes = await self.taxes()
            rows = await self.client.search_read(
                "product.category", [["accounting", "=", True]], ["customer_taxes"]
            )
            self._account_categories = {
                row["id"]: taxes.get(row["customer_taxes"][0]) if row["customer_taxes"] else None
                for row in rows
            }
        return self._account_categories

    async def account_category_for(self, tax_code: str | None) -> int | None:
        """The accounting category charging ``tax_code`` (the lowest id when several do)."""
        matching = [
            cid for cid, code in (await self.account_categories()).items() if code == tax_code
        ]
        return min(matching) if matching else None

    async def categories(self, *, refresh: bool = False) -> dict[int, tuple[str, ...]]:
        """Paths of the non-accounting product categories by id ("Shoes", "Running")."""
        if self._categories is None or refresh:
            rows = await self.client.search_read(
                "product.category", [["accounting", "=", False]], ["name", "parent"]
            )
            by_id = {row["id"]: row for row in rows}

            def path(cid: int, depth: int = 0) -> tuple[str, ...]:
                row = by_id.get(cid)
                if row is None or depth > 20:
                    return ()
                parent = path(row["parent"], depth + 1) if row["parent"] else ()
                return (*parent, str(row["name"]))

            self._categories = {cid: path(cid) for cid in by_id}
        return self._categories

    def new_batch(self) -> None:
        """A batch of writes begins: the category tree is read again, once, before a category
        is looked up in it (another user may have filed one meanwhile)."""
        self._categories_fresh = False

    async def category_id(self, path: Sequence[str]) -> int:
        """The category at ``path``, created (with its parents) when missing. The tree is read
        once a batch (:meth:`new_batch`), not once an article: a batch of 250 articles read it
        250 times."""
        tree = await self.categories(refresh=not self._categories_fresh)
        self._categories_fresh = True
        known = {p: cid for cid, p in tree.items()}
        parent: int | None = None
        for depth in range(1, len(path) + 1):
            here = tuple(path[:depth])
            if here in known:
                parent = known[here]
                continue
            vals: dict[str, Any] = {"name": here[-1], "parent": parent}
            [parent] = await self.client.execute("product.category", "create", [vals])
            known[here] = parent
            tree[parent] = here  # the tree read stays whole for the batch's next articles
        if parent is None:
            raise PermanentError("an empty category path")
        return parent

    async def countries(self) -> dict[int, str]:
        if self._countries is None:
            rows = await self.client.search_read("country.country", [], ["code"])
            self._countries = {row["id"]: str(row["code"] or "") for row in rows}
        return self._countries

    async def country_id(self, code: str) -> int | None:
        if not code:
            return None
        found = [cid for cid, c in (await self.countries()).items() if c == code.upper()]
        return found[0] if found else None

    async def currencies(self) -> dict[int, str]:
        if self._currencies is None:
            rows = await self.client.search_read("currency.currency", [], ["code"])
            self._currencies = {row["id"]: str(row["code"]) for row in rows}
        return self._currencies

    async def company(self) -> tuple[int, int]:
        """The user's current company and its currency."""
        if not self.client.context:
            await self.client.sign_in()
        company = self.client.context.get("company")
        if not company:
            raise PermanentError(
                f"the Tryton user {self.client.login_name!r} has no current company"
            )
        [row] = await self.client.read("company.company", [company], ["currency"])
        return int(company), int(row["currency"])
