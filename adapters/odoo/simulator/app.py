"""An Odoo server imitation speaking both external APIs over one in-memory store.

- JSON-2 (Odoo 19+): ``POST /json/2/<model>/<method>`` with ``Authorization: bearer <key>``,
  optional ``X-Odoo-Database``, a body of ``ids``, ``context`` and named parameters; the result
  with 200, errors as 4xx/5xx ``{name, message, arguments, context, debug}``.
- JSON-RPC (``/jsonrpc``): ``common.login``/``authenticate`` give the uid (``false`` when the
  password is wrong), ``object.execute_kw`` runs a method; errors come back with HTTP 200 and a
  JSON-RPC ``error`` member whose ``data`` names the Odoo exception.

Tests reach the data directly through :func:`store_of`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from aiohttp import web

from adapters import simkit
from adapters.odoo.simulator.dispatch import call, name_args
from adapters.odoo.simulator.errors import OdooError
from adapters.odoo.simulator.seed import seed_catalogue
from adapters.odoo.simulator.store import OdooStore
from adapters.simkit import Faults

UID = 2
JSON2_SINCE = (19, 0)
"""The JSON-2 API exists from Odoo 19 on; older servers answer its routes 404."""


def version_info(version: tuple[int, int]) -> dict[str, Any]:
    """``common.version`` as a server of ``version`` answers it (18.1 is ``saas~18.1``)."""
    major, minor = version
    name = f"{major}.{minor}" if minor == 0 else f"saas~{major}.{minor}"
    return {
        "server_version": name,
        "server_version_info": [major, minor, 0, "final", 0, ""],
        "server_serie": name,
        "protocol_version": 1,
    }


class _Config(msgspec.Struct, frozen=True, kw_only=True):
    api_key: str
    database: str
    login: str
    password: str


STORE_KEY = web.AppKey("odoo_store", OdooStore)
_CONFIG_KEY = web.AppKey("odoo_config", _Config)


def store_of(app: web.Application) -> OdooStore:
    """The simulator's data, for tests to seed and edit records directly."""
    return app[STORE_KEY]


def _debug(error: OdooError) -> str:
    return f"Traceback (most recent call last):\n  (simulated)\n{error.name}: {error.message}\n"


def _error_data(error: OdooError, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": error.name,
        "message": error.message,
        "arguments": [error.message],
        "context": context,
        "debug": _debug(error),
    }


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(payload), status=status, content_type="application/json"
    )


_NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
    "<p>The requested URL was not found on the server.</p></body></html>"
)


async def _json2(request: web.Request) -> web.Response:
    config = request.app[_CONFIG_KEY]
    if store_of(request.app).server_version < JSON2_SINCE:
        return web.Response(text=_NOT_FOUND_PAGE, status=404, content_type="text/html")
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or key.strip() != config.api_key:
        error = OdooError("werkzeug.exceptions.Unauthorized", "Invalid apikey", 401)
        body = _error_data(error, {})
        body["arguments"] = ["Invalid apikey", 401]
        return _json(body, 401)
    database = request.headers.get("X-Odoo-Database")
    if database is not None and database != config.database:
        return _json(_error_data(OdooError.not_found(f"database {database!r} not found"), {}), 404)
    try:
        body = msgspec.json.decode(await request.read())
    except msgspec.DecodeError as exc:
        error = OdooError("werkzeug.exceptions.BadRequest", f"Invalid JSON body: {exc}", 400)
        return _json(_error_data(error, {}), 400)
    if not isinstance(body, dict):
        error = OdooError("werkzeug.exceptions.BadRequest", "The body must be a JSON object", 400)
        return _json(_error_data(error, {}), 400)
    ids = body.pop("ids", None) or []
    context = body.pop("context", None) or {}
    try:
        result = call(
            store_of(request.app),
            request.match_info["model"],
            request.match_info["method"],
            list(ids),
            body,
            context,
        )
    except OdooError as error:
        return _json(_error_data(error, context), error.status)
    return _json(result)


def _rpc_error(request_id: Any, error: OdooError, context: dict[str, Any]) -> web.Response:
    return _json(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": 200,
                "message": "Odoo Server Error",
                "data": _error_data(error, context),
            },
        }
    )


