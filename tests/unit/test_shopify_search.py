"""The Shopify simulator's searches find what reading every indexed document would find.

Writes and deletions come in any order and a field may hold text in one document and a
number or an instant in another: the term index must never hide a match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.shopify.simulator.clock import ManualClock
from adapters.shopify.simulator.reads import searched
from adapters.shopify.simulator.search import compile_query
from adapters.shopify.simulator.store import Store

WORDS = ["a-1", "A-1", "b", "B", "", "7", "true"]
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)

text = st.one_of(
    st.sampled_from(WORDS), st.lists(st.sampled_from(WORDS), max_size=3), st.booleans()
)
held = st.one_of(text, st.integers(0, 9), st.just(MOMENT), st.none())
# Text only in ``sku`` and ``tag``, so their index gets built; anything in the others.
documents = st.fixed_dictionaries(
    {}, optional={"sku": text, "tag": text, "title": held, "status": held}
)
terms = st.builds(
    lambda neg, field, op, value: f"{neg}{field}:{op}'{value}'",
    st.sampled_from(["", "-", "NOT "]),
    st.sampled_from(["sku", "tag", "title", "status", "tags"]),
    st.sampled_from(["", "", ">", "<="]),
    st.sampled_from([*WORDS, "a*", "2026-01-01T00:00:00Z"]),
)
exact = st.builds(
    lambda field, value: f"{field}:'{value}'",
    st.sampled_from(["sku", "tag", "tags"]),
    st.sampled_from([*WORDS, "a*"]),
)
alternative = st.lists(st.one_of(exact, exact, terms, st.just("b")), min_size=1, max_size=3)
queries = st.one_of(
    st.lists(alternative.map(" AND ".join), min_size=1, max_size=3).map(" OR ".join),
    st.lists(st.one_of(terms, st.sampled_from(["OR", "AND", "b"])), min_size=1, max_size=5).map(
        " ".join
    ),
)


def _scan(store: Store, kind: str, query: str) -> set[int]:
    predicate = compile_query(query, {"product_status": "status", "tags": "tag"})
    prefix = f"gid://shopify/{kind}/"
    return {
        int(document["id"])
        for key, document in store.search_view().items()
        if key.startswith(prefix) and predicate(document)
    }


kinds = st.sampled_from(["Product", "ProductVariant"])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("write"), kinds, st.integers(1, 3), documents),
        st.tuples(st.just("delete"), kinds, st.integers(1, 3)),
        st.tuples(st.just("search"), queries),
    ),
    max_size=16,
)


WRITE_B = ("write", "Product", 1, {"sku": "b"})
SEARCH_B = ("search", "sku:'b'")


@settings(max_examples=400, deadline=None)
@given(steps=steps)
@example(steps=[WRITE_B, SEARCH_B, ("delete", "Product", 1), SEARCH_B])
@example(steps=[WRITE_B, SEARCH_B, ("write", "Product", 1, {"sku": "a-1"}), SEARCH_B])
@example(steps=[WRITE_B, SEARCH_B, ("write", "Product", 2, {"sku": 7}), SEARCH_B])
def test_a_search_finds_what_a_full_scan_finds(steps: list[tuple[Any, ...]]) -> None:
    store = Store(clock=ManualClock())
    for step in steps:
        match step:
            case ("write", kind, number, document):
                store.reindex(f"gid://shopify/{kind}/{number}", {**document, "id": number})
            case ("delete", kind, number):
                store.unindex(f"gid://shopify/{kind}/{number}")
            case ("search", query):
                for kind in ("Product", "ProductVariant"):
                    assert searched(store, kind, query) == _scan(store, kind, query)
