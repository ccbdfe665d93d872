"""The state store's SQL, kept in ``engine/sql/queries.sql`` and loaded once at import.

Each query in the file starts with a ``-- name: <name>`` line followed by a one-line
``-- description``; the query runs until the next header. Python never builds SQL: it looks a
query up by name with :func:`query` and binds every value as a parameter.
"""

from __future__ import annotations

import re
from importlib import resources

_SOURCE = "engine/sql/queries.sql"
_HEADER = re.compile(r"^--\s*name:\s*(?P<name>\w+)\s*(?:--)?\s*$", re.MULTILINE)


def parse_queries(text: str, *, source: str = _SOURCE) -> dict[str, str]:
    """Split a queries file into ``{name: sql}``; comment lines inside a query are dropped."""
    queries: dict[str, str] = {}
    headers = list(_HEADER.finditer(text))
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        name = header["name"]
        end = following.start() if following is not None else len(text)
        lines = [
            line
            for line in text[header.end() : end].splitlines()
            if line.strip() and not line.lstrip().startswith("--")
        ]
        sql = "\n".join(lines).strip().rstrip(";").strip()
        if not sql:
            raise ValueError(f"{source}: query {name!r} is empty")
        if name in queries:
            raise ValueError(f"{source}: query {name!r} is defined twice")
        queries[name] = sql
    return queries


QUERIES: dict[str, str] = parse_queries(
    resources.files("engine").joinpath("sql", "queries.sql").read_text(encoding="utf-8")
)
"""Every named query of the state store."""


def query(name: str) -> str:
    """The SQL of the query ``name``; an unknown name is a programming error and says so."""
    try:
        return QUERIES[name]
    except KeyError:
        raise LookupError(f"no query named {name!r} in {_SOURCE}") from None
