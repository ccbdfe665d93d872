"""``concord conflicts export``, bulk ``resolve`` and ``concord serve``, as a user runs them: in a
subprocess, on a real database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from engine.store.state import CommitBatch, NewConflict, Store

CONFIG = """
[connections.main.erp]
type = "memory"
[connections.main.shop]
type = "memory"
[connections.main.rules.product]
fields.name = { owner = "both", policy = "manual" }
"""
TOKEN = "cli-token-0123456789abcdef"
HOSTILE = "<script>alert(1)</script>"


async def concord(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        *args,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def ids(store: Store) -> dict[str, int]:
    """Open name conflicts on SKU-1..3 (SKU-2's suggested side is the shop), and SKU-4's
    shop value is hostile markup."""
    await store.ensure_connection("main")
    conflicts = [
        NewConflict(
            key=f"SKU-{n}",
            field="name",
            base="Chair",
            erp=f"E{n}",
            shop=f"S{n}",
            reason="changed on both sides",
            suggested="shop" if n == 2 else None,
        )
        for n in (1, 2, 3)
    ]
    conflicts.append(
        NewConflict(
            key="SKU-4",
            field="name",
            base="Chair",
            erp="=1+1",
            shop=HOSTILE,
            reason="changed on both sides",
        )
    )
    await store.commit(
        CommitBatch(
            connection="main",
            kind="product",
            job="products",
            mode="full",
            started_at=datetime.now(UTC),
            status="ok",
            conflicts_found=conflicts,
        )
    )
    return {r.key: r.id for r in await store.list_conflicts()}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "concord.toml").write_text(CONFIG)
    return tmp_path


async def test_resolve_takes_a_side_for_several_ids_and_reports_the_rest(
    workdir: Path, db_url: str, ids: dict[str, int], store: Store
) -> None:
    env = {"CONCORD_DATABASE_URL": db_url}
    code, out, err = await concord(
        "conflicts",
        "resolve",
        str(ids["SKU-1"]),
        str(ids["SKU-2"]),
        "999",
        "--take",
        "erp",
        "--by",
        "Ada",
        cwd=workdir,
        env=env,
    )
    assert code == 1
    assert f'#{ids["SKU-1"]} SKU-1 name resolved to "E1"' in out
    assert "resolved 2, not resolved 1" in out and "no conflict #999" in err
    row = await store.get_conflict(ids["SKU-2"])
    assert row is not None and (row.status, row.resolution, row.resolved_by) == (
        "resolved",
        "E2",
        "Ada",
    )


async def test_resolve_all_matching_takes_the_suggestion_where_there_is_one(
    workdir: Path, db_url: str, ids: dict[str, int], store: Store
) -> None:
    env = {"CONCORD_DATABASE_URL": db_url}
    code, out, err = await concord(
        "conflicts",
        "resolve",
        "--all-matching",
        "sku-",
        "--take",
        "suggested",
        cwd=workdir,
        env=env,
    )
    assert code == 1
    assert 'SKU-2 name resolved to "S2"' in out
    assert f"#{ids['SKU-1']}: conflict {ids['SKU-1']} has no suggestion" in err
    assert [r.key for r in await store.list_conflicts(status="resolved")] == ["SKU-2"]


async def test_resolve_refuses_ids_together_with_all_matching(workdir: Path, db_url: str) -> None:
    code, _, err = await concord(
        "conflicts",
        "resolve",
        "1",
        "--all-matching",
        "x",
        "--take",
        "erp",
        cwd=workdir,
        env={"CONCORD_DATABASE_URL": db_url},
    )
    assert code == 2 and "not both" in err


async def test_export_csv_json_and_html(workdir: Path, db_url: str, ids: dict[str, int]) -> None:
    env = {"CONCORD_DATABASE_URL": db_url}
    code, out, _ = await concord("conflicts", "export", "--format", "csv", cwd=workdir, env=env)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("id,connection,kind,key,field,base,erp,shop,reason")
    assert len(lines) == 5
    assert ",'=1+1," in lines[4]  # a formula from a platform is defused for spreadsheets

    code, out, _ = await concord(
        "conflicts", "export", "--format", "json", "--search", "SKU-1", cwd=workdir, env=env
    )
    assert code == 0
    assert [(c["key"], c["erp"], c["shop"]) for c in json.loads(out)] == [("SKU-1", "E1", "S1")]

    code, _, err = await concord(
        "conflicts", "export", "--format", "html", "-o", "conflicts.html", cwd=workdir, env=env
    )
    assert code == 0 and "4 conflicts written to conflicts.html" in err
    page = (workdir / "conflicts.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "main · product" in page and "default-src &#39;none&#39;" in page


async def test_serve_needs_its_token_and_serves_on_loopback(workdir: Path, db_url: str) -> None:
    env = {"CONCORD_DATABASE_URL": db_url}
    code, _, err = await concord("serve", cwd=workdir, env={**env, "CONCORD_TOKEN": ""})
    assert code == 1 and "serve.token_env: environment variable CONCORD_TOKEN is not set" in err
    code, _, err = await concord("serve", cwd=workdir, env={**env, "CONCORD_TOKEN": "short"})
    assert code == 1 and "at least 16 characters" in err

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        "serve",
        "--port",
        "0",
        cwd=workdir,
        env={**os.environ, **env, "CONCORD_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        assert "serving the review pages on http://127.0.0.1:" in line, line
        url = line.split(" on ")[1].split()[0].rstrip("/")
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{url}/conflicts") as response:
                assert response.status == 401
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            async with client.get(f"{url}/conflicts", headers=bearer) as response:
                assert response.status == 200
            async with client.get(f"{url}/metrics") as response:
                assert response.status == 401
            async with client.get(f"{url}/metrics", headers=bearer) as response:
                assert response.status == 200
                assert "# TYPE concord_conflicts_open gauge" in await response.text()
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
