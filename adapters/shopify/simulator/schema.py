"""The Admin API schema subset (``schema.graphql``), built once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


@cache
def admin_schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))
