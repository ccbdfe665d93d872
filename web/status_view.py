"""The status page: each job's last run, recent runs, dead letters with a retry action, and the
latest decisions of the review trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from engine.config import JobConfig
from engine.orders.held import held_orders
from engine.store.state import RunRow
from web.conflict_view import value_cell
from web.html import Child, Markup, el
from web.layout import Nav, page
from web.review_store import DeadLetter, Event

JobsByConnection = Mapping[str, Mapping[str, JobConfig]]


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return ""
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def _took(run: RunRow) -> str:
    if run.finished_at is None:
        return ""
    return f"{(run.finished_at - run.started_at).total_seconds():.1f}s"


def _counts(run: RunRow) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()) if v)


def _outcome(status: str) -> Markup:
    tone = {"ok": "ok", "partial": "warn", "failed": "bad"}.get(status, "")
    return el("span", status, class_=f"tag {tone}")


def _table(heads: Sequence[str], rows: Sequence[Child], empty: str) -> Markup:
    if not rows:
        return el("p", empty, class_="empty")
    return el(
        "table",
        el("thead", el("tr", [el("th", h) for h in heads])),
        el("tbody", rows),
        class_="plain",
    )


def _jobs(jobs: JobsByConnection, last: Sequence[RunRow], now: datetime) -> Markup:
    latest = {(r.connection, r.job): r for r in last}
    names = sorted({(c, j) for c, js in jobs.items() for j in js} | set(latest))
    rows: list[Child] = []
    for connection, job_name in names:
        job = jobs.get(connection, {}).get(job_name)
        run = latest.get((connection, job_name))
        rows.append(
            el(
                "tr",
                el("td", f"{connection} / {job_name}"),
                el("td", job.kind if job else "(not configured here)"),
                el("td", (job.every or "the kind's default") if job else ""),
                el(
                    "td",
                    f"{_when(run.started_at)} ({_ago(run.started_at, now)}), {run.mode}"
                    if run
                    else "never ran",
                ),
                el("td", _outcome(run.status) if run else None),
                el("td", _took(run) if run else ""),
                el("td", _counts(run) if run else ""),
                el("td", el("div", run.error, class_="v") if run and run.error else None),
            )
        )
    return _table(
        ("Job", "Kind", "Every", "Last run", "Outcome", "Took", "Counts", "Error"),
        rows,
        "No job is configured here and none has run yet.",
    )


def _runs(runs: Sequence[RunRow]) -> Markup:
    rows = [
        el(
            "tr",
            el("td", _when(r.started_at)),
            el("td", f"{r.connection} / {r.job}"),
            el("td", r.mode),
            el("td", _outcome(r.status)),
            el("td", _took(r)),
            el("td", _counts(r)),
            el("td", el("div", r.error, class_="v") if r.error else None),
        )
        for r in runs
    ]
    return _table(
        ("Started", "Job", "Mode", "Outcome", "Took", "Counts", "Error"), rows, "No run yet."
    )


def _retry_state(letter: DeadLetter) -> Markup | None:
    if letter.retry_at is None:
        return None
    if letter.retry_pending:
        text = (
            f"retry asked by {letter.retry_by} {_when(letter.retry_at)}: waits for the next cycle"
        )
        return el("span", text, class_="tag warn")
    return el("span", f"failed again after the retry asked by {letter.retry_by}", class_="tag bad")


def _dead_letters(letters: Sequence[DeadLetter], csrf: str) -> Markup:
    if not letters:
        return el("p", "No dead letter: every write went through.", class_="empty")
    bar = el(
        "form",
        el("input", type="hidden", name="csrf", value=csrf),
        el("strong", el("span", "0", id="selected"), f" of {len(letters)} selected"),
        el("button", "Retry selected", class_="primary"),
        el(
            "span",
            "A retry is made by the next cycle of the letter's job: it reads the record again "
            "from both sides and writes it if it still needs writing.",
            class_="keys",
        ),
        id="retry",
        method="post",
        action="/status/retry",
        class_="bar",
    )
    rows = [
        el(
            "tr",
            el(
                "td",
                el(
                    "input",
                    type="checkbox",
                    class_="pick",
                    name="id",
                    value=d.id,
                    form="retry",
                    aria_label=f"select {d.key} on {d.side}",
                ),
            ),
            el("td", f"{d.connection} / {d.kind}"),
            el("td", d.key, el("div", f"#{d.id}", class_="keys")),
            el("td", d.side),
            el("td", el("div", d.reason, class_="v"), _retry_state(d)),
            el("td", d.attempts),
            el("td", _when(d.first_seen), el("div", _when(d.last_seen), class_="keys")),
            el("td", el("button", "Retry", form="retry", name="one", value=d.id)),
            data_id=d.id,
        )
        for d in letters
    ]
    table = el(
        "table",
        el(
            "colgroup",
            el("col", class_="pick"),
            el("col", class_="key"),
            el("col", class_="key"),
            el("col", class_="field"),
            el("col"),
            el("col", class_="field"),
            el("col", class_="decision"),
            el("col", class_="field"),
        ),
        el(
            "thead",
            el(
                "tr",
                el(
                    "th",
                    el(
                        "input",
                        type="checkbox",
                        class_="pick-all",
                        aria_label="select every dead letter",
                    ),
                ),
                [
                    el("th", h)
                    for h in (
                        "Where",
                        "Key",
                        "Side",
                        "Reason",
                        "Attempts",
                        "First / last failure",
                        "",
                    )
                ],
            ),
        ),
        el("tbody", rows),
    )
    return el("div", bar, table)


def _events(events: Sequence[Event]) -> Markup:
    rows = [
        el(
            "tr",
            el("td", _when(e.at)),
            el("td", e.actor),
            el("td", e.action + (f" ({e.detail.get('source')})" if e.action == "resolved" else "")),
            el(
                "td",
                f"{e.connection} / {e.kind} ",
                el("a", e.key, href=f"/conflicts/{e.conflict_id}") if e.conflict_id else e.key,
                f" · {e.field or e.side or ''}",
            ),
            el(
                "td",
                value_cell(e.detail.get("value"))
                if e.action in ("resolved", "applied")
                else el("div", e.detail.get("reason", ""), class_="v"),
            ),
        )
        for e in events
    ]
    return _table(
        ("When", "Who", "What", "Record", "Value / reason"), rows, "No decision recorded yet."
    )


def _held_orders(letters: Sequence[DeadLetter]) -> Markup:
    """How many orders are held per kind of reason (each is listed with the dead letters)."""
    held = held_orders(letters)
    rows = [el("tr", el("td", count), el("td", kind)) for kind, count in held.by_reason.items()]
    return _table(("Orders", "Held because"), rows, "No order held: every order went through.")


def status_page(
    *,
    jobs: JobsByConnection,
    last_runs: Sequence[RunRow],
    runs: Sequence[RunRow],
    letters: Sequence[DeadLetter],
    events: Sequence[Event],
    nav: Nav,
    nonce: str,
    notices: Sequence[tuple[str, str]],
    now: datetime | None = None,
) -> Markup:
    """The whole status page."""
    now = now or datetime.now(UTC)
    held = sum(1 for letter in letters if letter.kind == "order")
    body = [
        el("h2", "Held orders", el("small", f"{held} held")),
        _held_orders(letters),
        el("h2", "Dead letters", el("small", f"{len(letters)} open")),
        _dead_letters(letters, nav.csrf),
        el("h2", "Jobs"),
        _jobs(jobs, last_runs, now),
        el("h2", "Recent runs"),
        _runs(runs),
        el("h2", "Recent decisions"),
        _events(events),
    ]
    return page("Status · Concord", body, nonce=nonce, nav=nav, notices=notices, script=True)
