"""The ``concord bench`` command's body (the command itself is declared in engine/cli/main.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from bench.progress import StepBar
from bench.report import table
from bench.run import ALL_SCENARIOS, Options, parse_size, run_bench, write_outputs
from bench.scenarios import plan_steps


def _scenarios(text: str) -> list[int]:
    try:
        chosen = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: give numbers such as 1,2,3", param_hint="--scenarios"
        ) from None
    unknown = [s for s in chosen if s not in ALL_SCENARIOS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown scenario(s) {unknown}; they are 1 to 9", param_hint="--scenarios"
        )
    return chosen


def _sizes(text: str, hint: str) -> list[int]:
    try:
        return [parse_size(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def run_command(
    *,
    sizes: str,
    scenarios: str,
    out: str,
    seed: int,
    rate: float,
    throttled_max: str,
    floor: bool,
    peer: bool,
    latency: bool = True,
    latency_max: str = "30k",
    shopify_max: str = "30k",
) -> None:
    """Run the benchmark, print the table and write the JSON report and the chart."""
    if rate <= 0:
        raise click.BadParameter("must be positive", param_hint="--rate")
    options = Options(
        sizes=_sizes(sizes, "--sizes"),
        scenarios=_scenarios(scenarios),
        out=out,
        seed=seed,
        rate=rate,
        throttled_max=_sizes(throttled_max, "--throttled-max")[0],
        floor=floor,
        peer=peer,
        latency=latency,
        latency_max=_sizes(latency_max, "--latency-max")[0],
        shopify_max=_sizes(shopify_max, "--shopify-max")[0],
    )
    # Per-record failures are counted in the report; one log line each would bury the bar.
    logging.getLogger("concord").setLevel(logging.ERROR)
    bar = StepBar(
        plan_steps(
            options.sizes, options.scenarios, options.latency_sizes(), options.shopify_sizes()
        )
    )
    try:
        report = asyncio.run(run_bench(options, bar))
    finally:
        bar.close()
    click.echo(table(report))
    for path in write_outputs(report, Path(out)):
        click.echo(f"wrote {path}")
