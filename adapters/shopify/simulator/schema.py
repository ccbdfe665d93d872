"""The Admin API schema subset (``schema.graphql``), built once per process, and the queries
checked against it."""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_schema, parse, validate

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


@cache
def admin_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=512)
def checked(text: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """The document of a query and what is wrong with it (its syntax error, else what the
    schema's validation finds), worked out once per distinct text: a client sends the same few
    queries again and again, with other variables."""
    try:
        document = parse(text)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(admin_schema(), document))
