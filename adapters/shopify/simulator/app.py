"""The simulated shop's HTTP face: ``POST /admin/api/{version}/graphql.json``.

Authentication by ``X-Shopify-Access-Token`` (401 otherwise), the version in the path (404 for
one not served, ``X-Shopify-API-Deprecated-Reason`` on a deprecated one), then per request:
parse, validate, price the query, reserve the points in the token's bucket (``THROTTLED``
without data when it cannot), run, refund the unused points, and report ``extensions.cost``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
)

from adapters.shopify.simulator.clock import Clock
from adapters.shopify.simulator.cost import Bucket, CostModel
from adapters.shopify.simulator.schema import admin_schema, checked
from adapters.shopify.simulator.shop import AnswerLost, Settings, Shop
from adapters.shopify.simulator.store import Store, VariantsThrottled
from adapters.simkit import Faults, install_faults

RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"


SHOP_KEY = web.AppKey("shopify_shop", Shop)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [dict(error.formatted) for error in errors]


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


async def graphql_endpoint(request: web.Request) -> web.Response:
    shop = request.app[SHOP_KEY]
    settings = shop.settings
    version = request.match_info["version"]
    if version not in settings.versions:
        return _json({"errors": "Not Found"}, status=404)
    token = request.headers.get("X-Shopify-Access-Token", "")
    if token not in (settings.access_token, *settings.extra_tokens):
        return _json(
            {
                "errors": "[API] Invalid API key or access token "
                "(unrecognized login or wrong password)"
            },
            status=401,
        )
    headers = {"X-Shopify-API-Version": version}
    if version in settings.deprecated:
        headers["X-Shopify-API-Deprecated-Reason"] = (
            "https://shopify.dev/api/usage/versioning#deprecation-practices"
        )
    shop.count("graphql_requests")
    try:
        payload = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        return _json({"errors": [{"message": "Invalid JSON in request body"}]}, 400, headers)
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return _json({"errors": [{"message": "No query string was present"}]}, 200, headers)
    variables = payload.get("variables") or {}
    document, problems = checked(payload["query"])
    if document is None or problems:
        return _json({"errors": _errors(list(problems))}, 200, headers)
    schema = admin_schema()
    operation = _operation(document, payload.get("operationName"))
    if operation is None:
        return _json({"errors": [{"message": "An operation name is required"}]}, 200, headers)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    model = CostModel(schema, operation, fragments, variables)
    requested = model.requested()
    bucket = shop.bucket(token)
    if requested > settings.max_query_cost:
        shop.count("max_cost_exceeded")
        message = (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({settings.max_query_cost}).\n\nSee {RATE_LIMITS_DOC} for more information on "
            "how to reduce a query's cost."
        )
        body = {
            "errors": [
                {
                    "message": message,
                    "extensions": {
                        "code": "MAX_COST_EXCEEDED",
                        "cost": requested,
                        "maxCost": settings.max_query_cost,
                        "documentation": RATE_LIMITS_DOC,
                    },
                }
            ],
            "extensions": {"cost": _cost(requested, None, bucket)},
        }
        return _json(body, 200, headers)
    if not bucket.take(requested):
        shop.count("throttled")
        body = {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC},
                }
            ],
            "extensions": {"cost": _cost(requested, None, bucket)},
        }
        return _json(body, 200, headers)
    root = shop.mutation_root if model.is_mutation else shop.query_root
    context = {"shop": shop, "version": version, "token": token, "base_url": _base_url(request)}
    result = execute(
        schema,
        document,
        root_value=root,
        context_value=context,
        variable_values=variables,
        operation_name=payload.get("operationName"),
    )
    assert isinstance(result, ExecutionResult)
    throttled = next(
        (
            e.original_error
            for e in result.errors or ()
            if isinstance(e.original_error, VariantsThrottled)
        ),
        None,
    )
    if throttled is not None:
        # The variant creation throttle answers 429, as the changelog announcing it says.
        bucket.refund(requested)
        shop.count("variants_throttled")
        headers["Retry-After"] = f"{throttled.retry_after:.0f}"
        body = {"errors": [{"message": str(throttled), "extensions": {"code": "THROTTLED"}}]}
        return _json(body, 429, headers)
    if any(isinstance(e.original_error, AnswerLost) for e in result.errors or ()):
        bucket.refund(requested)
        return _json({"errors": "Bad Gateway"}, 502, headers)
    if model.is_mutation and shop.lose_mutation_answers > 0:
        shop.lose_mutation_answers -= 1
        shop.count("answers_lost")
        return _json({"errors": "Bad Gateway"}, 502, headers)
    actual = model.actual(result.data)
    bucket.refund(max(0, requested - actual))
    shop.count("requested_points", requested)
    shop.count("actual_points", actual)
    answer: dict[str, Any] = {}
    if result.errors:
        answer["errors"] = _errors(list(result.errors))
    answer["data"] = result.data
    answer["extensions"] = {"cost": _cost(requested, actual, bucket)}
    return _json(answer, 200, headers)


def _base_url(request: web.Request) -> str:
    """Where this simulator is reached, for URLs it hands out (bulk results, uploads)."""
    return str(request.url.origin())


def _cost(requested: int, actual: int | None, bucket: Bucket) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": bucket.status(),
    }


def create_app(
    *,
    products: int = 0,
    seed: int = 0,
    settings: Settings | None = None,
    clock: Clock | None = None,
    search_lag: float = 0.0,
    faults: Faults | None = None,
) -> web.Application:
    """A Shopify shop serving the Admin GraphQL API with a seeded catalogue.

    ``settings`` holds tokens, versions and the plan's bucket; ``clock`` drives the bucket,
    timestamps and the search index (a :class:`~adapters.shopify.simulator.clock.ManualClock`
    in tests); ``search_lag`` delays writes reaching ``query:`` searches.
    """
    from adapters.shopify.simulator import features
    from adapters.shopify.simulator.seed import seed_catalogue

    app = web.Application(client_max_size=64 * 1024 * 1024)
    install_faults(app, faults)
    store = Store(clock=clock, search_lag=search_lag)
    seed_catalogue(store, products, seed)
    shop = Shop(store=store, settings=settings or Settings())
    app[SHOP_KEY] = shop
    features.install(app, shop)
    app.router.add_post("/admin/api/{version}/graphql.json", graphql_endpoint)
    return app


def shop_of(app: web.Application) -> Shop:
    """The shop behind ``app``: its store, settings, buckets and counters."""
    return app[SHOP_KEY]


def bulk_of(app: web.Application) -> Any:
    """The bulk operations of ``app``
    (:class:`~adapters.shopify.simulator.bulk.BulkOperations`: ``hold``, ``start``,
    ``finish``, ``wait``, ``operations``, ``uploads``)."""
    from adapters.shopify.simulator.features import BULK_KEY

    return app[BULK_KEY]


def deliveries_of(app: web.Application) -> Any:
    """The webhook sender of ``app`` (:class:`~adapters.shopify.simulator.webhooks.Deliveries`:
    ``subscriptions``, and ``attempts`` listing every delivery attempt)."""
    from adapters.shopify.simulator.features import DELIVERIES_KEY

    return app[DELIVERIES_KEY]
