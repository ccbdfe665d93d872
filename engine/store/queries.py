"""The state store's SQL, kept in ``engine/store/sql/*.sql`` (one file per topic) and loaded once at
import into one table of named queries.

Each query in a file starts with a ``-- name: <name>`` line followed by a one-line
``-- description``; the query runs until the next header. Python never builds SQL: it looks a
query up by name with :func:`query` and binds every value as a parameter.
"""

from __future__ import annotations

import re
from importlib import resources

_SOURCE = "engine/store/sql"
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


def _load_all() -> dict[str, str]:
    queries: dict[str, str] = {}
    folder = resources.files("engine.store").joinpath("sql")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        source = f"{_SOURCE}/{entry.name}"
        for name, sql in parse_queries(entry.read_text(encoding="utf-8"), source=source).items():
            if name in queries:
                raise ValueError(f"{source}: query {name!r} is already defined in another file")
            queries[name] = sql
    return queries


QUERIES: dict[str, str] = _load_all()
"""Every named query of the state store."""


def query(name: str) -> str:
    """The SQL of the query ``name``; an unknown name is a programming error and says so."""
    try:
        return QUERIES[name]
    except KeyError:
        raise LookupError(f"no query named {name!r} in {_SOURCE}") from None
