"""The status page's routes: jobs, runs, dead letters, and asking for a dead letter's retry."""

from __future__ import annotations

from aiohttp import web

from engine.config import jobs_of
from web.auth import session_of
from web.context import site_of
from web.status_view import JobsByConnection, status_context
from web.templating import render_page

MAX_RETRIES = 5000


async def status(request: web.Request) -> web.StreamResponse:
    """GET /status."""
    site = site_of(request)
    session = session_of(request)
    jobs: JobsByConnection = {}
    if site.config is not None:
        jobs = {name: jobs_of(c) for name, c in site.config.connections.items()}
    context = status_context(
        jobs=jobs,
        last_runs=await site.review.last_runs(),
        runs=await site.store.list_runs(limit=30),
        letters=await site.review.dead_letters(limit=None),  # every held order, all shown
        events=await site.review.recent_events(limit=30),
        nav=await site.nav("/status", session),
        notices=session.take_notices(),
    )
    return render_page("status.html", request, context)


async def retry(request: web.Request) -> web.StreamResponse:
    """POST /status/retry: mark the chosen dead letters (a row's button, or the ticked ones)."""
    site = site_of(request)
    session = session_of(request)
    form = await request.post()
    picked = [str(form["one"])] if form.get("one") else [str(v) for v in form.getall("id", [])]
    try:
        ids = [int(v) for v in picked][:MAX_RETRIES]
    except ValueError:
        ids = []
    if not ids:
        session.notify("error", "Nothing to retry: tick dead letters first, or use a row's button.")
        raise web.HTTPSeeOther("/status")
    marked = await site.review.request_retry(ids, by=session.user)
    if marked:
        session.notify(
            "ok",
            f"Retry asked for {len(marked)} dead letter(s): the next cycle of each job reads "
            "those records again and writes what still needs writing.",
        )
    gone = sorted(set(ids) - set(marked))
    if gone:
        session.notify(
            "error",
            f"{len(gone)} no longer open (a cycle already got them through): "
            + ", ".join(f"#{i}" for i in gone[:20]),
        )
    raise web.HTTPSeeOther("/status")


routes = [
    web.get("/status", status),
    web.post("/status/retry", retry),
]
