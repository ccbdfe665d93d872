"""The layering the design promises: the engine, the rules and the vocabulary never speak HTTP;
the decision, the rules and the vocabulary never speak SQL either. Checked on what importing
every module of those parts actually loads (docs/architecture.py checks the arrows between
our own parts)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules_of(*packages: str) -> list[str]:
    found = list(packages)
    for package in packages:
        path = [str(ROOT / package.replace(".", "/"))]
        found += [m.name for m in pkgutil.walk_packages(path, prefix=f"{package}.")]
    return sorted(found)


def loaded_after(modules: list[str]) -> set[str]:
    """Top-level packages loaded by importing all of ``modules`` in a fresh interpreter."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return set(out.split())


NO_HTTP = modules_of("canonical", "rules", "engine")
PURE = [*modules_of("canonical", "rules"), "engine.cycle.decide", "engine.cycle.actions"]
ENGINE_PARTS = sorted(
    {name.split(".")[1] for name in NO_HTTP if name.count(".") >= 1 and name.startswith("engine.")}
)
"""Each sub-package and top-level module of the engine, checked on its own as well: a part
imported alone loads only what it needs, which the import of everything together can hide."""


def test_the_lists_cover_the_parts() -> None:
    assert "engine.loop.worker" in NO_HTTP and "engine.cli.main" in NO_HTTP
    assert "rules.transforms" in PURE and "canonical.models" in PURE
    assert {"cycle", "store", "orders", "loop", "cli", "config"} <= set(ENGINE_PARTS)


def test_engine_rules_and_vocabulary_never_import_aiohttp() -> None:
    assert "aiohttp" not in loaded_after(NO_HTTP)


@pytest.mark.parametrize("part", ["canonical", "rules", *(f"engine.{p}" for p in ENGINE_PARTS)])
def test_each_part_alone_never_imports_aiohttp(part: str) -> None:
    assert "aiohttp" not in loaded_after(
        [m for m in NO_HTTP if m == part or m.startswith(part + ".")]
    )


def test_the_decision_rules_and_vocabulary_never_import_a_database_driver() -> None:
    assert "asyncpg" not in loaded_after(PURE)


@pytest.mark.parametrize("module", ["engine.cycle.decide", "engine.cycle.actions"])
def test_the_decision_alone_never_imports_a_database_driver(module: str) -> None:
    assert "asyncpg" not in loaded_after([module])


def test_the_check_sees_a_module_that_speaks_http() -> None:
    assert "aiohttp" in loaded_after(["web.server"])
