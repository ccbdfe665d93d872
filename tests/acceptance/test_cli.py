"""The ``concord`` command as a user runs it: in a subprocess, reading its output."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

CONFIG = """
[database]
data_dir = "state"

[connections.main.erp]
type = "memory"
products = 40
seed = 3

[connections.main.shop]
type = "memory"

[connections.main.jobs.products]
kind = "product"
every = "1d"

[connections.main.rules.product]
default = { owner = "erp" }
fields.description = { owner = "both", policy = "manual" }
"""


async def concord(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``concord ARGS``; return its exit code and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.cli.main",
        *args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "concord.toml").write_text(CONFIG)
    return tmp_path


async def test_demo_runs_two_way_and_shows_conflicts(tmp_path: Path) -> None:
    code, out = await concord(
        "demo", "--products", "400", cwd=tmp_path, env={"CONCORD_DATABASE_URL": ""}
    )
    assert code == 0, out
    assert "first resync" in out and "a week later" in out
    assert "open conflicts: " in out and "changed on both sides" in out
    assert "Both sides agree on every other field." in out


async def test_check_config_accepts_a_good_file(workdir: Path) -> None:
    code, out = await concord("check-config", "concord.toml", cwd=workdir)
    assert code == 0, out
    assert "main: memory <-> memory; jobs: products (product, every 1d)" in out


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[connections.main.erp]\ntype = 1\n", "connections.main.shop", "missing"),
        (
            CONFIG.replace('every = "1d"', 'every = "daily"'),
            "connections.main.jobs.products.every",
            "not a duration",
        ),
        (
            CONFIG.replace('kind = "product"', 'kind = "widget"'),
            "connections.main.jobs.products.kind",
            "unknown kind 'widget'",
        ),
        (
            CONFIG.replace('type = "memory"\nproducts', 'type = "sap"\nproducts'),
            "connections.main.erp.type",
            "unknown adapter 'sap'",
        ),
        (
            CONFIG.replace("fields.description", "fields.colour"),
            "connections.main.rules.product.fields.colour",
            "product has no field 'colour'",
        ),
        (
            CONFIG + "\n[connections.main.rules.product.default]\nowner = 'nobody'\n",
            "(syntax)",
            "Cannot",
        ),
        (
            CONFIG.replace(
                'fields.description = { owner = "both", policy = "manual" }',
                'fields.description = { owner = "both", policy = "coin-toss" }',
            ),
            "connections.main.rules.product.fields.description.policy",
            "coin-toss",
        ),
        ("this is not toml", "(syntax)", ""),
    ],
    ids=[
        "missing shop",
        "bad duration",
        "unknown kind",
        "unknown adapter",
        "unknown field",
        "table defined twice",
        "unknown policy",
        "not toml",
    ],
)
async def test_check_config_names_file_key_and_reason(
    workdir: Path, text: str, key: str, reason: str
) -> None:
    (workdir / "bad.toml").write_text(text)
    code, out = await concord("check-config", "bad.toml", cwd=workdir)
    assert code == 1, out
    assert f"bad.toml: {key}: " in out
    assert reason in out


async def test_secret_written_in_the_file_is_refused(workdir: Path) -> None:
    (workdir / "secret.toml").write_text(
        "[connections.main.erp]\ntype = 'memory'\n"
        "[connections.main.shop]\ntype = 'woocommerce'\nurl = 'http://127.0.0.1:1'\n"
        "consumer_key = 'ck_live_123'\nconsumer_secret_env = 'WC_SECRET'\n"
    )
    code, out = await concord("check-config", "secret.toml", cwd=workdir)
    assert code == 1, out
    assert "connections.main.shop.consumer_key: secrets are not written in the file" in out


async def test_migrate_applies_then_is_a_no_op(workdir: Path, empty_db_url: str) -> None:
    env = {"CONCORD_DATABASE_URL": empty_db_url}
    code, out = await concord("migrate", cwd=workdir, env=env)
    assert code == 0, out
    assert "applied: 0001_initial" in out
    code, out = await concord("migrate", cwd=workdir, env=env)
    assert code == 0, out
    assert "the schema is up to date" in out


async def test_resync_refuses_an_unmigrated_database(workdir: Path, empty_db_url: str) -> None:
    code, out = await concord("resync", cwd=workdir, env={"CONCORD_DATABASE_URL": empty_db_url})
    assert code == 1, out
    assert "run `concord migrate`" in out


async def test_dry_run_prints_the_plan_then_resync_writes_and_conflicts_list(
    workdir: Path, db_url: str
) -> None:
    env = {"CONCORD_DATABASE_URL": db_url}
    code, out = await concord("resync", "--dry-run", cwd=workdir, env=env)
    assert code == 0, out
    assert "main/products: planned" in out
    assert out.count("shop: create SKU-") == 40
    code, out = await concord("conflicts", "list", cwd=workdir, env=env)
    assert code == 0, out
    assert "no conflicts" in out
    code, out = await concord("resync", "--job", "products", cwd=workdir, env=env)
    assert code == 0, out
    assert "created_shop 40" in out
    code, out = await concord("status", cwd=workdir, env=env)
    assert code == 0, out
    assert "main/products: ok full" in out
    assert "dead letters: 0" in out and "open conflicts: 0" in out


async def test_resolving_an_unknown_conflict_is_a_clear_error(workdir: Path, db_url: str) -> None:
    code, out = await concord(
        "conflicts",
        "resolve",
        "999",
        "--take",
        "erp",
        cwd=workdir,
        env={"CONCORD_DATABASE_URL": db_url},
    )
    assert code == 1, out
    assert "no conflict #999" in out
