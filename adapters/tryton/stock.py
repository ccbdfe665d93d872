"""Stock per warehouse: quantities read in bulk, counted stock written as moves.

Tryton computes a product's ``quantity`` from its stock moves for the locations in the context,
so one call per page reads every article's on-hand quantity in the warehouse (about 1 s for
30,000). A stock change touches neither the product nor its template, so incremental reads
follow ``stock.move`` and re-read the quantities of the products those moves carry.

Writing a quantity is what a person counting the shelves does: a ``stock.inventory`` of the
storage zone, confirmed, which moves the difference in from lost-and-found (or back out). A plain
``stock.move`` cannot take stock out: a move leaving storage must be assigned first, and Tryton
does not offer assignment over RPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.base import Archive, Operation, Seen
from adapters.tryton.batch import Batch, NewItem, Results
from adapters.tryton.client import TrytonClient, TrytonFault
from adapters.tryton.lookups import Lookups
from adapters.tryton.products import stamp
from engine.models import Stock

Rejected = list[tuple[str, str]]


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
            product_ids = await self.client.search("product.product", [])
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
                self.rejected.append((f"product.product/{row['id']}", "the product has no code"))
                continue
            record = Stock(sku=sku, quantity=quantity(row["quantity"]))
            out.append(Seen(record=record, ref=str(row["id"])))
        return out

    async def by_sku(self, skus: Sequence[str]) -> list[Seen]:
        ids = await self.client.search("product.product", [["code", "in", list(skus)]])
        return await self.seen(ids)


async def apply_stock(
    client: TrytonClient,
    lookups: Lookups,
    reader: StockReader,
    operations: Sequence[Operation],
    results: Results,
) -> None:
    """Bring each article's warehouse quantity to the one given, by a stock-taking."""
    batch = Batch(client, results)
    warehouse = await lookups.warehouse()
    company, _ = await lookups.company()
    current = {s.record.natural_key(): s for s in await reader.by_sku([o.key for o in operations])}
    stored: dict[int, Decimal] = {}
    if current:
        rows = await client.read(
            "product.product",
            [int(s.ref) for s in current.values()],
            ["quantity"],
            context={"locations": [warehouse.storage], "with_childs": True},
        )
        stored = {row["id"]: quantity(row["quantity"]) for row in rows}
    counts: list[NewItem] = []
    for position, op in enumerate(operations):
        seen = current.get(op.key)
        if isinstance(op, Archive):
            batch.fail(position, op.key, "stock cannot be archived; set the quantity to 0")
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
            have = getattr(seen.record, "quantity", Decimal(0))
            # Stock in the input or output zone counts in the warehouse but is not counted here.
            counted = stored.get(int(seen.ref), Decimal(0)) + wanted - have
            if counted < 0:
                batch.fail(
                    position, op.key, f"quantity: {wanted} is less than the stock in transit zones"
                )
                continue
            line = {"product": int(seen.ref), "quantity": float(counted)}
            counts.append((position, op.key, line))

    async def take(part: Sequence[NewItem]) -> None:
        vals = {
            "location": warehouse.storage,
            "company": company,
            "lines": [["create", [line for _, _, line in part]]],
        }
        [inventory] = await client.execute("stock.inventory", "create", [vals])
        try:
            await client.execute("stock.inventory", "confirm", [inventory])
        except TrytonFault:
            await client.execute("stock.inventory", "delete", [inventory])
            raise

    for part, _ in await batch.each(counts, take):
        for position, key, _ in part:
            batch.done(position, key, current[key].ref)
