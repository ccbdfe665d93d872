"""Articles into Tryton: templates with their products, updated field by field.

A plain article is a template whose code is the SKU with one product of empty suffix; an
article with variants is a template coded with the parent SKU whose products carry the rest of
each variant's SKU as ``suffix_code``. A ``Create`` whose SKU exists already updates that
article instead (the engine may retry a batch whose first attempt was applied).

Canonical fields land on: ``name``, ``price`` (``list_price``), ``tax_code`` (the account
category charging that tax) and ``category`` on the template; ``cost`` (``cost_price``) and
``description`` on the product; ``active`` on both. ``service`` chooses the type of a new
template (``service`` or ``goods``).

Whatever Tryton answers, an article it refuses or fails on comes back as a ``Failed`` naming it
and the fields it carried; a fault no article can be blamed for fails the batch as a
``PermanentError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from adapters.base import Archive, Create, Operation, PermanentError, Update
from adapters.tryton.batch import Batch, NewItem, Results, WriteItem, naming_sent
from adapters.tryton.client import TrytonClient, TrytonFault
from adapters.tryton.lookups import Lookups
from adapters.tryton.products import ALL


class Refused(Exception):
    """An operation whose values cannot be written; the message names the field."""


def _decimal(fields: dict[str, Any], name: str, what: str | None = None) -> Decimal | None:
    """``fields[name]`` as a decimal; ``what`` names it in a refusal (default: ``name``)."""
    value = fields.get(name)
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise Refused(f"{what or name}: not a number: {value!r}") from None
    if not number.is_finite():
        # Decimal reads "NaN" and "Infinity", and Tryton's numeric columns would keep them.
        raise Refused(f"{what or name}: {value!r} is not a finite number")
    return number


def _variant_price(variant: dict[str, Any]) -> Decimal | None:
    return _decimal(variant, "price", f"variants: {variant.get('sku')}: price")


def _file_under(filed: Sequence[int], category: int | None) -> list[list[Any]]:
    """Many2Many actions leaving a template in ``category`` alone (or in none), from the
    categories it is ``filed`` under: the canonical article has one category path and Concord
    owns the field, so any other is taken off. Tryton 8.2 has no action setting the whole list.
    """
    # Tryton skips an "add" of a link that exists when the call starts and carries out every
    # "remove" before the additions: removing the category kept as well would drop it.
    stale = [c for c in filed if c != category]
    actions: list[list[Any]] = [["remove", stale]] if stale else []
    return actions + ([["add", [category]]] if category is not None else [])


async def _template_vals(
    lookups: Lookups, fields: dict[str, Any], filed: Sequence[int] = ()
) -> dict[str, Any]:
    """Template values for ``fields``; ``filed`` are the categories the template has now."""
    vals: dict[str, Any] = {}
    if "name" in fields:
        if not str(fields["name"] or "").strip():
            raise Refused("name: an article needs a name")
        vals["name"] = str(fields["name"])
    if "price" in fields:
        vals["list_price"] = _decimal(fields, "price") or Decimal(0)
    if fields.get("tax_code"):
        category = await lookups.account_category_for(str(fields["tax_code"]))
        if category is None:
            raise Refused(
                f"tax_code: no Tryton account category charges the tax {fields['tax_code']!r}"
            )
        vals["account_category"] = category
    if "category" in fields:
        path = [str(p) for p in fields["category"] or ()]
        try:
            category = await lookups.category_id(path) if path else None
        except TrytonFault as fault:
            if not fault.about_data and fault.kind != "ServerError":
                raise
            # Tryton's category tree forbids its own separator " / " inside a name; a NUL
            # character fails in the database, as a ServerError.
            shown = " > ".join(path)
            raise Refused(f"category: Tryton refuses the category {shown!r}: {fault}") from None
        vals["categories"] = _file_under(filed, category)
    if "active" in fields:
        vals["active"] = bool(fields["active"])
    return vals


def _product_vals(fields: dict[str, Any]) -> dict[str, Any]:
    vals: dict[str, Any] = {}
    if "cost" in fields and fields["cost"] is not None:
        vals["cost_price"] = _decimal(fields, "cost")
    if "description" in fields:
        vals["description"] = str(fields["description"] or "") or None
    if "active" in fields:
        vals["active"] = bool(fields["active"])
    return vals


def _suffix(parent: str, sku: str) -> str:
    if not sku.startswith(parent) or sku == parent:
        raise Refused(f"variants: SKU {sku!r} does not extend the article's SKU {parent!r}")
    return sku[len(parent) :]


async def _new_template(lookups: Lookups, sku: str, fields: dict[str, Any]) -> dict[str, Any]:
    unit = await lookups.unit()
    # Tryton makes an archived article's codes read-only, its products' suffixes included: an
    # article that arrives archived is created active, then archived (see apply_products).
    creating = {k: v for k, v in fields.items() if k != "active"}
    vals = await _template_vals(lookups, {"price": "0", **creating})
    vals |= {
        "code": sku,
        "type": "service" if fields.get("service") else "goods",
        "default_uom": unit,
        "salable": True,
        "sale_uom": unit,
    }
    variants = fields.get("variants") or []
    if not variants:
        products = [{"suffix_code": "", **_product_vals(creating)}]
    else:
        products = []
        for variant in variants:
            product: dict[str, Any] = {"suffix_code": _suffix(sku, str(variant.get("sku", "")))}
            if variant.get("price") is not None:
                product["list_price"] = _variant_price(variant)
            if "active" in variant:
                product["active"] = bool(variant["active"])
            products.append(product)
    vals["products"] = [["create", products]]
    return vals


def _arrives_archived(operation: Operation) -> bool:
    return isinstance(operation, Create) and operation.fields.get("active") is False


async def apply_products(
    client: TrytonClient, lookups: Lookups, operations: Sequence[Operation], results: Results
) -> None:
    """Write the articles of ``operations``, a result per operation into ``results``."""
    try:
        await _apply(client, lookups, operations, results)
    except TrytonFault as fault:
        # Only reads of the whole batch and refusals about no one article's values are left.
        keys = ", ".join(op.key for op in operations[:3]) + (", ..." if len(operations) > 3 else "")
        raise PermanentError(f"articles {keys}: {fault}") from None


async def _apply(
    client: TrytonClient, lookups: Lookups, operations: Sequence[Operation], results: Results
) -> None:
    batch = Batch(client, results, unexpected=naming_sent(operations, "article"))
    lookups.new_batch()
    keys = [op.key for op in operations if isinstance(op, Create)]
    known = await _existing(client, keys)
    refs = [op.ref for op in operations if not isinstance(op, Create)]
    refs += [known[k] for k in keys if k in known]
    shapes = await _shapes(client, refs)
    filed = await _filed(client, operations, shapes)
    new: list[NewItem] = []
    template_writes: list[WriteItem] = []
    product_writes: list[WriteItem] = []
    for position, op in enumerate(operations):
        ref = known.get(op.key, "") if isinstance(op, Create) else op.ref
        try:
            if not ref:
                assert isinstance(op, Create)
                new.append((position, op.key, await _new_template(lookups, op.key, op.fields)))
                continue
            if ref not in shapes:
                batch.fail(position, op.key, f"no Tryton article {ref} (deleted?)")
                continue
            template, products, variants = shapes[ref]
            fields: dict[str, Any] = {"active": False} if isinstance(op, Archive) else op.fields
            if isinstance(op, Update) and "service" in fields:
                raise Refused("service: an article's type (goods or service) is changed in Tryton")
            vals = await _template_vals(lookups, fields, filed.get(template, ()))
            template_writes.append((position, op.key, [template], vals))
            mine = _product_vals(fields)
            if ref.startswith("tmpl-"):
                mine = {k: v for k, v in mine.items() if k == "active"}
                for variant in fields.get("variants") or []:
                    pid = variants.get(str(variant.get("sku")))
                    if pid is None:
                        raise Refused(f"variants: Tryton has no variant {variant.get('sku')!r}")
                    own: dict[str, Any] = {}
                    if variant.get("price") is not None:
                        own["list_price"] = _variant_price(variant)
                    if "active" in variant:
                        own["active"] = bool(variant["active"])
                    product_writes.append((position, op.key, [pid], own))
            product_writes.append((position, op.key, products, mine))
        except Refused as refused:
            batch.fail(position, op.key, str(refused))
    created = await batch.create("product.template", new)
    archived = [
        (position, operations[position].key, [tid], {"active": False})
        for position, tid in created.items()
        if _arrives_archived(operations[position])
    ]
    kept = await batch.write("product.template", archived)
    for position, tid in created.items():
        if position in kept or not _arrives_archived(operations[position]):
            [row] = await client.read("product.template", [tid], ["products"])
            ref = str(row["products"][0]) if len(row["products"]) == 1 else f"tmpl-{tid}"
            batch.done(position, operations[position].key, ref)
    ok_templates = await batch.write("product.template", template_writes)
    ok_products = await batch.write(
        "product.product",
        [w for w in product_writes if w[0] in ok_templates and results[w[0]] is None],
    )
    for position, op in enumerate(operations):
        if results[position] is None and position in ok_templates and position in ok_products:
            ref = known.get(op.key, "") if isinstance(op, Create) else op.ref
            batch.done(position, op.key, ref)


async def _existing(client: TrytonClient, skus: Sequence[str]) -> dict[str, str]:
    """Refs of the articles already holding these SKUs."""
    if not skus:
        return {}
    found: dict[str, str] = {}
    rows = await client.search_read(
        "product.product", [["code", "in", list(skus)]], ["code", "template"], context=ALL
    )
    counts = await _variant_counts(client, sorted({r["template"] for r in rows}))
    for row in rows:
        single = counts.get(row["template"], 1) == 1
        found[str(row["code"])] = str(row["id"]) if single else f"tmpl-{row['template']}"
    templates = await client.search_read(
        "product.template", [["code", "in", list(skus)]], ["code"], context=ALL
    )
    for row in templates:
        found.setdefault(str(row["code"]), f"tmpl-{row['id']}")
    return found


async def _variant_counts(client: TrytonClient, templates: list[int]) -> dict[int, int]:
    rows = await client.read("product.template", templates, ["products"], context=ALL)
    return {row["id"]: len(row["products"]) for row in rows}


async def _shapes(
    client: TrytonClient, refs: Sequence[str]
) -> dict[str, tuple[int, list[int], dict[str, int]]]:
    """For each ref: its template, its products, and variant ids by SKU."""
    # A ref deleted in Tryton since it was linked is left out (its operation fails alone):
    # reading it would refuse the whole batch.
    product_refs = [int(r) for r in refs if r.isdigit()]
    template_refs = {r: int(r[5:]) for r in refs if r.startswith("tmpl-") and r[5:].isdigit()}
    alive = await _alive(client, "product.product", product_refs)
    rows = await client.read("product.product", sorted(alive), ["template"], context=ALL)
    templates = {str(r["id"]): int(r["template"]) for r in rows}
    alive = await _alive(client, "product.template", list(template_refs.values()))
    templates |= {r: tid for r, tid in template_refs.items() if tid in alive}
    members = await client.search_read(
        "product.product",
        [["template", "in", sorted(set(templates.values()))]],
        ["code", "template"],
        context=ALL,
    )
    out: dict[str, tuple[int, list[int], dict[str, int]]] = {}
    for ref, tid in templates.items():
        mine = [m for m in members if m["template"] == tid]
        products = [int(ref)] if ref.isdigit() else [m["id"] for m in mine]
        out[ref] = (tid, products, {str(m["code"]): m["id"] for m in mine})
    return out


async def _filed(
    client: TrytonClient,
    operations: Sequence[Operation],
    shapes: dict[str, tuple[int, list[int], dict[str, int]]],
) -> dict[int, list[int]]:
    """The categories each template of the batch is filed under, read in one call when an
    operation changes an article's category (and not otherwise)."""
    if not any("category" in op.fields for op in operations if not isinstance(op, Archive)):
        return {}
    templates = sorted({template for template, _, _ in shapes.values()})
    rows = await client.read("product.template", templates, ["categories"], context=ALL)
    return {row["id"]: [int(c) for c in row["categories"]] for row in rows}


async def _alive(client: TrytonClient, model: str, ids: list[int]) -> set[int]:
    """Which of ``ids`` still exist (archived ones included)."""
    if not ids:
        return set()
    return set(await client.search(model, [["id", "in", ids]], context=ALL))
