"""Prices: each article's list price, and customer-specific prices from price lists.

A general :class:`Price` is the product's ``list_price_used``. A customer-specific one comes
from the ``product.price_list`` assigned to a party (``sale_price_list``): for every product a
line of that list names, the price Tryton itself computes (``sale_price_uom`` read with the
price list and the customer in the context), so formulas, quantities and units are Tryton's.
Lines for a whole category or for every product are not expanded into one price per article
(30,000 prices per customer); such customers get the products their list names.

Writing a customer price sets (or adds) a line of the customer's own list, whose formula is the
amount; a customer without a list gets one named after them (or the unused list of that name
a create whose answer was lost made).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapters.base import Archive, Operation, Reject, Seen
from adapters.tryton.batch import Batch, NewItem, Results, WriteItem, naming_sent
from adapters.tryton.client import TrytonClient
from adapters.tryton.customers import CustomerReader
from adapters.tryton.lookups import Lookups
from adapters.tryton.products import ALL, NotANumber, money
from canonical.models import Price

Rejected = list[tuple[str, str]]


class PriceReader:
    def __init__(
        self, client: TrytonClient, lookups: Lookups, customers: CustomerReader, rejected: Rejected
    ) -> None:
        self.client = client
        self.lookups = lookups
        self.customers = customers
        self.rejected = rejected

    async def general(self, product_ids: Sequence[int] | None, currency: str) -> list[Seen]:
        if product_ids is None:
            product_ids = await self.client.search("product.product", [])
        rows = await self.client.read("product.product", product_ids, ["code", "list_price_used"])
        out = []
        for row in rows:
            amount = self._amount(row, "list_price_used", "list_price", None)
            if row["code"] and amount is not None:
                price = Price(sku=str(row["code"]), amount=amount, currency=currency)
                out.append(Seen(record=price, ref=str(row["id"])))
        return out

    def _amount(
        self, row: dict[str, Any], column: str, field: str, customer: str | None
    ) -> Decimal | None:
        """The row's amount; one that is no finite number is rejected, naming the article
        (and, with its code, under the key of ``customer``'s price of it, or the general one)."""
        try:
            return money(row[column], str(row["code"] or row["id"]), field)
        except NotANumber as exc:
            code = str(row["code"] or "").strip()
            key = Price(sku=code, amount=Decimal(0), customer=customer).key if code else None
            self.rejected.append(Reject(f"product.product/{row['id']}", str(exc), key))
            return None

    async def specific(self, currency: str) -> list[Seen]:
        """Prices of the products each customer's price list names."""
        # The party's price list is a per-company value: searchable only through its rows.
        assigned = await self.client.search_read(
            "party.party",
            [["sale_price_lists.sale_price_list", "!=", None]],
            ["sale_price_list"],
        )
        lists = {int(a["id"]): int(a["sale_price_list"]) for a in assigned if a["sale_price_list"]}
        if not lists:
            return []
        emails = {
            s.record.natural_key(): int(s.ref) for s in await self.customers.seen(sorted(lists))
        }
        lines = await self.client.search_read(
            "product.price_list.line",
            [["price_list", "in", sorted(set(lists.values()))], ["product", "!=", None]],
            ["price_list", "product"],
        )
        named: dict[int, set[int]] = defaultdict(set)
        for line in lines:
            named[line["price_list"]].add(line["product"])
        out = []
        for email, pid in sorted(emails.items()):
            products = sorted(named.get(lists[pid], ()))
            if not products:
                continue
            context = {"price_list": lists[pid], "customer": pid, "quantity": 1}
            rows = await self.client.read(
                "product.product", products, ["code", "sale_price_uom"], context=context
            )
            for row in rows:
                field = f"sale price for {email}"
                amount = self._amount(row, "sale_price_uom", field, email)
                if not row["code"] or amount is None:
                    continue
                price = Price(
                    sku=str(row["code"]),
                    amount=amount.normalize(),
                    currency=currency,
                    customer=email,
                )
                out.append(Seen(record=price, ref=f"{pid}:{row['id']}"))
        return out


async def apply_prices(
    client: TrytonClient,
    customers: CustomerReader,
    operations: Sequence[Operation],
    results: Results,
) -> None:
    batch = Batch(client, results, unexpected=naming_sent(operations, "price"))
    skus = sorted({_sku(op) for op in operations})
    rows = await client.search_read("product.product", [["code", "in", skus]], ["code"])
    products = {str(r["code"]): int(r["id"]) for r in rows}
    emails = sorted(
        {
            str(op.fields["customer"]).lower()
            for op in operations
            if not isinstance(op, Archive) and op.fields.get("customer")
        }
    )
    parties = await customers.by_email(emails)
    general: list[WriteItem] = []
    specific: list[tuple[int, str, int, int, Decimal]] = []
    for position, op in enumerate(operations):
        if isinstance(op, Archive):
            batch.fail(position, op.key, "a price cannot be archived in Tryton")
            continue
        sku = str(op.fields.get("sku") or op.key.split("|", 1)[0])
        customer = str(op.fields.get("customer") or "").lower()
        if sku not in products:
            batch.fail(position, op.key, f"sku: no Tryton product with code {sku!r}")
        elif op.fields.get("group"):
            batch.fail(position, op.key, "group: Tryton prices are per customer, not per group")
        elif "amount" not in op.fields:
            batch.done(position, op.key, str(products[sku]))
        elif customer and customer not in parties:
            batch.fail(position, op.key, f"customer: no Tryton party with e-mail {customer!r}")
        elif customer:
            amount = Decimal(str(op.fields["amount"]))
            specific.append((position, op.key, parties[customer], products[sku], amount))
        else:
            vals = {"list_price": Decimal(str(op.fields["amount"]))}
            general.append((position, op.key, [products[sku]], vals))
    for position in await batch.write("product.product", general):
        batch.done(position, operations[position].key, str(products[_sku(operations[position])]))
    for position, key, party, product, amount in specific:
        price_list = await _price_list_of(client, party, key)
        found = await client.search(
            "product.price_list.line",
            [["price_list", "=", price_list], ["product", "=", product], ["quantity", "=", None]],
            limit=1,
        )
        line: dict[str, Any] = {"formula": str(amount)}
        if found:
            ok = await batch.write("product.price_list.line", [(position, key, found, line)])
        else:
            item: NewItem = (
                position,
                key,
                {**line, "price_list": price_list, "product": product, "sequence": 0},
            )
            ok = set(await batch.create("product.price_list.line", [item]))
        if position in ok:
            batch.done(position, key, f"{party}:{product}")


def _sku(op: Operation) -> str:
    return str(getattr(op, "fields", {}).get("sku") or op.key.split("|", 1)[0])


async def _price_list_of(client: TrytonClient, party: int, key: str) -> int:
    [row] = await client.read("party.party", [party], ["sale_price_list", "name"])
    if row["sale_price_list"]:
        return int(row["sale_price_list"])
    name = f"Prices of {row['name']}"
    price_list = await _unassigned_list(client, name)
    if price_list is None:
        [price_list] = await client.execute(
            "product.price_list", "create", [{"name": name, "price": "list_price"}]
        )
    await client.execute("party.party", "write", [party], {"sale_price_list": price_list})
    return int(price_list)


async def _unassigned_list(client: TrytonClient, name: str) -> int | None:
    """A price list named ``name`` that no party uses: one a create whose answer was lost made
    (the create is not sent twice, and the next attempt takes it up). One another party of the
    same name uses is left to that party."""
    for found in await client.search("product.price_list", [["name", "=", name]], context=ALL):
        # A party's list is a per-company value: searched through its rows, any company's.
        users = await client.search(
            "party.party", [["sale_price_lists.sale_price_list", "=", found]], limit=1, context=ALL
        )
        if not users:
            return found
    return None
