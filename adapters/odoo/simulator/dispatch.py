"""One ORM call on the simulator's store, whichever protocol carried it.

Both endpoints reduce a request to ``(model, method, ids, named params, context)``. JSON-2 sends
named params already; JSON-RPC's ``execute_kw`` sends positional ``args`` that are named here
after the ORM methods' signatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.odoo.simulator.behaviour import ACTIONS, action
from adapters.odoo.simulator.errors import OdooError
from adapters.odoo.simulator.schema import FIELDS
from adapters.odoo.simulator.store import OdooStore

SIGNATURES: dict[str, tuple[str, ...]] = {
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search": ("domain", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("fields",),
    "write": ("vals",),
    "create": ("vals_list",),
    "unlink": (),
    "fields_get": ("allfields", "attributes"),
}
RECORD_METHODS = frozenset({"read", "write", "unlink"} | {method for _, method in ACTIONS})
"""Methods called on records: their first positional argument is the ids."""


def name_args(
    method: str, args: list[Any], kwargs: Mapping[str, Any]
) -> tuple[list[int], dict[str, Any]]:
    """Split ``execute_kw`` arguments into record ids and named parameters."""
    ids: list[int] = []
    if method in RECORD_METHODS:
        if not args:
            raise _type_error(f"{method}() missing 1 required positional argument: 'ids'")
        first, args = args[0], args[1:]
        ids = [first] if isinstance(first, int) else list(first)
    names = SIGNATURES.get(method, ())
    if len(args) > len(names):
        raise _type_error(
            f"{method}() takes {len(names)} positional arguments but {len(args)} were given"
        )
    params = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in params:
            raise _type_error(f"{method}() got multiple values for argument {key!r}")
        params[key] = value
    return ids, params


def _type_error(message: str) -> OdooError:
    return OdooError("builtins.TypeError", message, 422)


def _take(method: str, params: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(params) - set(allowed)
    if unknown:
        raise _type_error(f"{method}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    return params


def _int(value: Any, name: str, default: int | None) -> int | None:
    if value is None or value is False:
        return default
    if not isinstance(value, int) or value < 0:
        raise OdooError.value(f"Invalid {name}: {value!r}")
    return value


def _fields_get(
    store: OdooStore, model: str, allfields: Any, attributes: Any
) -> dict[str, dict[str, Any]]:
    """``fields_get``: the model's fields in this version, with their type and relation."""
    names = store.field_names(model)
    if allfields:
        names = [name for name in names if name in allfields]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        spec = store.spec(model, name)
        described: dict[str, Any] = {"type": spec.kind, "string": name.replace("_", " ").title()}
        if spec.relation:
            described["relation"] = spec.relation
        if attributes:
            described = {k: v for k, v in described.items() if k in attributes}
        out[name] = described
    return out


def call(
    store: OdooStore,
    model: str,
    method: str,
    ids: list[int],
    params: dict[str, Any],
    context: dict[str, Any],
) -> Any:
    """Run one ORM method as one transaction and return its JSON-able result."""
    if model not in FIELDS:
        raise OdooError.not_found(f"Model {model!r} does not exist")
    params = _take(method, params, SIGNATURES.get(method, ()))
    domain = params.get("domain") or []
    if method in ("search_read", "search"):
        found = store.search(
            model,
            domain,
            offset=_int(params.get("offset"), "offset", 0) or 0,
            limit=_int(params.get("limit"), "limit", None),
            order=params.get("order") or None,
            context=context,
        )
        if method == "search":
            return found
        return store.read(model, found, params.get("fields") or None)
    if method == "search_count":
        count = len(store.query(model, list(domain), None, context))
        limit = _int(params.get("limit"), "limit", None)
        return count if limit is None else min(count, limit)
    if method == "read":
        return store.read(model, ids, params.get("fields") or None)
    if method == "create":
        vals_list = params.get("vals_list")
        if isinstance(vals_list, dict):
            vals_list = [vals_list]
        if not isinstance(vals_list, list) or not all(isinstance(v, dict) for v in vals_list):
            raise OdooError.value("create() expects a dict or a list of dicts")
        return store.create(model, vals_list, context)
    if method == "write":
        vals = params.get("vals")
        if not isinstance(vals, dict):
            raise OdooError.value("write() expects a dict of values")
        store.write(model, ids, vals)
        return True
    if method == "fields_get":
        return _fields_get(store, model, params.get("allfields"), params.get("attributes"))
    if method == "unlink":
        store.unlink(model, ids)
        return True
    if (model, method) in ACTIONS:
        with store.transaction():
            return action(store, model, method, ids)
    raise OdooError.not_found(f"The method {method!r} does not exist on the model {model!r}")
