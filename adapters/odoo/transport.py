"""How a call reaches Odoo: JSON-2 or JSON-RPC, behind one small interface.

:class:`Transport` has one method, ``call(model, method, params, ids=..., context=...)``; the
adapter is written against it. Odoo's own errors become :class:`OdooFault` (a
:class:`~adapters.base.PermanentError` naming the Odoo exception), ``AccessDenied`` and refused
keys become :class:`~adapters.base.AuthError`, and a reply that cannot be decoded is a
:class:`~adapters.base.TransientError` (a body cut short on the way).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from adapters.base import AuthError, PermanentError, TransientError
from adapters.http import HttpClient
from adapters.odoo.wire import ErrorBody, RpcError

T = TypeVar("T")

READ_METHODS = frozenset({"search_read", "search", "search_count", "read", "fields_get"})
CREATING_METHODS = frozenset({"create", "copy"})
"""Sent once: after an answer that may follow the write (a 502, a timeout) the caller looks
the record up by its reference before creating it again, instead of the HTTP client
creating it twice."""
_JSON2_ANSWERS = (200, 400, 403, 404, 409, 422, 500)
"""Statuses whose body is read: Odoo's JSON-2 errors (a deterministic refusal may come as a
500). 502, 503 and 504 are a proxy's or an overloaded server's, retried by the HTTP client."""
_DECODE_ATTEMPTS = 3


class OdooFault(PermanentError):
    """Odoo refused the call: ``name`` is the exception (``odoo.exceptions.ValidationError``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message

    @property
    def about_data(self) -> bool:
        """Whether the refusal is about the values sent (so other items may still succeed)."""
        short = self.name.rsplit(".", 1)[-1]
        return short in ("ValidationError", "UserError", "ValueError", "MissingError", "TypeError")


_RETRYABLE = ("SerializationFailure", "LockNotAvailable", "ConcurrencyError", "OperationalError")
"""Exceptions Odoo reports for a clash with a concurrent transaction: asking again may work."""


def _fault(error: ErrorBody) -> AuthError | OdooFault | TransientError:
    """Odoo's own error, by the exception it names: refused credentials, a concurrent update
    (transient), or a refusal about the call itself (validation, access, missing record, an
    invalid field...), which asking again would only repeat."""
    short = error.name.rsplit(".", 1)[-1]
    if short in ("AccessDenied", "Unauthorized"):
        return AuthError(f"Odoo refused the credentials: {error.message}")
    if short in _RETRYABLE:
        return TransientError(f"{error.name}: {error.message}")
    return OdooFault(error.name or "Odoo error", error.message)


def _json2_error(method: str, status: int, body: bytes) -> AuthError | PermanentError:
    """An error answer of the JSON-2 API: Odoo's JSON body names the exception; a 404 without
    one is a server that has no JSON-2 API at all (before Odoo 19)."""
    try:
        error = _decoder(ErrorBody).decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        error = None
    if error is not None and error.name:
        fault = _fault(error)
        if isinstance(fault, TransientError):
            raise fault
        return fault
    if status == 404:
        return PermanentError(
            f"Odoo {method}: this server has no JSON-2 API (it exists from Odoo 19 on): "
            'set protocol = "jsonrpc" in the connection\'s [erp] table'
        )
    raise TransientError(f"Odoo {method}: HTTP {status} without an Odoo error body")


class Transport(Protocol):
    """One ORM call on one Odoo database."""

    async def call(
        self,
        model: str,
        method: str,
        params: Mapping[str, Any],
        *,
        result: type[T],
        ids: Sequence[int] = (),
        context: Mapping[str, Any] | None = None,
    ) -> T: ...

    async def aclose(self) -> None: ...


class _Reply(msgspec.Struct, Generic[T]):
    result: T | None = None
    error: RpcError | None = None


@lru_cache(maxsize=64)
def _decoder(shape: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(shape)


_NOT_UTF8 = "UTF-8"


def _not_utf8(method: str) -> PermanentError:
    # Not a transport hiccup (asking again gives the same bytes): a clear error, not a crash
    # of the caller with a decoder's exception.
    return PermanentError(f"Odoo {method}: reply is not valid UTF-8")


async def _with_decode_retries(method: str, attempt: Any) -> Any:
    # A body cut short is retried here for reads only: a write may have been applied already,
    # and the engine retries whole batches safely (creations are idempotent on the natural key).
    tries = _DECODE_ATTEMPTS if method in READ_METHODS else 1
    for remaining in range(tries - 1, -1, -1):
        try:
            return await attempt()
        except msgspec.DecodeError as exc:
            # msgspec 0.23 and later report text that is not UTF-8 as a DecodeError too.
            if _NOT_UTF8 in str(exc):
                raise _not_utf8(method) from None
            if remaining == 0:
                raise TransientError(f"Odoo {method}: malformed reply: {exc}") from None
        except UnicodeDecodeError:
            raise _not_utf8(method) from None
    raise AssertionError("unreachable")


class Json2Transport:
    """``POST /json/2/<model>/<method>`` with a bearer API key (Odoo 19+)."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    async def call(
        self,
        model: str,
        method: str,
        params: Mapping[str, Any],
        *,
        result: type[T],
        ids: Sequence[int] = (),
        context: Mapping[str, Any] | None = None,
    ) -> T:
        body: dict[str, Any] = dict(params)
        if ids:
            body["ids"] = list(ids)
        if context:
            body["context"] = dict(context)
        payload = msgspec.json.encode(body)

        async def attempt() -> T:
            response = await self._http.request(
                "POST",
                f"/json/2/{model}/{method}",
                body=payload,
                ok=_JSON2_ANSWERS,
                idempotent=method not in CREATING_METHODS,
            )
            if response.status != 200:
                raise _json2_error(method, response.status, response.body)
            shape: Any = result
            decoded: T = _decoder(shape).decode(response.body)
            return decoded

        answer: T = await _with_decode_retries(method, attempt)
        return answer

    async def aclose(self) -> None:
        await self._http.aclose()


class JsonRpcTransport:
    """``/jsonrpc`` ``object.execute_kw`` after ``common.authenticate`` (deprecated in 19)."""

    def __init__(self, http: HttpClient, *, database: str, login: str, password: str) -> None:
        self._http = http
        self._database = database
        self._login = login
        self._password = password
        self._uid: int | None = None
        self._login_lock = asyncio.Lock()
        self._ids = itertools.count(1)

    async def _rpc(
        self, service: str, method: str, args: list[Any], shape: Any, *, idempotent: bool = True
    ) -> Any:
        payload = msgspec.json.encode(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": args},
                "id": next(self._ids),
            }
        )

        async def attempt() -> Any:
            response = await self._http.request(
                "POST", "/jsonrpc", body=payload, idempotent=idempotent
            )
            reply = _decoder(_Reply[shape]).decode(response.body)
            if reply.error is not None:
                raise _fault(reply.error.data)
            return reply.result

        return await _with_decode_retries(method if service == "common" else args[4], attempt)

    async def _uid_for_calls(self) -> int:
        async with self._login_lock:
            if self._uid is None:
                uid = await self._rpc(
                    "common",
                    "authenticate",
                    [self._database, self._login, self._password, {}],
                    int | bool,
                )
                if not isinstance(uid, int) or isinstance(uid, bool):
                    raise AuthError(f"Odoo refused the login {self._login!r} on {self._database!r}")
                self._uid = uid
            return self._uid

    async def call(
        self,
        model: str,
        method: str,
        params: Mapping[str, Any],
        *,
        result: type[T],
        ids: Sequence[int] = (),
        context: Mapping[str, Any] | None = None,
    ) -> T:
        uid = await self._uid_for_calls()
        kwargs = dict(params)
        args: list[Any] = []
        if method == "create":
            # Odoo's create reads its values positionally; by name it fails on older servers.
            args = [kwargs.pop("vals_list")]
        elif ids or method not in ("search_read", "search", "search_count", "fields_get"):
            args = [list(ids)]
        if context:
            kwargs["context"] = dict(context)
        answer: T = await self._rpc(
            "object",
            "execute_kw",
            [self._database, uid, self._password, model, method, args, kwargs],
            result,
            idempotent=method not in CREATING_METHODS,
        )
        return answer

    async def aclose(self) -> None:
        await self._http.aclose()
