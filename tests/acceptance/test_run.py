"""``concord run`` as merchants run it: worker processes on one database, over HTTP simulators.

An Odoo simulator (the ERP) and a WooCommerce simulator (the shop) are served by this test on
loopback; each worker is a ``concord run`` process reading its secrets from the environment.
What happened is proved from the database (claims: the lease history; runs), not from timing.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import asyncpg
import msgspec
import pytest

from adapters.odoo.simulator.app import create_app as create_odoo
from adapters.simkit import STATS_KEY, Faults, serve, set_faults
from adapters.woocommerce.simulator.app import create_app as create_shop
from adapters.woocommerce.simulator.app import store_of
from engine.loop.leases import ClaimRow

SECRETS = {
    "TEST_ODOO_KEY": "odoo-key-7f3a9c1e55d2",
    "TEST_WC_KEY": "ck_4be1d07a9e3f",
    "TEST_WC_SECRET": "cs_9d2c61fa0b7e",
    "TEST_WC_WRONG": "cs_wrong_5e8a13c7d4",
}
LEASE, POLL = 3.0, 0.5

CONFIG = """
[connections.main.erp]
type = "odoo"
url = "{odoo}"
database = "odoo"
api_key_env = "TEST_ODOO_KEY"

[connections.main.shop]
type = "woocommerce"
url = "{shop}"
consumer_key_env = "TEST_WC_KEY"
consumer_secret_env = "TEST_WC_SECRET"

[connections.main.jobs.products]
kind = "product"
every = "{products_every}"

[connections.main.jobs.stock]
kind = "stock"
every = "{stock_every}"
"""

BROKEN = """
[connections.broken.erp]
type = "odoo"
url = "{odoo}"
database = "odoo"
api_key_env = "TEST_ODOO_KEY"

[connections.broken.shop]
type = "woocommerce"
url = "{shop}"
consumer_key_env = "TEST_WC_KEY"
consumer_secret_env = "TEST_WC_WRONG"

