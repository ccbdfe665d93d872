"""Who may use the pages, and proof that an action came from them.

- Access needs the token: ``Authorization: Bearer <token>`` on each request, or the sign-in
  form, which opens a server-side session held in an ``HttpOnly``, ``SameSite=Strict`` cookie.
- Every state-changing request (any method but GET/HEAD/OPTIONS) must carry the session's
  synchronizer token (form field ``csrf`` or header ``X-CSRF-Token``), compared in constant time,
  and, when the browser sends an ``Origin``, come from this server's own origin. The sign-in form
  is covered too: its token is tied to a short-lived pre-session cookie.
- Every response gets a nonce-based Content-Security-Policy, ``X-Frame-Options: DENY``,
  ``nosniff``, no referrer to other sites, and ``Cache-Control: no-store`` (business data).

Routes that authenticate their callers themselves (a shop's signed webhooks) are registered as
public and skip the session and CSRF checks, never the headers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import msgspec
from aiohttp import web

from web.templating import NONCE, render_page, render_text

SESSION_COOKIE = "concord_session"
LOGIN_COOKIE = "concord_login"
SESSION_SECONDS = 12 * 3600
LOGIN_SECONDS = 3600
MIN_TOKEN_LENGTH = 16
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NAME_LIMIT = 80

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Session(msgspec.Struct, kw_only=True):
    """A signed-in person: their name (for the review trail) and their synchronizer token."""

    id: str
    user: str
    csrf: str
    expires: float
    notices: list[tuple[str, str]] = []
    """Messages for the next page shown (kind, text), e.g. what a resolve did."""

    def notify(self, kind: str, text: str) -> None:
        self.notices.append((kind, text))

    def take_notices(self) -> list[tuple[str, str]]:
        taken, self.notices = self.notices, []
        return taken


SESSION = web.RequestKey("session", Session)


def clean_name(text: str) -> str:
    """A person's name as the review trail keeps it: one line, printable, bounded."""
    name = " ".join("".join(c for c in text if c.isprintable()).split())
    return name[:_NAME_LIMIT]


class Guard:
    """The access token, the open sessions and the checks made on every request."""

    def __init__(self, token: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"the access token must have at least {MIN_TOKEN_LENGTH} characters")
        self._token = token.encode()
        self._secret = secrets.token_bytes(32)
        self._clock = clock
        self.sessions: dict[str, Session] = {}

    def token_matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the access token (constant time)."""
        return hmac.compare_digest(candidate.encode(), self._token)

    def open_session(self, user: str) -> Session:
        now = self._clock()
        for sid in [s.id for s in self.sessions.values() if s.expires <= now]:
            del self.sessions[sid]
        session = Session(
            id=secrets.token_urlsafe(32),
            user=user,
            csrf=secrets.token_urlsafe(32),
            expires=now + SESSION_SECONDS,
        )
        self.sessions[session.id] = session
        return session

    def close_session(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    def session_of(self, request: web.Request) -> Session | None:
        """The request's session: its cookie's, or one made for a valid bearer token."""
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, credential = header.partition(" ")
            if scheme.lower() != "bearer" or not self.token_matches(credential.strip()):
                return None
            # No cookie is involved, so the synchronizer token is derived, not stored: a
            # client reads it from any page (or sends X-CSRF-Token) like a browser would.
            user = clean_name(request.headers.get("X-Concord-User", "")) or "api"
            return Session(id="", user=user, csrf=self._derive("bearer"), expires=0.0)
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None or session.expires <= self._clock():
            return None
        return session

    def login_csrf(self, pre_session: str) -> str:
        """The sign-in form's synchronizer token, tied to its pre-session cookie."""
        return self._derive(f"login:{pre_session}")

    def _derive(self, purpose: str) -> str:
        return hmac.new(self._secret, purpose.encode(), hashlib.sha256).hexdigest()


def csrf_matches(expected: str, candidate: str) -> bool:
    """Constant-time comparison of synchronizer tokens."""
    return bool(candidate) and hmac.compare_digest(candidate.encode(), expected.encode())


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # not sent by every client; the synchronizer token still decides
        return True
    return origin == f"{request.scheme}://{request.host}"


