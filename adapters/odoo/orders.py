"""Writing web orders into Odoo as sale orders, exactly once.

The shop's order number goes in ``client_order_ref``; a ``Create`` first looks the number up,
so a retried import finds the order made by the first attempt instead of making a second one.
Order states are Odoo's own (``draft``, ``sent``, ``sale``, ``cancel``); the rules map them to
shop statuses. Only the status of an existing order is changed: ``sale`` confirms it
(``action_confirm``), ``cancel`` cancels it (``action_cancel``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.base import Archive, Create, Operation, Update
from adapters.odoo.client import OdooClient
from adapters.odoo.transport import OdooFault
from adapters.odoo.values import number
from adapters.odoo.wire import OrderRefRow, PartnerRow, text
from adapters.odoo.writing import Batch, NewItem, Results, existing_skus

_ACTIONS = {"sale": "action_confirm", "cancel": "action_cancel"}


def _odoo_datetime(value: Any) -> str:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


async def _partners(client: OdooClient, operations: Sequence[Operation]) -> dict[str, int]:
    """Partner ids by lower-cased e-mail, creating the customers not in Odoo yet."""
    wanted: dict[str, dict[str, Any]] = {}
    for op in operations:
        if isinstance(op, Create) and op.fields.get("customer_email"):
            wanted.setdefault(str(op.fields["customer_email"]).strip().lower(), op.fields)
    if not wanted:
        return {}
    domain: list[Any] = ["|" for _ in list(wanted)[1:]] + [["email", "=ilike", e] for e in wanted]
    found = {
        text(row.email).strip().lower(): row.id
        for row in await client.search_read("res.partner", domain, PartnerRow)
    }
    missing = [email for email in wanted if email not in found]
    if missing:
        vals = []
        for email in missing:
            billing = wanted[email].get("billing") or {}
            name = " ".join(p for p in (billing.get("first_name"), billing.get("last_name")) if p)
            vals.append({"name": name or billing.get("company") or email, "email": email})
        ids = await client.call("res.partner", "create", {"vals_list": vals}, result=list[int])
        found.update(zip(missing, ids, strict=True))
    return found


async def apply_orders(
    client: OdooClient, operations: Sequence[Operation], results: Results
) -> None:
    batch = Batch(client, results)
    numbers = [op.key for op in operations if isinstance(op, Create)]
    known: dict[str, int] = {}
    if numbers:
        rows = await client.search_read(
            "sale.order",
            ["|", ["client_order_ref", "in", numbers], ["name", "in", numbers]],
            OrderRefRow,
        )
        known = {text(r.client_order_ref) or text(r.name): r.id for r in rows}
    skus = sorted(
        {
            str(line["sku"])
            for op in operations
            if isinstance(op, Create)
            for line in op.fields.get("lines") or []
        }
    )
    products = await existing_skus(client, skus)
    partners = await _partners(client, operations)
    new: list[NewItem] = []
    status: dict[int, tuple[int, str]] = {}
    for position, op in enumerate(operations):
        if isinstance(op, Archive):
            batch.fail(position, op.key, "orders are cancelled, not archived")
        elif isinstance(op, Update) or op.key in known:
            rid = int(op.ref) if isinstance(op, Update) else known[op.key]
            extra = sorted(set(op.fields) - {"status", "number"}) if isinstance(op, Update) else []
            if extra:
                batch.fail(
                    position, op.key, f"only the status of an Odoo order is written, not {extra}"
                )
            else:
                status[position] = (rid, str(op.fields.get("status", "")))
        else:
            vals = _order_vals(op, products, partners)
            if isinstance(vals, str):
                batch.fail(position, op.key, vals)
            else:
                new.append((position, op.key, vals))
    created = await batch.create("sale.order", new)
    for position, rid in created.items():
        op = operations[position]
        status[position] = (rid, str(op.fields.get("status", "")) if isinstance(op, Create) else "")
    await _set_status(batch, operations, status)


def _order_vals(
    op: Create, products: dict[str, int], partners: dict[str, int]
) -> dict[str, Any] | str:
    fields = op.fields
    partner = partners.get(str(fields.get("customer_email") or "").strip().lower())
    if partner is None:
        return "order without a customer e-mail"
    lines = []
    for line in fields.get("lines") or []:
        product = products.get(str(line.get("sku")))
        if product is None:
            return f"no Odoo product with internal reference {line.get('sku')!r}"
        values = {
            "product_id": product,
            "product_uom_qty": number(line.get("quantity")),
            "price_unit": number(line.get("unit_price")),
        }
        if line.get("name"):
            values["name"] = line["name"]
        lines.append([0, 0, values])
    vals: dict[str, Any] = {
        "partner_id": partner,
        "client_order_ref": op.key,
        "order_line": lines,
        "note": fields.get("note") or False,
    }
    if fields.get("created_at"):
        vals["date_order"] = _odoo_datetime(fields["created_at"])
    return vals


async def _set_status(
    batch: Batch, operations: Sequence[Operation], status: dict[int, tuple[int, str]]
) -> None:
    """Run the actions that bring each order to its status; orders already there are left."""
    by_action: dict[str, list[int]] = {}
    for position, (rid, wanted) in status.items():
        if wanted and wanted not in _ACTIONS and wanted not in ("draft", "sent"):
            batch.fail(
                position, operations[position].key, f"cannot bring an Odoo order to {wanted!r}"
            )
            continue
        current = await _state(batch.client, rid)
        if wanted in _ACTIONS and current != wanted:
            by_action.setdefault(_ACTIONS[wanted], []).append(position)
        else:
            batch.done([position], [operations[position].key], [str(rid)])
    for action, positions in by_action.items():
        for position in positions:
            rid = status[position][0]
            try:
                await batch.client.call("sale.order", action, {}, result=Any, ids=[rid])
            except OdooFault as fault:
                if not fault.about_data:
                    raise
                batch.fail(position, operations[position].key, str(fault))
                continue
            batch.done([position], [operations[position].key], [str(rid)])


async def _state(client: OdooClient, rid: int) -> str:
    rows = await client.read("sale.order", [rid], _StateRow)
    return text(rows[0].state) if rows else ""


class _StateRow(OrderRefRow):
    state: str | bool = False
