"""One POST per GraphQL document to ``/admin/api/{version}/graphql.json``, within the points.

Each document is sent with the cost it will be charged (planned by the caller, see
:mod:`adapters.shopify.cost`): the point budget holds it back until the bucket covers it, the
shared HTTP client (:mod:`adapters.http`) takes its turn in the account's request budget and
lanes, and retries 5xx and dropped connections. A 429 is read here: the variant-creation
throttle (:mod:`adapters.shopify.variant_limit`) raises :class:`VariantLimitReached` at once,
any other slows the account's budget and is retried after ``Retry-After``. A ``THROTTLED`` answer
(HTTP 200 with no data, the bucket short of the requested cost) is waited out for as long as
the deficit takes to refill at the restore rate, then sent again.

Errors at this boundary: 401/403 :class:`AuthError`; 5xx, timeouts, ``THROTTLED`` beyond the
attempts :class:`TransientError`; GraphQL errors (syntax, validation, unknown field, a query
above the single-query cap) :class:`PermanentError`. Business refusals (``userErrors``) are the
caller's to turn into per-item results.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from adapters.base import PermanentError, TransientError
from adapters.http import HttpClient, retry_after_of
from adapters.shopify.cost import Cost, PointBudget
from adapters.shopify.settings import ShopifySettings
from adapters.shopify.variant_limit import VariantLimitReached, is_variant_limit

log = logging.getLogger("concord.shopify")
DEPRECATED = "X-Shopify-API-Deprecated-Reason"
MAX_429_WAIT = 30.0
"""Longest wait on a 429 before sending again (as the HTTP client caps its backoff)."""


class GraphQLError(msgspec.Struct, frozen=True, kw_only=True):
    message: str = ""
    extensions: dict[str, Any] = {}

    @property
    def code(self) -> str:
        return str(self.extensions.get("code", ""))


class Extensions(msgspec.Struct, frozen=True, kw_only=True):
    cost: Cost | None = None


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    data: dict[str, Any] | None = None
    errors: list[GraphQLError] = []
    extensions: Extensions | None = None


class UserError(msgspec.Struct, frozen=True, kw_only=True):
    field: list[str] | None = None
    message: str = ""
    code: str | None = None

    def reason(self) -> str:
        where = ".".join(self.field or [])
        return f"{self.code or 'USER_ERROR'}: {where + ': ' if where else ''}{self.message}"


_reply = msgspec.json.Decoder(Reply)


class ShopifyClient:
    """GraphQL requests to one shop, paid in points."""

    def __init__(self, settings: ShopifySettings) -> None:
        self.settings = settings
        self.http = HttpClient(
            settings.endpoint,
            requests_per_second=settings.requests_per_second,
            max_concurrency=settings.max_concurrency,
            headers={
                "X-Shopify-Access-Token": settings.access_token,
                "Accept": "application/json",
            },
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
        )
        self.points = PointBudget(settings.bucket_size, settings.restore_rate)
        self.throttled = 0
        self.underpriced = 0
        """Queries the shop priced above what was planned (a cost model to correct)."""
        self.deprecations: set[str] = set()
        """Reasons Shopify gave for calling this API version deprecated, each logged once."""
        self._charged: dict[str, float] = {}
        """Document -> what the shop charged for it lately (a moving average of actual costs)."""

    @property
    def query_limit(self) -> float:
        """Most points one query may request: the single-query cap, within the bucket."""
        return min(self.settings.max_query_cost, self.points.maximum)

    async def execute(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        cost: float,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """The ``data`` of one document whose requested cost is ``cost`` points. One that is
        not ``idempotent`` (a creation) is not sent again once it may have been carried out:
        an answer lost raises :class:`TransientError` at once."""
        body = msgspec.json.encode({"query": document, "variables": variables or {}})
        for attempt in range(1, self.settings.max_attempts + 1):
            await self.points.reserve(cost)
            response = await self.http.request(
                "POST", "", body=body, ok=(200, 429), idempotent=idempotent
            )
            self._note_deprecation(response.headers.get(DEPRECATED))
            try:
                reply = _reply.decode(response.body)
            except msgspec.DecodeError as exc:
                raise TransientError(f"Shopify: malformed answer: {exc}") from None
            if response.status == 429:
                wait = retry_after_of(response.headers)
                message = "; ".join(e.message for e in reply.errors) or "HTTP 429"
                if is_variant_limit(message):
                    raise VariantLimitReached(f"Shopify: {message}", retry_after=wait)
                self.http.budget.throttle(wait)
                self.throttled += 1
                if attempt == self.settings.max_attempts:
                    raise TransientError(f"Shopify: throttled: {message}", retry_after=wait)
                await asyncio.sleep(min(wait if wait is not None else 1.0, MAX_429_WAIT))
                continue
            answer_cost = reply.extensions.cost if reply.extensions else None
            self.points.observe(answer_cost)
            self._note_charge(document, answer_cost)
            charged = answer_cost.requested_query_cost if answer_cost else None
            if charged is not None and charged > cost:
                self.underpriced += 1
                log.debug("Shopify priced a query at %s points, planned %s", charged, cost)
            if any(e.code == "THROTTLED" for e in reply.errors):
                self.throttled += 1
                wait = self.points.throttled_for(answer_cost)
                if attempt == self.settings.max_attempts:
                    raise TransientError("Shopify: THROTTLED", retry_after=wait)
                # Waiting out the deficit: nothing else announces when the points are back.
                await asyncio.sleep(wait)
                continue
            if reply.errors:
                first = reply.errors[0]
                raise PermanentError(f"Shopify: {first.code or 'GRAPHQL_ERROR'}: {first.message}")
            if reply.data is None:
                raise TransientError("Shopify: an answer without data")
            return reply.data
        raise AssertionError("unreachable")

    def typical_cost(self, document: str, planned: float) -> float:
        """What ``document`` is usually charged: its recent actual cost (``planned``, its
        requested cost, until an answer said)."""
        return self._charged.get(document, planned)

    def _note_charge(self, document: str, answer_cost: Cost | None) -> None:
        actual = answer_cost.actual_query_cost if answer_cost else None
        if actual is not None:
            previous = self._charged.get(document, actual)
            self._charged[document] = previous + (actual - previous) / 8

    def _note_deprecation(self, reason: str | None) -> None:
        if reason and reason not in self.deprecations:
            self.deprecations.add(reason)
            log.warning(
                "Shopify API version %s is deprecated: %s", self.settings.api_version, reason
            )

    async def aclose(self) -> None:
        await self.http.aclose()


def user_errors(payload: Any) -> list[UserError]:
    """The ``userErrors`` of a mutation's payload."""
    if not isinstance(payload, dict):
        return []
    return msgspec.convert(payload.get("userErrors") or [], list[UserError])
