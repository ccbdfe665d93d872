"""The conflict review page, one conflict's page and the HTML export, rendered as HTML.

One table renderer serves the page and the export, so both show (and escape) the same way.
Rows are grouped by connection and kind; the suggested side is highlighted, and every action
is a plain form button, so the page works without its script.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

import msgspec

from engine.store.state import ConflictRow
from web.html import Child, Markup, el
from web.layout import STYLE, Nav, document, page
from web.review_store import Event, Facet, Selection, version_of
from web.values import preview, shown

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


def value_cell(value: Any, *, full: bool = False) -> Markup:
    """A value as the tables show it: text as is, ``(none)`` for no value."""
    if value is None:
        return el("div", el("span", "(none)", class_="none"), class_="v")
    text = shown(value)
    return el(
        "div",
        text or el("span", "(empty)", class_="none"),
        class_="v full" if full else "v",
        title=None if full else preview(value),
    )


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _decision(row: ConflictRow) -> Markup:
    if row.status == "open":
        return el("span", "open", class_="tag warn")
    source = {"erp": "ERP's value", "shop": "shop's value", "value": "typed value"}.get(
        row.resolution_source or "", "value"
    )
    return el(
        "div",
        el("span", row.status, class_="tag ok" if row.status != "dismissed" else "tag"),
        " ",
        source,
        value_cell(row.resolution) if row.status != "dismissed" else None,
        el("div", f"by {row.resolved_by} at {_when(row.resolved_at)}", class_="keys")
        if row.resolved_by
        else None,
    )


def _why(row: ConflictRow, rule_of: RuleOf | None) -> Markup:
    rule = rule_of(row) if rule_of else None
    return el(
        "div",
        row.reason,
        " ",
        el("span", _short_rule(rule), class_="tag", title=f"rule: {rule}") if rule else None,
        el("span", f"suggests {row.suggested}", class_="tag ok") if row.suggested else None,
    )


def _short_rule(rule: str) -> str:
    """The rule "owner both, policy manual (field rule)" as "both · manual"."""
    words = rule.replace(",", "").split()
    return " · ".join(words[i + 1] for i, w in enumerate(words[:-1]) if w in ("owner", "policy"))


def _row(row: ConflictRow, *, interactive: bool, rule_of: RuleOf | None) -> Markup:
    open_ = row.status == "open"
    target = f"{row.id}@{version_of(row)}"
    cells: list[Child] = []
    if interactive:
        cells.append(
            el(
                "td",
                el(
                    "input",
                    type="checkbox",
                    class_="pick",
                    name="id",
                    value=target,
                    form="bulk",
                    aria_label=f"select {row.key} {row.field}",
                )
                if open_
                else None,
            )
        )
    key: Child = row.key
    if interactive:
        key = el("a", row.key, href=f"/conflicts/{row.id}", class_="open")
    cells += [
        el("td", key, " ", el("span", f"#{row.id}", class_="keys")),
        el("td", row.field),
        el("td", value_cell(row.base)),
        el("td", value_cell(row.erp), class_="erp sug" if row.suggested == "erp" else "erp"),
        el("td", value_cell(row.shop), class_="shop sug" if row.suggested == "shop" else "shop"),
        el("td", _why(row, rule_of)),
    ]
    if not open_ or not interactive:
        cells.append(el("td", _decision(row)))
    if interactive:
        cells.append(el("td", _actions(row, target) if open_ else None))
    return el("tr", cells, data_id=row.id if open_ and interactive else None)


def _actions(row: ConflictRow, target: str) -> Markup:
    def take(side: str, label: str, key: str) -> Markup:
        suggested = " sug" if row.suggested == side else ""
        return el(
            "button",
            label,
            form="bulk",
            name="one",
            value=f"{target}:{side}",
            class_=f"{side}{suggested}",
            title=f"Resolve to the {label}'s value ({key})"
            + (" — the suggestion" if suggested else ""),
        )

    return el(
        "div",
        take("erp", "ERP", "e"),
        " ",
        take("shop", "Shop", "s"),
        " ",
        el("a", "Edit", href=f"/conflicts/{row.id}", title="See it in full, or enter a value (o)"),
        class_="act",
    )


def conflict_table(
    rows: Sequence[ConflictRow], *, interactive: bool, rule_of: RuleOf | None = None
) -> Markup:
    """One group's table: key, field, the three values, why it is open, decision/actions."""
    decided = any(r.status != "open" for r in rows) or not interactive
    columns: list[Child] = []
    heads: list[Child] = []
    if interactive:
        columns.append(el("col", class_="pick"))
        heads.append(
            el(
                "th",
                el("input", type="checkbox", class_="pick-all", aria_label="select the group"),
            )
        )
    columns += [el("col", class_=c) for c in ("key", "field", "base", "erp", "shop", "why")]
    heads += [el("th", h) for h in ("Key", "Field", "Base (last agreed)", "ERP", "Shop", "Why")]
    if decided:
        columns.append(el("col", class_="decision"))
        heads.append(el("th", "Decision"))
    if interactive:
        columns.append(el("col", class_="act"))
        heads.append(el("th", "Resolve"))
    return el(
        "table",
        el("colgroup", columns),
        el("thead", el("tr", heads)),
        el("tbody", [_row(r, interactive=interactive, rule_of=rule_of) for r in rows]),
    )


