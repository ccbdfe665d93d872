"""A running Shopify simulator and a plain GraphQL client to it, for the simulator's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from adapters.shopify.simulator import ManualClock, Settings, Shop, create_app, shop_of
from adapters.simkit import serve

TOKEN = "shpat_test"


class Client:
    """Posts GraphQL to one simulated shop over loopback HTTP."""

    def __init__(self, session: aiohttp.ClientSession, base: str, app: web.Application) -> None:
        self.session = session
        self.base = base
        self.app = app
        self.shop: Shop = shop_of(app)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        version: str = "2026-01",
        token: str | None = TOKEN,
    ) -> tuple[aiohttp.ClientResponse, Any]:
        headers = {} if token is None else {"X-Shopify-Access-Token": token}
        async with self.session.post(
            f"{self.base}/admin/api/{version}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        ) as response:
            return response, await response.json()

    async def gql(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The ``data`` of a successful answer (fails the test on GraphQL errors)."""
        response, body = await self.post(query, variables, **kw)
        assert response.status == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]


@asynccontextmanager
async def running_shop(
    products: int = 20,
    seed: int = 7,
    *,
    clock: ManualClock | None = None,
    settings: Settings | None = None,
    search_lag: float = 0.0,
) -> AsyncIterator[Client]:
    """A seeded shop on a loopback port (``products`` variants) and a client to it."""
    app = create_app(
        products=products,
        seed=seed,
        clock=clock or ManualClock(),
        settings=settings,
        search_lag=search_lag,
    )
    async with serve(app) as base, aiohttp.ClientSession() as session:
        yield Client(session, base, app)
