"""``concord serve``: the pages on the configured address, until stopped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from engine.config import Config
from engine.errors import ConfigError
from engine.runtime import open_config_store
from engine.secrets import read_secret
from web.app import create_app
from web.auth import MIN_TOKEN_LENGTH
from web.metrics import metrics_handler

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
    async with open_config_store(config) as store:
        # Budgets live in the `concord run` workers; a separate serve process reports none.
        metrics = web.get("/metrics", metrics_handler(store, ()))
        app = create_app(store, token=token, config=config, extra_routes=[metrics])
        async with running(app, host, port) as url:
            if host not in LOOPBACK:
                log.warning(
                    "serving on %s: reachable from other machines; only the token protects it "
                    "and traffic is not encrypted (put it behind an HTTPS proxy)",
                    host,
                )
            announce(f"serving the review pages on {url}/ (Ctrl-C to stop)")
            await asyncio.Event().wait()
