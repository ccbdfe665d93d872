"""Relay connections as the Admin API serves them: ``first``/``last`` (at most 250),
``after``/``before`` opaque cursors, ``edges``, ``nodes`` and ``pageInfo``."""

from __future__ import annotations

import base64
import contextvars
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphql import GraphQLError

MAX_PAGE = 250
BULK = contextvars.ContextVar("shopify_bulk_operation", default=False)
"""True while a bulk operation runs its query: connections are read whole, without first."""
T = TypeVar("T")
SortKey = tuple[Any, ...]


def encode_cursor(key: SortKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> SortKey:
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, TypeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from exc


def page_size(args: dict[str, Any]) -> int:
    """The ``first`` or ``last`` of a connection field, checked as Shopify checks them."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None and BULK.get():
        return 1 << 62
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    if first is not None and last is not None:
        raise GraphQLError("providing both first and last is not supported")
    size = int(first if first is not None else last or 0)
    if size < 0 or size > MAX_PAGE:
        name = "first" if first is not None else "last"
        raise GraphQLError(f"The value of {name} must be between 0 and {MAX_PAGE}.")
    return size


def paginate(
    items: Sequence[T],
    args: dict[str, Any],
    key: Callable[[T], SortKey],
    view: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """One page of ``items`` (already in the connection's order) as a connection object."""
    size = page_size(args)
    keyed = [(key(item), item) for item in items]
    reverse = bool(args.get("reverse"))
    if reverse:
        keyed.reverse()

    def beyond(one: SortKey, cursor: SortKey) -> bool:
        return one < cursor if reverse else one > cursor

    if args.get("after"):
        cursor = decode_cursor(args["after"])
        keyed = [pair for pair in keyed if beyond(pair[0], cursor)]
    if args.get("before"):
        cursor = decode_cursor(args["before"])
        keyed = [pair for pair in keyed if beyond(cursor, pair[0])]
    if args.get("last") is None:
        page, more_after, more_before = keyed[:size], len(keyed) > size, bool(args.get("after"))
    else:
        page = keyed[max(0, len(keyed) - size) :]
        more_after, more_before = bool(args.get("before")), len(keyed) > size
    # An edge's cursor is encoded only when the query selects it: a bulk query reads whole
    # catalogues through connections whose cursors it never asks for.
    edges = [{"cursor": _cursor(k), "node": view(item)} for k, item in page]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": more_after,
            "hasPreviousPage": more_before,
            "startCursor": encode_cursor(page[0][0]) if page else None,
            "endCursor": encode_cursor(page[-1][0]) if page else None,
        },
    }


def _cursor(key: SortKey) -> Callable[[Any], str]:
    return lambda info: encode_cursor(key)
