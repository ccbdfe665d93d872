"""The raw I/O floor: the same requests and the same state rows as Concord, with no logic.

Each simulator records the requests Concord's cycle made (:mod:`bench.simproc`). The floor
replays them with a bare aiohttp client at Concord's concurrency: every page fetched again,
every batch sent again, bodies as they were, answers read and thrown away. Runs of reads and
runs of writes are replayed in their recorded order, so a write never overtakes the read it
depended on. Then it loads the base and writes the same base and link rows Concord committed,
in one transaction, through the store's own named queries. What Concord spends beyond this is
its own work: decoding, mapping, deciding, planning, retry bookkeeping.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import msgspec

from bench.simproc import Recorded
from engine.store.queries import query
from engine.store.state import Store, StoredRecord

_ODOO_READS = ("/search_read", "/read", "/search", "/search_count", "/fields_get")


class StateRows(msgspec.Struct, kw_only=True):
    """The base and link rows a cycle wrote for one kind."""

    kind: str
    base: list[tuple[str, dict[str, Any]]]
    links: list[tuple[str, str | None, str | None]]


class Fingerprint(msgspec.Struct, frozen=True, array_like=True):
    """What a stored record was, small: a digest of its base values and its links. The
    benchmark keeps these (not whole records) across a measured scenario, so that its own
    bookkeeping does not weigh in Concord's memory figures."""

    digest: bytes | None
    erp_ref: str | None
    shop_ref: str | None


def fingerprints(records: Mapping[str, StoredRecord]) -> dict[str, Fingerprint]:
    return {
        key: Fingerprint(_digest(rec.fields), rec.erp_ref, rec.shop_ref)
        for key, rec in records.items()
    }


def _digest(fields: dict[str, Any] | None) -> bytes | None:
    if fields is None:
        return None
    return hashlib.blake2b(_sorted_json(fields), digest_size=16).digest()


_sorted_json = msgspec.json.Encoder(order="sorted").encode


def written_rows(
    kind: str, before: Mapping[str, Fingerprint], after: Mapping[str, StoredRecord]
) -> StateRows:
    """The rows that differ between two loads of the store: what the cycle committed."""
    base: list[tuple[str, dict[str, Any]]] = []
    links: list[tuple[str, str | None, str | None]] = []
    for key, now in after.items():
        old = before.get(key)
        if now.fields is not None and (old is None or old.digest != _digest(now.fields)):
            base.append((key, now.fields))
        if old is None or (old.erp_ref, old.shop_ref) != (now.erp_ref, now.shop_ref):
            links.append((key, now.erp_ref, now.shop_ref))
    return StateRows(kind=kind, base=base, links=links)


def _is_read(item: Recorded) -> bool:
    if item.method == "GET":
        return True
    path = item.path.split("?", 1)[0]
    return path.startswith("/json/2/") and path.endswith(_ODOO_READS)


def _runs(log: Sequence[Recorded]) -> list[list[Recorded]]:
    """Consecutive reads or consecutive writes, in order."""
    runs: list[list[Recorded]] = []
    for item in log:
        if runs and _is_read(runs[-1][0]) == _is_read(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


async def _replay_host(
    session: aiohttp.ClientSession, url: str, log: Sequence[Recorded], concurrency: int
) -> int:
    sent = 0

    async def send(item: Recorded) -> None:
        nonlocal sent
        async with session.request(
            item.method, url + item.path, data=item.body or None, headers=item.headers
        ) as response:
            await response.read()
            sent += 1

    async def worker(queue: list[Recorded]) -> None:
        while queue:
            await send(queue.pop())

    for run in _runs(log):
        queue = list(reversed(run))
        await asyncio.gather(*(worker(queue) for _ in range(min(concurrency, len(run)))))
    return sent


async def replay(logs: Mapping[str, tuple[str, Sequence[Recorded]]], *, concurrency: int) -> int:
    """Replay each host's log (``{name: (base url, log)}``) concurrently; returns requests sent."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        counts = await asyncio.gather(
            *(_replay_host(session, url, log, concurrency) for url, log in logs.values())
        )
    return sum(counts)


def _json_text(fields: dict[str, Any]) -> str:
    return msgspec.json.encode(fields).decode()


async def write_state(store: Store, *, read_from: str, write_to: str, rows: list[StateRows]) -> int:
    """Load ``read_from``'s base (as a cycle does), then write ``rows`` under ``write_to``."""
    await store.ensure_connection(write_to)
    written = 0
    async with store.pool.acquire() as conn:
        for part in rows:
            await conn.fetch(query("load_records"), read_from, part.kind)
        async with conn.transaction():
            for part in rows:
                if part.base:
                    keys = [key for key, _ in part.base]
                    values = [_json_text(fields) for _, fields in part.base]
                    await conn.execute(query("merge_base"), write_to, part.kind, keys, values)
                if part.links:
                    columns = list(zip(*part.links, strict=True))
                    await conn.execute(
                        query("upsert_links"), write_to, part.kind, *map(list, columns)
                    )
                written += len(part.base) + len(part.links)
    return written
