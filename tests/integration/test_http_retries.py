"""The HTTP client sends a request again after a transient failure, except a creation that may
have been carried out: after a 500, 502 or 504 it is the caller's to decide; after a 503 (the
server took nothing) it is sent again like any other. Odoo's ``create`` is such a creation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from adapters.base import TransientError
from adapters.http import HttpClient
from adapters.odoo.transport import Json2Transport
from adapters.simkit import serve


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[int], list[int]]]:
    """A server answering each POST with the next status of ``failures`` (200 once none is
    left); ``hits`` counts the POSTs it received."""
    failures: list[int] = []
    hits: list[int] = []

    async def create(request: web.Request) -> web.Response:
        hits.append(1)
        status = failures.pop(0) if failures else 200
        return web.json_response({"status": status}, status=status)

    app = web.Application()
    app.router.add_post("/{path:.*}", create)
    async with serve(app) as url:
        yield url, failures, hits


def _client(url: str) -> HttpClient:
    return HttpClient(
        url, requests_per_second=1000, max_concurrency=2, max_attempts=4, backoff=0.001
    )


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_creation_is_not_sent_again_after_an_answer_that_may_follow_the_write(
    server: tuple[str, list[int], list[int]], status: int
) -> None:
    url, failures, hits = server
    client = _client(url)
    try:
        failures.append(status)
        with pytest.raises(TransientError, match=f"HTTP {status}"):
            await client.request("POST", "/create", body=b"{}", idempotent=False)
        assert len(hits) == 1
        failures.append(status)
        answer = await client.request("POST", "/create", body=b"{}")  # idempotent: retried
        assert answer.status == 200 and len(hits) == 3
    finally:
        await client.aclose()


async def test_a_creation_is_sent_again_after_a_503(
    server: tuple[str, list[int], list[int]],
) -> None:
    url, failures, hits = server
    client = _client(url)
    try:
        failures.extend([503, 503])
        answer = await client.request("POST", "/create", body=b"{}", idempotent=False)
        assert answer.status == 200 and len(hits) == 3
    finally:
        await client.aclose()


async def test_odoo_creates_are_sent_once_and_other_calls_again(
    server: tuple[str, list[int], list[int]],
) -> None:
    url, failures, hits = server
    transport = Json2Transport(_client(url))
    try:
        failures.append(502)
        with pytest.raises(TransientError, match="HTTP 502"):
            await transport.call("res.partner", "create", {"vals_list": [{}]}, result=Any)
        assert len(hits) == 1
        failures.append(502)
        await transport.call("res.partner", "write", {"vals": {}}, result=Any, ids=[7])
        assert len(hits) == 3
    finally:
        await transport.aclose()
