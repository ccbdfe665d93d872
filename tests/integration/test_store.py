"""The state store against a real PostgreSQL: what a cycle commits is what the next one loads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from asyncpg.connection import LoggedQuery

from canonical.errors import StoreError
from engine.store.database import create_pool, database_url, redact_url
from engine.store.state import (
    ROWS_PER_STATEMENT,
    CommitBatch,
    ConflictNotOpen,
    NewConflict,
    NewDeadLetter,
    Store,
    StoredRecord,
    UnknownConflict,
)

STARTED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def batch(**changes: Any) -> CommitBatch:
    head: dict[str, Any] = {
        "connection": "main",
        "kind": "product",
        "job": "products",
        "mode": "incremental",
        "started_at": STARTED,
        "status": "ok",
    }
    return CommitBatch(**{**head, **changes})


def conflict(key: str = "SKU-1", field: str = "price", erp: Any = "11", shop: Any = "12") -> Any:
    return NewConflict(key, field, "10", erp, shop, "both sides changed", "erp")


@pytest.fixture
async def main(store: Store) -> Store:
    await store.ensure_connection("main")
    return store


class QueryLog:
    """Every statement a connection sends to the server, as asyncpg logs it."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, record: LoggedQuery) -> None:
        self.queries.append(record.query)

    def count_during(self) -> QueryLog:
        self.queries.clear()
        return self


@pytest.fixture
async def logged(db_url: str) -> AsyncIterator[tuple[Store, QueryLog]]:
    """A store on a one-connection pool whose statements are all logged."""
    pool = await create_pool(db_url, max_size=1)
    log = QueryLog()
    async with pool.acquire() as conn:
        conn.add_query_logger(log)
    store = Store(pool)
    await store.ensure_connection("main")
    try:
        yield store, log
    finally:
        await pool.close()


async def test_commit_round_trip(main: Store) -> None:
    run_id = await main.commit(
        batch(
            counts={"created": 1, "updated": 1},
            base_updates=[("SKU-1", {"name": "Mug", "price": "9.5"}), ("SKU-2", {"name": "Cup"})],
            links=[("SKU-1", "17", "501"), ("SKU-3", None, "503")],
            conflicts_found=[conflict()],
            dead_letters=[NewDeadLetter("SKU-2", "shop", {"type": "Update"}, "400 bad sku")],
            cursors={"erp": "2026-05-01T11:59:00Z", "shop": "88"},
        )
    )

    assert await main.load_records("main", "product") == {
        "SKU-1": StoredRecord("SKU-1", {"name": "Mug", "price": "9.5"}, "17", "501"),
        "SKU-2": StoredRecord("SKU-2", {"name": "Cup"}, None, None),
        "SKU-3": StoredRecord("SKU-3", None, None, "503"),
    }
    assert await main.load_records("main", "stock") == {}
    assert await main.load_cursors("main", "products") == {
        "erp": "2026-05-01T11:59:00Z",
        "shop": "88",
    }
    [found] = (await main.load_conflicts("main", "product")).values()
    assert (found.key, found.field, found.base, found.erp, found.shop) == (
        "SKU-1",
        "price",
        "10",
        "11",
        "12",
    )
    assert (found.status, found.suggested, found.resolution) == ("open", "erp", None)
    [run] = await main.list_runs("main")
    assert (run.id, run.job, run.mode, run.status) == (run_id, "products", "incremental", "ok")
    assert run.started_at == STARTED and run.finished_at is not None
    assert run.counts == {"created": 1, "updated": 1}
    [letter] = await main.list_dead_letters("main")
    assert (letter.key, letter.side, letter.operation) == ("SKU-2", "shop", {"type": "Update"})


async def test_cursors_move_and_stay_per_job(main: Store) -> None:
    await main.commit(batch(cursors={"erp": "1", "shop": "a"}))
    await main.commit(batch(cursors={"erp": "2"}))

    assert await main.load_cursors("main", "products") == {"erp": "2", "shop": "a"}
    assert await main.load_cursors("main", "stock") == {}


