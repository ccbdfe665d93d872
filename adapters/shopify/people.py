"""Orders and customers read from Shopify: the pages of a search, or orders by their id.

Shopify's search index trails writes by seconds, so an order searched by its name right after
it was placed may not be found; read by its GraphQL id (``nodes(ids:)``, what an order webhook
names in ``admin_graphql_api_id``) it is found the moment it exists. Records Concord cannot
read faithfully are appended to ``rejected`` as ``(ref, reason)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.base import Seen
from adapters.shopify import orders as shop_orders
from adapters.shopify.client import ShopifyClient
from adapters.shopify.products import Unreadable


async def search(
    client: ShopifyClient, rejected: list[tuple[str, str]], kind: str, query: str | None
) -> list[Seen]:
    """Orders or customers a search finds (all: ``query`` None), in pages."""
    root = "orders" if kind == "order" else "customers"
    document, first, requested = shop_orders.list_query(root, client.query_limit)
    by_id: dict[str, Seen] = {}
    after: str | None = None
    while True:
        data = await client.execute(
            document, {"first": first, "after": after, "query": query}, cost=requested
        )
        page = data[root]
        _convert(kind, page["nodes"], by_id, rejected)
        if not page["pageInfo"].get("hasNextPage"):
            return list(by_id.values())
        after = page["pageInfo"].get("endCursor")


async def orders_by_id(
    client: ShopifyClient, rejected: list[tuple[str, str]], ids: Sequence[str]
) -> list[Seen]:
    """The orders with these GraphQL ids (an unknown id gives nothing)."""
    by_id: dict[str, Seen] = {}
    step = max(1, int(client.query_limit // shop_orders.ORDER_COST))
    for start in range(0, len(ids), step):
        chunk = list(ids[start : start + step])
        data = await client.execute(
            shop_orders.NODES_QUERY, {"ids": chunk}, cost=len(chunk) * shop_orders.ORDER_COST
        )
        _convert("order", [n for n in data.get("nodes") or [] if n], by_id, rejected)
    return list(by_id.values())


async def fetch(
    client: ShopifyClient, rejected: list[tuple[str, str]], kind: str, keys: Sequence[str]
) -> list[Seen]:
    """Orders by number or GraphQL id, customers by e-mail."""
    ids = [k for k in keys if kind == "order" and shop_orders.is_order_gid(k)]
    found = await orders_by_id(client, rejected, ids)
    wanted = [k for k in keys if k not in ids]
    if not wanted:
        return found
    field = "name" if kind == "order" else "email"
    terms = [f"{field}:'#{k}'" if kind == "order" else f"{field}:'{k}'" for k in wanted]
    searched = await search(client, rejected, kind, " OR ".join(terms))
    keep = {k.lower() if kind == "customer" else k for k in wanted}
    read = {s.ref for s in found}
    return found + [s for s in searched if s.record.natural_key() in keep and s.ref not in read]


def _convert(
    kind: str, nodes: Sequence[Any], into: dict[str, Seen], rejected: list[tuple[str, str]]
) -> None:
    convert = shop_orders.to_order if kind == "order" else shop_orders.to_customer
    for node in nodes:
        ref = str(node.get("id", "?"))
        try:
            into[ref] = Seen(record=convert(node), ref=ref, modified_at=shop_orders.modified(node))
        except (Unreadable, KeyError, TypeError) as exc:
            rejected.append((ref, f"{kind}: {exc}"))
