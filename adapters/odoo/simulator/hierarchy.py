"""Trees of the simulated Odoo: ``parent_path`` and the ``child_of`` / ``parent_of`` operators.

Models with a parent field (Odoo's ``_parent_name``: ``parent_id`` on ``product.category``,
``location_id`` on ``stock.location``) keep ``parent_path``, the ids from the root down to the
record itself, each followed by ``/`` (``"1/4/7/"``). A domain leaf ``[path, "child_of", x]``
matches the records whose ``path`` value lies in the subtree of ``x`` (``x`` included), and
``parent_of`` those on the way from ``x`` up to the root, as Odoo rewrites them into an ``in``
on the ids found. ``x`` is an id, a list of ids, or a name (matched with ``ilike``, as Odoo's
``name_search``). On a model without a parent field the ids match themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.odoo.simulator.errors import OdooError
from adapters.odoo.simulator.records import Records, Row
from adapters.odoo.simulator.schema import FIELDS

PARENT_FIELD = {"product.category": "parent_id", "stock.location": "location_id"}
"""Per tree model, its field naming the parent."""
OPERATORS = ("child_of", "parent_of")


def ancestors(store: Records, model: str, row: Row) -> list[int]:
    """Ids from the root down to ``row`` included; a loop in the data is an error."""
    parent_field = PARENT_FIELD[model]
    chain = [row["id"]]
    current = row
    while current.get(parent_field):
        parent = current[parent_field]
        if parent in chain:
            raise OdooError.validation(f"Recursion detected in {model} {row['id']}")
        chain.append(parent)
        current = store.tables[model][parent]
    return list(reversed(chain))


def parent_path(store: Records, model: str, row: Row) -> str:
    return "".join(f"{rid}/" for rid in ancestors(store, model, row))


def check_no_cycle(store: Records, model: str, rid: int) -> None:
    """Odoo's ``_check_recursion``: a record may not become its own ancestor."""
    if model in PARENT_FIELD:
        ancestors(store, model, store.tables[model][rid])


def _relation(model: str, path: str) -> str:
    current = model
    for name in path.split("."):
        spec = FIELDS[current].get(name)
        if spec is None:
            raise OdooError.value(f"Invalid field {name!r} on model {current!r}")
        if name == "id":
            return current
        if spec.kind not in ("many2one", "many2many", "one2many"):
            raise OdooError.value(f"Invalid leaf: {path!r} is not a relational field")
        current = spec.relation
    return current


def _targets(store: Records, model: str, operand: Any) -> list[int]:
    if isinstance(operand, bool):
        raise OdooError.value(f"Invalid hierarchy operand {operand!r}")
    if isinstance(operand, int):
        return [operand]
    if isinstance(operand, str):
        return store.search(model, [["display_name", "ilike", operand]])
    if isinstance(operand, list | tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in operand
    ):
        return list(operand)
    raise OdooError.value(f"Invalid hierarchy operand {operand!r}")


def _expand(store: Records, model: str, operator: str, ids: list[int]) -> list[int]:
    table = store.tables[model]
    if model not in PARENT_FIELD:
        return [rid for rid in ids if rid in table]
    if operator == "parent_of":
        found: set[int] = set()
        for rid in ids:
            if rid in table:
                found.update(ancestors(store, model, table[rid]))
        return sorted(found)
    wanted = {rid for rid in ids if rid in table}
    return sorted(rid for rid, row in table.items() if wanted & set(ancestors(store, model, row)))


def _is_hierarchy_leaf(term: Any) -> bool:
    return (
        isinstance(term, list | tuple)
        and len(term) == 3
        and isinstance(term[0], str)
        and str(term[1]).lower() in OPERATORS
    )


def mentioned(domain: Sequence[Any]) -> bool:
    """Whether ``domain`` has a ``child_of`` or ``parent_of`` leaf."""
    return any(_is_hierarchy_leaf(term) for term in domain)


def expand_domain(store: Records, model: str, domain: Sequence[Any]) -> list[Any]:
    """``domain`` with every ``child_of``/``parent_of`` leaf turned into an ``in`` of ids."""
    out: list[Any] = []
    for term in domain:
        if _is_hierarchy_leaf(term):
            relation = _relation(model, term[0])
            ids = _expand(store, relation, str(term[1]).lower(), _targets(store, relation, term[2]))
            out.append([term[0], "in", ids])
        else:
            out.append(term)
    return out
