"""Writing batches to Odoo with a result per item.

Odoo's ``create`` takes a list of values and is atomic per call: one refused record undoes the
call. So a batch is created in one call, and when Odoo refuses it for a data reason the items
are created one by one, so that only the bad ones fail. Updates carrying identical values are
grouped into one ``write``. A ``Create`` whose natural key exists already becomes an update of
that record (the engine may retry a batch whose first attempt was applied).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec

from adapters.base import Archive, Create, Done, Failed, ItemResult, Operation, Update
from adapters.odoo.client import OdooClient, chunks
from adapters.odoo.reading import Reader
from adapters.odoo.transport import OdooFault
from adapters.odoo.values import Refused, exact, partner_vals, product_vals
from adapters.odoo.wire import PartnerRow, QuantRow, SkuRow, ref_id, text
from adapters.stock_split import recount

Results = list[ItemResult | None]
NewItem = tuple[int, str, dict[str, Any]]
"""(position in the batch, natural key, values to create)"""
WriteItem = tuple[int, str, int, dict[str, Any]]
"""(position, natural key, record id, values to write)"""


class Batch:
    """Creates and grouped writes on one model, filling a result slot per operation."""

    def __init__(self, client: OdooClient, results: Results) -> None:
        self.client = client
        self.results = results

    def fail(self, position: int, key: str, reason: str) -> None:
        self.results[position] = Failed(key=key, reason=reason)

    async def create(self, model: str, items: list[NewItem]) -> dict[int, int]:
        """Create ``items``; returns the new id by position (failed items are marked)."""
        if not items:
            return {}
        try:
            ids = await self._create(model, [vals for _, _, vals in items])
            return {position: rid for (position, _, _), rid in zip(items, ids, strict=True)}
        except OdooFault as fault:
            if not fault.about_data:
                raise
            if len(items) == 1:
                self.fail(items[0][0], items[0][1], str(fault))
                return {}
        created: dict[int, int] = {}
        for position, key, vals in items:
            try:
                created[position] = (await self._create(model, [vals]))[0]
            except OdooFault as fault:
                if not fault.about_data:
                    raise
                self.fail(position, key, str(fault))
        return created

    async def _create(self, model: str, vals_list: list[dict[str, Any]]) -> list[int]:
        ids: list[int] = await self.client.call(
            model, "create", {"vals_list": vals_list}, result=list[int]
        )
        return ids

    async def write(self, model: str, items: list[WriteItem]) -> list[int]:
        """Write ``items`` grouped by identical values; returns the positions written."""
        groups: dict[bytes, list[WriteItem]] = {}
        for item in items:
            groups.setdefault(msgspec.json.encode(item[3], order="sorted"), []).append(item)
        written: list[int] = []
        for group in groups.values():
            try:
                await self._write(model, [rid for _, _, rid, _ in group], group[0][3])
                written += [position for position, *_ in group]
                continue
            except OdooFault as fault:
                if not fault.about_data:
                    raise
                if len(group) == 1:
                    self.fail(group[0][0], group[0][1], str(fault))
                    continue
            for position, key, rid, vals in group:
                try:
                    await self._write(model, [rid], vals)
                    written.append(position)
                except OdooFault as fault:
                    if not fault.about_data:
                        raise
                    self.fail(position, key, str(fault))
        return written

    async def _write(self, model: str, ids: list[int], vals: dict[str, Any]) -> None:
        await self.client.call(model, "write", {"vals": vals}, result=bool, ids=ids)

    def done(self, positions: Sequence[int], keys: Sequence[str], refs: Sequence[str]) -> None:
        for position, key, ref in zip(positions, keys, refs, strict=True):
            self.results[position] = Done(key=key, ref=ref)


def _record_id(ref: str) -> tuple[str, int]:
    if ref.startswith("tmpl-"):
        return "product.template", int(ref[5:])
    return "product.product", int(ref)


async def existing_skus(
    client: OdooClient, skus: Sequence[str], extra: Sequence[Any] = ()
) -> dict[str, int]:
    """Variant ids by internal reference, of those of ``skus`` Odoo has (and match ``extra``)."""
    if not skus:
        return {}
    domain = [["default_code", "in", list(skus)], *extra]
    rows = await client.search_read("product.product", domain, SkuRow)
    return {text(row.default_code): row.id for row in rows}


async def apply_products(
    client: OdooClient,
    operations: Sequence[Operation],
    results: Results,
    *,
    description_field: str | None = None,
) -> None:
    batch = Batch(client, results)
    known = await existing_skus(client, [op.key for op in operations if isinstance(op, Create)])
    new: list[NewItem] = []
    writes: dict[str, list[WriteItem]] = {"product.product": [], "product.template": []}
    for position, op in enumerate(operations):
        try:
            if isinstance(op, Archive):
                model, rid = _record_id(op.ref)
                writes[model].append((position, op.key, rid, {"active": False}))
                continue
            ref = op.ref if isinstance(op, Update) else str(known.get(op.key, ""))
            if not ref:
                vals = await product_vals(
                    client, op.fields, create=True, description_field=description_field
                )
                new.append((position, op.key, vals))
                continue
            model, rid = _record_id(ref)
            vals = await product_vals(
                client,
                op.fields,
                template=model == "product.template",
                create=isinstance(op, Create),
                description_field=description_field,
            )
            writes[model].append((position, op.key, rid, vals))
        except Refused as refused:
            batch.fail(position, op.key, str(refused))
    created = await batch.create("product.product", new)
    batch.done(
        list(created), [operations[p].key for p in created], [str(i) for i in created.values()]
    )
    for model, items in writes.items():
        written = set(await batch.write(model, items))
        for position, key, rid, _ in items:
            if position in written:
                batch.done([position], [key], ["tmpl-" * (model == "product.template") + str(rid)])


async def apply_prices(
    client: OdooClient, operations: Sequence[Operation], results: Results
) -> None:
    batch = Batch(client, results)
    skus = {op.key: op.key.split("|", 1)[0] for op in operations}
    known = await existing_skus(client, sorted(set(skus.values())))
    items: list[WriteItem] = []
    for position, op in enumerate(operations):
        if isinstance(op, Archive):
            batch.fail(position, op.key, "a price cannot be archived in Odoo")
            continue
        fields = op.fields
        scoped = fields.get("customer") or fields.get("group")
        if scoped or str(fields.get("min_quantity", "1")) != "1":
            batch.fail(
                position, op.key, "customer, group and quantity prices need an Odoo pricelist"
            )
        elif skus[op.key] not in known:
            batch.fail(
                position, op.key, f"no Odoo product with internal reference {skus[op.key]!r}"
            )
        elif "amount" not in fields:
            batch.done([position], [op.key], [str(known[skus[op.key]])])
        else:
            try:
                vals = {"list_price": await exact(client, "price", fields["amount"])}
            except Refused as refused:
                batch.fail(position, op.key, str(refused))
                continue
            items.append((position, op.key, known[skus[op.key]], vals))
    written = set(await batch.write("product.product", items))
    for position, key, rid, _ in items:
        if position in written:
            batch.done([position], [key], [str(rid)])


def _counts(
    wanted: Decimal, main: int, quants: list[QuantRow]
) -> tuple[list[tuple[int, Decimal]], Decimal | None]:
    """The quants to count, as ``(quant id, quantity)``, to bring a product's stock at the
    warehouse location and below to ``wanted`` (:func:`adapters.stock_split.recount`), and the
    quantity to create on the location itself when it has no quant there yet (or ``None``)."""
    own = next((q for q in quants if ref_id(q.location_id) == main), None)
    others = [(q.id, q.quantity) for q in quants if q is not own]
    base = own.quantity if own is not None else Decimal(0)
    at_main, below = recount(wanted, base, others)
    if at_main is None:
        return below, None
    if own is None:
        return below, at_main
    return [(own.id, at_main), *below], None


async def apply_stock(
    client: OdooClient, reader: Reader, operations: Sequence[Operation], results: Results
) -> None:
    """Set quantities the Odoo way: ``inventory_quantity`` on quants, then apply them.

    Stock is counted over the warehouse location and the locations below it (see
    :func:`_counts` for which quants change); a service has no stock and is refused."""
    batch = Batch(client, results)
    location = await reader.location()
    keys = [op.key for op in operations]
    known = await existing_skus(client, keys)
    services = await existing_skus(client, keys, [["type", "=", "service"]])
    quants: dict[int, list[QuantRow]] = {}
    goods = sorted(rid for sku, rid in known.items() if sku not in services)
    for part in chunks(goods, client.page_size):
        rows = await client.search_read(
            "stock.quant",
            [["location_id", "child_of", location], ["product_id", "in", part]],
            QuantRow,
        )
        for row in rows:
            quants.setdefault(ref_id(row.product_id) or 0, []).append(row)
    new: list[NewItem] = []
    writes: list[WriteItem] = []
    unchanged: list[int] = []
    for position, op in enumerate(operations):
        if isinstance(op, Archive):
            batch.fail(position, op.key, "stock cannot be archived; set the quantity to 0")
        elif op.key not in known:
            batch.fail(position, op.key, f"no Odoo product with internal reference {op.key!r}")
        elif op.key in services:
            batch.fail(position, op.key, "quantity: a service keeps no stock in Odoo")
        elif op.fields.get("quantity") is None:
            batch.fail(position, op.key, "no quantity given")
        else:
            product = known[op.key]
            wanted = Decimal(str(op.fields["quantity"]))
            counts, create = _counts(wanted, location, quants.get(product, []))
            for quant, quantity in counts:
                writes.append((position, op.key, quant, {"inventory_quantity": float(quantity)}))
            if create is not None:
                vals = {
                    "product_id": product,
                    "location_id": location,
                    "inventory_quantity": float(create),
                }
                new.append((position, op.key, vals))
            if not counts and create is None:
                unchanged.append(position)
    created = await batch.create("stock.quant", new)
    written = set(await batch.write("stock.quant", writes))
    counted: dict[int, list[int]] = {}
    for position, rid in created.items():
        counted.setdefault(position, []).append(rid)
    for position, _, rid, _ in writes:
        if position in written:
            counted.setdefault(position, []).append(rid)
    counted = {p: ids for p, ids in counted.items() if results[p] is None}
    if counted:
        try:
            await client.call(
                "stock.quant",
                "action_apply_inventory",
                {},
                result=Any,
                ids=sorted({rid for ids in counted.values() for rid in ids}),
            )
        except OdooFault as fault:
            if not fault.about_data:
                raise
            for position in counted:
                batch.fail(position, operations[position].key, str(fault))
            return
    for position in [*counted, *unchanged]:
        key = operations[position].key
        batch.done([position], [key], [str(known[key])])


async def apply_customers(
    client: OdooClient, operations: Sequence[Operation], results: Results
) -> None:
    batch = Batch(client, results)
    emails = [op.key.strip().lower() for op in operations if isinstance(op, Create)]
    known: dict[str, int] = {}
    if emails:
        domain: list[Any] = ["|" for _ in emails[1:]] + [["email", "=ilike", e] for e in emails]
        for row in await client.search_read("res.partner", domain, PartnerRow):
            known.setdefault(text(row.email).strip().lower(), row.id)
    countries = await client.countries()
    new: list[NewItem] = []
    writes: list[WriteItem] = []
    for position, op in enumerate(operations):
        try:
            if isinstance(op, Archive):
                writes.append((position, op.key, int(op.ref), {"active": False}))
            elif isinstance(op, Update):
                writes.append((position, op.key, int(op.ref), partner_vals(op.fields, countries)))
            elif op.key.strip().lower() in known:
                rid = known[op.key.strip().lower()]
                writes.append((position, op.key, rid, partner_vals(op.fields, countries)))
            else:
                vals = partner_vals(op.fields, countries)
                vals.setdefault("name", op.key)
                new.append((position, op.key, vals))
        except Refused as refused:
            batch.fail(position, op.key, str(refused))
    created = await batch.create("res.partner", new)
    batch.done(
        list(created), [operations[p].key for p in created], [str(i) for i in created.values()]
    )
    written = set(await batch.write("res.partner", writes))
    for position, key, rid, _ in writes:
        if position in written:
            batch.done([position], [key], [str(rid)])
