"""The convergence law, shared by the tests that prove it for each pair of platforms: after any
successful cycle, the next full and the next incremental cycle write nothing and report no drift,
with the README's default configuration (no field list: every field both adapters carry)."""

from __future__ import annotations

from collections.abc import Collection

from engine.cycle.run import CycleResult

README_RULES = """
[connections.main.erp]
type = "odoo"
[connections.main.shop]
type = "woocommerce"

[connections.main.rules.product]
default = { owner = "erp" }
fields.description = { owner = "both", policy = "manual" }
create_in_shop = true
when_erp_lost = "archive"
when_shop_lost = "report"

[connections.main.rules.stock]
default = { owner = "both", policy = "merge-delta" }
"""
"""The README's product and stock rules (the ERP's ``type`` is the only line that differs)."""


def writes(result: CycleResult) -> dict[str, int]:
    """What a cycle wrote or would have, and what it found wrong."""
    counts = result.counts
    return {
        name: counts.get(name, 0)
        for name in ("writes_erp", "writes_shop", "drift", "failed_erp", "failed_shop")
    }


IDLE = {"writes_erp": 0, "writes_shop": 0, "drift": 0, "failed_erp": 0, "failed_shop": 0}


def assert_idle(result: CycleResult, *, held: Collection[str] = (), context: object = None) -> None:
    """``result`` planned no write and found no drift, apart from the records in ``held``: keys
    the platforms cannot both hold (a case twin of a SKU), which stay dead letters and are
    tried again each cycle, as they must until a person renames one."""
    planned = {
        side: [op.key for op in ops if op.key not in held]
        for side, ops in result.operations.items()
    }
    failed = sorted(f.key for f in result.failures if f.key not in held)
    assert planned == {"erp": [], "shop": []} and failed == [], (context, planned, failed)
    assert result.counts.get("drift", 0) == 0, (context, result.counts)
    if not held:
        assert writes(result) == IDLE, (context, result.counts)