def _common(app: web.Application, method: str, args: list[Any]) -> Any:
    config = app[_CONFIG_KEY]
    if method == "version":
        return version_info(app[STORE_KEY].server_version)
    if method in ("login", "authenticate"):
        if len(args) < 3:
            raise OdooError("builtins.TypeError", f"{method}() missing arguments", 422)
        database, login, password = args[0], args[1], args[2]
        accepted = password in (config.password, config.api_key)
        return UID if database == config.database and login == config.login and accepted else False
    raise OdooError.not_found(f"Unknown method common.{method}")


def _object(app: web.Application, method: str, args: list[Any]) -> tuple[Any, dict[str, Any]]:
    config = app[_CONFIG_KEY]
    if method not in ("execute_kw", "execute") or len(args) < 5:
        raise OdooError.not_found(f"Unknown method object.{method}")
    database, uid, password, model, name = args[:5]
    if (
        database != config.database
        or uid != UID
        or password not in (config.password, config.api_key)
    ):
        raise OdooError.access_denied()
    if method == "execute_kw":
        positional = list(args[5]) if len(args) > 5 else []
        kwargs = dict(args[6]) if len(args) > 6 and args[6] else {}
    else:
        positional, kwargs = list(args[5:]), {}
    context = kwargs.pop("context", None) or {}
    ids, params = name_args(name, positional, kwargs)
    result = call(app[STORE_KEY], model, name, ids, params, context)
    if name == "create" and positional and isinstance(positional[0], dict):
        result = result[0]  # one dict in, one id out, as Odoo answers
    return result, context


async def _jsonrpc(request: web.Request) -> web.Response:
    try:
        envelope = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        envelope = None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("params"), dict):
        error = OdooError("werkzeug.exceptions.BadRequest", "Invalid JSON-RPC request", 400)
        return _rpc_error(None, error, {})
    request_id = envelope.get("id")
    params = envelope["params"]
    service, method = params.get("service"), params.get("method")
    args = params.get("args") or []
    context: dict[str, Any] = {}
    try:
        if service == "common":
            result = _common(request.app, str(method), list(args))
        elif service == "object":
            result, context = _object(request.app, str(method), list(args))
        else:
            raise OdooError.not_found(f"Unknown service {service!r}")
    except OdooError as error:
        return _rpc_error(request_id, error, context)
    return _json({"jsonrpc": "2.0", "id": request_id, "result": result})


def create_app(
    *,
    products: int = 0,
    seed: int = 0,
    varied: bool = False,
    api_key: str = "odoo-test-key",
    database: str = "odoo",
    login: str = "admin",
    password: str = "admin",
    faults: Faults | None = None,
    version: tuple[int, int] = (19, 0),
) -> web.Application:
    """An Odoo simulator holding a seeded catalogue of ``products`` articles (``varied``: with
    services, archived articles, padded unicode names, a category named with " / "), serving the
    field names and APIs of Odoo ``version`` (17.0, 18.0, 18.1, 19.0...)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    store = OdooStore(server_version=version)
    seed_catalogue(store, products=products, seed=seed, varied=varied)
    app[STORE_KEY] = store
    app[_CONFIG_KEY] = _Config(api_key=api_key, database=database, login=login, password=password)
    simkit.install_faults(app, faults)
    app.router.add_post("/json/2/{model}/{method}", _json2)
    app.router.add_post("/jsonrpc", _jsonrpc)
    return app


async def run_simulator(host: str, port: int, products: int, seed: int) -> None:
    """Serve a seeded Odoo simulator until cancelled, printing where and how to connect."""
    app = create_app(products=products, seed=seed)
    config = app[_CONFIG_KEY]
    async with simkit.serve(app, host, port) as url:
        print(f"Odoo simulator listening on {url} ({products} products, seed {seed})")
        print(f"  JSON-2:   POST {url}/json/2/<model>/<method>")
        print(
            f"            Authorization: bearer {config.api_key}"
            f"   X-Odoo-Database: {config.database}"
        )
        print(
            f"  JSON-RPC: POST {url}/jsonrpc   database={config.database} "
            f"login={config.login} password={config.password}"
        )
        await asyncio.Event().wait()