[connections.broken.jobs.stock]
kind = "stock"
every = "1h"
"""


class Platforms(msgspec.Struct):
    odoo: str
    shop: str
    shop_app: object


@pytest.fixture
async def platforms() -> AsyncIterator[Platforms]:
    erp = create_odoo(products=150, seed=7, api_key=SECRETS["TEST_ODOO_KEY"])
    shop = create_shop(
        consumer_key=SECRETS["TEST_WC_KEY"], consumer_secret=SECRETS["TEST_WC_SECRET"]
    )
    # Every shop request takes a while, so a job is still running when a worker is killed.
    set_faults(shop, Faults(latency=0.15))
    async with AsyncExitStack() as stack:
        odoo_url = await stack.enter_async_context(serve(erp))
        shop_url = await stack.enter_async_context(serve(shop))
        yield Platforms(odoo=odoo_url, shop=shop_url, shop_app=shop)


def write_config(
    directory: Path,
    platforms: Platforms,
    *,
    products_every: str = "6s",
    stock_every: str = "4s",
    broken: bool = False,
) -> Path:
    text = CONFIG + (BROKEN if broken else "")
    path = directory / "concord.toml"
    path.write_text(
        text.format(
            odoo=platforms.odoo,
            shop=platforms.shop,
            products_every=products_every,
            stock_every=stock_every,
        )
    )
    return path


class Worker:
    """One ``concord run`` process, its output in a file."""

    def __init__(self, process: asyncio.subprocess.Process, output: Path) -> None:
        self.process = process
        self.output = output

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self, within: float = 40.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=within)

    def text(self) -> str:
        return self.output.read_text()


async def start_worker(
    config: Path, db_url: str, name: str, *extra: str, options: tuple[str, ...] = ()
) -> Worker:
    output = config.parent / f"{name}.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "engine.cli.main",
            "--config",
            str(config),
            *options,
            "run",
            "--lease-seconds",
            str(LEASE),
            "--poll-seconds",
            str(POLL),
            *extra,
            cwd=config.parent,
            env={**os.environ, **SECRETS, "CONCORD_DATABASE_URL": db_url},
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    return Worker(process, output)


async def concord(config: Path, db_url: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        "--config",
        str(config),
        *args,
        env={**os.environ, **SECRETS, "CONCORD_DATABASE_URL": db_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def history(db_url: str) -> list[ClaimRow]:
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            "select id, connection, job, slot, owner, due_at, claimed_at, renewed_until,"
            " finished_at, outcome, run_id, error from concord_claim order by id"
        )
    finally:
        await conn.close()
    return [ClaimRow(**dict(row)) for row in rows]


async def scalar(db_url: str, sql: str) -> object:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Wait until ``condition()`` holds, every 100 ms, for ``within`` seconds at most."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.1)


def pid_of(owner: str) -> int:
    return int(owner.split(":")[1])


def never_twice_at_once(claims: list[ClaimRow]) -> None:
    by_job: dict[tuple[str, str], list[ClaimRow]] = {}
    for claim in claims:
        by_job.setdefault((claim.connection, claim.job), []).append(claim)
    for job, rows in by_job.items():
        for before, after in itertools.pairwise(rows):
            ended = before.renewed_until if before.outcome == "expired" else before.finished_at
            assert ended is not None, f"{job}: claim {before.id} never ended"
            assert after.claimed_at >= ended, f"{job}: claims {before.id}, {after.id} overlap"


@pytest.mark.slow
async def test_three_workers_one_killed_mid_job_every_job_runs_and_none_twice(
    tmp_path: Path, db_url: str, platforms: Platforms
) -> None:
    config = write_config(tmp_path, platforms)
    workers = [await start_worker(config, db_url, f"worker{i}") for i in range(3)]
    try:
        victim_claim: list[ClaimRow] = []

        async def a_job_is_running() -> bool:
            running = [c for c in await history(db_url) if c.outcome == "running"]
            victim_claim.extend(running[:1])
            return bool(running)

        await wait_for(a_job_is_running)
        victim = next(w for w in workers if w.pid == pid_of(victim_claim[0].owner))
        victim.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(victim.process.wait(), timeout=10)
        lost = victim_claim[0]

        async def taken_over_and_ran_on() -> bool:
            claims = await history(db_url)
            expired = [c for c in claims if c.id == lost.id and c.outcome == "expired"]
            later = [c for c in claims if c.claimed_at > lost.claimed_at and c.outcome == "ok"]
            jobs_after = {c.job for c in later}
            return bool(expired) and jobs_after == {"products", "stock"} and len(later) >= 4

        await wait_for(taken_over_and_ran_on, within=90)
        survivors = [w for w in workers if w is not victim]
        codes = await asyncio.gather(*(w.stop() for w in survivors))
        assert codes == [0, 0], "\n".join(w.text() for w in survivors)
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.kill()
                await worker.process.wait()

    claims = await history(db_url)
    never_twice_at_once(claims)
    # The killed worker's run was taken over: the same due moment, run by another worker.
    takeover = next(c for c in claims if c.job == lost.job and c.claimed_at > lost.claimed_at)
    assert takeover.due_at == lost.due_at and takeover.owner != lost.owner
    assert takeover.claimed_at >= lost.renewed_until
    assert {c.outcome for c in claims} <= {"ok", "expired", "interrupted"}
    assert [c.id for c in claims if c.outcome == "expired"] == [lost.id]
    # On time: every run started within a lease (plus two looks at the schedule) of its due
    # moment, the taken-over one included.
    slack = timedelta(seconds=LEASE + 2 * POLL + 5)
    for claim in claims:
        assert claim.claimed_at - claim.due_at <= slack + (
            lost.renewed_until - lost.due_at if claim is takeover else timedelta(0)
        ), claim
    # None twice: one run row per successful claim, and runs of one job never overlap.
    conn = await asyncpg.connect(db_url)
    try:
        runs = await conn.fetch(
            "select id, job, started_at, finished_at from concord_run order by job, started_at"
        )
        leases = await conn.fetchval("select count(*) from concord_lease")
    finally:
        await conn.close()
    ok_runs = sorted(c.run_id for c in claims if c.outcome == "ok")
    assert sorted(r["id"] for r in runs) == ok_runs
    for before, after in itertools.pairwise(runs):
        if before["job"] == after["job"]:
            assert after["started_at"] >= before["finished_at"]
    assert leases == 0
    # The work was shared: whichever workers the schedule happened to favour, at least the
    # victim and the one that took its job over ran jobs (which of three is a matter of timing).
    assert len({c.owner for c in claims}) >= 2


async def test_sigterm_finishes_the_running_job_releases_leases_and_exits_0(
    tmp_path: Path, db_url: str, platforms: Platforms
) -> None:
    config = write_config(tmp_path, platforms, products_every="1h", stock_every="1h")
    worker = await start_worker(config, db_url, "worker", "--shutdown-timeout", "20")

    async def running() -> bool:
        return any(c.outcome == "running" for c in await history(db_url))

    await wait_for(running)
    code = await worker.stop(within=30)

    assert code == 0, worker.text()
    claims = await history(db_url)
    assert claims and all(c.outcome == "ok" and c.run_id is not None for c in claims)
    assert await scalar(db_url, "select count(*) from concord_lease") == 0

    code, out = await concord(config, db_url, "status", "--json")
    assert code == 0, out
    status = msgspec.json.decode(out)
    (main,) = status["connections"]
    jobs = {job["job"]: job for job in main["jobs"]}
    assert set(jobs) == {"products", "stock"}
    done = [job for job in jobs.values() if job["last_run"] is not None]
    # Stock for articles not in the shop yet is parked as dead letters: a partial run.
    assert done and all(job["last_run"]["status"] in ("ok", "partial") for job in done)
    assert all(job["lag_seconds"] is not None and not job["late"] for job in done)
    code, out = await concord(config, db_url, "status")
    assert code == 0 and "main: pending intents: 0, dead letters: " in out
    assert "main/products: ok" in out


@pytest.mark.parametrize("log_json", [False, True], ids=["readable", "json"])
async def test_no_secret_in_any_log_line_or_error(
    tmp_path: Path, db_url: str, platforms: Platforms, log_json: bool
) -> None:
    config = write_config(tmp_path, platforms, products_every="1h", stock_every="1h", broken=True)
    options = ("-v", "--log-json") if log_json else ("-v",)
    worker = await start_worker(config, db_url, "worker", options=options)

    async def every_job_ran() -> bool:
        claims = await history(db_url)
        done = {(c.connection, c.job) for c in claims if c.outcome in ("ok", "failed")}
        return {("main", "products"), ("main", "stock"), ("broken", "stock")} <= done

    await wait_for(every_job_ran)
    assert await worker.stop() == 0
    _, status = await concord(config, db_url, "status")
    _, status_json = await concord(config, db_url, "status", "--json")
    errors = [c.error or "" for c in await history(db_url)]

    log = worker.text()
    lines = log.splitlines()
    assert len(lines) > 10
    if log_json:
        decoded = [msgspec.json.decode(line) for line in lines]
        assert {"time", "level", "logger", "message"} <= set(decoded[0])
    assert "credentials refused" in log and "credentials refused" in status  # the broken shop
    for secret in SECRETS.values():
        for text in (*lines, status, status_json, *errors):
            assert secret not in text


async def test_a_worker_paused_past_its_lease_cannot_commit_over_the_worker_that_took_over(
    tmp_path: Path, db_url: str, platforms: Platforms
) -> None:
    config = write_config(tmp_path, platforms, products_every="1h", stock_every="1h")
    # A batch takes a second: the export is still pushing when the worker is paused.
    set_faults(platforms.shop_app, Faults(latency=1.0))  # type: ignore[arg-type]
    shop = store_of(platforms.shop_app)  # type: ignore[arg-type]
    paused = await start_worker(config, db_url, "paused")
    workers = [paused]
    try:
        first: list[ClaimRow] = []

        async def exporting() -> bool:
            running = [c for c in await history(db_url) if c.job == "products"]
            first[:] = running[:1]
            return bool(running) and bool(shop.products)

        await wait_for(exporting)
        paused.process.send_signal(signal.SIGSTOP)

        async def lease_expired() -> bool:
            return bool(
                await scalar(db_url, "select bool_and(expires_at < now()) from concord_lease")
            )

        await wait_for(lease_expired)
        taker = await start_worker(config, db_url, "taker")
        workers.append(taker)

        async def taken_over_and_committed() -> bool:
            claims = await history(db_url)
            return any(
                c.job == "products" and c.owner != first[0].owner and c.outcome == "ok"
                for c in claims
            )

        await wait_for(taken_over_and_committed, within=90)
        paused.process.send_signal(signal.SIGCONT)

        async def paused_run_given_up() -> bool:
            return "main/products: lost after" in paused.text()

        await wait_for(paused_run_given_up)
        codes = await asyncio.gather(*(w.stop() for w in workers))
        assert codes == [0, 0], "\n".join(w.text() for w in workers)
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGCONT)
                worker.process.kill()
                await worker.process.wait()

    claims = [c for c in await history(db_url) if c.job == "products"]
    paused_claim, taken = claims[0], [c for c in claims if c.owner != first[0].owner]
    assert paused_claim.outcome == "expired" and paused_claim.run_id is None
    assert taken and all(c.outcome == "ok" for c in taken)
    # The taker's run is the only one committed: the paused worker wrote no run, no base.
    conn = await asyncpg.connect(db_url)
    try:
        runs = await conn.fetch("select id, job from concord_run where job = 'products'")
    finally:
        await conn.close()
    assert sorted(r["id"] for r in runs) == sorted(c.run_id for c in taken)
    assert "main/products: done in" not in paused.text()
    skus = [p.sku for p in shop.products.values()]
    assert skus and len(skus) == len(set(skus))  # both pushed, nothing created twice


BUDGET_RATE = 10.0
SHARED_SHOP = """
[connections.{name}.erp]
type = "memory"

