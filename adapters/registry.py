"""Adapters by the ``type`` named in a connection's settings.

Factories are imported on first use, so a configuration naming one platform never loads the
others. To add a platform, add its ``type`` here (see the README, "Adding an adapter").
"""

from __future__ import annotations

import importlib
from collections.abc import Coroutine, Mapping
from typing import Any, Protocol, cast

from adapters.base import Adapter, AdapterFactory
from canonical.errors import ConfigError

FACTORIES: dict[str, str] = {
    "memory": "adapters.memory.adapter:create",
    "woocommerce": "adapters.woocommerce.adapter:create",
    "odoo": "adapters.odoo.adapter:create",
    "tryton": "adapters.tryton.adapter:create",
    "shopify": "adapters.shopify.adapter:create",
}


SIMULATORS: dict[str, str] = {
    "woocommerce": "adapters.woocommerce.simulator.runner:run_simulator",
    "odoo": "adapters.odoo.simulator.app:run_simulator",
    "shopify": "adapters.shopify.simulator.runner:run_simulator",
}


class SimulatorRunner(Protocol):
    def __call__(
        self, host: str, port: int, products: int, seed: int
    ) -> Coroutine[Any, Any, None]: ...


def simulator_runner(platform: str) -> SimulatorRunner:
    """The function serving ``platform``'s simulator until cancelled."""
    module_name, _, attribute = SIMULATORS[platform].partition(":")
    return cast(SimulatorRunner, getattr(importlib.import_module(module_name), attribute))


def build_adapter(settings: Mapping[str, Any], *, source: str, path: str) -> Adapter:
    """Build the adapter described by ``settings`` (the table at ``path`` in ``source``)."""
    kind = settings.get("type")
    if kind not in FACTORIES:
        known = ", ".join(sorted(FACTORIES))
        raise ConfigError(source, f"{path}.type", f"unknown adapter {kind!r} (known: {known})")
    module_name, _, attribute = FACTORIES[str(kind)].partition(":")
    factory = cast(AdapterFactory, getattr(importlib.import_module(module_name), attribute))
    return factory({**settings, "_path": path}, source=source)