async def test_thirty_thousand_records_in_a_round_trip_per_five_thousand(
    logged: tuple[Store, QueryLog],
) -> None:
    store, log = logged

    def big_batch(size: int) -> CommitBatch:
        keys = [f"SKU-{n:05d}" for n in range(size)]
        return batch(
            base_updates=[
                (k, {"name": f"Article {k}", "price": "1.5", "tags": ["a"]}) for k in keys
            ],
            links=[(k, f"e{k}", f"s{k}") for k in keys],
            conflicts_found=[conflict(k) for k in keys[:100]],
            dead_letters=[NewDeadLetter(k, "erp", {"n": 1}, "refused") for k in keys[:100]],
            cursors={"erp": "x"},
        )

    log.count_during()
    await store.commit(big_batch(10))
    small = len(log.queries)

    log.count_during()
    await store.commit(big_batch(30_000))
    # Base rows and links go ROWS_PER_STATEMENT at a time (bounded memory); the rest as one.
    extra = 2 * (30_000 // ROWS_PER_STATEMENT - 1)
    assert len(log.queries) == small + extra, log.queries
    assert small <= 12, log.queries

    log.count_during()
    records = await store.load_records("main", "product")
    assert len(log.queries) <= 2  # the query, and the pool's reset on release
    assert len(records) == 30_000
    assert records["SKU-29999"] == StoredRecord(
        "SKU-29999",
        {"name": "Article SKU-29999", "price": "1.5", "tags": ["a"]},
        "eSKU-29999",
        "sSKU-29999",
    )


async def test_base_update_merges_fields_and_keeps_the_others(main: Store) -> None:
    await main.commit(batch(base_updates=[("SKU-1", {"name": "Mug", "price": "9", "tags": ["x"]})]))

    await main.commit(
        batch(base_updates=[("SKU-1", {"price": "10"}), ("SKU-1", {"stock": {"qty": "3"}})])
    )

    records = await main.load_records("main", "product")
    assert records["SKU-1"].fields == {
        "name": "Mug",
        "price": "10",
        "tags": ["x"],
        "stock": {"qty": "3"},
    }


async def test_base_delete_forgets_the_base_but_not_the_link(main: Store) -> None:
    await main.commit(
        batch(base_updates=[("A", {"n": 1}), ("B", {"n": 2})], links=[("A", "1", "2")])
    )

    await main.commit(batch(base_deletes=["A"]))

    assert await main.load_records("main", "product") == {
        "A": StoredRecord("A", None, "1", "2"),
        "B": StoredRecord("B", {"n": 2}, None, None),
    }


async def test_a_null_ref_keeps_the_stored_link(main: Store) -> None:
    await main.commit(batch(links=[("SKU-1", "17", None)]))
    await main.commit(batch(links=[("SKU-1", None, "501")]))
    assert (await main.load_records("main", "product"))["SKU-1"] == StoredRecord(
        "SKU-1", None, "17", "501"
    )

    await main.commit(batch(links=[("SKU-1", "18", None)]))
    assert (await main.load_records("main", "product"))["SKU-1"] == StoredRecord(
        "SKU-1", None, "18", "501"
    )


async def test_conflict_found_again_refreshes_the_open_one(main: Store) -> None:
    await main.commit(batch(conflicts_found=[conflict(erp="11")]))
    [first] = (await main.load_conflicts("main", "product")).values()

    await main.commit(
        batch(conflicts_found=[NewConflict("SKU-1", "price", "10", "13", "12", "again", "shop")])
    )

    [again] = (await main.load_conflicts("main", "product")).values()
    assert again.id == first.id
    assert (again.erp, again.reason, again.suggested) == ("13", "again", "shop")
    assert again.updated_at > first.updated_at
    assert again.created_at == first.created_at


async def test_conflict_lifecycle_resolve_then_apply(main: Store) -> None:
    await main.commit(
        batch(conflicts_found=[conflict(), conflict(field="name", erp="A", shop="B")])
    )
    live = await main.load_conflicts("main", "product")
    price = live["SKU-1", "price"]

    resolved = await main.resolve_conflict(price.id, source="shop", value="12", by="anna")

    assert (resolved.status, resolved.resolution, resolved.resolution_source) == (
        "resolved",
        "12",
        "shop",
    )
    assert resolved.resolved_by == "anna" and resolved.resolved_at is not None
    assert resolved.suggested == "erp"  # the computed default survives the person's choice
    assert await main.get_conflict(price.id) == resolved
    assert await main.count_open_conflicts("main") == 1

    # Found again before the resolution is applied: the person's choice is left untouched.
    await main.commit(batch(conflicts_found=[conflict(erp="99")]))
    live = await main.load_conflicts("main", "product")
    assert live["SKU-1", "price"] == resolved

    with pytest.raises(ConflictNotOpen, match=rf"conflict {price.id} is resolved"):
        await main.resolve_conflict(price.id, source="erp", value="11", by="bob")

    await main.commit(
        batch(conflicts_closed=[("SKU-1", "price", "applied"), ("SKU-1", "name", "dismissed")])
    )
    assert await main.load_conflicts("main", "product") == {}
    assert [c.status for c in await main.list_conflicts("main", status=None)] == [
        "applied",
        "dismissed",
    ]

    # Once applied, the same field can be in conflict again: a new row.
    await main.commit(batch(conflicts_found=[conflict(erp="14")]))
    [fresh] = (await main.load_conflicts("main", "product")).values()
    assert fresh.id not in (price.id, live["SKU-1", "name"].id)
    assert (fresh.status, fresh.erp) == ("open", "14")


async def test_resolving_an_unknown_conflict_or_with_a_bad_source_is_refused(main: Store) -> None:
    with pytest.raises(UnknownConflict, match="there is no conflict 4242"):
        await main.resolve_conflict(4242, source="erp", value=1, by="anna")
    await main.commit(batch(conflicts_found=[conflict()]))
    [live] = (await main.load_conflicts("main", "product")).values()
    with pytest.raises(ValueError, match="source must be one of"):
        await main.resolve_conflict(live.id, source="both", value=1, by="anna")  # type: ignore[arg-type]


async def test_resolution_typed_in_can_be_any_json(main: Store) -> None:
    await main.commit(batch(conflicts_found=[conflict(field="category")]))
    [live] = (await main.load_conflicts("main", "product")).values()

    resolved = await main.resolve_conflict(
        live.id, source="value", value=["Mugs", "Kitchen"], by="anna"
    )

    assert resolved.resolution == ["Mugs", "Kitchen"]
    assert (await main.load_conflicts("main", "product"))["SKU-1", "category"].resolution == [
        "Mugs",
        "Kitchen",
    ]


async def test_only_one_live_conflict_per_field(db_url: str, main: Store) -> None:
    await main.commit(batch(conflicts_found=[conflict()]))
    conn = await asyncpg.connect(db_url)
    try:
        insert = (
            "insert into concord_conflict (connection, kind, key, field, reason, status,"
            " resolution_source, resolved_at) values ('main', 'product', 'SKU-1', 'price', 'r',"
            " $1, $2, $3)"
        )
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "open", None, None)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, "resolved", "erp", STARTED)
        await conn.execute(insert, "applied", None, None)
        await conn.execute(insert, "dismissed", None, None)
    finally:
        await conn.close()
    assert len(await main.list_conflicts("main", status=None)) == 3


