"""The catalogue rules are pure: they never speak HTTP or SQL."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(module: str) -> set[str]:
    """Top-level packages loaded by importing ``module`` in a fresh interpreter."""
    code = f"import sys, {module}; print(' '.join({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


RULES = ["rules.variants", "rules.categories", "rules.taxes", "rules.prices", "rules.stock"]


@pytest.mark.parametrize("module", RULES)
def test_catalogue_rules_import_no_driver(module: str) -> None:
    loaded = imported_after(module)
    assert "aiohttp" not in loaded
    assert "asyncpg" not in loaded


def test_the_transforms_step_never_imports_aiohttp() -> None:
    assert "aiohttp" not in imported_after("engine.cycle.transforms")
