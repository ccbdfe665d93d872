"""The ``@idempotent(key:)`` directive: a mutation retried with the same key answers with the
first call's result and is not applied again; the same key with other arguments is refused.
From 2026-04 the inventory mutations require it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, value_from_ast_untyped

from adapters.shopify.simulator.store import Store

Resolver = Callable[..., Any]
REQUIRED_FROM = "2026-04"


def _key(info: GraphQLResolveInfo) -> str | None:
    for directive in info.field_nodes[0].directives:
        if directive.name.value == "idempotent":
            for argument in directive.arguments:
                if argument.name.value == "key":
                    return str(value_from_ast_untyped(argument.value, info.variable_values))
    return None


def idempotent(store: Store, name: str, resolver: Resolver, *, required: bool = False) -> Resolver:
    """``resolver`` honouring ``@idempotent``; ``required`` makes the key mandatory from 2026-04."""

    def resolve(info: GraphQLResolveInfo, **args: Any) -> Any:
        key = _key(info)
        version = info.context["version"]
        if key is None:
            if required and version != "unstable" and version >= REQUIRED_FROM:
                raise GraphQLError(
                    f"The @idempotent directive is required for {name}.",
                    extensions={"code": "BAD_REQUEST"},
                )
            return resolver(info, **args)
        seen: dict[tuple[str, str], tuple[str, Any]] = store.extra.setdefault("idempotency", {})
        fingerprint = repr(sorted(args.items()))
        earlier = seen.get((name, key))
        if earlier is not None:
            if earlier[0] != fingerprint:
                return {
                    "userErrors": [
                        {
                            "field": None,
                            "message": "The same idempotency key cannot be used with different "
                            "operation parameters.",
                            "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        }
                    ]
                }
            store.extra["idempotent_replays"] = store.extra.get("idempotent_replays", 0) + 1
            return earlier[1]
        result = resolver(info, **args)
        seen[(name, key)] = (fingerprint, result)
        return result

    return resolve
