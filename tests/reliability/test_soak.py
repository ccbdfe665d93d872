"""The soak's short profile (2 simulated hours); the full day is ``python -m
tests.reliability.soak --hours 24`` (see soak.py and docs/reliability.md)."""

from __future__ import annotations

from typing import Any

import pytest
from soak import run_soak

from engine.store.state import Store

HOURS = 2


@pytest.mark.slow
async def test_two_simulated_hours_of_edits_on_both_sides_converge(
    store: Store, record_property: Any
) -> None:
    report = await run_soak(store, hours=HOURS, products=120)

    record_property("rss_mb", report.rss_mb)
    record_property("cycles", dict(report.cycles))
    assert report.cycles["orders"] >= 12 * HOURS
    assert report.cycles["stock"] >= 6 * HOURS and report.cycles["products"] >= HOURS
    assert report.orders_placed == 30 * HOURS
    assert report.product_differences == {}
    assert report.stock_differences == {}
    assert report.orders_not_once == {}
    assert report.dead_letters == [] and report.conflicts == 0
    assert report.converged
