"""``concord bench``: every scenario at every catalogue size, then the report.

One embedded PostgreSQL (or ``CONCORD_DATABASE_URL``) serves the whole run; each catalogue size
gets its own connection name and its own pair of simulator processes.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from bench import report as reporting
from bench.decide_speed import DecideSpeed, measure_decide
from bench.results import Machine, Report, Row
from bench.scenarios import Runner, platforms
from bench.shopify import run_shopify
from engine.runtime import open_store

ALL_SCENARIOS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
SHOPIFY_SCENARIOS = (7, 8)
"""Odoo -> Shopify (bench.shopify): their own pair of simulators, paid in points."""
UNDER_LATENCY = (1, 2, 3, 4, 9)
"""The scenarios run again under the latency profiles: the orders (5) and the throttled shop (6)
are bound by a request rate already."""


class Options(msgspec.Struct, kw_only=True):
    sizes: list[int]
    scenarios: list[int]
    out: str
    seed: int = 1
    rate: float = 10.0
    """Requests per second the throttled shop allows (scenario 6)."""
    throttled_max: int = 3000
    """Largest catalogue scenario 6 runs at (a throttled full read is slow by design)."""
    floor: bool = True
    peer: bool = True
    latency: bool = True
    """Run scenarios 1 to 4 and 9 again with the platforms' latency profiles (bench.latency)."""
    latency_max: int = 30_000
    """Largest catalogue run under the latency profiles (an export takes minutes there)."""
    shopify_max: int = 30_000
    """Largest catalogue the Odoo -> Shopify scenarios (7, 8) run at."""
    decide: bool = True
    data_dir: str | None = None

    def shopify_sizes(self) -> list[int]:
        """The sizes the Odoo -> Shopify scenarios run at."""
        if not set(self.scenarios) & set(SHOPIFY_SCENARIOS):
            return []
        return [size for size in self.sizes if size <= self.shopify_max]

    def latency_sizes(self) -> list[int]:
        """The sizes whose scenarios also run under the latency profiles."""
        if not self.latency or not set(self.scenarios) & set(UNDER_LATENCY):
            return []
        return [size for size in self.sizes if size <= self.latency_max]


def parse_size(text: str) -> int:
    """``3k`` -> 3000, ``1.5M`` -> 1500000, ``200`` -> 200."""
    value = text.strip().lower().replace("_", "")
    factor = 1
    if value.endswith("k"):
        factor, value = 1000, value[:-1]
    elif value.endswith("m"):
        factor, value = 1_000_000, value[:-1]
    try:
        number = round(float(value) * factor)
    except ValueError:
        raise ValueError(f"{text!r} is not a catalogue size such as 3k, 30k or 300000") from None
    if number < 10:
        raise ValueError(f"{text!r}: a catalogue needs at least 10 articles")
    return number


def _machine() -> Machine:
    return Machine(
        python=sys.version.split()[0],
        platform=platform.platform(),
        cpus=os.cpu_count() or 0,
        processor=_cpu_model(),
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def run_bench(options: Options, step: Callable[[str], None]) -> Report:
    """Run the benchmark; ``step`` is told each step as it starts."""
    started, clock = datetime.now(UTC), time.perf_counter()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        data_dir = Path(options.data_dir) if options.data_dir else Path(tmp)
        url = os.environ.get("CONCORD_DATABASE_URL") or None
        async with open_store(url, data_dir, auto_migrate=True) as store:
            woo = [s for s in options.scenarios if s not in SHOPIFY_SCENARIOS]
            for size in options.sizes:
                if size in options.shopify_sizes():
                    rows += await run_shopify(
                        store, size=size, seed=options.seed, scenarios=options.scenarios, step=step
                    )
                if not woo:
                    continue
                runs = [(False, woo)]
                if size in options.latency_sizes():
                    runs.append((True, [s for s in woo if s in UNDER_LATENCY]))
                for latency, scenarios in runs:
                    kind = "latency profiles" if latency else "no latency"
                    step(f"{size}: starting the simulators ({size:,} articles, {kind})")
                    async with platforms(size, options.seed, latency=latency) as sims:
                        runner = Runner(
                            store,
                            sims,
                            size=size,
                            seed=options.seed,
                            step=step,
                            rate=options.rate,
                            with_floor=options.floor,
                            with_peer=options.peer,
                            latency=latency,
                        )
                        rows += await runner.run(scenarios, throttled=size <= options.throttled_max)
    decide: DecideSpeed | None = None
    if options.decide:
        step("decide() alone: 30,000 products x 20 fields")
        decide = measure_decide()
    return Report(
        started_at=started.isoformat(timespec="seconds"),
        seconds=time.perf_counter() - clock,
        machine=_machine(),
        options=msgspec.to_builtins(options),
        rows=rows,
        decide=decide,
        targets=reporting.targets(rows, decide),
    )


def write_outputs(report: Report, out: Path) -> list[Path]:
    """The JSON report and the chart, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [reporting.write_json(report, out)]
    chart = reporting.write_chart(report, out)
    if chart is not None:
        written.append(chart)
    return written
