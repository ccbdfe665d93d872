"""Stock per warehouse: quantities read in bulk, counted stock written as moves.

Tryton computes a product's ``quantity`` from its stock moves for the locations in the context,
so one call per page reads every article's on-hand quantity in the warehouse (about 1 s for
30,000). A stock change touches neither the product nor its template, so incremental reads
follow ``stock.move`` and re-read the quantities of the products those moves carry.

Writing a quantity is what a person counting the shelves does: a ``stock.inventory`` of the
storage zone, confirmed, which moves the difference in from lost-and-found (or back out); only
when the zone itself holds too little for a decrease are the locations below it counted too. A
plain
``stock.move`` cannot take stock out: a move leaving storage must be assigned first, and Tryton
does not offer assignment over RPC.

A stock-taking is created once (see :mod:`adapters.tryton.client`): when the answer to its
create is lost, the batch fails as transient and the next attempt first deletes the draft that
create may have left, then counts again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.base import Archive, Operation, Reject, Seen
from adapters.stock_split import recount
from adapters.tryton.batch import Batch, NewItem, Results, naming_sent
from adapters.tryton.client import TrytonClient, TrytonFault
from adapters.tryton.lookups import Lookups
from adapters.tryton.products import stamp
from canonical.models import Stock

Rejected = list[tuple[str, str]]
GOODS: tuple[list[Any], ...] = (["template.type", "!=", "service"],)
"""The products that keep stock: a service has none."""


def quantity(value: Any) -> Decimal:
    """Tryton keeps quantities as floats; as decimals they read as written ("2.5", not 2.4999)."""
    return Decimal(repr(float(value or 0))).normalize() + 0


class StockReader:
    def __init__(self, client: TrytonClient, lookups: Lookups, rejected: Rejected) -> None:
        self.client = client
        self.lookups = lookups
        self.rejected = rejected

    async def latest_change(self) -> datetime | None:
        """The newest move or article: where the next incremental read starts."""
        stamps = []
        for model, column in (
            ("stock.move", "write_date"),
            ("stock.move", "create_date"),
            ("product.product", "create_date"),
        ):
            found = await self.client.search(
                model, [], order=[[column, "DESC NULLS LAST"]], limit=1
            )
            if found:
                [row] = await self.client.read(model, found, ["last_modified_at"])
                stamps.append(stamp(row["last_modified_at"]))
        return max((s for s in stamps if s), default=None)

    async def changed_products(self, after: datetime) -> tuple[list[int], list[datetime]]:
        """Products with a move (or themselves) changed after ``after``."""
        moves = await self.client.search_read(
            "stock.move", [["last_modified_at", ">", after]], ["product", "last_modified_at"]
        )
        new = await self.client.search("product.product", [["create_date", ">", after]])
        ids = sorted({int(m["product"]) for m in moves} | set(new))
        return ids, [s for m in moves if (s := stamp(m["last_modified_at"]))]

    async def seen(self, product_ids: Sequence[int] | None) -> list[Seen]:
        """Stock of these products (every active product when None) in the warehouse."""
        warehouse = await self.lookups.warehouse()
        if product_ids is None:
            product_ids = await self.client.search("product.product", list(GOODS))
        rows = await self.client.read(
            "product.product",
            product_ids,
            ["code", "quantity"],
            context={"locations": [warehouse.id], "with_childs": True},
        )
        out = []
        for row in rows:
            sku = str(row["code"] or "").strip()
            if not sku:
                self.rejected.append(
                    Reject(
                        f"product.product/{row['id']}",
                        "the product has no code",
                        seen_as=str(row["id"]),
                    )
                )
                continue
            record = Stock(sku=sku, quantity=quantity(row["quantity"]))
            out.append(Seen(record=record, ref=str(row["id"])))
        return out

    async def by_sku(self, skus: Sequence[str]) -> list[Seen]:
        ids = await self.client.search("product.product", [["code", "in", list(skus)], *GOODS])
        return await self.seen(ids)

    async def services(self, skus: Sequence[str]) -> list[str]:
        """Those of ``skus`` that are services."""
        rows = await self.client.search_read(
            "product.product",
            [["code", "in", list(skus)], ["template.type", "=", "service"]],
            ["code"],
        )
        return [str(row["code"]) for row in rows]


async def _storage_places(client: TrytonClient, storage: int) -> list[int]:
    """The storage zone and the storage locations below it (shelves, bins), zone first."""
    below = await client.search(
        "stock.location", [["parent", "child_of", [storage]], ["type", "=", "storage"]]
    )
    return [storage, *sorted(set(below) - {storage})]


async def _quantities_at(
    client: TrytonClient, products: list[int], places: list[int]
) -> dict[int, dict[int, Decimal]]:
    """Per product, its quantity at each place itself (its children not included)."""
    out: dict[int, dict[int, Decimal]] = {p: {} for p in products}
    for place in places:
        rows = await client.read(
            "product.product",
            products,
            ["quantity"],
            context={"locations": [place], "with_childs": False},
        )
        for row in rows:
            if row["quantity"]:
                out[row["id"]][place] = quantity(row["quantity"])
    return out


async def _drop_lost_counts(client: TrytonClient, location: int, products: set[int]) -> None:
    """Delete our draft stock-takings at ``location`` that count only ``products``: what a
    create whose answer was lost left behind. They are not confirmed instead, since their
    expected quantities are those of when they were made."""
    lines = await client.search_read(
        "stock.inventory.line",
        [
            ["inventory.state", "=", "draft"],
            ["inventory.location", "=", location],
            ["inventory.create_uid", "=", client.user],
        ],
        ["inventory", "product"],
    )
    counted: dict[int, set[int]] = defaultdict(set)
    for line in lines:
        counted[int(line["inventory"])].add(int(line["product"]))
    # Another batch's stock-taking names other products: it is left alone.
    lost = sorted(i for i, named in counted.items() if named <= products)
    if lost:
        await client.execute("stock.inventory", "delete", lost)


async def apply_stock(
    client: TrytonClient,
    lookups: Lookups,
    reader: StockReader,
    operations: Sequence[Operation],
    results: Results,
) -> None:
    """Bring each article's warehouse quantity to the one given, by stock-takings: the
    difference is counted in the storage zone, and only what the zone cannot give up is taken
    from the locations below it (:func:`adapters.stock_split.recount`), so the split over
    shelves is kept and the warehouse's total reads back as written. A service keeps no
    stock and is refused."""
    batch = Batch(client, results, unexpected=naming_sent(operations, "stock of"))
    warehouse = await lookups.warehouse()
    company, _ = await lookups.company()
    keys = [o.key for o in operations]
    current = {s.record.natural_key(): s for s in await reader.by_sku(keys)}
    services = set(await reader.services(keys))
    places = await _storage_places(client, warehouse.storage) if current else []
    stored = await _quantities_at(client, [int(s.ref) for s in current.values()], places)
    counts: dict[int, list[NewItem]] = {place: [] for place in places}
    planned: dict[int, int] = {}
    for position, op in enumerate(operations):
        seen = current.get(op.key)
        if isinstance(op, Archive):
            batch.fail(position, op.key, "stock cannot be archived; set the quantity to 0")
        elif op.key in services:
            batch.fail(position, op.key, "quantity: a service keeps no stock in Tryton")
        elif seen is None:
            batch.fail(position, op.key, f"no active Tryton product with code {op.key!r}")
        elif op.fields.get("quantity") is None:
            batch.fail(position, op.key, "quantity: no quantity given")
        else:
            try:
                wanted = Decimal(str(op.fields["quantity"]))
            except ArithmeticError:
                batch.fail(position, op.key, f"quantity: not a number: {op.fields['quantity']!r}")
                continue
            product = int(seen.ref)
            here = stored[product]
            counted = sum(here.values(), Decimal(0))
            # Stock in the input or output zone counts in the warehouse but is not counted here.
            transit = getattr(seen.record, "quantity", Decimal(0)) - counted
            if wanted - transit < 0:
                batch.fail(
                    position, op.key, f"quantity: {wanted} is less than the stock in transit zones"
                )
                continue
            below = [(place, here.get(place, Decimal(0))) for place in places[1:]]
            main, changed = recount(wanted - transit, here.get(places[0], Decimal(0)), below)
            lines = ([(places[0], main)] if main is not None else []) + changed
            for place, amount in lines:
                line = {"product": product, "quantity": float(amount)}
                counts[place].append((position, op.key, line))
            planned[position] = len(lines)

    async def take(location: int, part: Sequence[NewItem]) -> None:
        vals = {
            "location": location,
            "company": company,
            "lines": [["create", [line for _, _, line in part]]],
        }
        [inventory] = await client.execute("stock.inventory", "create", [vals])
        try:
            await client.execute("stock.inventory", "confirm", [inventory])
        except TrytonFault:
            await client.execute("stock.inventory", "delete", [inventory])
            raise

    def at(location: int) -> Callable[[Sequence[NewItem]], Awaitable[None]]:
        return lambda part: take(location, part)

    counted_at: dict[int, int] = {}
    for place, items in counts.items():
        if items:
            await _drop_lost_counts(client, place, {int(line["product"]) for *_, line in items})
        for part, _ in await batch.each(items, at(place)):
            for position, _, _ in part:
                counted_at[position] = counted_at.get(position, 0) + 1
    for position, expected in planned.items():
        key = operations[position].key
        if results[position] is None and counted_at.get(position, 0) == expected:
            batch.done(position, key, current[key].ref)
