"""A JSON-RPC client for one Tryton database: sign-in, session, context, paged reads.

Tryton answers a business refusal (a validation, an access rule, a user error) with HTTP 200 and
an ``error`` member; that becomes :class:`TrytonFault`, which writers turn into per-record
failures. A session that expired (HTTP 401) is renewed once by signing in again; HTTP Basic is
never used because Tryton hashes the password on every such call (about 220 ms each).

Replies must be gzipped: Tryton 8.2 streams a large uncompressed reply in tiny pieces, about ten
times slower, and aiohttp asks for gzip by default. Large request bodies are gzipped too.

A call that creates records is sent once (:func:`creates`); the writers look up what a call
whose answer was lost may have made before creating again.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.base import AuthError, PermanentError, TransientError
from adapters.http import HttpClient
from adapters.tryton import wire

ID_ORDER = [["id", "ASC"]]
PAGE = 1000
"""Rows per read: Tryton's record cache holds 2,000 and reads slow down sharply past it."""


CREATING_METHODS = frozenset({"create", "copy"})


def creates(method: str, params: Sequence[Any]) -> bool:
    """Whether the call makes records: ``model.*.create`` or ``model.*.copy``, or any call
    (a ``write``) whose values hold a nested ``["create", [...]]`` action for its children."""
    if method.startswith("model.") and method.rpartition(".")[2] in CREATING_METHODS:
        return True
    return _holds_create(list(params))


def _holds_create(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_create(v) for v in value.values())
    if isinstance(value, list | tuple):
        if len(value) == 2 and value[0] == "create" and isinstance(value[1], list | tuple):
            return True
        return any(_holds_create(v) for v in value)
    return False


