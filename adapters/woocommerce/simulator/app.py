"""The simulated WooCommerce shop as an aiohttp application."""

from __future__ import annotations

from aiohttp import web

from adapters.simkit import Faults, install_faults
from adapters.woocommerce.simulator import orders, tax_routes, taxonomy, webhooks
from adapters.woocommerce.simulator import products as products_module
from adapters.woocommerce.simulator.catalogue import seed_catalogue
from adapters.woocommerce.simulator.common import SimError
from adapters.woocommerce.simulator.products import STORE_KEY
from adapters.woocommerce.simulator.rest import CREDENTIALS_KEY, fail, rest_middleware
from adapters.woocommerce.simulator.store import Store
from adapters.woocommerce.simulator.webhooks import DELIVERIES_KEY, Deliveries


async def _no_route(request: web.Request) -> web.Response:
    return fail(
        SimError(
            "rest_no_route", "No route was found matching the URL and request method.", status=404
        )
    )


def create_app(
    *,
    products: int = 0,
    seed: int = 0,
    consumer_key: str = "ck_test",
    consumer_secret: str = "cs_test",
    faults: Faults | None = None,
    max_body: int = 64 * 1024 * 1024,
) -> web.Application:
    """A WooCommerce shop answering ``/wp-json/wc/v3`` with a seeded catalogue.

    ``products`` and ``seed`` decide the catalogue; requests must authenticate with
    ``consumer_key``/``consumer_secret``; ``faults`` switches on injected misbehaviour
    (see :mod:`adapters.simkit`). Records can be edited directly through :func:`store_of`.
    ``max_body`` is the largest request body accepted (413 above it, as from a proxy's limit).
    """
    # PHP's post_max_size (8 MB by default, raised by most hosts), not aiohttp's 1 MB: a batch
    # carrying a long description is accepted, as WordPress accepts it.
    app = web.Application(client_max_size=max_body)
    # Faults first, so injected 429s and errors come before authentication, as from a proxy.
    install_faults(app, faults)
    app.middlewares.append(rest_middleware)
    store = Store()
    seed_catalogue(store, products, seed)
    app[STORE_KEY] = store
    app[CREDENTIALS_KEY] = (consumer_key, consumer_secret)
    deliveries = Deliveries(store)
    app[DELIVERIES_KEY] = deliveries

    async def close_deliveries(app: web.Application) -> None:
        await deliveries.close()

    app.on_cleanup.append(close_deliveries)
    products_module.add_routes(app)
    taxonomy.add_routes(app)
    tax_routes.add_routes(app)
    orders.add_routes(app)
    webhooks.add_routes(app)
    app.router.add_route("*", "/wp-json/{tail:.*}", _no_route)
    return app


def store_of(app: web.Application) -> Store:
    """The in-memory shop behind ``app``, for tests to plant and edit records."""
    return app[STORE_KEY]


def deliveries_of(app: web.Application) -> Deliveries:
    """The webhook sender of ``app`` (its ``sent`` log lists every delivery attempt)."""
    return app[DELIVERIES_KEY]