def grouped(rows: Iterable[ConflictRow]) -> list[tuple[tuple[str, str], list[ConflictRow]]]:
    """Rows by (connection, kind), in the order given (the queries sort by them)."""
    return [(k, list(g)) for k, g in groupby(rows, key=lambda r: (r.connection, r.kind))]


def _options(name: str, chosen: str | None, counts: dict[str, int], label: str) -> Markup:
    return el(
        "select",
        el("option", f"every {label}", value=""),
        [
            el("option", f"{value} ({count})", value=value, selected=value == chosen)
            for value, count in sorted(counts.items())
        ],
        name=name,
        aria_label=label,
    )


def _counts(facets: Sequence[Facet], attribute: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for facet in facets:
        value = getattr(facet, attribute)
        counts[value] = counts.get(value, 0) + facet.open
    return counts


def _filter_form(filters: Filters, facets: Sequence[Facet]) -> Markup:
    return el(
        "form",
        _options("connection", filters.connection, _counts(facets, "connection"), "connection"),
        _options("kind", filters.kind, _counts(facets, "kind"), "kind"),
        _options("field", filters.field, _counts(facets, "field"), "field"),
        el(
            "select",
            [el("option", s, value=s, selected=s == filters.status) for s in STATUSES],
            name="status",
            aria_label="status",
        ),
        el(
            "input",
            type="search",
            id="search",
            name="search",
            value=filters.search or "",
            placeholder="Search keys, fields, values  ( / )",
            aria_label="search",
        ),
        el("button", "Filter"),
        el("a", "Clear", href="/conflicts"),
        el(
            "span",
            "Export: ",
            el("a", "CSV", href=f"/conflicts/export?{filters.query(format='csv')}"),
            " · ",
            el("a", "JSON", href=f"/conflicts/export?{filters.query(format='json')}"),
            " · ",
            el("a", "HTML", href=f"/conflicts/export?{filters.query(format='html')}"),
            class_="muted",
        ),
        method="get",
        action="/conflicts",
        class_="filters",
    )


def _bulk_bar(csrf: str, back: str, shown_count: int) -> Markup:
    return el(
        "form",
        el("input", type="hidden", name="csrf", value=csrf),
        el("input", type="hidden", name="back", value=back),
        # The first submit button is what Enter in the value box presses: make it "set value".
        el(
            "button",
            "Set value",
            name="op",
            value="value",
            class_="offscreen",
            tabindex=-1,
            aria_hidden="true",
        ),
        el("strong", el("span", "0", id="selected"), f" of {shown_count} selected"),
        el("span", class_="sep"),
        el("button", "Take ERP", name="op", value="erp", class_="erp"),
        el("button", "Take shop", name="op", value="shop", class_="shop"),
        el(
            "button",
            "Take suggestion",
            name="op",
            value="suggested",
            title="Each selected conflict to its suggested side (those without one stay open)",
        ),
        el("span", class_="sep"),
        el("input", type="text", name="value", placeholder="or type a value", aria_label="value"),
        el("button", "Set value", name="op", value="value"),
        el("span", class_="sep"),
        el(
            "span",
            el("kbd", "j"),
            el("kbd", "k"),
            " move ",
            el("kbd", "x"),
            " select ",
            el("kbd", "e"),
            " ERP ",
            el("kbd", "s"),
            " shop ",
            el("kbd", "o"),
            " open ",
            el("kbd", "/"),
            " search",
            class_="keys",
        ),
        id="bulk",
        method="post",
        action="/conflicts/resolve",
        class_="bar",
    )


def review_page(
    selection: Selection,
    facets: Sequence[Facet],
    filters: Filters,
    *,
    nav: Nav,
    nonce: str,
    notices: Sequence[tuple[str, str]],
    rule_of: RuleOf | None,
) -> Markup:
    """The review page: filters, the bulk bar, and the conflicts grouped by connection and kind."""
    rows = selection.rows
    back = "/conflicts" + (f"?{filters.query()}" if filters.query() else "")
    groups = [
        el(
            "section",
            el("h2", f"{connection} · {kind}", el("small", f"{len(group)} shown")),
            conflict_table(group, interactive=True, rule_of=rule_of),
        )
        for (connection, kind), group in grouped(rows)
    ]
    more = (
        el(
            "p",
            f"Showing {len(rows)} of {selection.matching}: narrow the filters to see the rest.",
            class_="notice error",
        )
        if selection.matching > len(rows)
        else None
    )
    title = f"{selection.matching} {filters.status if filters.status != 'all' else ''} conflicts"
    body = [
        _filter_form(filters, facets),
        _bulk_bar(nav.csrf, back, len(rows)),
        el(
            "h1",
            " ".join(title.split()),
            el("small", " — all connections", class_="muted") if not filters.connection else None,
        ),
        more,
        groups
        or el("p", "No conflict matches: nothing waits for a decision here.", class_="empty"),
    ]
    return page(
        f"Conflicts ({selection.matching}) · Concord",
        body,
        nonce=nonce,
        nav=nav,
        notices=notices,
        script=True,
    )


def detail_page(
    row: ConflictRow,
    history: Sequence[Event],
    *,
    rule: str | None,
    nav: Nav,
    nonce: str,
    notices: Sequence[tuple[str, str]],
    back: str,
) -> Markup:
    """One conflict in full, its trail, and the forms to resolve it."""
    target = f"{row.id}@{version_of(row)}"
    facts = el(
        "dl",
        [
            (el("dt", name), el("dd", value))
            for name, value in (
                ("Connection", row.connection),
                ("Kind", row.kind),
                ("Key", row.key),
                ("Field", row.field),
                ("Why", row.reason),
                ("Rule", rule or "unknown (not in this server's configuration)"),
                (
                    "Suggested",
                    {"erp": "the ERP's value", "shop": "the shop's value"}.get(
                        row.suggested or "", "nothing (both sides moved away from the base)"
                    ),
                ),
                ("Status", row.status),
                ("Found", _when(row.created_at)),
            )
        ],
        class_="facts",
    )
    values = el(
        "table",
        el("thead", el("tr", el("th", "Base (last agreed)"), el("th", "ERP"), el("th", "Shop"))),
        el(
            "tbody",
            el(
                "tr",
                el("td", value_cell(row.base, full=True)),
                el(
                    "td",
                    value_cell(row.erp, full=True),
                    class_="erp sug" if row.suggested == "erp" else "erp",
                ),
                el(
                    "td",
                    value_cell(row.shop, full=True),
                    class_="shop sug" if row.suggested == "shop" else "shop",
                ),
            ),
        ),
        class_="plain",
    )
    form = (
        el(
            "form",
            el("input", type="hidden", name="csrf", value=nav.csrf),
            el("input", type="hidden", name="back", value=back),
            el("input", type="hidden", name="target", value=target),
            el(
                "p",
                el("button", "Take ERP", name="op", value="erp", class_="erp"),
                " ",
                el("button", "Take shop", name="op", value="shop", class_="shop"),
            ),
            el("label", "Or enter the value (JSON, or plain text):", for_="value"),
            el("textarea", shown(row.erp) if row.erp is not None else "", id="value", name="value"),
            el("p", el("button", "Save this value", name="op", value="value", class_="primary")),
            method="post",
            action="/conflicts/resolve",
            class_="panel",
        )
        if row.status == "open"
        else el("div", _decision(row), class_="panel")
    )
    trail = el(
        "table",
        el("thead", el("tr", [el("th", h) for h in ("When", "Who", "What", "Value")])),
        el(
            "tbody",
            [
                el(
                    "tr",
                    el("td", _when(e.at)),
                    el("td", e.actor),
                    el(
                        "td",
                        e.action
                        + (f" ({e.detail.get('source')})" if e.action == "resolved" else ""),
                    ),
                    el(
                        "td",
                        value_cell(e.detail.get("value"))
                        if e.action in ("resolved", "applied")
                        else None,
                    ),
                )
                for e in history
            ],
        ),
        class_="plain",
    )
    body = [
        el("h1", el("a", "Conflicts", href=back), f" / #{row.id} {row.key} · {row.field}"),
        facts,
        values,
        form,
        el("h2", "History"),
        trail,
    ]
    return page(f"#{row.id} {row.key} · Concord", body, nonce=nonce, nav=nav, notices=notices)


EXPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""The export is a file opened from disk: it may style itself and do nothing else."""


def export_document(rows: Sequence[ConflictRow], *, title: str, generated_at: datetime) -> Markup:
    """A self-contained HTML file of ``rows``, grouped like the page, with no script at all."""
    body = [
        el("h1", title),
        el("p", f"{len(rows)} conflicts, exported {_when(generated_at)}", class_="muted"),
        [
            el(
                "section",
                el("h2", f"{connection} · {kind}", el("small", f"{len(group)}")),
                conflict_table(group, interactive=False),
            )
            for (connection, kind), group in grouped(rows)
        ],
    ]
    return document(
        title,
        body,
        # No sticky bars above the tables in a file.
        style=el("style", STYLE, ":root { --top: 0px; --bar: 0px; }"),
        head=el("meta", http_equiv="Content-Security-Policy", content=EXPORT_POLICY),
    )
