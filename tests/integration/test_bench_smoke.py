"""The benchmark's own code on a tiny catalogue: it runs, converges and reports in shape.

No timing is asserted here (performance targets live in bench/ only): this keeps ``concord
bench`` working. The simulators run in child processes, as in the real benchmark.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from bench import peer
from bench.latency import PROFILES, Latency, odoo_items, woocommerce_items
from bench.report import table, targets
from bench.results import Machine, Report, Row
from bench.run import Options, parse_size, write_outputs
from bench.scenarios import Runner, platforms
from bench.setup import ERP_API_KEY, SHOP_CREDENTIALS
from bench.shopify import run_shopify
from engine.store.state import Store

SIZE = 200
MACHINE = Machine(python="3.11", platform="test", cpus=1, processor="test")


async def test_odoo_to_shopify_exports_and_resyncs_within_the_points(store: Store) -> None:
    steps: list[str] = []
    rows = await run_shopify(store, size=60, seed=5, scenarios=[7, 8], step=steps.append)
    assert [r.scenario for r in rows] == [7, 8]
    export, resync = rows
    assert all(r.status == "ok" and r.failed == 0 and r.converged is True for r in rows)
    assert export.counts["created_shop"] > 0 and export.counts["failed_shop"] == 0
    assert resync.counts["writes_shop"] > 0  # the ERP's new prices reached the shop
    assert resync.counts.get("reported", 0) == 0  # no article seen as gone or only in the shop
    for row in rows:
        assert row.allowed_rate == 100.0
        assert row.rate_share is not None and 0 < row.rate_share <= 1
        assert "points spent" in row.note and "0 failures from throttling" in row.note
        assert "product writes alone would need" in row.note


async def test_scenarios_1_to_3_converge_and_report(store: Store, tmp_path: Path) -> None:
    steps: list[str] = []
    async with platforms(SIZE, seed=5) as sims:
        runner = Runner(store, sims, size=SIZE, seed=5, step=steps.append, rate=50.0)
        rows = await runner.run([1, 2, 3], throttled=False)
        # Once Concord has converged, the peer script finds every price and count agreeing.
        after = peer.sync_prices_and_stock(
            sims.erp.url, "odoo", ERP_API_KEY, sims.shop.url, *SHOP_CREDENTIALS
        )
    assert after.updates == 0 and after.failed == 0 and after.requests > 0

    assert [r.scenario for r in rows] == [1, 2, 3]
    export, quiet, resync = rows
    assert all(r.status == "ok" and r.failed == 0 for r in rows)
    # Every article reached the empty shop, and a dry run afterwards plans nothing.
    assert export.counts["created_shop"] > 0 and export.converged is True
    assert export.counts["failed_shop"] == 0
    # Nothing changed: the incremental cycle writes nothing.
    assert quiet.counts.get("writes_shop", 0) == 0 and quiet.counts.get("writes_erp", 0) == 0
    assert quiet.converged is True
    # Edits on both sides flowed both ways; the products edited on both sides are held.
    assert resync.counts["writes_shop"] > 0 and resync.counts["writes_erp"] > 0
    assert resync.conflicts >= 1 and resync.converged is True
    # The floor replayed what Concord sent; the peer sent one PUT per repriced product.
    for row in rows:
        assert row.requests > 0 and row.floor_requests is not None and row.floor_requests > 0
        assert row.concord_over_floor is not None and row.concord_over_floor > 0
    # The peer read both catalogues and repriced what the ERP changed, on the data Concord saw.
    assert resync.peer_requests is not None and resync.peer_requests > 0
    assert resync.peer_updates and resync.peer_failed == 0
    assert all(r.latency == "none" for r in rows)
    assert any("floor" in s for s in steps)

    report = Report(
        started_at="2025-01-01T00:00:00+00:00",
        seconds=1.0,
        machine=MACHINE,
        options=msgspec.to_builtins(Options(sizes=[SIZE], scenarios=[1, 2, 3], out="x")),
        rows=rows,
        decide=None,
        targets=targets(rows, None),
    )
    written = write_outputs(report, tmp_path)
    decoded = msgspec.json.decode((tmp_path / "bench.json").read_bytes(), type=Report)
    assert [r.scenario for r in decoded.rows] == [1, 2, 3]
    assert {t.name for t in decoded.targets} >= {"peak RSS at 30k", "resync 300k vs 30k"}
    assert tmp_path / "bench.json" in written
    assert "two-way resync" in table(report)


async def test_a_latency_profile_is_set_on_a_simulator_and_taken_off() -> None:
    async with platforms(20, seed=2) as sims:
        assert await sims.shop.set_latency(PROFILES["woocommerce"]) == PROFILES["woocommerce"]
        assert (await sims.erp.set_latency(Latency())).zero


def test_latency_counts_the_items_each_request_reads_and_writes() -> None:
    page = b'[{"id": 1}, {"id": 2}, {"id": 3}]'
    assert woocommerce_items("GET", b"", page) == (3, 0)
    batch = b'{"create": [{}, {}], "update": [{"id": 4}], "delete": [5]}'
    assert woocommerce_items("POST", batch, b"{}") == (0, 4)
    assert woocommerce_items("PUT", b'{"regular_price": "2"}', b"{}") == (0, 1)
    assert odoo_items("/json/2/product.product/search_read", b"{}", page) == (3, 0)
    assert odoo_items("/json/2/stock.quant/write", b'{"ids": [1, 2], "vals": {}}', b"true") == (
        0,
        2,
    )
    assert odoo_items("/json/2/product.template/create", b'{"vals_list": [{}]}', b"[7]") == (0, 1)
    shop = PROFILES["woocommerce"]
    # The documented orders of magnitude: a page of 100 in 0.1-0.5 s, 100 writes in seconds.
    assert 0.1 <= shop.cost(100, 0) <= 0.5 and 1.0 <= shop.cost(0, 100) <= 5.0


def test_latency_runs_stop_at_their_largest_size() -> None:
    options = Options(sizes=[3000, 30_000, 300_000], scenarios=[1, 3, 5], out="x")
    assert options.latency_sizes() == [3000, 30_000]
    assert Options(sizes=[3000], scenarios=[5, 6], out="x").latency_sizes() == []
    assert Options(sizes=[3000], scenarios=[1], out="x", latency=False).latency_sizes() == []


def test_sizes_are_read_as_a_merchant_writes_them() -> None:
    assert [parse_size(t) for t in ("3k", "30K", "300000", "1.5k")] == [3000, 30000, 300000, 1500]


def test_a_skipped_scenario_says_why_in_the_table() -> None:
    row = Row(size=10, scenario=5, name="orders", status="skipped", note="not available: x")
    report = Report(
        started_at="",
        seconds=0.0,
        machine=MACHINE,
        options={},
        rows=[row],
        decide=None,
        targets=[],
    )
    assert "not available: x" in table(report)


async def test_many_connections_benchmark_serves_every_connection_and_reports_load(
    db_url: str,
) -> None:
    from bench.connections import measure

    figures = await measure(db_url, connections=12, workers=3, products=3, every="1s", seconds=4.0)
    assert figures.claims > 0 and figures.starved == 0
    assert figures.runs_per_connection_min >= 1
    assert len(figures.claims_per_worker) >= 2  # the work was shared
    assert figures.transactions_per_claim > 0 and figures.rows_written_per_claim > 0
