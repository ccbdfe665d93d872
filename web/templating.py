"""The pages' templates (``web/templates``): Jinja2 with autoescape, through aiohttp-jinja2.

Every value shown comes from a platform (a shop's product names, an ERP's descriptions) and is
untrusted, so every template escapes what it prints, in content and attributes alike; nothing is
marked safe. The filters here are the few ways the pages spell values, times and runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import aiohttp_jinja2
import jinja2
from aiohttp import web

from engine.store.state import ConflictRow, RunRow
from web.review_store import Event, version_of
from web.values import preview, shown

NONCE: Final = web.RequestKey("nonce", str)
"""The response's CSP nonce, for the inline style and script of the page."""


def when(moment: datetime | None, none: str = "") -> str:
    """A moment in the server's time zone, to the second (``none`` when there is none)."""
    return none if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def ago(moment: datetime | None, now: datetime) -> str:
    """How long before ``now``, in its largest whole unit: ``3d ago``, ``5m ago``."""
    if moment is None:
        return ""
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def took(run: RunRow) -> str:
    """How long a finished run took (nothing while it runs)."""
    if run.finished_at is None:
        return ""
    return f"{(run.finished_at - run.started_at).total_seconds():.1f}s"


def run_counts(run: RunRow) -> str:
    """What a run did, as "created 2, updated 5" (zeros left out)."""
    return ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()) if v)


def short_rule(rule: str) -> str:
    """The rule "owner both, policy manual (field rule)" as "both · manual"."""
    words = rule.replace(",", "").split()
    return " · ".join(words[i + 1] for i, w in enumerate(words[:-1]) if w in ("owner", "policy"))


def target(row: ConflictRow) -> str:
    """``"12@1700000000000000"``: the conflict and the version the page shows, so that a
    choice made on a page a cycle has since changed is refused."""
    return f"{row.id}@{version_of(row)}"


def what(event: Event) -> str:
    """An entry of the review trail's action, with the side taken for a resolution."""
    return event.action + (f" ({event.detail.get('source')})" if event.action == "resolved" else "")


FILTERS: Mapping[str, Callable[..., str]] = {
    "when": when,
    "ago": ago,
    "took": took,
    "run_counts": run_counts,
    "short_rule": short_rule,
    "target": target,
    "what": what,
    "shown": shown,
    "preview": preview,
}

SETTINGS: Mapping[str, Any] = {
    "loader": jinja2.PackageLoader("web", "templates"),
    "autoescape": True,
    # A name the page does not pass is a mistake to see, not an empty cell.
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


def setup(app: web.Application) -> None:
    """Give ``app`` the templates (each application its own environment)."""
    aiohttp_jinja2.setup(app, filters=FILTERS, default_helpers=False, **SETTINGS)


def render_page(
    name: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """The page ``name`` as the response, with the request's CSP nonce."""
    return aiohttp_jinja2.render_template(name, request, _page(request, context), status=status)


def render_text(name: str, request: web.Request, context: Mapping[str, Any]) -> str:
    """The page ``name`` as text (for an error response's body), with the request's nonce."""
    return aiohttp_jinja2.render_string(name, request, _page(request, context))


def _page(request: web.Request, context: Mapping[str, Any]) -> dict[str, Any]:
    """What the page shell needs (no navigation, messages or script unless given)."""
    return {"nav": None, "notices": (), "script": False, **context, "nonce": request[NONCE]}


_FILES = jinja2.Environment(**SETTINGS)
_FILES.filters.update(FILTERS)


def render_file(name: str, context: Mapping[str, Any]) -> str:
    """The template ``name`` outside any request (a file to download or to save)."""
    return _FILES.get_template(name).render(context)
