"""The review page's routes: list and filter conflicts, resolve them one at a time or in bulk,
look at one in full, export what is shown.

A resolution only records the person's choice (who, when, what); the next cycle of the job
writes the value to both sides and closes the conflict, as for ``concord conflicts resolve``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from engine.store.state import Store
from web.auth import safe_next, session_of
from web.conflict_view import Filters, detail_context, review_context
from web.context import site_of
from web.export import FORMATS, MEDIA_TYPES, Format, export
from web.review_store import Take, Target
from web.templating import render_page
from web.values import BadValue, parse_typed

MAX_TARGETS = 5000
_TAKES: tuple[Take, ...] = ("erp", "shop", "suggested")


class BadForm(ValueError):
    """A resolve form that cannot be acted on; the message says why."""


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/conflicts")


async def conflicts_page(request: web.Request) -> web.StreamResponse:
    """GET /conflicts: open conflicts (or the chosen status), filtered, grouped."""
    site = site_of(request)
    session = session_of(request)
    filters = Filters.from_query(request.query)
    selection = await site.review.conflicts(
        connection=filters.connection,
        kind=filters.kind,
        field=filters.field,
        status=filters.status_filter,
        search=filters.search,
    )
    context = review_context(
        selection,
        await site.review.facets(),
        filters,
        nav=await site.nav("/conflicts", session),
        notices=session.take_notices(),
        rule_of=site.rule_of,
    )
    return render_page("conflicts.html", request, context)


async def conflict_page(request: web.Request) -> web.StreamResponse:
    """GET /conflicts/{id}: one conflict in full, with its review trail."""
    site = site_of(request)
    session = session_of(request)
    row = await site.store.get_conflict(int(request.match_info["id"]))
    if row is None:
        raise web.HTTPNotFound(text=f"there is no conflict {request.match_info['id']}")
    context = detail_context(
        row,
        await site.review.history(row.id),
        rule=site.rule_of(row),
        nav=await site.nav("/conflicts", session),
        notices=session.take_notices(),
        back=safe_next(request.query.get("back"), "/conflicts"),
    )
    return render_page("conflict.html", request, context)


def _target(text: str) -> Target:
    """``"12@1700000000000000"``: a conflict id and the version the page showed."""
    ident, _, version = text.partition("@")
    try:
        return Target(int(ident), int(version) if version else None)
    except ValueError:
        raise BadForm(f"{text!r} is not a conflict of this page") from None


def _take(op: str) -> Take | None:
    for take in _TAKES:
        if op == take:
            return take
    return None


def read_resolve_form(form: MultiDictProxy[Any]) -> tuple[str, list[Target]]:
    """The operation and the conflicts a resolve form asks for.

    A row's own button sends ``one=<id>@<version>:<op>``; the detail page sends ``target`` and
    ``op``; the bulk bar sends ``op`` and every ticked ``id``.
    """
    one = str(form.get("one", ""))
    if one:
        target, _, op = one.rpartition(":")
        targets = [_target(target)]
    else:
        op = str(form.get("op", ""))
        picked = form.getall("target", []) or form.getall("id", [])
        targets = [_target(str(t)) for t in picked]
    if op not in (*_TAKES, "value"):
        raise BadForm(f"unknown action {op!r}")
    if not targets:
        raise BadForm("select conflicts first (tick their boxes), or use a row's own buttons")
    if len(targets) > MAX_TARGETS:
        raise BadForm(f"at most {MAX_TARGETS} conflicts at once")
    return op, targets


async def resolve(request: web.Request) -> web.StreamResponse:
    """POST /conflicts/resolve: record the choice for one or many conflicts, then go back."""
    site = site_of(request)
    session = session_of(request)
    form = await request.post()
    back = safe_next(str(form.get("back", "")), "/conflicts")
    try:
        op, targets = read_resolve_form(form)
        take = _take(op)
        if take is not None:
            done = await site.review.resolve(targets, take=take, by=session.user)
        else:
            done = await site.review.resolve_to_values(
                await _typed_values(site.store, targets, str(form.get("value", ""))),
                by=session.user,
            )
    except (BadForm, BadValue) as exc:
        session.notify("error", f"Nothing resolved: {exc}.")
        raise web.HTTPSeeOther(back) from None
    left = sorted({t.id for t in targets} - set(done))
    if done:
        session.notify(
            "ok",
            f"Resolved {len(done)} ({', '.join(f'#{i}' for i in done[:20])}"
            f"{' …' if len(done) > 20 else ''}): the next cycle writes the value to both sides.",
        )
    if left:
        why = "no suggestion, " if op == "suggested" else ""
        session.notify(
            "error",
            f"{len(left)} left as they were ({why}changed by a cycle since this page was loaded, "
            f"or already resolved): {', '.join(f'#{i}' for i in left[:20])}"
            f"{' …' if len(left) > 20 else ''}. Review them again.",
        )
    raise web.HTTPSeeOther(back)


async def _typed_values(store: Store, targets: list[Target], text: str) -> list[tuple[Target, Any]]:
    """Each target with ``text`` read as its field expects (errors name the field)."""
    values: list[tuple[Target, Any]] = []
    for target in targets:
        row = await store.get_conflict(target.id)
        if row is None:
            continue  # reported as left over
        values.append((target, parse_typed(row.kind, row.field, text)))
    return values


async def export_conflicts(request: web.Request) -> web.StreamResponse:
    """GET /conflicts/export?format=csv|json|html (and the page's filters): a download."""
    site = site_of(request)
    requested = request.query.get("format", "csv")
    formats: dict[str, Format] = {f: f for f in FORMATS}
    if requested not in formats:
        raise web.HTTPBadRequest(text=f"format must be one of {', '.join(FORMATS)}")
    format = formats[requested]
    filters = Filters.from_query(request.query)
    selection = await site.review.conflicts(
        connection=filters.connection,
        kind=filters.kind,
        field=filters.field,
        status=filters.status_filter,
        search=filters.search,
        limit=1_000_000,
    )
    return web.Response(
        text=export(selection.rows, format),
        content_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="conflicts.{format}"'},
    )


routes = [
    web.get("/", index),
    web.get("/conflicts", conflicts_page),
    web.get("/conflicts/export", export_conflicts),
    web.get(r"/conflicts/{id:\d+}", conflict_page),
    web.post("/conflicts/resolve", resolve),
]
