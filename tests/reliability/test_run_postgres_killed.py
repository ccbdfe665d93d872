"""``concord run`` on its embedded PostgreSQL, the server killed under it, and ``concord`` killed.

The worker is a real ``concord run`` process with no database URL: it starts the embedded server
in its data directory. The platforms run in a process of their own (``platforms.py``), whose
armed switch SIGKILLs the server's postmaster at the moment the shop receives the export's
first write, so the server dies in the middle of a push. What happened is read from the
worker's log and from the database once it is back (claims, runs), never from timing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from reliability_support import (
    SECRETS,
    Platforms,
    control,
    fetch,
    platforms_process,
    start_concord,
    wait_for,
    write_config,
)

from engine.store.database import database_url


@pytest.fixture
def directory() -> Iterator[Path]:
    # Short, so the server's Unix socket fits in the data directory.
    with tempfile.TemporaryDirectory(prefix="concord-k-", ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)


def postmaster(directory: Path) -> tuple[int, str] | None:
    """The pid and URL of the server ``postmaster.pid`` names, or ``None`` without one."""
    try:
        lines = (directory / ".concord" / "pg" / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    return int(lines[0]), f"postgresql://postgres@/postgres?host={lines[4]}&port={lines[3]}"


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def embedded_env() -> dict[str, str]:
    env = {**os.environ, **SECRETS}
    env.pop("CONCORD_DATABASE_URL", None)
    env.pop("CONCORD_CRASH_AT", None)
    return env


async def concord(config: Path, log: Path, *args: str) -> asyncio.subprocess.Process:
    return await start_concord(config, log, embedded_env(), *args)


async def server_up(directory: Path) -> tuple[int, str]:
    found: list[tuple[int, str]] = []

    async def up() -> bool:
        info = postmaster(directory)
        found[:] = [info] if info is not None else []
        return info is not None and running(info[0])

    await wait_for(up)
    return found[0]


async def kill_at_first_export(
    session: aiohttp.ClientSession, platforms: Platforms, pid: int
) -> None:
    """Have the platforms SIGKILL ``pid`` as the first export write reaches the shop."""
    await control(
        session, platforms, "POST", "/arm", pid=pid, after=1, phase="before", exports_only=True
    )


RUN = ("run", "--lease-seconds", "3", "--poll-seconds", "0.2", "--shutdown-timeout", "20")


@pytest.mark.slow
async def test_run_survives_its_embedded_server_killed_mid_push(directory: Path) -> None:
    log = directory / "worker.log"
    async with (
        platforms_process(
            products=120, seed=5, log=directory / "platforms.log", latency=0.05
        ) as platforms,
        aiohttp.ClientSession() as session,
    ):
        config = write_config(directory, platforms, every="1h")
        worker = await concord(config, log, *RUN)
        try:
            pid, url = await server_up(directory)
            # The postmaster dies as the export's first write reaches the shop.
            await kill_at_first_export(session, platforms, pid)

            async def killed() -> bool:
                fired = await control(session, platforms, "GET", "/fired")
                return fired["fired"] is not None

            await wait_for(killed)
            killed_at = time.monotonic()

            async def back() -> bool:
                return "database reachable again" in log.read_text()

            await wait_for(back)
            back_at = time.monotonic()
            _, url = await server_up(directory)

            async def committed() -> bool:
                rows = await fetch(url, "select count(*) from concord_run where status = 'ok'")
                return bool(rows[0][0])

            await wait_for(committed)
            committed_at = time.monotonic()
            print(
                f"\nserver back {back_at - killed_at:.2f}s after the kill; next cycle committed "
                f"{committed_at - back_at:.2f}s after that ({committed_at - killed_at:.2f}s)"
            )
            worker.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(worker.wait(), timeout=40) == 0, log.read_text()
        finally:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()
        await check_no_server_left(directory)

    text = log.read_text()
    # One line for the outage, one for the job it stopped, one for the recovery: no flood.
    assert text.count("database unreachable since") == 1, text
    assert "Traceback" not in text and "connection floor" not in text, text
    assert "another worker took the job" not in text, text
    assert "main/products: interrupted after" in text and "became unreachable" in text, text
    errors = [line for line in text.splitlines() if " ERROR " in line]
    assert len(errors) <= 2, text
    # Nothing of the interrupted run was committed; the one after it committed the export.
    rows = await check_rows(directory)
    assert rows == [("interrupted", None), ("ok", "ok")], text


async def test_resync_stops_pushing_when_its_database_dies_and_says_so_in_one_line(
    directory: Path,
) -> None:
    log = directory / "resync.log"
    async with (
        platforms_process(
            products=1000, seed=5, log=directory / "platforms.log", latency=0.2
        ) as platforms,
        aiohttp.ClientSession() as session,
    ):
        config = write_config(directory, platforms, every="1h")
        migrated = await concord(config, log, "migrate")  # starts and stops the server
        assert await migrated.wait() == 0, log.read_text()
        resync = await concord(config, log, "resync", "--job", "products")
        pid, _ = await server_up(directory)
        await kill_at_first_export(session, platforms, pid)
        assert await asyncio.wait_for(resync.wait(), timeout=60) == 1, log.read_text()
        created = await control(session, platforms, "GET", "/skus")

    text = log.read_text()
    assert "became unreachable" in text and "nothing of this run was committed" in text, text
    assert "Traceback" not in text and "connection floor" not in text, text
    # It stopped pushing at once: the batches in flight went through, no more.
    assert len(created) < 1000
    async with database_url(None, directory / ".concord") as url:
        assert (await fetch(url, "select count(*) from concord_run"))[0][0] == 0


async def check_rows(directory: Path) -> list[tuple[str, str | None]]:
    """Claims of the products job, oldest first: their outcome and their run's status."""
    async with database_url(None, directory / ".concord") as url:
        records = await fetch(
            url,
            "select c.outcome, r.status from concord_claim as c"
            " left join concord_run as r on r.id = c.run_id"
            " where c.job = 'products' order by c.id",
        )
    return [(r["outcome"], r["status"]) for r in records]


async def check_no_server_left(directory: Path) -> None:
    info = postmaster(directory)
    assert info is None or not running(info[0]), "the embedded server outlived its last user"


async def test_a_server_left_by_a_killed_concord_is_adopted_and_stopped_by_the_next(
    directory: Path,
) -> None:
    platforms = Platforms(erp="http://127.0.0.1:9", shop="http://127.0.0.1:9", control="")
    config = write_config(directory, platforms, every="1h")
    log = directory / "concord.log"
    # A worker whose jobs are not due: it only holds the embedded server.
    first = await concord(config, log, *RUN)
    pid, _ = await server_up(directory)
    handles = directory / ".concord" / "pg" / ".handle_pids.json"

    async def held() -> bool:
        return handles.exists() and str(first.pid) in handles.read_text()

    await wait_for(held)
    first.kill()
    await first.wait()
    assert running(pid)  # left behind, with the dead process's handle on it

    status = await concord(config, log, "status")
    assert await asyncio.wait_for(status.wait(), timeout=60) == 0, log.read_text()
    assert f"adopted the embedded PostgreSQL (pid {pid})" in log.read_text()
    assert f"{first.pid}" in log.read_text()
    # The last user exited cleanly: the server it adopted went with it, no handle left.
    await wait_for(lambda: _stopped(pid))
    assert handles.read_text() == "[]"


async def _stopped(pid: int) -> bool:
    return not running(pid)
