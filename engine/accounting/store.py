"""The ledger in PostgreSQL: entries booked once each, numbered without gaps.

Booking an entry is one transaction: the fiscal year's next number (its sequence row stays
locked until the end), the entry, and a row per shop document it books, whose primary key
refuses a document booked already. A crash anywhere leaves either the whole entry or nothing,
and the number is taken back with the rest; a second booker of the same document gets
:class:`AlreadyBooked` and nothing of its attempt stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Any

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from engine.store.queries import query
from engine.store.state import Store
from rules.accounting.entries import Entry
from rules.accounting.ledger import Booked


class AlreadyBooked(Exception):
    """Another booking of one of the entry's documents got there first."""


class Ledger:
    """The booked entries of every connection, on the state store's pool."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = store.pool

    def _connection(self, operation: str) -> AbstractAsyncContextManager[PoolConnectionProxy[Any]]:
        # The state store's own: driver errors become StoreError naming the operation.
        return self.store._connection(operation)

    async def booked_of(self, connection: str, sources: Sequence[str]) -> set[str]:
        """Which of these shop documents are booked already."""
        async with self._connection("read booked documents") as conn:
            rows = await conn.fetch(query("accounting_booked_of"), connection, list(sources))
        return {row["source"] for row in rows}

    async def book(self, connection: str, entry: Entry, validated: date) -> Booked:
        """Book ``entry`` (validated on ``validated``); raises :class:`AlreadyBooked` when one
        of its documents is booked already. The entry is dated no earlier than the latest
        one of its fiscal year."""
        async with self._connection(f"book {entry.key}") as conn:
            try:
                async with conn.transaction():
                    year = entry.day.year
                    row = await conn.fetchrow(
                        query("accounting_next_number"), connection, year, entry.day
                    )
                    assert row is not None
                    booked = msgspec.structs.replace(entry, day=row["last_day"])
                    entry_id = await conn.fetchval(
                        query("accounting_insert_entry"),
                        connection,
                        year,
                        row["last_number"],
                        entry.key,
                        entry.kind,
                        booked.day,
                        validated,
                        msgspec.to_builtins(booked),
                    )
                    await conn.execute(
                        query("accounting_insert_documents"),
                        connection,
                        list(entry.sources),
                        entry_id,
                    )
            except asyncpg.UniqueViolationError:
                # The whole transaction is rolled back, its number with it.
                raise AlreadyBooked(entry.key) from None
        return Booked(number=row["last_number"], validated=validated, entry=booked)

    async def between(self, connection: str, start: date, end: date) -> list[Booked]:
        """The entries dated from ``start`` to ``end`` (inclusive), in number order."""
        async with self._connection("read the booked entries") as conn:
            rows = await conn.fetch(query("accounting_entries_between"), connection, start, end)
        return [
            Booked(
                number=row["number"],
                validated=row["validated"],
                entry=msgspec.convert(row["entry"], Entry),
            )
            for row in rows
        ]

    async def counts(self, connection: str) -> dict[str, int]:
        """Booked entries per kind."""
        async with self._connection("count booked entries") as conn:
            rows = await conn.fetch(query("accounting_counts"), connection)
        return {row["kind"]: row["count"] for row in rows}
