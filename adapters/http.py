"""The HTTP layer every HTTP adapter shares: one aiohttp session, the account's budget, retries.

Each request waits for its turn in the account's request budget (:mod:`adapters.budget`: shared
by every client of the account, served by the current job's lane, slowed down by throttle
signals), then is sent; throttling (429), server errors
(5xx), timeouts and dropped connections are retried with exponential backoff (honouring
``Retry-After``) up to ``max_attempts``; what still fails becomes the boundary's own exceptions
(:mod:`adapters.base`), so aiohttp never leaks past an adapter.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Mapping
from typing import Any

import aiohttp

from adapters.base import AuthError, PermanentError, TransientError
from adapters.budget import RequestBudget, account_of, budget_for

_STREAM_ABOVE = 512 * 1024


class Response:
    """What an adapter reads of a response: status, headers and the raw body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class NotCarriedOut(TransientError):
    """The request was refused before the platform acted on it (a 429, a 503, no connection
    made): sending it again cannot do anything twice."""


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (None: absent or not a number)."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class HttpClient:
    """A retrying HTTP client for one platform account, within the account's request budget.

    ``requests_per_second`` and ``max_concurrency`` size the budget when this client is the
    account's first; a ``budget`` given explicitly is used as it is.
    """

    def __init__(
        self,
        base_url: str,
        *,
        requests_per_second: float,
        max_concurrency: int,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        budget: RequestBudget | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget or budget_for(
            account_of(self.base_url),
            requests_per_second=requests_per_second,
            max_concurrency=max_concurrency,
        )
        """The account's request budget, shared with its other clients."""
        self._headers = dict(headers or {})
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._session: aiohttp.ClientSession | None = None
        self.requests_sent = 0
        self.throttled = 0

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                headers=self._headers, timeout=self._timeout, connector=connector
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        ok: tuple[int, ...] = (200, 201),
        extra_headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Response:
        """Send one request, retrying transient failures; return the response with an ``ok``
        status, or raise. A non-transient error status comes back as a :class:`Response` only
        when it is listed in ``ok`` (adapters that read the platform's error body list them).
        A request that is not ``idempotent`` (it creates something) is not sent again after a
        500, 502 or 504, a timeout or a dropped connection, since it may have been carried
        out: the caller decides. It is after a 429, a 503 or a connection never made, the
        platform having acted on nothing."""
        session = self._open()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers.update(extra_headers or {})
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(session, method, url, params, body, headers, ok)
            except TransientError as exc:
                if attempt >= self._max_attempts or not (
                    idempotent or isinstance(exc, NotCarriedOut)
                ):
                    raise
                await asyncio.sleep(self._delay(attempt, exc.retry_after))
                continue
            if response.status in ok:
                return response
            if response.status in (401, 403):
                raise AuthError(f"{method} {path}: credentials refused (HTTP {response.status})")
            raise PermanentError(
                f"{method} {path}: HTTP {response.status}: {response.body[:500]!r}"
            )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self._max_backoff)
        exponential = self._backoff * 2 ** (attempt - 1)
        return float(min(self._max_backoff, exponential * (0.5 + random.random() / 2)))

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
        ok: tuple[int, ...] = (),
    ) -> Response:
        async with self.budget.slot():
            self.requests_sent += 1
            try:
                # Large bodies go as a stream: aiohttp would copy raw bytes in the event loop.
                data = io.BytesIO(body) if body is not None and len(body) > _STREAM_ABOVE else body
                async with session.request(
                    method, url, params=params, data=data, headers=headers
                ) as raw:
                    payload = await raw.read()
                    status, response_headers = raw.status, raw.headers
            except aiohttp.ClientConnectorError as exc:
                raise NotCarriedOut(f"{method} {url}: {type(exc).__name__}: {exc}") from None
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                raise TransientError(f"{method} {url}: {type(exc).__name__}: {exc}") from None
            if status == 429 and status not in ok:
                # Before the turn is given back: the next request already goes slower.
                self.budget.throttle(retry_after_of(response_headers))
        # A 429 listed in ``ok`` is the adapter's to read: a platform may throttle one kind of
        # write for a day, which must not pause the account's other requests.
        if status == 429 and status not in ok:
            self.throttled += 1
            raise NotCarriedOut(
                f"{method} {url}: throttled (HTTP 429)",
                retry_after=retry_after_of(response_headers),
            )
        if status >= 500 and status not in ok:
            # A 5xx listed in ``ok`` is read by the adapter (a platform that reports a
            # deterministic refusal as a 500, with its reason in the body). A 503 says the
            # server could not take the request; a 500, 502 or 504 may come after it acted.
            error = NotCarriedOut if status == 503 else TransientError
            raise error(
                f"{method} {url}: server error (HTTP {status})",
                retry_after=retry_after_of(response_headers),
            )
        return Response(status, response_headers, payload)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as strings, leaving out those that are ``None``."""
    return {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in params.items()
        if v is not None
    }