class TrytonFault(Exception):
    """Tryton refused a call: ``kind`` is its exception name (``UserError``, ``UserWarning``,
    ``ConcurrencyException``, or ``ServerError`` for an unexpected failure)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    @property
    def about_data(self) -> bool:
        """Whether the refusal is about the values sent (worth retrying record by record)."""
        return self.kind in ("UserError", "UserWarning")

    def __str__(self) -> str:
        return f"Tryton {self.kind}: {self.message}"


def _fault(error: Any) -> TrytonFault:
    if isinstance(error, list) and len(error) == 2 and isinstance(error[0], str):
        kind, args = error
        if kind in ("UserError", "UserWarning", "LoginException"):
            parts = args if isinstance(args, list) else [args]
            if kind != "UserError":
                parts = parts[1:]  # the warning's or login field's name comes first
            text = " - ".join(str(p) for p in parts[:2] if p)
            return TrytonFault(kind, text or kind)
        if kind == "ConcurrencyException":
            return TrytonFault(kind, str(args))
        # An unexpected server exception: its text, then a traceback we do not repeat.
        return TrytonFault("ServerError", kind.strip().splitlines()[-1] if kind.strip() else "")
    return TrytonFault("ServerError", str(error)[:300])


class TrytonClient:
    """Calls on one database as one user. ``context`` comes from the user's preferences."""

    def __init__(
        self, http: HttpClient, *, database: str, login: str, password: str, page: int = PAGE
    ) -> None:
        self.http = http
        self.database = database
        self.login_name = login
        self._password = password
        self.page = page
        self.context: dict[str, Any] = {}
        self.user: int | None = None
        """The signed-in user's id (what its records' ``create_uid`` holds)."""
        self._authorization: str | None = None
        self._signing_in: asyncio.Lock | None = None
        self._next_id = 0

    def __repr__(self) -> str:
        return f"TrytonClient({self.http.base_url!r}, database={self.database!r})"

    async def _post(self, path: str, method: str, params: Sequence[Any]) -> tuple[int, Any]:
        self._next_id += 1
        body = wire.encode({"id": self._next_id, "method": method, "params": list(params)})
        headers: dict[str, str] = {}
        if self._authorization is not None and path != "/rpc/":
            body, headers = wire.compress(body)
            headers["Authorization"] = self._authorization
        # A creation answered 500, 502 or 504, or not at all, may have been carried out: sent
        # again, it would make the records twice. The HTTP client re-sends it only when Tryton
        # took nothing; otherwise the writer's next attempt finds what it made.
        response = await self.http.request(
            "POST",
            path,
            body=body,
            ok=(200, 401, 404),
            extra_headers=headers,
            idempotent=not creates(method, params),
        )
        if response.status != 200:
            return response.status, None
        try:
            reply = wire.decode(response.body)
        except ValueError:
            raise TransientError(f"{method}: Tryton sent a reply that is not JSON") from None
        if not isinstance(reply, dict):
            raise PermanentError(f"{method}: unexpected Tryton reply {str(reply)[:200]}")
        if "error" in reply and reply["error"] is not None:
            fault = _fault(reply["error"])
            if fault.kind == "ConcurrencyException":
                raise TransientError(f"{method}: {fault}")
            raise fault
        return 200, reply.get("result")

    async def version(self) -> str:
        """The server's series ("8.2"); needs no sign-in."""
        _, result = await self._post("/rpc/", "common.server.version", [])
        return str(result)

    async def sign_in(self) -> None:
        """Open a session and load the user's context (company, language...)."""
        if self._signing_in is None:
            self._signing_in = asyncio.Lock()
        async with self._signing_in:
            self._authorization = None
            status, result = await self._post(
                f"/{self.database}/rpc/",
                "common.db.login",
                [self.login_name, {"password": self._password}, "en"],
            )
            if status == 404:
                raise PermanentError(f"Tryton has no database {self.database!r}")
            if status == 401 or not isinstance(result, list) or len(result) < 2:
                raise AuthError(f"Tryton refused the login {self.login_name!r}")
            uid, token = result[0], result[1]
            self.user = int(uid)
            raw = f"{self.login_name}:{uid}:{token}".encode()
            self._authorization = "Session " + base64.b64encode(raw).decode("ascii")
            preferences = await self.call("model.res.user.get_preferences", True, {})
            self.context = dict(preferences) if isinstance(preferences, dict) else {}

    async def call(self, method: str, *params: Any) -> Any:
        """Call ``method`` on the database, signing in first or again when needed."""
        if self._authorization is None:
            await self.sign_in()
        path = f"/{self.database}/rpc/"
        status, result = await self._post(path, method, params)
        if status == 401:
            await self.sign_in()
            status, result = await self._post(path, method, params)
        if status == 401:
            raise AuthError(f"Tryton refused the session of {self.login_name!r}")
        if status == 404:
            raise PermanentError(f"{method}: not found on Tryton database {self.database!r}")
        return result

    async def execute(
        self, model: str, method: str, *args: Any, context: Mapping[str, Any] | None = None
    ) -> Any:
        """``model.<model>.<method>(*args, context)`` with the user's context."""
        if self._authorization is None:
            await self.sign_in()
        return await self.call(
            f"model.{model}.{method}", *args, {**self.context, **(context or {})}
        )

    async def search(
        self,
        model: str,
        domain: list[Any],
        *,
        order: list[list[str]] | None = None,
        limit: int | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Ids matching ``domain`` (ids are cheap: 30,000 in about 0.1 s)."""
        found = await self.execute(
            model, "search", domain, 0, limit, order or ID_ORDER, context=context
        )
        return [int(i) for i in found]

    async def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows by id in pages, several pages in flight (the HTTP client bounds how many)."""
        pages = [list(ids[i : i + self.page]) for i in range(0, len(ids), self.page)]
        replies = await asyncio.gather(
            *(self.execute(model, "read", page, list(fields), context=context) for page in pages)
        )
        return [row for rows in replies for row in rows]

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Every row matching ``domain``: the ids first, then their pages."""
        ids = await self.search(model, domain, context=context)
        return await self.read(model, ids, fields, context=context)

    async def aclose(self) -> None:
        await self.http.aclose()