async def test_closing_with_another_status_is_refused(main: Store) -> None:
    await main.commit(batch(conflicts_found=[conflict()]))

    with pytest.raises(ValueError, match="applied or dismissed"):
        await main.commit(batch(conflicts_closed=[("SKU-1", "price", "open")]))
    assert len(await main.load_conflicts("main", "product")) == 1


async def test_list_conflicts_filters_and_searches(main: Store) -> None:
    await main.ensure_connection("other")
    await main.commit(
        batch(
            conflicts_found=[
                conflict("MUG-RED", "price"),
                conflict("MUG-BLUE", "sale_price"),
                conflict("PLATE", "name"),
            ]
        )
    )
    await main.commit(
        batch(
            connection="other",
            kind="customer",
            job="customers",
            conflicts_found=[conflict("a@example.com", "phone")],
        )
    )

    def keys(rows: list[Any]) -> list[str]:
        return [row.key for row in rows]

    assert keys(await main.list_conflicts()) == ["MUG-RED", "MUG-BLUE", "PLATE", "a@example.com"]
    assert keys(await main.list_conflicts("main")) == ["MUG-RED", "MUG-BLUE", "PLATE"]
    assert keys(await main.list_conflicts(kind="customer")) == ["a@example.com"]
    assert keys(await main.list_conflicts(search="mug")) == ["MUG-RED", "MUG-BLUE"]
    assert keys(await main.list_conflicts(search="SALE")) == ["MUG-BLUE"]
    assert keys(await main.list_conflicts(search="s_l")) == []  # "_" is literal, not a wildcard
    assert keys(await main.list_conflicts(search="sale_p")) == ["MUG-BLUE"]
    assert keys(await main.list_conflicts(limit=2)) == ["MUG-RED", "MUG-BLUE"]
    assert keys(await main.list_conflicts(status="resolved")) == []
    assert await main.count_open_conflicts("main") == 3
    assert await main.count_open_conflicts() == 4


async def test_dead_letter_counts_attempts_until_cleared(main: Store) -> None:
    failing = NewDeadLetter("SKU-1", "shop", {"type": "Update", "fields": {"price": "1"}}, "400")
    await main.commit(batch(dead_letters=[failing]))
    [first] = await main.list_dead_letters("main")

    await main.commit(batch(dead_letters=[NewDeadLetter("SKU-1", "shop", {"v": 2}, "409")]))

    [again] = await main.list_dead_letters("main")
    assert (again.id, again.attempts, again.reason, again.operation) == (
        first.id,
        2,
        "409",
        {"v": 2},
    )
    assert again.first_seen == first.first_seen and again.last_seen > first.last_seen

    await main.commit(batch(dead_letters_cleared=[("SKU-1", "shop"), ("SKU-1", "erp")]))
    assert await main.list_dead_letters("main") == []
    [cleared] = await main.list_dead_letters("main", status="cleared")
    assert (cleared.id, cleared.status) == (first.id, "cleared") and cleared.cleared_at

    await main.commit(batch(dead_letters=[failing]))
    [fresh] = await main.list_dead_letters("main")
    assert fresh.id != first.id and fresh.attempts == 1


