"""The scenarios, run at one catalogue size against simulators in their own processes.

Each scenario edits the platforms as a merchant's week would (:mod:`bench.edits`), runs
Concord's cycles through :func:`engine.cycle.run.run_cycle` while both simulators record what they
are asked, then gives the same requests and state rows to the I/O floor (:mod:`bench.floor`)
and, for the resync, the new prices to the peer script (:mod:`bench.peer`).
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp

from adapters.base import Adapter, Side
from adapters.simkit import Faults
from bench import floor, peer
from bench.latency import NONE, PROFILES
from bench.measure import Usage, measured
from bench.results import Row
from bench.setup import ERP_API_KEY, JOBS, SHOP_CREDENTIALS, open_adapters, run_job
from bench.simproc import EditRequest, Recorded, SimHandle, simulator_process
from engine.cycle.run import CycleResult
from engine.store.state import Store, StoredRecord

Step = Callable[[str], None]
"""Told the name of each step as it starts (the progress bar)."""

NAMES = {
    1: "initial export to an empty shop",
    2: "no-change incremental cycle",
    3: "two-way resync, 5% changed per side, 1% conflicting",
    4: "stock job after 10% stock changes",
    5: "import of 1,000 orders, ERP at 20 requests/s",
    6: "as 3, shop throttled",
    9: "as 3, the loop's incremental cycle",
}

ORDERS_ERP_RATE = 20.0
"""The ERP's request budget in scenario 5 (a merchant's Odoo, shared with its users)."""


class Platforms:
    """The two simulators of one catalogue size and the benchmark's handles on them."""

    def __init__(self, erp: SimHandle, shop: SimHandle) -> None:
        self.erp = erp
        self.shop = shop

    def both(self) -> tuple[SimHandle, SimHandle]:
        return self.erp, self.shop

    async def real_latency(self, on: bool) -> None:
        """Answer with each platform's latency profile (``on``), or at once."""
        await asyncio.gather(
            self.erp.set_latency(PROFILES["odoo"] if on else NONE),
            self.shop.set_latency(PROFILES["woocommerce"] if on else NONE),
        )


@asynccontextmanager
async def platforms(size: int, seed: int, *, latency: bool = False) -> AsyncIterator[Platforms]:
    """The ERP seeded with ``size`` articles and an empty shop, each in its own process,
    answering with their latency profiles when ``latency`` is set."""
    async with AsyncExitStack() as stack:
        erp_url, shop_url = await asyncio.gather(
            stack.enter_async_context(simulator_process("odoo", products=size, seed=seed)),
            stack.enter_async_context(simulator_process("woocommerce", products=0, seed=seed)),
        )
        session = await stack.enter_async_context(aiohttp.ClientSession())
        sims = Platforms(SimHandle(erp_url, session), SimHandle(shop_url, session))
        await sims.real_latency(latency)
        yield sims


