"""``concord simulate shopify``: serve a simulated shop until cancelled."""

from __future__ import annotations

import asyncio

from adapters.shopify.simulator.app import create_app
from adapters.shopify.simulator.shop import Settings
from adapters.simkit import serve


async def run_simulator(host: str, port: int, products: int, seed: int) -> None:
    """Serve a seeded Shopify simulator on ``host:port`` until the task is cancelled."""
    settings = Settings()
    app = create_app(products=products, seed=seed, settings=settings)
    async with serve(app, host, port) as url:
        print(f"Shopify simulator: {url}/admin/api/2026-01/graphql.json", flush=True)
        print(f"  access token:    {settings.access_token}", flush=True)
        print(f"  app secret:      {settings.app_secret}", flush=True)
        print(f"  catalogue:       {products} variants, seed {seed}", flush=True)
        await asyncio.Event().wait()
