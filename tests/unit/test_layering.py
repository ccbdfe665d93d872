"""The layering the design promises: the decision and the rules never speak HTTP or SQL."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = ["engine.cycle.decide", "engine.cycle.actions", "rules.policy", "rules.merge"]
NO_HTTP = [
    *PURE,
    "engine.cycle.run",
    "engine.cycle.push",
    "engine.store.state",
    "engine.config",
    "engine.cli.main",
]


def imported_after(module: str) -> set[str]:
    """Top-level packages loaded by importing ``module`` in a fresh interpreter."""
    code = (
        f"import sys, {module}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("module", NO_HTTP)
def test_engine_and_rules_never_import_aiohttp(module: str) -> None:
    assert "aiohttp" not in imported_after(module)


@pytest.mark.parametrize("module", PURE)
def test_the_decision_and_rules_never_import_a_database_driver(module: str) -> None:
    assert "asyncpg" not in imported_after(module)
