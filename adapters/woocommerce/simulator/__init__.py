"""A WooCommerce REST API v3 simulator (``/wp-json/wc/v3``), run over real HTTP in tests.

Entry points: :func:`create_app` builds the application, :func:`store_of` gives tests the shop's
records to plant or edit, :func:`run_simulator` serves one for the command line.
"""

from adapters.woocommerce.simulator.app import create_app, deliveries_of, store_of
from adapters.woocommerce.simulator.common import SimError
from adapters.woocommerce.simulator.receiver import Delivery, WebhookInbox
from adapters.woocommerce.simulator.runner import run_simulator
from adapters.woocommerce.simulator.store import Store
from adapters.woocommerce.simulator.webhooks import signature

__all__ = [
    "Delivery",
    "SimError",
    "Store",
    "WebhookInbox",
    "create_app",
    "deliveries_of",
    "run_simulator",
    "signature",
    "store_of",
]
