"""Full reads through a bulk operation: one query Shopify runs in the background, its result
a JSONL file.

Paging through a catalogue costs points per product (a page of products with their variants
is close to the single-query cap), so on the Basic plan's 100 points/s a 30,000-product read
takes most of an hour; a bulk operation costs one mutation, a few polls and a download.
:func:`read_products` starts ``bulkOperationRunQuery``, polls the operation (``node(id:)``)
until it is done, and reads the file line by line from the URL Shopify hands out. That URL is
a signed storage address, so the download is sent without the shop's access token.

Each line is one node. A variant's line carries its product's id in ``__parentId`` and may come
anywhere after it; the variants are put back under their product, so the products come out in
the shape of a page's nodes and are converted by the same code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp
import msgspec

from adapters.base import PermanentError, TransientError
from adapters.shopify import cost
from adapters.shopify.client import ShopifyClient, user_errors
from adapters.shopify.products import PRODUCT_FIELDS, VARIANT_FIELDS

log = logging.getLogger("concord.shopify")
T = TypeVar("T")

PRODUCTS = (
    f"{{ products {{ edges {{ node {{ {PRODUCT_FIELDS}"
    f" variants {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }} }} }} }} }}"
)
LEVELS = (
    "{ productVariants { edges { node { id sku inventoryItem { id tracked"
    ' inventoryLevel(locationId: $location) { quantities(names: ["available"])'
    " { name quantity } } } } } } }"
)
"""The levels query; ``$location`` is replaced by the location's gid, quoted (a bulk query
takes no variables)."""
RUN = (
    "mutation Run($query: String!) { bulkOperationRunQuery(query: $query) {"
    " bulkOperation { id status } userErrors { field message code } } }"
)
STATUS = (
    "query Status($id: ID!) { node(id: $id) { ... on BulkOperation {"
    " id status errorCode objectCount url } } }"
)
COUNT = "query Count($limit: Int) { productsCount(limit: $limit) { count precision } }"
BUSY = frozenset({"OPERATION_IN_PROGRESS", "LIMIT_REACHED"})
"""Refusals meaning other bulk operations of the app are running: read page by page instead."""
DONE = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
"""The statuses of an operation that will change nothing more."""
_FIRST_POLL = 0.05


class Busy(Exception):
    """Shopify runs as many bulk operations of this app as it allows."""


async def product_count(client: ShopifyClient, limit: int) -> int:
    """How many products the shop holds, counted up to ``limit``."""
    data = await client.execute(COUNT, {"limit": limit}, cost=cost.OBJECT)
    return int((data.get("productsCount") or {}).get("count") or 0)


async def read_products(client: ShopifyClient, *, poll_seconds: float) -> list[dict[str, Any]]:
    """Every product node, its variants under ``variants.nodes``."""
    return _stitch(await run(client, PRODUCTS, poll_seconds=poll_seconds))


async def read_levels(
    client: ShopifyClient,
    location: str,
    keep: Callable[[dict[str, Any]], T],
    *,
    poll_seconds: float,
) -> list[T]:
    """What ``keep`` makes of every variant node with its inventory item and its level at
    ``location``, each as it is read (a shop's every level as nested rows was most of a stock
    read's memory)."""
    query = LEVELS.replace("$location", msgspec.json.encode(location).decode())
    return await run(client, query, poll_seconds=poll_seconds, keep=keep)


async def run(
    client: ShopifyClient,
    query: str,
    *,
    poll_seconds: float,
    keep: Callable[[dict[str, Any]], Any] | None = None,
) -> list[Any]:
    """The rows of a bulk ``query``, in the file's order (or what ``keep`` makes of each);
    :class:`Busy` when Shopify runs as many bulk operations of this app as it allows."""
    data = await client.execute(RUN, {"query": query}, cost=cost.MUTATION)
    operation = started(data.get("bulkOperationRunQuery"), "query")
    return await result_rows(client, operation, poll_seconds, keep)


async def result_rows(
    client: ShopifyClient,
    operation: str,
    poll_seconds: float,
    keep: Callable[[dict[str, Any]], Any] | None = None,
) -> list[Any]:
    """The rows of the result of ``operation`` (or what ``keep`` makes of each), once it
    completes."""
    url = await _wait(client, operation, poll_seconds)
    if url is None:
        return []  # a completed operation without a file found nothing
    return await rows(url, client.settings.timeout, keep)


async def rows(
    url: str, seconds: float, keep: Callable[[dict[str, Any]], Any] | None = None
) -> list[Any]:
    """The rows of the result file at ``url`` (or what ``keep`` makes of each), each decoded
    as it arrives: the file's text is not kept beside its rows."""
    decode = msgspec.json.Decoder(dict[str, Any])
    decoded: list[Any] = []
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds * 10)) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                raise TransientError(f"Shopify bulk result: HTTP {response.status}")
            async for line in response.content:
                if not line.strip():
                    continue
                try:
                    row = decode.decode(line)
                except msgspec.DecodeError as exc:
                    number = len(decoded) + 1
                    raise TransientError(f"Shopify bulk result line {number}: {exc}") from None
                decoded.append(row if keep is None else keep(row))
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise TransientError(f"Shopify bulk result: {type(exc).__name__}: {exc}") from None
    return decoded


def started(payload: Any, what: str) -> str:
    """The id of the operation a ``bulkOperationRun…`` mutation started."""
    problems = user_errors(payload)
    if any(p.code in BUSY for p in problems):
        raise Busy("; ".join(p.reason() for p in problems))
    if problems:
        raise PermanentError(f"Shopify bulk {what}: " + "; ".join(p.reason() for p in problems))
    operation = (payload or {}).get("bulkOperation") or {}
    if not operation.get("id"):
        raise TransientError(f"Shopify bulk {what}: started without an operation id")
    return str(operation["id"])


async def state_of(client: ShopifyClient, operation: str) -> dict[str, Any]:
    """The operation as Shopify shows it now: ``status``, ``errorCode``, ``url``…"""
    data = await client.execute(STATUS, {"id": operation}, cost=cost.OBJECT)
    return dict(data.get("node") or {})


async def _wait(client: ShopifyClient, operation: str, poll_seconds: float) -> str | None:
    """The result's URL once the operation completes; polled, since nothing else tells a
    client without a webhook endpoint that it is done."""
    delay = _FIRST_POLL
    while True:
        state = await state_of(client, operation)
        status = state.get("status")
        if status in DONE:
            break
        await asyncio.sleep(delay)
        delay = min(poll_seconds, delay * 2)
    if status == "COMPLETED":
        url = state.get("url")
        return str(url) if url else None
    code = state.get("errorCode") or "no error code"
    message = f"Shopify bulk operation {operation} ended {status} ({code})"
    if code == "ACCESS_DENIED":
        raise PermanentError(message)
    raise TransientError(message)


def _stitch(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    products: dict[str, dict[str, Any]] = {}
    variants: list[dict[str, Any]] = []
    for row in rows:
        if "__parentId" in row:
            variants.append(row)
        else:
            row["variants"] = {"nodes": [], "pageInfo": {"hasNextPage": False}}
            products[str(row.get("id"))] = row
    for variant in variants:
        parent = products.get(str(variant.pop("__parentId")))
        if parent is None:
            log.warning("Shopify bulk result: variant %s of no product read", variant.get("id"))
            continue
        parent["variants"]["nodes"].append(variant)
    return list(products.values())
