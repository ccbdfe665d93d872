"""Odoo search domains and ``order`` clauses, evaluated in memory.

A domain is a list in prefix notation: leaves ``[field, operator, value]`` and the operators
``'&'``, ``'|'`` (two operands) and ``'!'`` (one); consecutive terms are joined by an implicit
``'&'``. Field paths may follow many2one fields (``product_tmpl_id.write_date``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from adapters.odoo.simulator.errors import OdooError

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
Resolver = Callable[[Row, str], tuple[str, Any]]
"""Returns a field's kind and raw value for a row and a field path (raising on unknown paths)."""

OPERATORS = frozenset(
    {"=", "!=", ">", ">=", "<", "<=", "in", "not in"}
    | {"like", "ilike", "not like", "not ilike", "=like", "=ilike"}
)
_X2MANY = ("many2many", "one2many")


def _like(pattern: str, *, anchored: bool, ignore_case: bool) -> re.Pattern[str]:
    # SQL LIKE: % is any run, _ any one character; Odoo wraps plain (i)like values in %...%.
    wildcards = {"%": ".*", "_": "."}
    body = "".join(wildcards.get(c) or re.escape(c) for c in pattern)
    if not anchored:
        body = f".*{body}.*"
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _compare(kind: str, value: Any, operator: str, operand: Any) -> bool:
    if kind in _X2MANY:
        ids = set(value or ())
        if operator in ("in", "="):
            wanted = set(operand) if isinstance(operand, list) else {operand}
            return not ids if operand is False else bool(ids & wanted)
        if operator in ("not in", "!="):
            wanted = set(operand) if isinstance(operand, list) else {operand}
            return bool(ids) if operand is False else not ids & wanted
        raise OdooError.value(f"Invalid operator {operator!r} for an x2many field")
    if operator == "=":
        return bool(value == operand or (operand is False and value in (None, False, "")))
    if operator == "!=":
        return not _compare(kind, value, "=", operand)
    if operator in ("in", "not in"):
        if not isinstance(operand, list | tuple):
            raise OdooError.value(f"The domain operator {operator!r} needs a list of values")
        present = value in operand or (value in (False, None, "") and False in operand)
        return present if operator == "in" else not present
    if operator in ("like", "ilike", "not like", "not ilike", "=like", "=ilike"):
        text = "" if value in (False, None) else str(value)
        pattern = _like(
            str(operand),
            anchored=operator.startswith("="),
            ignore_case="ilike" in operator,
        )
        found = pattern.fullmatch(text) is not None
        return not found if operator.startswith("not") else found
    if value in (None, False) or operand in (None, False):
        return False  # SQL: comparisons with NULL are never true
    try:
        if operator == ">":
            return bool(value > operand)
        if operator == ">=":
            return bool(value >= operand)
        if operator == "<":
            return bool(value < operand)
        return bool(value <= operand)
    except TypeError:
        raise OdooError.value(f"Cannot compare {value!r} with {operand!r}") from None


def _leaf(term: Sequence[Any], resolve: Resolver, display: Resolver) -> Predicate:
    if len(term) != 3 or not isinstance(term[0], str):
        raise OdooError.value(f"Invalid leaf {list(term)!r}")
    path, operator, operand = term[0], str(term[1]).lower(), term[2]
    if operator not in OPERATORS:
        raise OdooError.value(f"Invalid leaf {list(term)!r}: unknown operator {operator!r}")

    # A long "in" list is tested against a set, as the database's index would: a search for
    # the variants of 500 templates must not cost 500 comparisons per row.
    members = _members(operand) if operator in ("in", "not in") else None

    def test(row: Row) -> bool:
        kind, value = resolve(row, path)
        if kind == "many2one" and isinstance(operand, str):
            # Odoo matches a many2one against a name by searching the related display names.
            _, name = display(row, path)
            return _compare("char", name, "ilike" if operator == "=" else operator, operand)
        if members is not None and kind not in _X2MANY:
            try:
                present = value in members
            except TypeError:  # not hashable: compared one by one below
                return _compare(kind, value, operator, operand)
            present = present or (value in (False, None, "") and False in members)
            return present if operator == "in" else not present
        return _compare(kind, value, operator, operand)

    return test


def _members(operand: Any) -> frozenset[Any] | None:
    if not isinstance(operand, list | tuple):
        return None
    try:
        return frozenset(operand)
    except TypeError:
        return None


def compile_domain(domain: Sequence[Any], resolve: Resolver, display: Resolver) -> Predicate:
    """A predicate for ``domain``; ``display`` gives a many2one path's display name."""
    if not isinstance(domain, list | tuple):
        raise OdooError.value("Domains to normalize must have a 'domain' form: a list")
    terms = list(domain)
    position = 0

    def parse() -> Predicate:
        nonlocal position
        if position >= len(terms):
            raise OdooError.value(f"Invalid domain {domain!r}: missing operand")
        term = terms[position]
        position += 1
        if term == "!":
            inner = parse()
            return lambda row: not inner(row)
        if term in ("&", "|"):
            left, right = parse(), parse()
            if term == "&":
                return lambda row: left(row) and right(row)
            return lambda row: left(row) or right(row)
        if isinstance(term, list | tuple):
            return _leaf(term, resolve, display)
        raise OdooError.value(f"Invalid domain term {term!r}")

    predicates: list[Predicate] = []
    while position < len(terms):
        predicates.append(parse())
    return lambda row: all(p(row) for p in predicates)


def mentions(domain: Sequence[Any], field: str) -> bool:
    """Whether a leaf of ``domain`` tests ``field`` (Odoo then drops its implicit active test)."""
    return any(
        isinstance(term, list | tuple) and len(term) == 3 and term[0] == field for term in domain
    )


def parse_order(order: str | None, known: Callable[[str], bool]) -> list[tuple[str, bool]]:
    """``"write_date asc, id desc"`` as ``[(field, descending), ...]``."""
    if not order:
        return [("id", False)]
    clauses: list[tuple[str, bool]] = []
    for part in order.split(","):
        words = part.split()
        if (
            not words
            or len(words) > 2
            or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
        ):
            raise OdooError.value(f"Invalid order: {order!r}")
        if not known(words[0]):
            raise OdooError.value(f"Invalid order: field {words[0]!r} does not exist")
        clauses.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return clauses
