"""The web application behind ``concord serve``: the review and status pages.

:func:`create_app` is the one entry point. Other features add their routes through it:
``extra_routes`` sit behind the same access token and CSRF checks as the pages (a metrics
endpoint scraped with ``Authorization: Bearer``), ``public_routes`` authenticate their callers
themselves (a shop's signed webhooks) and skip those checks. Every response, whatever its route,
gets the security headers.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from engine.config import Config
from engine.store.state import Store
from web import auth, review, status, templating
from web.auth import GUARD, Guard, access_control, security_headers
from web.context import SITE, Site
from web.review_store import ReviewStore

MAX_FORM_BYTES = 4 * 1024 * 1024
"""A bulk form names a few thousand conflicts at most; anything larger is refused."""


def create_app(
    store: Store,
    *,
    token: str,
    extra_routes: Sequence[web.RouteDef] = (),
    public_routes: Sequence[web.RouteDef] = (),
    config: Config | None = None,
) -> web.Application:
    """The application serving the pages on ``store``.

    ``token`` is the access token (at least 16 characters). ``config``, when given, lets the
    pages show each conflict's rule and each connection's jobs.
    """
    guard = Guard(token)
    public = {route.handler for route in public_routes}
    app = web.Application(
        middlewares=[security_headers, access_control(guard, public)],
        client_max_size=MAX_FORM_BYTES,
    )
    templating.setup(app)
    app[GUARD] = guard
    app[SITE] = Site(store=store, review=ReviewStore(store), config=config)
    app.router.add_routes(auth.routes)
    app.router.add_routes(review.routes)
    app.router.add_routes(status.routes)
    app.router.add_routes(extra_routes)
    app.router.add_routes(public_routes)
    return app
