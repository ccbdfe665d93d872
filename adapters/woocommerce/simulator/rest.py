"""The REST plumbing WordPress gives every WooCommerce route: auth, errors, paging, batches."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from adapters.woocommerce.simulator.common import SimError, encode, invalid_params, parse_moment

PREFIX = "/wp-json/wc/v3"
BATCH_LIMIT = 100
CREDENTIALS_KEY = web.AppKey("wc_credentials", tuple)

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def respond(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=encode(value), status=status, headers=headers, content_type="application/json"
    )


def fail(error: SimError) -> web.Response:
    return respond(error.body(), status=error.status)


def _credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password
    key, secret = request.query.get("consumer_key"), request.query.get("consumer_secret")
    if key is not None and secret is not None:
        return key, secret
    return None


@web.middleware
async def rest_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Basic auth (or the query-string fallback), then errors rendered in WordPress's shape."""
    if not request.path.startswith("/wp-json/"):
        return await handler(request)
    given = _credentials(request)
    key, secret = request.app[CREDENTIALS_KEY]
    if given is None:
        return fail(
            SimError(
                "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", status=401
            )
        )
    if not hmac.compare_digest(given[0], key):
        return fail(
            SimError(
                "woocommerce_rest_authentication_error", "Consumer key is invalid.", status=401
            )
        )
    if not hmac.compare_digest(given[1], secret):
        return fail(
            SimError(
                "woocommerce_rest_authentication_error", "Consumer secret is invalid.", status=401
            )
        )
    try:
        return await handler(request)
    except SimError as error:
        return fail(error)
    except web.HTTPNotFound:
        return fail(
            SimError(
                "rest_no_route",
                "No route was found matching the URL and request method.",
                status=404,
            )
        )


async def body_of(request: web.Request) -> dict[str, Any]:
    """The JSON body as a dict; WordPress answers 400 ``rest_invalid_json`` otherwise."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise SimError("rest_invalid_json", "Invalid JSON body passed.") from None
    if not isinstance(data, dict):
        raise SimError("rest_invalid_json", "Invalid JSON body passed.")
    return data


def int_param(request: web.Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_params({name: f"{name} is not of type integer."}) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} (inclusive) and {high} (inclusive)" if high else f">= {low}"
        raise invalid_params({name: f"{name} must be {bound}"})
    return value


def id_list(request: web.Request, name: str) -> set[int] | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise invalid_params({name: f"{name}[0] is not of type integer."}) from None


def date_filter(request: web.Request) -> Callable[[Any], bool] | None:
    """``after``/``before`` (creation) and ``modified_after``/``modified_before``, strict
    comparisons on the GMT twins; ``dates_are_gmt`` says how to read offset-less values."""
    gmt = request.query.get("dates_are_gmt", "false").lower() in ("1", "true")
    tests: list[Callable[[Any], bool]] = []
    for name, field, after in (
        ("after", "date_created_gmt", True),
        ("before", "date_created_gmt", False),
        ("modified_after", "date_modified_gmt", True),
        ("modified_before", "date_modified_gmt", False),
    ):
        raw = request.query.get(name)
        if raw is None:
            continue
        try:
            bound = parse_moment(raw, gmt=gmt).astimezone(UTC).replace(tzinfo=None).isoformat()
        except ValueError:
            raise invalid_params({name: "Invalid date."}) from None
        tests.append(_compare(field, bound, after))
    if not tests:
        return None
    return lambda record: all(test(record) for test in tests)


def _compare(field: str, bound: str, after: bool) -> Callable[[Any], bool]:
    # Dates share one ISO layout, so string order is time order.
    if after:
        return lambda record: str(getattr(record, field)) > bound
    return lambda record: str(getattr(record, field)) < bound


def ordered(
    request: web.Request, records: Iterable[T], keys: dict[str, Callable[[T], Any]], default: str
) -> list[T]:
    """Apply ``orderby``/``order`` (default ``date`` descending, as WooCommerce does)."""
    orderby = request.query.get("orderby", default)
    order = request.query.get("order", "desc")
    if orderby not in keys:
        raise invalid_params({"orderby": f"orderby is not one of {', '.join(keys)}."})
    if order not in ("asc", "desc"):
        raise invalid_params({"order": "order is not one of asc, desc."})
    return sorted(records, key=keys[orderby], reverse=order == "desc")


def paginated(
    request: web.Request,
    records: Sequence[Any],
    shown: Callable[[web.Request, list[Any]], list[Any]] | None = None,
) -> web.Response:
    """One page of ``records`` with ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link``;
    ``shown`` prepares the page's records for the answer."""
    per_page = int_param(request, "per_page", 10, 1, 100)
    page = int_param(request, "page", 1, 1, None)
    offset = int_param(request, "offset", -1, 0, None)
    total = len(records)
    start = offset if offset >= 0 else (page - 1) * per_page
    pages = -(-total // per_page)
    links: list[str] = []
    if page > 1 and pages:
        links.append(f'<{request.url.update_query(page=min(page - 1, pages))}>; rel="prev"')
    if page < pages:
        links.append(f'<{request.url.update_query(page=page + 1)}>; rel="next"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if links:
        headers["Link"] = ", ".join(links)
    page_records = list(records[start : start + per_page])
    return respond(shown(request, page_records) if shown else page_records, headers=headers)


Op = Callable[[Any], Any]


async def batch(request: web.Request, create: Op, update: Op, delete: Op) -> web.Response:
    """``POST …/batch``: create, then update, then delete, each item on its own; one item's
    error is reported in its place and the others still happen."""
    data = await body_of(request)
    groups = {name: data.get(name) or [] for name in ("create", "update", "delete")}
    if any(not isinstance(items, list) for items in groups.values()):
        raise invalid_params({name: f"{name} is not of type array." for name in groups})
    if sum(len(items) for items in groups.values()) > BATCH_LIMIT:
        raise SimError(
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            status=413,
        )
    answer: dict[str, list[Any]] = {}
    for name, op in (("create", create), ("update", update), ("delete", delete)):
        if not groups[name]:
            continue
        results: list[Any] = []
        for item in groups[name]:
            try:
                results.append(op(item))
            except SimError as error:
                item_id = item if isinstance(item, int) else 0
                if isinstance(item, dict) and isinstance(item.get("id"), int):
                    item_id = item["id"]
                body = error.body()
                results.append({"id": item_id, "error": body})
        answer[name] = results
    # PHP's empty array: a batch with nothing to do answers [], not an object.
    return respond(answer or [])


def item_id(request: web.Request, name: str = "id") -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound() from None


def forced(request: web.Request) -> bool:
    return request.query.get("force", "false").lower() in ("1", "true")
