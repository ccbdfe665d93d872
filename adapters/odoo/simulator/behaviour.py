"""What the simulated models do beyond storing values: defaults, computed fields, constraints,
commands on relational fields, and the business actions (confirm, cancel, apply inventory).

Uniqueness: ``barcode`` is unique among variants as in standard Odoo; ``default_code`` is unique
too when the store says so (the default), as many databases enforce with a SQL constraint.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adapters.odoo.simulator import hierarchy, sale_amounts
from adapters.odoo.simulator.errors import OdooError
from adapters.odoo.simulator.records import Records, Row
from adapters.odoo.simulator.schema import FIELDS, FieldSpec

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def compute(store: Records, model: str, row: Row, field: str) -> Any:
    """The value of a computed (non-stored) field."""
    rid = row["id"]
    if field == "display_name":
        return _display_name(store, model, row)
    if field == "parent_path":
        return hierarchy.parent_path(store, model, row)
    if field == "complete_name":
        parent_field = "parent_id" if model == "product.category" else "location_id"
        parent = row.get(parent_field)
        separator = " / " if model == "product.category" else "/"
        if parent:
            return store.display_name(model, parent) + separator + row["name"]
        return row["name"]
    if model == "product.template":
        variants = row.get("product_variant_ids", [])
        if field == "product_variant_count":
            return len(variants)
        spec = FIELDS[model][field]
        if len(variants) == 1:
            return store.raw("product.product", store.tables["product.product"][variants[0]], field)
        return spec.default
    if model == "product.product" and field == "lst_price":
        return store.raw(model, row, "list_price")
    if model == "stock.quant" and field == "available_quantity":
        return row.get("quantity", 0.0) - row.get("reserved_quantity", 0.0)
    if model == "sale.order.line":
        return sale_amounts.line_amount(store, row, field)
    if model == "sale.order":
        return sale_amounts.order_amount(store, row, field)
    raise OdooError.value(f"Cannot compute {model}.{field} for record {rid}")


def _display_name(store: Records, model: str, row: Row) -> str:
    if model in ("product.category", "stock.location"):
        return str(compute(store, model, row, "complete_name"))
    if model == "product.template.attribute.value":
        return f"{store.display_name('product.attribute', row['attribute_id'])}: {row['name']}"
    if model == "product.product":
        name = str(store.raw(model, row, "name"))
        values = [
            store.tables["product.template.attribute.value"][v]["name"]
            for v in row.get("product_template_attribute_value_ids", [])
        ]
        if values:
            name = f"{name} ({', '.join(values)})"
        code = row.get("default_code")
        return f"[{code}] {name}" if code else name
    label = row.get("name")
    return str(label) if label else f"{model},{row['id']}"


def _convert(
    store: Records, model: str, field: str, spec: FieldSpec, value: Any, current: Any
) -> Any:
    def wrong() -> OdooError:
        return OdooError.value(f"Wrong value for {model}.{field}: {value!r}")

    kind = spec.kind
    if kind in ("char", "text", "selection", "datetime", "date"):
        if value is None or value is False:
            return False
        if not isinstance(value, str):
            raise wrong()
        if kind == "selection" and value not in spec.selection:
            raise wrong()
        if kind == "datetime" and not _DATETIME.fullmatch(value):
            raise wrong()
        if kind == "date" and not _DATE.fullmatch(value):
            raise wrong()
        return value.replace("T", " ") if kind == "datetime" else value
    if kind in ("float", "integer"):
        try:
            number = float(value or 0)
        except (TypeError, ValueError):
            raise wrong() from None
        if kind == "integer":
            return int(number)
        return _rounded(store, spec, sale_amounts.rounded_on_write(store, model, field, number))
    if kind == "boolean":
        return bool(value)
    if kind == "many2one":
        if not value:
            return False
        if isinstance(value, list) and value:
            value = value[0]
        if not isinstance(value, int) or value not in store.tables[spec.relation]:
            raise OdooError.missing(
                f"Record does not exist or has been deleted.\n(Record: {spec.relation}({value},))"
            )
        return value
    if kind == "many2many":
        ids = _x2many_commands(model, field, value, list(current or []))
        for rid in ids:
            store.row(spec.relation, rid)
        return ids
    raise wrong()


def _rounded(store: Records, spec: FieldSpec, number: float) -> float:
    # A float field with digits is rounded half-up to its precision when written, so a price
    # sent as 9.999 is stored (and read back) as 10.0.
    if not spec.digits:
        return number
    step = Decimal(1).scaleb(-sale_amounts.digits(store, spec.digits))
    return float(Decimal(repr(number)).quantize(step, rounding=ROUND_HALF_UP))


def _x2many_commands(model: str, field: str, value: Any, ids: list[int]) -> list[int]:
    if not isinstance(value, list):
        raise OdooError.value(f"Wrong value for {model}.{field}: {value!r}")
    if all(isinstance(v, int) for v in value):
        return list(dict.fromkeys(value))
    for command in value:
        if not isinstance(command, list) or not command:
            raise OdooError.value(f"Wrong command for {model}.{field}: {command!r}")
        if command[0] == 6:
            ids = list(dict.fromkeys(command[2]))
        elif command[0] == 4 and command[1] not in ids:
            ids.append(command[1])
        elif command[0] == 3:
            ids = [i for i in ids if i != command[1]]
        elif command[0] == 5:
            ids = []
        elif command[0] not in (4,):
            raise OdooError.value(f"Unsupported command for {model}.{field}: {command!r}")
    return ids


def _check_unique(store: Records, model: str, rid: int, field: str, value: Any) -> None:
    if model != "product.product" or not value:
        return
    if field == "barcode":
        holder = store.by_barcode.get(value)
        if holder is not None and holder != rid:
            raise OdooError.validation(
                f'Barcode(s) already assigned:\n\n- Barcode "{value}" already assigned to '
                f"product(s): {store.display_name(model, holder)}"
            )
    if field == "default_code" and store.unique_default_code:
        holder = store.by_code.get(value)
        if holder is not None and holder != rid:
            raise OdooError.validation(
                f"The operation cannot be completed: Internal Reference must be unique "
                f"({value!r} is already used by {store.display_name(model, holder)})."
            )


def _assign(store: Records, model: str, rid: int, vals: Row, stamp: str) -> None:
    """Set plain and relational values on an existing row; one2many commands create children."""
    row = store.tables[model][rid]
    for field, value in vals.items():
        spec = store.spec(model, field)
        if spec.computed or spec.delegated or spec.from_variant:
            continue
        if spec.kind == "one2many":
            _one2many(store, spec, rid, value)
            continue
        converted = _convert(store, model, field, spec, value, row.get(field))
        if spec.required and converted is False:
            raise _required(model, field)
        _check_unique(store, model, rid, field, converted)
        old = row.get(field)
        store.set(model, rid, field, converted)
        if spec.kind == "many2one" and old != converted:
            _relink(store, model, field, spec, rid, old, converted)
        if field == hierarchy.PARENT_FIELD.get(model):
            hierarchy.check_no_cycle(store, model, rid)
    store.set(model, rid, "write_date", stamp)


def _relink(
    store: Records, model: str, field: str, spec: FieldSpec, rid: int, old: Any, new: Any
) -> None:
    # Keep the parent's one2many list (order lines, template variants) in step with the child.
    for name, parent_spec in FIELDS[spec.relation].items():
        if (
            parent_spec.kind == "one2many"
            and parent_spec.relation == model
            and parent_spec.inverse == field
        ):
            if old and old in store.tables[spec.relation]:
                kept = [i for i in store.tables[spec.relation][old].get(name, []) if i != rid]
                store.set(spec.relation, old, name, kept)
            if new:
                store.set(
                    spec.relation, new, name, [*store.tables[spec.relation][new].get(name, []), rid]
                )


def _one2many(store: Records, spec: FieldSpec, parent: int, commands: Any) -> None:
    if not isinstance(commands, list):
        raise OdooError.value(f"Wrong value for one2many: {commands!r}")
    for command in commands:
        if not isinstance(command, list) or not command:
            raise OdooError.value(f"Wrong command: {command!r}")
        if command[0] == 0:
            create_one(store, spec.relation, {**command[2], spec.inverse: parent}, {})
        elif command[0] == 1:
            write_one(store, spec.relation, command[1], dict(command[2]))
        elif command[0] == 2:
            unlink_one(store, spec.relation, command[1])
        else:
            raise OdooError.value(f"Unsupported one2many command: {command!r}")


def _required(model: str, field: str) -> OdooError:
    return OdooError.validation(
        f"The operation cannot be completed: Missing required value for the field "
        f"'{field}' on model '{model}'"
    )


def _defaults(store: Records, model: str, vals: Row) -> Row:
    if model == "sale.order":
        vals.setdefault("name", f"S{len(store.tables['sale.order']) + 1:05d}")
        vals.setdefault("date_order", store.now())
        currencies = store.tables["res.currency"]
        if currencies:
            vals.setdefault("currency_id", next(iter(currencies)))
    if model == "sale.order.line" and vals.get("display_type"):
        vals.setdefault("product_uom_qty", 0.0)  # computed to zero for sections and notes
    if model == "sale.order.line" and vals.get("product_id"):
        product = store.row("product.product", vals["product_id"])
        vals.setdefault("name", store.display_name("product.product", vals["product_id"]))
        vals.setdefault("price_unit", store.raw("product.product", product, "list_price"))
        vals.setdefault(store.tax_field, store.raw("product.product", product, "taxes_id"))
    return vals


def _accountable_line_refused(model: str, row: Row) -> str | None:
    """Odoo's two SQL constraints on ``sale.order.line``: an ordinary (accountable) line needs a
    product; a section or note line (``display_type`` set) must carry none and no amount."""
    if model != "sale.order.line":
        return None
    prefix = "The operation cannot be completed: "
    if not row.get("display_type"):
        if not row.get("product_id"):
            return prefix + "Missing required fields on accountable sale order line."
        return None
    if row.get("product_id") or row.get("price_unit") or row.get("product_uom_qty"):
        return prefix + "Forbidden values on non-accountable sale order line"
    return None


def create_one(store: Records, model: str, vals: Row, context: dict[str, Any]) -> int:
    """Create one record; ``product.*`` creations make the template/variant pair as Odoo does."""
    for field in vals:
        store.spec(model, field)
    if model == "stock.quant":
        key = (vals.get("product_id"), vals.get("location_id"))
        existing = store.quant_at.get(key)  # type: ignore[arg-type]
        if "inventory_quantity" in vals:
            vals["inventory_quantity_set"] = True
        if existing is not None:
            write_one(store, model, existing, vals)
            return existing
    if model == "product.product" and not vals.get("product_tmpl_id"):
        delegated = {k: vals.pop(k) for k in list(vals) if FIELDS[model][k].delegated}
        vals["product_tmpl_id"] = create_one(
            store, "product.template", delegated, {"create_product_product": False}
        )
    vals = _defaults(store, model, vals)
    stamp = store.now()
    rid = store.new_id(model)
    store.insert(model, {"id": rid, "create_date": stamp, "write_date": stamp})
    delegated = {k: vals.pop(k) for k in list(vals) if FIELDS[model][k].delegated}
    from_variant = {k: vals.pop(k) for k in list(vals) if FIELDS[model][k].from_variant}
    _assign(store, model, rid, vals, stamp)
    for field, spec in FIELDS[model].items():
        if spec.required and not store.tables[model][rid].get(field):
            raise _required(model, field)
    refused_line = _accountable_line_refused(model, store.tables[model][rid])
    if refused_line:
        raise OdooError.validation(refused_line)
    for check in store.constraints:
        refused = check(model, store.tables[model][rid])
        if refused:
            raise OdooError.validation(refused)
    if delegated:
        write_one(store, "product.template", store.tables[model][rid]["product_tmpl_id"], delegated)
    if model == "product.template" and context.get("create_product_product", True):
        create_one(store, "product.product", {**from_variant, "product_tmpl_id": rid}, {})
    return rid


def write_one(store: Records, model: str, rid: int, vals: Row) -> None:
    """Write on one record, sending delegated fields to the template (Odoo's ``_inherits``)."""
    for field in vals:
        store.spec(model, field)
    if model == "stock.quant" and "quantity" in vals:
        raise OdooError.user("Quant's editing is restricted, you can't do this operation.")
    if model == "stock.quant" and "inventory_quantity" in vals:
        vals.setdefault("inventory_quantity_set", True)
    row = store.tables[model][rid]
    if model == "product.product":
        delegated = {k: vals.pop(k) for k in list(vals) if FIELDS[model][k].delegated}
        if delegated:
            write_one(store, "product.template", row["product_tmpl_id"], delegated)
    if model == "product.template":
        from_variant = {k: vals.pop(k) for k in list(vals) if FIELDS[model][k].from_variant}
        variants = row.get("product_variant_ids", [])
        if from_variant and len(variants) == 1:
            write_one(store, "product.product", variants[0], from_variant)
        if "active" in vals:
            # Archiving a template archives its variants, and restoring it restores them.
            for variant in variants:
                write_one(store, "product.product", variant, {"active": vals["active"]})
    _assign(store, model, rid, vals, store.now())


def unlink_one(store: Records, model: str, rid: int) -> None:
    row = store.row(model, rid)
    if model == "sale.order" and store.raw(model, row, "state") == "sale":
        raise OdooError.user(
            "You can not delete a sent quotation or a confirmed sales order. "
            "You must first cancel it."
        )
    for field, spec in FIELDS[model].items():
        if spec.kind == "one2many" and not spec.computed:
            for child in list(row.get(field, [])):
                if child in store.tables[spec.relation]:
                    unlink_one(store, spec.relation, child)
        elif spec.kind == "many2one" and row.get(field):
            _relink(store, model, field, spec, rid, row[field], False)
    store.delete(model, rid)


def action(store: Records, model: str, method: str, ids: list[int]) -> Any:
    """Run a business action on records; raises NotFound for an unknown method."""
    rows = [store.row(model, rid) for rid in ids]
    stamp = store.now()
    if (model, method) == ("sale.order", "action_confirm"):
        if any(store.raw(model, row, "state") not in ("draft", "sent") for row in rows):
            raise OdooError.user("Some orders are not in a state requiring confirmation.")
        for rid in ids:
            _assign(store, model, rid, {"state": "sale"}, stamp)
            _deliver(store, rid)
        return True
    if (model, method) == ("sale.order", "action_cancel"):
        if any(store.raw(model, row, "state") == "done" for row in rows):
            raise OdooError.user("You cannot cancel a locked order. Please unlock it first.")
        for rid in ids:
            _assign(store, model, rid, {"state": "cancel"}, stamp)
            for picking in store.tables[model][rid].get("picking_ids", []):
                if store.tables["stock.picking"][picking].get("state") != "done":
                    _assign(store, "stock.picking", picking, {"state": "cancel"}, stamp)
        return True
    if (model, method) == ("account.move", "action_post"):
        for row in rows:
            if store.raw(model, row, "state") != "draft":
                raise _posted_error()
            if row.get("move_type", "entry") == "entry" and row.get("line_ids"):
                _check_balanced(store, row)
            vals: Row = {"state": "posted"}
            if not row.get("name") or row.get("name") == "/":
                prefix = "RINV" if row.get("move_type") == "out_refund" else "INV"
                vals["name"] = f"{prefix}/{stamp[:4]}/{row['id']:05d}"
            _assign(store, model, row["id"], vals, stamp)
        return False
    if (model, method) == ("stock.picking", "button_validate"):
        if any(store.raw(model, row, "state") in ("done", "cancel") for row in rows):
            raise OdooError.user("You cannot validate a transfer that is done or cancelled.")
        for row in rows:
            _ship(store, row, stamp)
        return True
    if (model, method) == ("stock.quant", "action_apply_inventory"):
        for row in rows:
            if row.get("inventory_quantity_set"):
                store.set(model, row["id"], "quantity", row.get("inventory_quantity", 0.0))
                store.set(model, row["id"], "inventory_quantity", 0.0)
                _assign(store, model, row["id"], {"inventory_quantity_set": False}, stamp)
        return False
    raise OdooError.not_found(f"The method {method!r} does not exist on the model {model!r}")


def _deliver(store: Records, order: int) -> None:
    """Confirming an order with articles plans their delivery, as the sale_stock module does."""
    row = store.tables["sale.order"][order]
    lines = store.tables["sale.order.line"]
    if row.get("picking_ids") or not any(lines[i].get("product_id") for i in row["order_line"]):
        return
    number = len(store.tables["stock.picking"]) + 1
    create_one(
        store,
        "stock.picking",
        {
            "name": f"WH/OUT/{number:05d}",
            "origin": row.get("name") or False,
            "sale_id": order,
            "state": "assigned",
            "picking_type_code": "outgoing",
        },
        {},
    )


def _ship(store: Records, picking: Row, stamp: str) -> None:
    """A delivery validated: its order's articles leave the warehouse's internal quants (the
    on-hand count drops now, not when the order was confirmed), as stock does in Odoo."""
    order = store.tables["sale.order"].get(picking.get("sale_id") or 0)
    lines = store.tables["sale.order.line"]
    internal = {
        rid for rid, row in store.tables["stock.location"].items() if row.get("usage") == "internal"
    }
    for line_id in order["order_line"] if order else ():
        line = lines[line_id]
        if not line.get("product_id"):
            continue
        left = float(line.get("product_uom_qty", 0.0))
        quants = [
            q
            for _, q in sorted(store.tables["stock.quant"].items())
            if q.get("product_id") == line["product_id"] and q.get("location_id") in internal
        ]
        for quant in quants:
            taken = min(left, max(float(quant.get("quantity", 0.0)), 0.0))
            if quant is quants[-1]:
                taken = left  # the last quant goes negative, as Odoo allows when forced
            store.set("stock.quant", quant["id"], "quantity", quant.get("quantity", 0.0) - taken)
            _assign(store, "stock.quant", quant["id"], {}, stamp)
            left -= taken
            if left <= 0:
                break
    _assign(store, "stock.picking", picking["id"], {"state": "done", "date_done": stamp}, stamp)


def _check_balanced(store: Records, move: Row) -> None:
    """A journal entry is posted only when its debits equal its credits (to the cent)."""
    lines = [store.tables["account.move.line"][i] for i in move["line_ids"]]
    debit = round(sum(float(line.get("debit") or 0.0) for line in lines), 2)
    credit = round(sum(float(line.get("credit") or 0.0) for line in lines), 2)
    if debit != credit:
        raise OdooError.user(
            f"The move ({move.get('ref') or move['id']}) is not balanced. The total of debits "
            f"equals {debit:.2f} and the total of credits equals {credit:.2f}."
        )
    if not move.get("journal_id"):
        raise _required("account.move", "journal_id")


def _posted_error() -> OdooError:
    return OdooError.user("Only draft journal entries can be posted.")


ACTIONS = frozenset(
    {
        ("sale.order", "action_confirm"),
        ("sale.order", "action_cancel"),
        ("account.move", "action_post"),
        ("stock.quant", "action_apply_inventory"),
        ("stock.picking", "button_validate"),
    }
)
