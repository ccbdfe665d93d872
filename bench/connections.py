"""Many connections on one database: how the loop shares them out, and what it costs Postgres.

::

    python -m bench.connections [--connections 200] [--workers 3] [--products 5]
                                [--every 10s] [--seconds 60] [--json FILE]

Each connection pairs two in-process platforms (the ``memory`` adapter, ``--products``
articles), with one stock job due every ``--every``. ``--workers`` workers, each with a
connection pool of its own as separate processes would have, run every job for ``--seconds``
against one PostgreSQL (embedded, or ``CONCORD_DATABASE_URL``). It reports the claims taken per
second against those due, how evenly the connections were served (runs per connection, the
lag from a job's due time to its claim), and the database's load from ``pg_stat_database``:
transactions and rows written per claim.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import asyncpg
import msgspec

from engine.config import parse_config
from engine.loop.worker import Worker, WorkerSettings
from engine.store.database import create_pool, database_url
from engine.store.migrate import migrate
from engine.store.state import Store

CONNECTION = """
[connections.shop{index:03d}.erp]
type = "memory"
products = {products}
seed = {index}

[connections.shop{index:03d}.shop]
type = "memory"

[connections.shop{index:03d}.jobs.stock]
kind = "stock"
every = "{every}"
"""


class Figures(msgspec.Struct, kw_only=True):
    connections: int
    workers: int
    products: int
    every_seconds: float
    seconds: float
    claims: int
    claims_per_second: float
    due_per_second: float
    """Claims per second the schedules asked for."""
    runs_per_connection_min: int
    runs_per_connection_max: int
    starved: int
    """Connections that never ran during the measure."""
    lag_p50: float
    lag_p95: float
    lag_max: float
    """Seconds from a run's due time to its claim."""
    claims_per_worker: dict[str, int]
    transactions_per_claim: float
    rows_written_per_claim: float
    transactions_per_second: float


async def measure(
    url: str, *, connections: int, workers: int, products: int, every: str, seconds: float
) -> Figures:
    text = "".join(
        CONNECTION.format(index=i, products=products, every=every) for i in range(connections)
    )
    config = parse_config(text, source="bench-connections.toml")
    settings = WorkerSettings(lease_seconds=30.0, poll_seconds=0.5, shutdown_timeout=20.0)
    pools = [await create_pool(url) for _ in range(workers)]
    stop = asyncio.Event()
    try:
        running = [
            Worker(config, Store(pool), settings=settings, owner=f"worker{n}")
            for n, pool in enumerate(pools)
        ]
        tasks = [asyncio.create_task(worker.run(stop)) for worker in running]
        # The first round (every job due at once) is the start, not the steady state.
        await asyncio.sleep(max(2.0, _seconds(every)))
        before, started = await _load(url), time.monotonic()
        first_claim = await _last_claim_id(url)
        await asyncio.sleep(seconds)
        after, took = await _load(url), time.monotonic() - started
        last_claim = await _last_claim_id(url)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        for pool in pools:
            await pool.close()
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "select connection, owner, extract(epoch from claimed_at - due_at)::float8 as lag"
            " from concord_claim where id > $1 and id <= $2",
            first_claim,
            last_claim,
        )
    finally:
        await conn.close()
    per_connection = Counter(row["connection"] for row in rows)
    lags = sorted(row["lag"] for row in rows) or [0.0]
    claims = len(rows)
    transactions = after["xact_commit"] - before["xact_commit"]
    written = sum(after[k] - before[k] for k in ("tup_inserted", "tup_updated", "tup_deleted"))
    return Figures(
        connections=connections,
        workers=workers,
        products=products,
        every_seconds=_seconds(every),
        seconds=round(took, 2),
        claims=claims,
        claims_per_second=round(claims / took, 2),
        due_per_second=round(connections / _seconds(every), 2),
        runs_per_connection_min=min(per_connection[f"shop{i:03d}"] for i in range(connections)),
        runs_per_connection_max=max(per_connection.values(), default=0),
        starved=sum(per_connection[f"shop{i:03d}"] == 0 for i in range(connections)),
        lag_p50=round(statistics.median(lags), 3),
        lag_p95=round(lags[int(0.95 * (len(lags) - 1))], 3),
        lag_max=round(lags[-1], 3),
        claims_per_worker=dict(sorted(Counter(row["owner"] for row in rows).items())),
        transactions_per_claim=round(transactions / max(claims, 1), 1),
        rows_written_per_claim=round(written / max(claims, 1), 1),
        transactions_per_second=round(transactions / took, 1),
    )


def _seconds(every: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(every[:-1]) * units[every[-1]]


async def _load(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "select xact_commit, tup_inserted, tup_updated, tup_deleted"
            " from pg_stat_database where datname = current_database()"
        )
        # The statistics collector publishes at its own pace: ask for a fresh snapshot.
        await conn.execute("select pg_stat_clear_snapshot()")
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def _last_claim_id(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        value: int = await conn.fetchval("select coalesce(max(id), 0) from concord_claim")
    finally:
        await conn.close()
    return value


async def run(args: argparse.Namespace) -> Figures:
    configured = os.environ.get("CONCORD_DATABASE_URL") or None
    with tempfile.TemporaryDirectory(prefix="concord-bc-", ignore_cleanup_errors=True) as tmp:
        async with database_url(configured, Path(tmp)) as url:
            conn = await asyncpg.connect(url)
            try:
                await migrate(conn)
            finally:
                await conn.close()
            return await measure(
                url,
                connections=args.connections,
                workers=args.workers,
                products=args.products,
                every=args.every,
                seconds=args.seconds,
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.connections", description=__doc__)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--products", type=int, default=5)
    parser.add_argument("--every", default="10s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    encoded = msgspec.json.format(msgspec.json.encode(figures)).decode()
    print(encoded)
    if args.json is not None:
        args.json.write_text(encoded + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
