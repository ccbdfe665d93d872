"""What the conflict review page, one conflict's page and the HTML export show.

The markup is in ``web/templates`` (``conflicts.html``, ``conflict.html``, ``export.html``, which
share ``conflict_macros.html``, so all of them show and escape values the same way); this
module chooses what goes into it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

import msgspec

from engine.store.state import ConflictRow
from web.context import Nav
from web.review_store import Event, Facet, Selection
from web.templating import render_file, when

RuleOf = Callable[[ConflictRow], str | None]
"""The rule that governs a conflict's field, as text (``None`` when unknown)."""

STATUSES = ("open", "resolved", "applied", "dismissed", "all")


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    """What the reviewer narrowed the list to (``None``: everything)."""

    connection: str | None = None
    kind: str | None = None
    field: str | None = None
    search: str | None = None
    status: str = "open"

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        def get(name: str) -> str | None:
            value = str(query.get(name, "")).strip()
            return value or None

        status = get("status") or "open"
        return cls(
            connection=get("connection"),
            kind=get("kind"),
            field=get("field"),
            search=get("search"),
            status=status if status in STATUSES else "open",
        )

    def query(self, **extra: str) -> str:
        """The filters as a query string (empty ones left out)."""
        pairs = {k: v for k, v in msgspec.structs.asdict(self).items() if v and v != "open"}
        return urlencode({**pairs, **extra})

    @property
    def status_filter(self) -> str | None:
        return None if self.status == "all" else self.status


def grouped(rows: Iterable[ConflictRow]) -> list[tuple[tuple[str, str], list[ConflictRow]]]:
    """Rows by (connection, kind), in the order given (the queries sort by them)."""
    return [(k, list(g)) for k, g in groupby(rows, key=lambda r: (r.connection, r.kind))]


def _counts(facets: Sequence[Facet], attribute: str) -> list[tuple[str, int]]:
    """Open conflicts per value of ``attribute``, sorted by value."""
    counts: dict[str, int] = {}
    for facet in facets:
        value = getattr(facet, attribute)
        counts[value] = counts.get(value, 0) + facet.open
    return sorted(counts.items())


def review_context(
    selection: Selection,
    facets: Sequence[Facet],
    filters: Filters,
    *,
    nav: Nav,
    notices: Sequence[tuple[str, str]],
    rule_of: RuleOf | None,
) -> dict[str, Any]:
    """``conflicts.html``: filters, the bulk bar, the conflicts grouped by connection and kind."""
    title = f"{selection.matching} {filters.status if filters.status != 'all' else ''} conflicts"
    return {
        "title": f"Conflicts ({selection.matching}) · Concord",
        "heading": " ".join(title.split()),
        "nav": nav,
        "notices": notices,
        "script": True,
        "filters": filters,
        "statuses": STATUSES,
        "choices": [
            (name, getattr(filters, name), _counts(facets, name))
            for name in ("connection", "kind", "field")
        ],
        "back": "/conflicts" + (f"?{filters.query()}" if filters.query() else ""),
        "rows": selection.rows,
        "matching": selection.matching,
        "grouped": grouped(selection.rows),
        "rule_of": rule_of,
    }


def detail_context(
    row: ConflictRow,
    history: Sequence[Event],
    *,
    rule: str | None,
    nav: Nav,
    notices: Sequence[tuple[str, str]],
    back: str,
) -> dict[str, Any]:
    """``conflict.html``: one conflict in full, its trail, and the forms to resolve it."""
    suggested = {"erp": "the ERP's value", "shop": "the shop's value"}.get(
        row.suggested or "", "nothing (both sides moved away from the base)"
    )
    return {
        "title": f"#{row.id} {row.key} · Concord",
        "nav": nav,
        "notices": notices,
        "row": row,
        "history": history,
        "back": back,
        "facts": [
            ("Connection", row.connection),
            ("Kind", row.kind),
            ("Key", row.key),
            ("Field", row.field),
            ("Why", row.reason),
            ("Rule", rule or "unknown (not in this server's configuration)"),
            ("Suggested", suggested),
            ("Status", row.status),
            ("Found", when(row.created_at)),
        ],
    }


EXPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""The export is a file opened from disk: it may style itself and do nothing else."""


def export_document(rows: Sequence[ConflictRow], *, title: str, generated_at: datetime) -> str:
    """A self-contained HTML file of ``rows``, grouped like the page, with no script at all."""
    return render_file(
        "export.html",
        {
            "title": title,
            "policy": EXPORT_POLICY,
            "rows": rows,
            "grouped": grouped(rows),
            "generated_at": generated_at,
        },
    )