def content_security_policy(nonce: str) -> str:
    return (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _secure_headers(response: web.StreamResponse, nonce: str) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(nonce)
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cache-Control"] = "no-store"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The security headers, on every response (errors and redirects included)."""
    nonce = secrets.token_urlsafe(18)
    request[NONCE] = nonce
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure_headers(exc, nonce)
        raise
    if not response.prepared:
        _secure_headers(response, nonce)
    return response


def access_control(guard: Guard, public: Collection[Handler]) -> Any:
    """The middleware that requires a session (or bearer token) and a valid CSRF token."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route_handler = request.match_info.handler
        if route_handler in public or route_handler is favicon:
            return await handler(request)
        if route_handler in (login_form, login):
            if request.method not in _SAFE_METHODS and not _same_origin(request):
                raise forbidden(request, "this form was not sent from this server's own page")
            return await handler(request)
        session = guard.session_of(request)
        if session is None:
            return unauthorized(request)
        if request.method not in _SAFE_METHODS:
            if not _same_origin(request):
                raise forbidden(request, "this action was not sent from this server's own page")
            form = await request.post()
            candidate = str(form.get("csrf") or request.headers.get("X-CSRF-Token", ""))
            if not csrf_matches(session.csrf, candidate):
                raise forbidden(
                    request,
                    "the form's security token is missing or wrong (it may have expired): "
                    "reload the page and try again",
                )
        request[SESSION] = session
        return await handler(request)

    return middleware


def session_of(request: web.Request) -> Session:
    """The session the access middleware found for this request."""
    return request[SESSION]


def forbidden(request: web.Request, reason: str) -> web.HTTPForbidden:
    context = {"title": "Forbidden", "heading": "Forbidden", "reason": reason}
    return web.HTTPForbidden(
        text=render_text("message.html", request, context), content_type="text/html"
    )


def unauthorized(request: web.Request) -> web.Response:
    """401: the sign-in form for a browser; a bearer challenge for everyone."""
    if request.headers.get("Authorization"):
        notices = [("error", "the access token is not valid")]
    else:
        notices = []
    response = _login_response(request, notices, status=401, next_path=request.path_qs)
    response.headers["WWW-Authenticate"] = 'Bearer realm="concord"'
    return response


def safe_next(path: str | None, default: str = "/conflicts") -> str:
    """A path on this server to go back to; anything else (another site) gives ``default``."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


def _login_response(
    request: web.Request,
    notices: list[tuple[str, str]],
    *,
    status: int = 200,
    next_path: str | None = None,
    name: str = "",
) -> web.Response:
    guard: Guard = request.config_dict[GUARD]
    pre_session = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    context = {
        "title": "Sign in · Concord",
        "notices": notices,
        "csrf": guard.login_csrf(pre_session),
        "next": safe_next(next_path),
        "name": name,
        "name_limit": _NAME_LIMIT,
    }
    response = render_page("login.html", request, context, status=status)
    # Path "/": a 401 on any page shows this form, and must reuse the pre-session it names.
    _set_cookie(request, response, LOGIN_COOKIE, pre_session, LOGIN_SECONDS)
    return response


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


async def login_form(request: web.Request) -> web.StreamResponse:
    """GET /login: the sign-in form."""
    if request.config_dict[GUARD].session_of(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_response(request, [], next_path=request.query.get("next"))


async def login(request: web.Request) -> web.StreamResponse:
    """POST /login: check the pre-session token and the access token, open a session."""
    guard: Guard = request.config_dict[GUARD]
    form = await request.post()
    pre_session = request.cookies.get(LOGIN_COOKIE, "")
    if not pre_session or not csrf_matches(
        guard.login_csrf(pre_session), str(form.get("csrf", ""))
    ):
        raise forbidden(request, "the sign-in form expired: reload the page and try again")
    name = clean_name(str(form.get("name", "")))
    next_path = str(form.get("next", ""))
    if not guard.token_matches(str(form.get("token", ""))):
        return _login_response(
            request,
            [("error", "that access token is not valid")],
            status=401,
            next_path=next_path,
            name=name,
        )
    if not name:
        return _login_response(
            request, [("error", "enter your name: it is kept with every decision")], status=400
        )
    session = guard.open_session(name)
    response = web.HTTPSeeOther(safe_next(next_path))
    _set_cookie(request, response, SESSION_COOKIE, session.id, SESSION_SECONDS)
    response.del_cookie(LOGIN_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /logout: close the session."""
    guard: Guard = request.config_dict[GUARD]
    guard.close_session(session_of(request))
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def favicon(request: web.Request) -> web.StreamResponse:
    """No icon: answered without a session, so a browser's icon request does not get a 401."""
    return web.Response(status=204)


GUARD = web.AppKey("guard", Guard)

routes = [
    web.get("/login", login_form),
    web.post("/login", login),
    web.post("/logout", logout),
    web.get("/favicon.ico", favicon),
]
