"""``concord simulate woocommerce``: serve a simulated shop until cancelled."""

from __future__ import annotations

import asyncio

from adapters.simkit import serve
from adapters.woocommerce.simulator.app import create_app

CONSUMER_KEY = "ck_test"
CONSUMER_SECRET = "cs_test"


async def run_simulator(host: str, port: int, products: int, seed: int) -> None:
    """Serve a seeded WooCommerce simulator on ``host:port`` until the task is cancelled."""
    app = create_app(
        products=products, seed=seed, consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET
    )
    async with serve(app, host, port) as url:
        print(f"WooCommerce simulator: {url}/wp-json/wc/v3", flush=True)
        print(f"  consumer key:    {CONSUMER_KEY}", flush=True)
        print(f"  consumer secret: {CONSUMER_SECRET}", flush=True)
        print(f"  catalogue:       {products} products, seed {seed}", flush=True)
        await asyncio.Event().wait()
