"""``concord serve``: the pages on the configured address, until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from aiohttp import web

from canonical.errors import ConfigError
from canonical.secrets import read_secret
from engine.config import Config
from engine.orders.queue import OrderImportQueue, order_importer
from engine.runtime import open_adapters, open_config_store
from engine.store.state import Store
from rules.order_config import webhook_secret
from web.app import create_app
from web.auth import MIN_TOKEN_LENGTH
from web.metrics import metrics_handler
from web.webhooks import DIALECTS, order_webhook

log = logging.getLogger("concord.serve")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def read_token(config: Config) -> str:
    """The access token named by ``[serve]`` (``token_file`` when set, else ``token_env``)."""
    serve = config.serve
    settings = (
        {"token_file": serve.token_file} if serve.token_file else {"token_env": serve.token_env}
    )
    token = read_secret(settings, "token", source=config.source, prefix="serve")
    if len(token) < MIN_TOKEN_LENGTH:
        key = "serve.token_file" if serve.token_file else "serve.token_env"
        raise ConfigError(
            config.source, key, f"the access token must have at least {MIN_TOKEN_LENGTH} characters"
        )
    return token


@asynccontextmanager
async def running(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """Serve ``app`` on ``host``:``port`` (0: any free port) while inside; yields its URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
        yield f"http://{shown}:{bound_port}"
    finally:
        await runner.cleanup()


async def serve_forever(
    config: Config,
    *,
    host: str | None = None,
    port: int | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the pages for ``config`` until cancelled. ``host``/``port`` override ``[serve]``."""
    token = read_token(config)
    host = host or config.serve.host
    port = config.serve.port if port is None else port
    async with open_config_store(config) as store, AsyncExitStack() as stack:
        hooks = await _order_webhooks(config, store, stack)
        # Budgets live in the `concord run` workers; a separate serve process reports none.
        metrics = web.get("/metrics", metrics_handler(store, ()))
        app = create_app(
            store, token=token, config=config, extra_routes=[metrics], public_routes=hooks
        )
        async with running(app, host, port) as url:
            if host not in LOOPBACK:
                log.warning(
                    "serving on %s: reachable from other machines; only the token protects it "
                    "and traffic is not encrypted (put it behind an HTTPS proxy)",
                    host,
                )
            announce(f"serving the review pages on {url}/ (Ctrl-C to stop)")
            await asyncio.Event().wait()


async def _order_webhooks(
    config: Config, store: Store, stack: AsyncExitStack
) -> list[web.RouteDef]:
    """A signed webhook endpoint per connection whose ``[orders]`` names a webhook secret,
    each feeding a queue of immediate imports (polling stays the safety net)."""
    routes: list[web.RouteDef] = []
    for name, connection in config.connections.items():
        orders = connection.orders
        if not orders.enabled or not (orders.webhook_secret_env or orders.webhook_secret_file):
            continue
        where = f"connections.{name}"
        platform = str(connection.shop.get("type", ""))
        dialect = DIALECTS.get(platform)
        if dialect is None:
            raise ConfigError(
                config.source,
                f"{where}.orders."
                + ("webhook_secret_env" if orders.webhook_secret_env else "webhook_secret_file"),
                f"the shop type {platform!r} sends no order webhooks Concord receives "
                f"(webhooks come from: {', '.join(sorted(DIALECTS))}); remove the secret and "
                "let the polling import take the orders",
            )
        secret = webhook_secret(orders, source=config.source, prefix=f"{where}.orders")
        adapters = await stack.enter_async_context(open_adapters(config, name))
        queue = OrderImportQueue(
            order_importer(store, connection=name, adapters=adapters, config=orders)
        )
        worker = asyncio.create_task(queue.run(), name=f"webhook imports for {name}")
        stack.callback(worker.cancel)
        handler = order_webhook(
            store=store, connection=name, secret=secret, trigger=queue.put, dialect=dialect
        )
        routes.append(web.post(f"/webhooks/{dialect.platform}/{name}", handler))
    return routes
