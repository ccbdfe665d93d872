"""Run the order jobs of one connection once: ``python -m engine.orders.worker``.

::

    python -m engine.orders.worker --config concord.toml --connection main [--full]
    python -m engine.orders.worker --job feedback      # statuses, invoices, refunds back
    python -m engine.orders.worker --job audit [--since 2025-01-01]

The scheduler runs the same functions on their schedules; this entry point runs one of them
now, in a process of its own (the crash tests kill it; see :mod:`engine.orders.faults`).
It prints the run's counts as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from datetime import datetime

import msgspec

from adapters.base import Adapter, AdapterError, Side
from canonical.errors import ConcordError
from engine.config import load_config
from engine.runtime import open_adapters, open_config_store
from engine.store.health import DRIVER_ERRORS, watched, while_reachable
from engine.store.state import Store
from rules.order_config import OrdersConfig

DEFAULT_CONFIG = "concord.toml"


async def run_once(
    config_path: str, connection: str, job: str, *, full: bool, since: datetime | None
) -> dict[str, int]:
    """Run one order job of ``connection`` now; returns its counts."""
    config = load_config(config_path)
    if connection not in config.connections:
        raise ConcordError(f"{config.source}: no connection {connection!r}")
    orders = config.connections[connection].orders
    async with (
        open_config_store(config) as store,
        watched(store.health),
        open_adapters(config, connection) as adapters,
    ):
        return await while_reachable(
            store.health, _run_job(store, adapters, connection, job, orders, full=full, since=since)
        )


async def _run_job(
    store: Store,
    adapters: Mapping[Side, Adapter],
    connection: str,
    job: str,
    orders: OrdersConfig,
    *,
    full: bool,
    since: datetime | None,
) -> dict[str, int]:
    """One order job, by name."""
    if job == "import":
        from engine.orders.importer import run_orders

        result = await run_orders(
            store, connection=connection, adapters=adapters, config=orders, full=full
        )
        return result.counts
    if job == "feedback":
        from engine.orders.feedback import run_feedback

        outcome = await run_feedback(
            store, connection=connection, adapters=adapters, config=orders, full=full
        )
        return outcome.counts
    from engine.orders.audit import run_audit

    report = await run_audit(
        store, connection=connection, adapters=adapters, config=orders, since=since
    )
    return report.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.orders.worker", description=__doc__)
    parser.add_argument("--config", default=os.environ.get("CONCORD_CONFIG", DEFAULT_CONFIG))
    parser.add_argument("--connection", default="main")
    parser.add_argument("--job", choices=("import", "feedback", "audit"), default="import")
    parser.add_argument("--full", action="store_true", help="read every shop order")
    parser.add_argument("--since", type=datetime.fromisoformat, default=None)
    args = parser.parse_args(argv)
    try:
        counts = asyncio.run(
            run_once(args.config, args.connection, args.job, full=args.full, since=args.since)
        )
    except (ConcordError, AdapterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DRIVER_ERRORS as exc:  # one the store did not wrap: still one line
        print(f"error: the database failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(msgspec.json.encode(counts).decode())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