async def test_failed_commit_leaves_nothing_behind(main: Store) -> None:
    await main.commit(batch(base_updates=[("SKU-1", {"price": "1"})], cursors={"erp": "1"}))

    with pytest.raises(StoreError, match=r"commit products \(product\).*concord_cursor"):
        await main.commit(
            batch(
                base_updates=[("SKU-1", {"price": "2"}), ("SKU-2", {"price": "3"})],
                links=[("SKU-1", "1", "2")],
                conflicts_found=[conflict()],
                cursors={"erp": "2", "middle": "oops"},  # violates the side check, last
            )
        )

    assert await main.load_records("main", "product") == {
        "SKU-1": StoredRecord("SKU-1", {"price": "1"}, None, None)
    }
    assert await main.load_cursors("main", "products") == {"erp": "1"}
    assert await main.load_conflicts("main", "product") == {}
    assert len(await main.list_runs("main")) == 1


async def test_commit_for_an_unknown_connection_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="concord_connection"):
        await store.commit(
            CommitBatch(
                "nowhere", "product", "products", "full", STARTED, "ok", {}, None, [("A", {})]
            )
        )


async def test_failed_run_records_only_the_run(main: Store) -> None:
    await main.commit(batch(base_updates=[("SKU-1", {"price": "1"})]))

    run_id = await main.record_failed_run(
        "main", "products", "full", STARTED, "shop unreachable", counts={"read": 3}
    )

    [failed, ok] = await main.list_runs("main")
    assert (failed.id, failed.status, failed.error) == (run_id, "failed", "shop unreachable")
    assert failed.counts == {"read": 3} and ok.status == "ok"
    assert (await main.load_records("main", "product"))["SKU-1"].fields == {"price": "1"}


async def test_list_runs_newest_first_and_limited(main: Store) -> None:
    ids = [await main.commit(batch(status=f"s{n}")) for n in range(3)]

    assert [run.id for run in await main.list_runs(limit=2)] == ids[:0:-1]
    assert await main.list_runs("elsewhere") == []


async def test_lease_is_held_by_one_owner_until_released_or_expired(main: Store) -> None:
    assert await main.acquire_lease("main", "products", "worker-a", 60)
    assert not await main.acquire_lease("main", "products", "worker-b", 60)
    assert await main.acquire_lease("main", "products", "worker-a", 60)  # renewal
    assert await main.acquire_lease("main", "stock", "worker-b", 60)

    await main.release_lease("main", "products", "worker-b")  # not the holder: no effect
    assert not await main.acquire_lease("main", "products", "worker-b", 60)
    await main.release_lease("main", "products", "worker-a")
    assert await main.acquire_lease("main", "products", "worker-b", -1)  # already expired
    assert await main.acquire_lease("main", "products", "worker-a", 60)


async def test_driver_errors_become_store_errors_naming_the_operation(db_url: str) -> None:
    pool = await create_pool(db_url)
    store = Store(pool)
    await pool.close()

    with pytest.raises(StoreError, match="load product records"):
        await store.load_records("main", "product")


async def test_connect_error_never_shows_the_password(server_url: str) -> None:
    parts = urlsplit(server_url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or "postgres"
    url = f"{parts.scheme}://{user}:s3cret-pw@{host}/no_such_db?{parts.query}"
    assert "s3cret-pw" in url

    with pytest.raises(StoreError) as caught:
        await create_pool(url)

    assert "no_such_db" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is not None


async def test_refused_connection_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match=r"cannot connect.*postgres:\*\*\*@127\.0\.0\.1:1") as e:
        await create_pool("postgresql://postgres:s3cret-pw@127.0.0.1:1/concord?password=x")
    assert "s3cret-pw" not in str(e.value) and "password=x" not in str(e.value)


def test_redact_url_hides_passwords_only() -> None:
    assert redact_url("postgresql://u:pw@h:5432/db?sslmode=require") == (
        "postgresql://u:***@h:5432/db?sslmode=require"
    )
    assert redact_url("postgresql://u@h/db?password=pw") == "postgresql://u@h/db?password=***"
    assert redact_url("postgresql:///db?host=/run/pg") == "postgresql:///db?host=/run/pg"
    assert redact_url("postgresql://:pw@/db?host=/run/pg&Password=x&sslmode=off") == (
        "postgresql://:***@/db?host=/run/pg&Password=***&sslmode=off"
    )


async def test_a_configured_url_is_used_as_given(tmp_path: Any) -> None:
    async with database_url("postgresql://u@h/db", tmp_path) as url:
        assert url == "postgresql://u@h/db"
    assert list(tmp_path.iterdir()) == []
