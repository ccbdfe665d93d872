"""Stock at the configured location: read per variant, written with ``inventorySetQuantities``.

A write sets the ``available`` quantity with ``changeFromQuantity`` (compare-and-set, 2026-01):
the count Concord last read. When the shop's count moved meanwhile (a sale), Shopify refuses
the whole call with ``CHANGE_FROM_QUANTITY_STALE`` and applies nothing; the adapter then reads
the counts again and retries once, keeping the shop's own movement (new = wanted + (now -
expected), never below zero), so a sale made between the read and the write is not erased.
Each call carries ``@idempotent(key:)`` (required from 2026-04): a retry of a call whose answer
was lost is not applied twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec

from adapters.base import Done, Failed, ItemResult, Operation, PermanentError
from adapters.shopify import bulk_read, cost
from adapters.shopify.client import ShopifyClient, user_errors
from canonical.models import Stock

LEVEL_COST = 4 * cost.OBJECT
"""A variant, its inventory item, the level at one location and its quantities."""
LOCATIONS = "query { locations(first: 250) { nodes { id name isActive } } }"
PRIMARY = "query { location { id name } }"
SET_QUANTITIES = (
    "mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {"
    " inventorySetQuantities(input: $input) @idempotent(key: $key) {"
    " userErrors { field message code } } }"
)


def levels_query(limit: float) -> tuple[str, int, int]:
    first = cost.page_size(LEVEL_COST, limit)
    document = (
        "query Levels($first: Int!, $after: String, $query: String, $location: ID!) {"
        " productVariants(first: $first, after: $after, query: $query) { nodes { id sku"
        " inventoryItem { id tracked inventoryLevel(locationId: $location) {"
        ' quantities(names: ["available"]) { name quantity } } } }'
        " pageInfo { hasNextPage endCursor } } }"
    )
    return document, first, cost.connection_cost(first, LEVEL_COST)


class Level(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    item: str
    available: int


def _level_of(node: Any) -> Level | None:
    sku = str(node.get("sku") or "").strip()
    item = node.get("inventoryItem") or {}
    level = item.get("inventoryLevel")
    if not sku or not item.get("tracked") or level is None:
        return None
    quantities = {q["name"]: q["quantity"] for q in level.get("quantities") or []}
    return Level(sku=sku, item=str(item["id"]), available=int(quantities.get("available", 0)))


class StockKeeper:
    """Reads and writes the ``available`` counts of one location."""

    def __init__(
        self, client: ShopifyClient, location: str | None, *, bulk_read_above: int = 250
    ) -> None:
        self.client = client
        self.wanted_location = location
        self.bulk_read_above = bulk_read_above
        self._location: str | None = None
        self._finding = asyncio.Lock()
        """Held while the location is looked up: the writes of a batch all ask for it at
        once, and one query answers them all."""
        self.levels: dict[str, Level] = {}
        """SKU -> the level as last read."""

    async def location(self) -> str:
        """The gid of the configured location (by id or name), else the shop's primary one."""
        if self._location is not None:
            return self._location
        async with self._finding:
            if self._location is None:
                self._location = await self._find_location()
        return self._location

    async def _find_location(self) -> str:
        wanted = self.wanted_location
        if wanted is None:
            data = await self.client.execute(PRIMARY, cost=cost.OBJECT)
            found = (data.get("location") or {}).get("id")
        else:
            data = await self.client.execute(LOCATIONS, cost=cost.connection_cost(250, 1))
            nodes = data["locations"]["nodes"]
            found = next((n["id"] for n in nodes if wanted in (n["id"], n["name"])), None)
        if not found:
            raise PermanentError(f"Shopify: no location {wanted or '(primary)'!r}")
        return str(found)

    async def read(self, skus: Sequence[str] | None = None) -> list[Level]:
        """The levels of every tracked variant (``skus`` None) or of these SKUs; every level
        of a large shop in one bulk operation."""
        location = await self.location()
        if skus is not None:
            unique = list(dict.fromkeys(skus))
            searches: list[str | None] = [
                " OR ".join(f'sku:"{s}"' for s in unique[i : i + 50])
                for i in range(0, len(unique), 50)
            ]
            levels = list(map(_level_of, await self._pages(searches, location)))
        else:
            levels = await self._everything(location)
        found = {level.item: level for level in levels if level is not None}
        for level in found.values():
            self.levels[level.sku] = level
        return list(found.values())

    async def _everything(self, location: str) -> list[Level | None]:
        if await self.large():
            try:
                return await bulk_read.read_levels(
                    self.client,
                    location,
                    _level_of,
                    poll_seconds=self.client.settings.bulk_poll_seconds,
                )
            except bulk_read.Busy:
                pass  # read page by page
        return list(map(_level_of, await self._pages([None], location)))

    async def _pages(self, searches: list[str | None], location: str) -> list[Any]:
        document, first, requested = levels_query(self.client.query_limit)
        nodes: list[Any] = []
        for search in searches:
            after: str | None = None
            while True:
                data = await self.client.execute(
                    document,
                    {"first": first, "after": after, "query": search, "location": location},
                    cost=requested,
                )
                page = data["productVariants"]
                nodes += page["nodes"]
                if not page["pageInfo"].get("hasNextPage"):
                    break
                after = page["pageInfo"].get("endCursor")
        return nodes

    async def large(self) -> bool:
        """Whether the shop holds more products than are read page by page."""
        above = self.bulk_read_above
        return await bulk_read.product_count(self.client, above + 1) > above

    async def apply(self, operations: Sequence[Operation]) -> list[ItemResult]:
        """Set the counts; a result per operation, in order."""
        targets: dict[int, int] = {}
        results: dict[int, ItemResult] = {}
        unknown = [op.key for op in operations if op.key not in self.levels]
        if unknown:
            await self.read(unknown)
        for n, op in enumerate(operations):
            quantity = getattr(op, "fields", {}).get("quantity")
            if op.key not in self.levels:
                results[n] = Failed(
                    key=op.key, reason=f"{op.key}: no tracked variant at the location"
                )
            elif quantity is None or Decimal(str(quantity)) != int(Decimal(str(quantity))):
                results[n] = Failed(
                    key=op.key, reason=f"{op.key}: Shopify counts whole units, not {quantity!r}"
                )
            else:
                targets[n] = max(0, int(Decimal(str(quantity))))
        expected = {n: self.levels[operations[n].key].available for n in targets}
        for attempt in (1, 2):
            if not targets:
                break
            problems = await self._set(operations, targets, expected)
            stale = [p for p in problems if p.code == "CHANGE_FROM_QUANTITY_STALE"]
            if not problems:
                break
            if attempt == 1 and stale and len(stale) == len(problems):
                before = dict(expected)
                await self.read([operations[n].key for n in targets])
                for n in targets:
                    now = self.levels[operations[n].key].available
                    targets[n] = max(0, targets[n] + now - before[n])
                    expected[n] = now
                continue
            reason = "; ".join(p.reason() for p in problems)
            for n in targets:
                results[n] = Failed(
                    key=operations[n].key,
                    reason=f"{operations[n].key}: {reason}",
                    transient=bool(stale),
                )
            targets = {}
        for n, quantity in targets.items():
            op = operations[n]
            level = self.levels[op.key]
            self.levels[op.key] = Level(sku=level.sku, item=level.item, available=quantity)
            results[n] = Done(key=op.key, ref=level.item)
        return [results[n] for n in range(len(operations))]

    async def _set(
        self, operations: Sequence[Operation], targets: dict[int, int], expected: dict[int, int]
    ) -> list[Any]:
        location = await self.location()
        quantities = [
            {
                "inventoryItemId": self.levels[operations[n].key].item,
                "locationId": location,
                "quantity": quantity,
                "changeFromQuantity": expected[n],
            }
            for n, quantity in targets.items()
        ]
        data = await self.client.execute(
            SET_QUANTITIES,
            {
                "input": {"name": "available", "reason": "correction", "quantities": quantities},
                "key": str(uuid.uuid4()),
            },
            cost=cost.MUTATION + 1,
        )
        return user_errors(data.get("inventorySetQuantities"))


def to_stock(level: Level) -> Stock:
    return Stock(sku=level.sku, quantity=Decimal(level.available))