[connections.{name}.shop]
type = "woocommerce"
url = "{shop}"
consumer_key_env = "TEST_WC_KEY"
consumer_secret_env = "TEST_WC_SECRET"
requests_per_second = {rate}

[connections.{name}.jobs.stock]
kind = "stock"
every = "1h"
"""


@pytest.mark.slow
async def test_three_workers_on_one_shop_account_stay_within_its_rate_together(
    tmp_path: Path, db_url: str
) -> None:
    """Three connections read their stock from one shop account allowing 10 requests/s (429
    above it), one job per worker, all at once: each worker would allow itself the account's
    rate; the budget they share through Postgres keeps their sum there. The rate is read from
    the simulator's own counter over the time the three jobs ran together."""
    app = create_shop(
        products=800,
        seed=3,
        consumer_key=SECRETS["TEST_WC_KEY"],
        consumer_secret=SECRETS["TEST_WC_SECRET"],
        faults=Faults(rate_limit=BUDGET_RATE, retry_after=1.0),
    )
    stats = app[STATS_KEY]
    async with serve(app) as url:
        config = tmp_path / "concord.toml"
        config.write_text(
            "".join(SHARED_SHOP.format(name=f"c{i}", shop=url, rate=BUDGET_RATE) for i in range(3))
        )
        workers = [
            await start_worker(config, db_url, f"worker{i}", "--max-jobs", "1") for i in range(3)
        ]
        try:

            async def claims_in(outcome: str, at_least: int) -> bool:
                claims = await history(db_url)
                return (
                    sum((c.outcome == "running") == (outcome == "running") for c in claims)
                    >= at_least
                )

            await wait_for(lambda: claims_in("running", 3))
            start, started_at = stats.requests, time.monotonic()
            await wait_for(lambda: claims_in("ended", 1), within=120)  # the first job ends
            count, seconds = stats.requests - start, time.monotonic() - started_at
            await wait_for(lambda: claims_in("ended", 3), within=120)
            codes = await asyncio.gather(*(w.stop() for w in workers))
        finally:
            for worker in workers:
                if worker.process.returncode is None:
                    worker.process.kill()
                    await worker.process.wait()
    rate = count / seconds
    print(
        f"\n3 workers, shop allowing {BUDGET_RATE:g}/s: {count} requests in {seconds:.1f}s "
        f"together = {rate:.2f}/s; 429s: {stats.throttled}"
    )
    assert codes == [0, 0, 0], "\n".join(w.text() for w in workers)
    assert seconds > 5  # long enough to measure
    assert BUDGET_RATE * 0.9 <= rate <= BUDGET_RATE * 1.02  # shared, no slot lost
    assert stats.throttled <= 3  # no 429 storm: at most a stray one at a slice's edge