class Runner:
    """Runs the scenarios of one size, in order (each starts from where the last one left)."""

    def __init__(
        self,
        store: Store,
        sims: Platforms,
        *,
        size: int,
        seed: int,
        step: Step,
        rate: float,
        with_floor: bool = True,
        with_peer: bool = True,
        latency: bool = False,
    ) -> None:
        self.store = store
        self.sims = sims
        self.size = size
        self.seed = seed
        self.step = step
        self.rate = rate
        self.with_floor = with_floor
        self.with_peer = with_peer
        self.latency = latency
        """The simulators answer with their latency profiles (``real`` rows)."""
        self.connection = f"bench-{size}" + ("-real" if latency else "")

    # -- the pieces each scenario uses ------------------------------------------------------

    async def _cycles(
        self, jobs: Sequence[str], *, full: bool, shop_rate: float | None = None
    ) -> tuple[Usage, list[CycleResult]]:
        results: list[CycleResult] = []
        kwargs = {} if shop_rate is None else {"shop_rate": shop_rate}
        async with open_adapters(self.sims.erp.url, self.sims.shop.url, **kwargs) as adapters:
            with measured() as usage:
                for job in jobs:
                    results.append((await self._cycle(adapters, job, full=full)).kept())
        return usage, results

    async def _cycle(
        self, adapters: dict[Side, Adapter], job: str, *, full: bool, dry_run: bool = False
    ) -> CycleResult:
        return await run_job(self.store, self.connection, job, adapters, full=full, dry_run=dry_run)

    async def _converged(self) -> bool:
        """A dry run of every job plans no write: both sides agree, held conflicts aside.
        It is a check, not a measure: the platforms answer at once meanwhile."""
        await self.sims.real_latency(False)
        try:
            async with open_adapters(self.sims.erp.url, self.sims.shop.url) as adapters:
                for job in JOBS:
                    result = await self._cycle(adapters, job, full=True, dry_run=True)
                    if any(result.operations.values()):
                        return False
            return True
        finally:
            await self.sims.real_latency(self.latency)

    async def _load(self) -> dict[str, dict[str, StoredRecord]]:
        return {
            kind: await self.store.load_records(self.connection, kind)
            for kind in ("product", "stock")
        }

    async def _stats(self) -> dict[str, dict[str, int]]:
        erp, shop = await asyncio.gather(self.sims.erp.stats(), self.sims.shop.stats())
        return {"erp": erp, "shop": shop}

    async def _record(self, on: bool) -> None:
        await asyncio.gather(*(sim.record(on) for sim in self.sims.both()))

    async def _logs(self) -> tuple[list[Recorded], list[Recorded]]:
        erp, shop = await asyncio.gather(self.sims.erp.take_log(), self.sims.shop.take_log())
        return erp, shop

    async def _measure(
        self, scenario: int, jobs: Sequence[str], *, full: bool, records: int
    ) -> tuple[Row, tuple[list[Recorded], list[Recorded]], list[floor.StateRows]]:
        """Run ``jobs`` measured, recording requests; the row, the logs and the rows written."""
        before = {
            kind: floor.fingerprints(records) for kind, records in (await self._load()).items()
        }
        stats = await self._stats()
        await self._record(True)
        self.step(f"{self.size}: {scenario}. {NAMES[scenario]}")
        usage, results = await self._cycles(jobs, full=full)
        await self._record(False)
        logs = await self._logs()
        after, stats_after = await self._load(), await self._stats()
        rows = [floor.written_rows(kind, before[kind], after[kind]) for kind in before]
        row = self._row(scenario, usage, results, stats, stats_after, records)
        return row, logs, rows

    def _row(
        self,
        scenario: int,
        usage: Usage,
        results: Sequence[CycleResult],
        stats: dict[str, dict[str, int]],
        stats_after: dict[str, dict[str, int]],
        records: int,
    ) -> Row:
        counts: dict[str, int] = {}
        for result in results:
            for name, value in result.counts.items():
                counts[name] = counts.get(name, 0) + value
        served = sum(stats_after[s]["requests"] - stats[s]["requests"] for s in stats)
        return Row(
            size=self.size,
            scenario=scenario,
            name=NAMES[scenario],
            latency=self.latency_name,
            wall=usage.wall,
            records=records,
            records_per_second=records / usage.wall if usage.wall else 0.0,
            requests=served,
            throttled=stats_after["shop"]["throttled"] - stats["shop"]["throttled"],
            cpu=usage.cpu,
            peak_rss_mb=usage.peak_rss_mb,
            failed=sum(len(r.failures) for r in results),
            conflicts=sum(len(r.conflicts) for r in results),
            counts=counts,
        )

    async def _floor(
        self,
        row: Row,
        logs: tuple[list[Recorded], list[Recorded]],
        rows: list[floor.StateRows],
        sims: Platforms | None = None,
    ) -> None:
        if not self.with_floor:
            return
        target = sims or self.sims
        self.step(f"{self.size}: {row.scenario}. floor")
        with measured() as usage:
            sent = await floor.replay(
                {"erp": (target.erp.url, logs[0]), "shop": (target.shop.url, logs[1])},
                concurrency=8,
            )
            written = await floor.write_state(
                self.store,
                read_from=self.connection,
                write_to=f"{self.connection}-floor-{row.scenario}",
                rows=rows,
            )
        row.floor_wall, row.floor_requests, row.floor_rows = usage.wall, sent, written
        row.concord_over_floor = row.wall / usage.wall if usage.wall else None

    async def _edit(
        self, kind: str, seed: int, share: float = 0.0, conflict: float = 0.0, count: int = 0
    ) -> int:
        request = EditRequest(
            kind=kind,  # type: ignore[arg-type]
            seed=seed,
            share=share,
            conflict=conflict,
            count=count,
        )
        erp, shop = await asyncio.gather(self.sims.erp.edit(request), self.sims.shop.edit(request))
        return erp.changed + shop.changed

    async def _checkpoint(self, name: str) -> None:
        await asyncio.gather(*(sim.checkpoint(name) for sim in self.sims.both()))

    async def _restore(self, name: str) -> None:
        await asyncio.gather(*(sim.restore(name) for sim in self.sims.both()))

    @property
    def latency_name(self) -> str:
        return "real" if self.latency else "none"

    # -- the scenarios ----------------------------------------------------------------------

    async def initial_export(self) -> Row:
        row, logs, rows = await self._measure(1, list(JOBS), full=True, records=self.size)
        if self.with_floor:
            # The floor needs the platforms as Concord found them: fresh ones, same seed.
            self.step(f"{self.size}: 1. starting fresh platforms for the floor")
            async with platforms(self.size, self.seed, latency=self.latency) as fresh:
                await self._floor(row, logs, rows, fresh)
        row.converged = await self._converged()
        return row

    async def no_change(self) -> Row:
        # The first incremental cycle after an export to an empty shop reads the whole shop:
        # the export saw no shop record, so it left no shop cursor. That cost is paid once;
        # it is reported in the note, and the steady state is what is measured.
        stats = await self._stats()
        first, results = await self._cycles(list(JOBS), full=False)
        after = await self._stats()
        served = sum(after[side]["requests"] - stats[side]["requests"] for side in stats)
        read = sum(r.counts.get("read_shop", 0) for r in results)
        row, logs, rows = await self._measure(2, list(JOBS), full=False, records=self.size)
        row.note = (
            f"the first incremental cycle after the export took {first.wall:.2f} s, "
            f"{served} requests, reading {read} shop records (no shop cursor yet)"
        )
        await self._floor(row, logs, rows)
        wrote = any(row.counts.get(name, 0) for name in ("writes_erp", "writes_shop"))
        row.converged = not wrote and await self._converged()
        return row

    async def resync(self) -> Row:
        changed = await self._edit("resync", self.seed + 3, 0.05, 0.01)
        if self.with_peer:
            await self._checkpoint("seen")
        row, logs, rows = await self._measure(3, list(JOBS), full=True, records=self.size)
        row.note = f"{changed} products edited"
        await self._checkpoint("done")
        await self._floor(row, logs, rows)
        if self.with_peer:
            # The peer works on the data Concord found, then Concord's result comes back.
            await self._restore("seen")
            await self._peer(row)
        await self._restore("done")
        row.converged = await self._converged()
        return row

    async def loop_cycle(self, resync: Row | None) -> Row:
        """The same kind of edits as 3, taken up by the incremental cycles ``concord run``
        repeats: what a merchant running the loop waits for after such a day's edits."""
        # The loop has caught up before the edits: a first incremental cycle after an export
        # reads the whole shop (no shop cursor yet), which scenario 2 reports on its own.
        await self._cycles(list(JOBS), full=False)
        changed = await self._edit("resync", self.seed + 7, 0.05, 0.01)
        row, logs, rows = await self._measure(9, list(JOBS), full=False, records=self.size)
        row.note = f"{changed} products edited"
        await self._checkpoint("done")
        await self._floor(row, logs, rows)
        await self._restore("done")
        if resync is not None and resync.peer_wall is not None:
            # The peer reads everything whatever changed, so its run on scenario 3's edits (the
            # same shares) stands for this one; it is not run twice.
            row.peer_wall, row.peer_requests = resync.peer_wall, resync.peer_requests
            row.peer_updates, row.peer_failed = resync.peer_updates, resync.peer_failed
            row.peer_over_concord = resync.peer_wall / row.wall if row.wall else None
            row.note += "; the peer's figures are its run in scenario 3 (the same shares edited)"
        row.converged = await self._converged()
        return row

    async def _peer(self, row: Row) -> None:
        self.step(f"{self.size}: 3. peer script ({self.latency_name} latency)")
        result = await asyncio.to_thread(
            peer.sync_prices_and_stock,
            self.sims.erp.url,
            "odoo",
            ERP_API_KEY,
            self.sims.shop.url,
            *SHOP_CREDENTIALS,
        )
        row.peer_wall, row.peer_requests = result.seconds, result.requests
        row.peer_updates, row.peer_failed = result.updates, result.failed
        row.peer_over_concord = result.seconds / row.wall if row.wall else None

    async def stock(self) -> Row:
        changed = await self._edit("stock", self.seed + 4, 0.10)
        links = await self.store.load_records(self.connection, "stock")
        row, logs, rows = await self._measure(4, ["stock"], full=False, records=len(links))
        row.note = f"{changed} stock levels changed"
        await self._checkpoint("done")
        await self._floor(row, logs, rows)
        await self._restore("done")
        row.converged = await self._converged()
        return row

    async def orders(self, count: int = 1000) -> Row:
        """1,000 paid orders imported into an Odoo that takes ``ORDERS_ERP_RATE`` requests a
        second: the import must be bound by that rate, not by round trips."""
        if importlib.util.find_spec("engine.orders.importer") is None:
            return Row(
                size=self.size,
                scenario=5,
                name=NAMES[5],
                latency=self.latency_name,
                status="skipped",
                note="not available: the orders pipeline (engine/orders/) is not built yet",
            )
        from engine.orders.importer import run_orders
        from rules.order_config import OrdersConfig

        placed = await self._edit("orders", self.seed + 5, count=count)
        stats = await self._stats()
        await self._record(True)
        self.step(f"{self.size}: 5. {NAMES[5]}")
        async with open_adapters(
            self.sims.erp.url, self.sims.shop.url, erp_rate=ORDERS_ERP_RATE
        ) as adapters:
            with measured() as usage:
                result = await run_orders(
                    self.store,
                    connection=self.connection,
                    adapters=adapters,
                    config=OrdersConfig(taxes={"FR": "VAT 20%"}),
                    full=False,
                )
        await self._record(False)
        logs = await self._logs()
        row = self._row(5, usage, [result], stats, await self._stats(), placed)
        after = await self._stats()
        erp_requests = after["erp"]["requests"] - stats["erp"]["requests"]
        bound = erp_requests / ORDERS_ERP_RATE
        row.note = (
            f"{placed} orders placed; "
            + ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()) if v)
            + f"; ERP at {ORDERS_ERP_RATE:g} requests/s: {erp_requests} requests "
            f"({erp_requests / max(placed, 1):.1f} an order), the rate alone takes {bound:.1f} s, "
            f"wall / that = {usage.wall / bound if bound else 0:.2f}"
        )
        await self._checkpoint("done")
        # The order intents and links are the orders store's own rows: the floor sends the
        # same requests and writes one base row per order instead.
        keys = [f"order-{n}" for n in range(placed)]
        await self._floor(
            row, logs, [floor.StateRows(kind="order", base=[(k, {}) for k in keys], links=[])]
        )
        await self._restore("done")
        return row

    async def throttled(self) -> Row:
        changed = await self._edit("resync", self.seed + 6, 0.05, 0.01)
        faults = Faults(rate_limit=self.rate, retry_after=1.0)
        await self.sims.shop.set_faults(faults)
        try:
            stats = await self._stats()
            self.step(f"{self.size}: 6. {NAMES[6]} at {self.rate:g} requests/s")
            usage, results = await self._cycles(list(JOBS), full=True, shop_rate=self.rate)
            stats_after = await self._stats()
        finally:
            await self.sims.shop.set_faults(Faults())
        row = self._row(6, usage, results, stats, stats_after, self.size)
        shop_ok = (
            stats_after["shop"]["requests"]
            - stats["shop"]["requests"]
            - (stats_after["shop"]["throttled"] - stats["shop"]["throttled"])
        )
        row.note = f"{changed} products edited; {shop_ok} shop requests answered"
        row.allowed_rate = self.rate
        row.rate_share = shop_ok / (usage.wall * self.rate) if usage.wall else None
        # The floor at a throttled shop is the allowed rate itself: every request at the limit.
        row.floor_wall = shop_ok / self.rate
        row.concord_over_floor = usage.wall / row.floor_wall if row.floor_wall else None
        row.converged = await self._converged()
        return row

    async def run(self, scenarios: Sequence[int], *, throttled: bool) -> list[Row]:
        """The scenarios asked for, in order; the ones that need an earlier one run it first."""
        rows: list[Row] = []
        wanted = set(scenarios)
        # Every scenario but the first starts from a shop Concord has filled.
        rows.append(await self.initial_export())
        if 2 in wanted:
            rows.append(await self.no_change())
        resync: Row | None = None
        if 3 in wanted:
            resync = await self.resync()
            rows.append(resync)
        if 9 in wanted:
            rows.append(await self.loop_cycle(resync))
        if 4 in wanted:
            rows.append(await self.stock())
        if 5 in wanted:
            rows.append(await self.orders())
        if 6 in wanted:
            if throttled:
                rows.append(await self.throttled())
            else:
                rows.append(
                    Row(
                        size=self.size,
                        scenario=6,
                        name=NAMES[6],
                        latency=self.latency_name,
                        status="skipped",
                        note="larger than --throttled-max (a throttled full read takes "
                        "catalogue pages / rate seconds)",
                    )
                )
        return [r for r in rows if r.scenario in wanted]


def plan_steps(
    sizes: Sequence[int],
    scenarios: Sequence[int],
    latency_sizes: Sequence[int] = (),
    shopify_sizes: Sequence[int] = (),
) -> int:
    """How many progress steps a run has (for the bar's total)."""
    steps = {1: 3, 2: 2, 3: 3, 4: 2, 5: 2, 6: 1, 9: 2}
    woo = [s for s in set(scenarios) if s in steps]
    per_size = (1 + steps[1] + sum(steps[s] for s in woo if s != 1)) if woo else 0
    under_latency = 1 + steps[1] + sum(steps[s] for s in woo if s in (2, 3, 4, 9))
    shopify = 2 + (8 in scenarios)
    return (
        per_size * len(sizes)
        + under_latency * len(latency_sizes)
        + shopify * len(shopify_sizes)
        + 1
    )
