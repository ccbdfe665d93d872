"""Shopify's search syntax for the ``query:`` argument, over the search index's documents.

Terms are ``field:value``, ``field:>value`` (and ``>=``, ``<``, ``<=``), values optionally
quoted; terms joined by whitespace or ``AND`` must all hold, ``OR`` between terms accepts
either, a leading ``-`` or ``NOT`` negates. A term without a field matches the title. Timestamps
compare as instants; ``field:value`` on a text field matches the whole value, case-insensitively,
with a trailing ``*`` as a prefix match (Shopify's search is token based and looser; exact
matching is the stricter reading).

A whole-value term narrows the documents to read through :class:`TermIndex`, kept beside the
search index, so a search for 50 SKUs does not read every product and variant of the shop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]
Lookup = tuple[str, str]
"""A field and a casefolded whole value: a term the :class:`TermIndex` can answer."""

_TOKEN = re.compile(
    r"""\s*(?:(?P<neg>-|NOT\s+)?(?P<field>[A-Za-z_]+):(?P<op>>=|<=|>|<)?"""
    r"""(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^\s()]+))"""
    r"""|(?P<conj>AND|OR)(?=\s)|(?P<word>[^\s:]+))"""
)


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(held: Any, op: str, wanted: str) -> bool:
    if isinstance(held, datetime):
        moment = _instant(wanted)
        if moment is None:
            return False
        left, right = held, moment
    elif isinstance(held, int) and not isinstance(held, bool):
        try:
            left, right = held, int(wanted)  # type: ignore[assignment]
        except ValueError:
            return False
    else:
        text = str(held).casefold()
        target = wanted.casefold()
        if op == "":
            if target.endswith("*"):
                return text.startswith(target[:-1])
            return text == target
        left, right = text, target  # type: ignore[assignment]
    match op:
        case ">":
            return left > right
        case ">=":
            return left >= right
        case "<":
            return left < right
        case "<=":
            return left <= right
        case _:
            return left == right


def _term(field: str, op: str, value: str) -> Predicate:
    def holds(document: dict[str, Any]) -> bool:
        if field not in document:
            return False
        held = document[field]
        if isinstance(held, list):
            return any(_compare(one, op, value) for one in held)
        return _compare(held, op, value)

    return holds


def _negated(predicate: Predicate) -> Predicate:
    return lambda document: not predicate(document)


def _title_word(word: str) -> Predicate:
    return lambda document: word in str(document.get("title", "")).casefold()


class Query:
    """A compiled search string: a predicate over index documents (call it), and
    ``lookups``, one whole-value term from each alternative (``OR``) that a document must
    hold to match it, or None when some alternative has no such term."""

    def __init__(self, groups: list[list[Predicate]], lookups: list[Lookup | None]) -> None:
        # An empty alternative (``a OR``) matches nothing, so it needs no term.
        kept = [(group, lookup) for group, lookup in zip(groups, lookups, strict=True) if group]
        self.groups = [group for group, _ in kept]
        self.lookups: list[Lookup] | None = [lookup for _, lookup in kept if lookup is not None]
        if len(self.lookups) < len(kept):
            self.lookups = None

    def __call__(self, document: dict[str, Any]) -> bool:
        return any(all(p(document) for p in group) for group in self.groups)


def compile_query(query: str | None, aliases: dict[str, str] | None = None) -> Query:
    """A predicate over index documents for a Shopify search string (None: everything)."""
    if not query or not query.strip():
        return Query([[lambda document: True]], [None])
    aliases = aliases or {}
    groups: list[list[Predicate]] = [[]]
    # Per alternative, one term a matching document must hold; None until one is seen.
    lookups: list[Lookup | None] = [None]
    position = 0
    while position < len(query):
        found = _TOKEN.match(query, position)
        if found is None or found.end() == position:
            break
        position = found.end()
        if found["conj"] == "OR":
            groups.append([])
            lookups.append(None)
            continue
        if found["conj"] == "AND":
            continue
        if found["field"]:
            value = found["sq"] if found["sq"] is not None else found["dq"]
            if value is None:
                value = found["bare"]
            field = aliases.get(found["field"].lower(), found["field"].lower())
            predicate = _term(field, found["op"] or "", value)
            if found["neg"]:
                predicate = _negated(predicate)
            elif not found["op"] and not value.casefold().endswith("*"):
                lookups[-1] = lookups[-1] or (field, value.casefold())
        else:
            predicate = _title_word(found["word"].casefold())
        groups[-1].append(predicate)
    return Query(groups, lookups)


def _textual(held: Any) -> bool:
    """Whether :func:`_compare` reads ``held`` as text (so as ``str(held).casefold()``)."""
    return not isinstance(held, datetime) and not (
        isinstance(held, int) and not isinstance(held, bool)
    )


class TermIndex:
    """Index document keys by (field, casefolded whole value), built per field on the first
    search that names it and kept in step with the documents after.

    A field holding an instant or a number in any document is compared otherwise
    (:func:`_compare`) and never answered from here.
    """

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, set[str]]] = {}
        self._untextual: set[str] = set()

    def add(self, key: str, document: dict[str, Any]) -> None:
        for field, values in list(self._fields.items()):
            if field in document:
                self._enter(field, values, key, document[field])

    def remove(self, key: str, document: dict[str, Any]) -> None:
        for field, values in self._fields.items():
            if field not in document:
                continue
            held = document[field]
            for one in held if isinstance(held, list) else [held]:
                if _textual(one):
                    keys = values.get(str(one).casefold())
                    if keys is not None:
                        keys.discard(key)
                        if not keys:
                            del values[str(one).casefold()]

    def candidates(
        self, documents: dict[str, dict[str, Any]], lookups: list[Lookup] | None
    ) -> set[str] | None:
        """Keys of ``documents`` that may match a query with these ``lookups`` (None: any)."""
        if lookups is None:
            return None
        found: set[str] = set()
        for field, text in lookups:
            values = self._field(documents, field)
            if values is None:
                return None
            found |= values.get(text, set())
        return found

    def _field(
        self, documents: dict[str, dict[str, Any]], field: str
    ) -> dict[str, set[str]] | None:
        if field in self._untextual:
            return None
        if field not in self._fields:
            values: dict[str, set[str]] = {}
            self._fields[field] = values
            for key, document in documents.items():
                if field in document and not self._enter(field, values, key, document[field]):
                    return None
        return self._fields[field]

    def _enter(self, field: str, values: dict[str, set[str]], key: str, held: Any) -> bool:
        """Index ``held`` under ``key``; False (and the field given up) when it is no text."""
        for one in held if isinstance(held, list) else [held]:
            if not _textual(one):
                self._untextual.add(field)
                self._fields.pop(field, None)
                return False
            values.setdefault(str(one).casefold(), set()).add(key)
        return True
