"""What the reliability tests share: the platforms' process, worker processes, and the checks
that both sides hold the same catalogue with nothing lost and nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import msgspec

from adapters.base import Adapter
from canonical.fields import to_fields
from canonical.models import Record

HERE = Path(__file__).resolve().parent
SECRETS = {
    "TEST_ODOO_KEY": "odoo-key-reliability-4d1f93b2",
    "TEST_WC_KEY": "ck_reliability_8a0c2e71",
    "TEST_WC_SECRET": "cs_reliability_5f7b9d04",
}
STARTUP = 30.0

CONFIG = """
[database]
url_env = "CONCORD_DATABASE_URL"

[connections.main.erp]
type = "odoo"
url = "{erp}"
database = "odoo"
api_key_env = "TEST_ODOO_KEY"
requests_per_second = 1000

[connections.main.shop]
type = "woocommerce"
url = "{shop}"
consumer_key_env = "TEST_WC_KEY"
consumer_secret_env = "TEST_WC_SECRET"
requests_per_second = 1000
overlap_seconds = 5

[connections.main.jobs.products]
kind = "product"
every = "{every}"
{fields}{stock}
[connections.main.rules.product]
default = {{ owner = "erp" }}
fields.description = {{ owner = "both", policy = "manual" }}
create_in_shop = true
"""


class Platforms(msgspec.Struct, frozen=True):
    erp: str
    shop: str
    control: str


@asynccontextmanager
async def platforms_process(
    *, products: int, seed: int, log: Path, latency: float = 0.0
) -> AsyncIterator[Platforms]:
    """``platforms.py`` in a process of its own, its errors in ``log`` (a request cut short by
    a kill is logged there); yields its URLs; stopped on exit."""
    with log.open("ab") as sink:
        process = await _start_platforms(products, seed, latency, sink)
    try:
        assert process.stdout is not None
        async with asyncio.timeout(STARTUP):
            line = await process.stdout.readline()
        assert line, "the platforms' process exited before listening"
        yield msgspec.json.decode(line, type=Platforms)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def _start_platforms(
    products: int, seed: int, latency: float, sink: Any
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        str(HERE / "platforms.py"),
        "--products",
        str(products),
        "--seed",
        str(seed),
        "--latency",
        str(latency),
        env={**os.environ, **SECRETS},
        stdout=asyncio.subprocess.PIPE,
        stderr=sink,
    )


STOCK_JOB = """
[connections.main.jobs.stock]
kind = "stock"
every = "{every}"
"""


def write_config(
    directory: Path,
    platforms: Platforms,
    *,
    every: str = "1s",
    fields: list[str] | None = None,
    stock: bool = False,
) -> Path:
    """The worker's configuration; ``fields=None``: every field both platforms carry, with
    ``stock`` a stock job too."""
    path = directory / "concord.toml"
    listed = "" if fields is None else "fields = [" + ", ".join(f'"{f}"' for f in fields) + "]\n"
    path.write_text(
        CONFIG.format(
            erp=platforms.erp,
            shop=platforms.shop,
            every=every,
            fields=listed,
            stock=STOCK_JOB.format(every=every) if stock else "",
        )
    )
    return path


def worker_env(db_url: str) -> dict[str, str]:
    env = {**os.environ, **SECRETS, "CONCORD_DATABASE_URL": db_url}
    env.pop("CONCORD_CRASH_AT", None)
    return env


async def start_worker(config: Path, db_url: str, log: Path) -> asyncio.subprocess.Process:
    """One ``concord run`` worker, short leases so a killed one's job is taken over soon."""
    return await start_concord(
        config,
        log,
        worker_env(db_url),
        "-v",
        "run",
        "--lease-seconds",
        "1.5",
        "--poll-seconds",
        "0.2",
        "--shutdown-timeout",
        "20",
    )


async def start_concord(
    config: Path, log: Path, env: Mapping[str, str], *args: str
) -> asyncio.subprocess.Process:
    """``concord --config config ARGS...`` in the config's directory, its output in ``log``."""
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli.main",
            "--config",
            str(config),
            *args,
            cwd=config.parent,
            env=dict(env),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )


async def control(
    session: aiohttp.ClientSession, platforms: Platforms, method: str, path: str, **body: Any
) -> Any:
    async with session.request(
        method, f"{platforms.control}{path}", json=body if method == "POST" else None
    ) as reply:
        assert reply.status == 200, await reply.text()
        return await reply.json()


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Wait until ``condition()`` holds, looking every 100 ms, for ``within`` seconds at most."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.1)


async def fetch(db_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db_url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def read_side(adapter: Adapter, kind: str, *, twice: bool = False) -> dict[str, Record]:
    """Every record of ``kind`` on one side, by natural key. A key read twice fails, unless
    ``twice`` (a case that plants a duplicate): then the key is left out."""
    snapshot = await adapter.snapshot(kind, None)
    records: dict[str, Record] = {}
    repeated: set[str] = set()
    for seen in snapshot.records:
        key = seen.record.natural_key()
        if key in records:
            assert twice, f"{key} read twice"
            repeated.add(key)
        records[key] = seen.record
    return {k: v for k, v in records.items() if k not in repeated}


def field_differences(
    erp: Mapping[str, Record], shop: Mapping[str, Record], fields: list[str]
) -> dict[str, dict[str, tuple[Any, Any]]]:
    """The fields on which the two sides disagree, by key (keys missing on a side included)."""
    differ: dict[str, dict[str, tuple[Any, Any]]] = {}
    for key in erp.keys() | shop.keys():
        if key not in erp or key not in shop:
            differ[key] = {"(record)": (key in erp, key in shop)}
            continue
        a, b = to_fields(erp[key]), to_fields(shop[key])
        bad = {f: (a.get(f), b.get(f)) for f in fields if a.get(f) != b.get(f)}
        if bad:
            differ[key] = bad
    return differ
