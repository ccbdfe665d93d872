"""Shopify's search syntax for the ``query:`` argument, over the search index's documents.

Terms are ``field:value``, ``field:>value`` (and ``>=``, ``<``, ``<=``), values optionally
quoted; terms joined by whitespace or ``AND`` must all hold, ``OR`` between terms accepts
either, a leading ``-`` or ``NOT`` negates. A term without a field matches the title. Timestamps
compare as instants; ``field:value`` on a text field matches the whole value, case-insensitively,
with a trailing ``*`` as a prefix match (Shopify's search is token based and looser; exact
matching is the stricter reading).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

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


def compile_query(query: str | None, aliases: dict[str, str] | None = None) -> Predicate:
    """A predicate over index documents for a Shopify search string (None: everything)."""
    if not query or not query.strip():
        return lambda document: True
    aliases = aliases or {}
    groups: list[list[Predicate]] = [[]]
    position = 0
    while position < len(query):
        found = _TOKEN.match(query, position)
        if found is None or found.end() == position:
            break
        position = found.end()
        if found["conj"] == "OR":
            groups.append([])
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
        else:
            predicate = _title_word(found["word"].casefold())
        groups[-1].append(predicate)
    return lambda document: any(all(p(document) for p in group) for group in groups if group)
