"""The ``concord`` command."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from adapters.base import AdapterError
from adapters.registry import SIMULATORS, simulator_runner
from canonical.errors import ConcordError
from engine.cli.accounting import accounting
from engine.cli.conflicts import conflicts
from engine.cli.logs import setup_logging
from engine.cli.orders import audit
from engine.cli.progress import TerminalProgress
from engine.config import Config, jobs_of, load_config
from engine.runtime import database_url_of, open_adapters, open_config_store, open_store
from engine.store.health import DRIVER_ERRORS, watched, while_reachable

T = TypeVar("T")
DEFAULT_CONFIG = "concord.toml"


def _run(coroutine: Awaitable[T]) -> T:
    """Run a command's coroutine; Concord's and adapters' errors end it with a clear line."""

    async def main() -> T:
        return await coroutine

    try:
        return asyncio.run(main())
    except (ConcordError, AdapterError) as exc:
        raise click.ClickException(str(exc)) from None
    except DRIVER_ERRORS as exc:  # the store wraps its errors: one it did not, said in a line
        raise click.ClickException(f"the database failed: {type(exc).__name__}: {exc}") from None


class _State(msgspec.Struct):
    config_path: str


def _config(ctx: click.Context) -> Config:
    state: _State = ctx.obj
    try:
        return load_config(state.config_path)
    except ConcordError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.option(
    "--config",
    "config_path",
    default=lambda: os.environ.get("CONCORD_CONFIG", DEFAULT_CONFIG),
    show_default=f"$CONCORD_CONFIG or {DEFAULT_CONFIG}",
    help="The configuration file.",
)
@click.option("--log-json", is_flag=True, help="Log JSON lines instead of readable ones.")
@click.option("-v", "--verbose", is_flag=True, help="Log every decision, not just the outcome.")
@click.pass_context
def main(ctx: click.Context, config_path: str, log_json: bool, verbose: bool) -> None:
    """Concord keeps an ERP and an online shop in agreement, in both directions."""
    setup_logging(json=log_json, level=logging.DEBUG if verbose else logging.WARNING)
    ctx.obj = _State(config_path=config_path)


@main.command("check-config")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.pass_context
def check_config(ctx: click.Context, file: str | None) -> None:
    """Check a configuration file (and that its secrets can be read) without connecting."""
    from engine.jobs import schedule_of

    if file is not None:
        ctx.obj = _State(config_path=file)
    config = _config(ctx)

    async def check() -> None:
        for name in config.connections:
            async with open_adapters(config, name):
                pass

    _run(check())
    for name, connection in config.connections.items():
        jobs = ", ".join(
            f"{j} ({job.kind}, every {schedule_of(job)})" for j, job in jobs_of(connection).items()
        )
        click.echo(f"{name}: {connection.erp['type']} <-> {connection.shop['type']}; jobs: {jobs}")
    click.echo(f"{config.source}: OK")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database schema up to date (a no-op when it is)."""
    from engine.store.database import create_pool, database_url
    from engine.store.migrate import migrate as apply_migrations

    config = _config(ctx)

    async def go() -> list[str]:
        async with database_url(database_url_of(config), config.data_dir()) as url:
            pool = await create_pool(url)
            try:
                async with pool.acquire() as conn:
                    return await apply_migrations(conn)
            finally:
                await pool.close()

    applied = _run(go())
    click.echo("applied: " + ", ".join(applied) if applied else "the schema is up to date")


@main.command()
@click.option("--connection", "only_connection", help="Only this connection.")
@click.option("--job", "only_job", help="Only this job (e.g. products, stock).")
@click.option("--dry-run", is_flag=True, help="Print what would be written; write nothing.")
@click.pass_context
def resync(
    ctx: click.Context, only_connection: str | None, only_job: str | None, dry_run: bool
) -> None:
    """One full reconcile of every job now, then a summary."""
    from engine.cycle.run import CycleResult, run_cycle

    config = _config(ctx)
    names = [only_connection] if only_connection else list(config.connections)
    for name in names:
        if name not in config.connections:
            raise click.BadParameter(f"no connection {name!r}", param_hint="--connection")
        if only_job and only_job not in jobs_of(config.connections[name]):
            raise click.BadParameter(f"{name} has no job {only_job!r}", param_hint="--job")

    async def go() -> list[tuple[str, str, CycleResult]]:
        done: list[tuple[str, str, CycleResult]] = []
        async with open_config_store(config) as store, watched(store.health):
            for name in names:
                connection = config.connections[name]
                async with open_adapters(config, name) as adapters:
                    for job_name, job in jobs_of(connection).items():
                        if only_job and job_name != only_job:
                            continue
                        bar = TerminalProgress(f"{name}/{job_name}")
                        try:
                            result = await while_reachable(
                                store.health,
                                run_cycle(
                                    store,
                                    connection=name,
                                    job_name=job_name,
                                    job=job,
                                    rules=connection.rules_for(job.kind),
                                    transforms=connection.transforms,
                                    adapters=adapters,
                                    full=True,
                                    dry_run=dry_run,
                                    progress=bar,
                                ),
                            )
                        finally:
                            bar.close()
                        done.append((name, job_name, result.kept()))
        return done

    for name, job_name, result in _run(go()):
        _print_result(f"{name}/{job_name}", result, dry_run=dry_run)


def _print_result(label: str, result: Any, *, dry_run: bool) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()) if v)
    click.echo(
        f"{label}: {'planned' if dry_run else 'done'} in {result.seconds:.2f}s: "
        f"{counts or 'nothing to do'}"
    )
    if dry_run:
        for side, operations in result.operations.items():
            for op in operations:
                click.echo(
                    f"  {side}: {type(op).__name__.lower()} {op.key} "
                    f"{msgspec.json.encode(getattr(op, 'fields', {})).decode()}"
                )
    for failure in result.failures:
        click.echo(f"  failed on {failure.side}: {failure.key}: {failure.reason}")
    for bad in result.rejected:
        click.echo(f"  rejected on {bad.side}: {bad.key}: {bad.reason}")
    for report in result.reports[:20]:
        click.echo(f"  note: {report.key}: {report.message}")
    if len(result.reports) > 20:
        click.echo(f"  ... and {len(result.reports) - 20} more notes")


@main.command()
@click.option("--products", default=1000, show_default=True, help="Articles in the catalogue.")
@click.option("--seed", default=1, show_default=True, help="Seed of the generated catalogue.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the demo database here (default: a temporary directory).",
)
@click.option(
    "--memory", is_flag=True, help="Two in-memory platforms instead of the HTTP simulators."
)
def demo(products: int, seed: int, data_dir: str | None, memory: bool) -> None:
    """A full two-way run between two simulated platforms on the embedded database.

    By default an Odoo simulator (the ERP) and a WooCommerce simulator (the shop), served on
    loopback and reached over HTTP by the real adapters."""
    from engine.cli.demo import run_demo

    async def go(directory: Path) -> list[Any]:
        async with open_store(
            os.environ.get("CONCORD_DATABASE_URL") or None, directory, auto_migrate=True
        ) as store:
            bar = TerminalProgress("demo")
            try:
                rounds = await run_demo(
                    store, products=products, seed=seed, progress=bar, memory=memory
                )
            finally:
                bar.close()
            conflicts = await store.list_conflicts(connection="demo")
            return [rounds, conflicts]

    if data_dir is None:
        with tempfile.TemporaryDirectory(prefix="concord-demo-") as tmp:
            rounds, conflicts = _run(go(Path(tmp)))
    else:
        rounds, conflicts = _run(go(Path(data_dir)))
    for round_ in rounds:
        click.echo(f"== {round_.title}")
        if round_.requests:
            sent = ", ".join(f"{side} {count}" for side, count in round_.requests.items())
            click.echo(f"requests served: {sent}")
        for job_name, result in round_.results.items():
            _print_result(f"demo/{job_name}", result, dry_run=False)
    click.echo(f"== open conflicts: {len(conflicts)}")
    _print_conflicts(conflicts)
    click.echo("Both sides agree on every other field.")


def _print_conflicts(rows: list[Any]) -> None:
    for row in rows:
        click.echo(
            f"  #{row.id} {row.kind} {row.key} {row.field}: "
            f"ERP {_show(row.erp)} | shop {_show(row.shop)} | base {_show(row.base)}"
            f" ({row.reason})"
        )


def _show(value: Any, limit: int = 40) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


main.add_command(conflicts)
main.add_command(audit)
main.add_command(accounting)


@main.command()
@click.option("--host", help="Listen on this address (default: [serve] host, 127.0.0.1).")
@click.option("--port", type=int, help="Listen on this port (default: [serve] port, 8600).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the conflict review and status pages (an access token is required)."""
    config = _config(ctx)
    # Loaded by name: the engine never imports the web stack (aiohttp) itself.
    serve_forever = importlib.import_module("web.server").serve_forever
    with contextlib.suppress(KeyboardInterrupt):
        _run(serve_forever(config, host=host, port=port, announce=click.echo))


@main.command()
@click.option("--connection", help="Only this connection.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@click.pass_context
def status(ctx: click.Context, connection: str | None, as_json: bool) -> None:
    """Per connection and job: last run, lag, errors, pending intents, dead letters, conflicts;
    every held order with its reason, and how many per reason."""
    from engine.jobs import schedule_of, scheduled_jobs
    from engine.loop.leases import Leases
    from engine.loop.status import gather_status, status_lines
    from engine.orders.held import KIND as ORDER_KIND
    from engine.orders.held import held_lines, held_orders

    config = _config(ctx)
    schedules = {
        (name, job_name): schedule_of(job)
        for name, settings in config.connections.items()
        for job_name, job in scheduled_jobs(settings).items()
    }

    async def go() -> tuple[list[Any], list[Any]]:
        async with open_config_store(config) as store:
            statuses = await gather_status(Leases(store.pool, "status"), connection, schedules)
            letters = await store.list_dead_letters(connection)
        return statuses, letters

    statuses, letters = _run(go())
    held = held_orders(letters)
    if as_json:
        click.echo(
            msgspec.json.encode(
                {"connections": statuses, "held_orders": held, "dead_letters": letters}
            ).decode()
        )
        return
    for line in status_lines(statuses):
        click.echo(line)
    for line in held_lines(held):
        click.echo(line)
    for letter in letters:
        if letter.kind == ORDER_KIND:
            continue  # listed above with the held orders
        click.echo(
            f"  dead letter {letter.connection}/{letter.kind} {letter.key} on {letter.side} "
            f"(x{letter.attempts}): {letter.reason}"
        )


@main.command()
@click.option(
    "--shutdown-timeout",
    default=30.0,
    show_default=True,
    help="Seconds from SIGTERM/SIGINT to exit: running jobs finish and commit within it.",
)
@click.option(
    "--lease-seconds",
    default=30.0,
    show_default=True,
    help="How long a job stays claimed without a heartbeat (a dead worker's job waits this).",
)
@click.option("--poll-seconds", default=5.0, show_default=True, help="Longest idle wait.")
@click.option("--max-jobs", default=4, show_default=True, help="Jobs this worker runs at once.")
@click.pass_context
def run(
    ctx: click.Context,
    shutdown_timeout: float,
    lease_seconds: float,
    poll_seconds: float,
    max_jobs: int,
) -> None:
    """Run every job of every connection on its schedule, until stopped (SIGTERM or SIGINT).

    Start as many as wanted, on as many machines, against one database: each job runs on one
    worker at a time, and a stopped or dead worker's jobs are taken over."""
    from engine.loop.worker import WorkerSettings, run_until_stopped

    config = _config(ctx)
    root = logging.getLogger()
    root.setLevel(min(root.level, logging.INFO))  # a long-running loop says what it does
    settings = WorkerSettings(
        lease_seconds=lease_seconds,
        poll_seconds=poll_seconds,
        max_jobs=max_jobs,
        shutdown_timeout=shutdown_timeout,
        keep_runs_days=config.database.keep_runs_days,
    )

    async def go() -> None:
        async with open_config_store(config) as store:
            await run_until_stopped(config, store, settings)

    _run(go())


@main.command()
@click.argument("platform", type=click.Choice(sorted(SIMULATORS)))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True)
@click.option("--products", default=100, show_default=True, help="Generated catalogue size.")
@click.option("--seed", default=0, show_default=True, help="Seed of the generated catalogue.")
def simulate(platform: str, host: str, port: int, products: int, seed: int) -> None:
    """Serve a platform simulator (its documented API, quirks and fault switches)."""
    runner = simulator_runner(platform)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner(host, port, products, seed))


@main.command()
@click.option("--sizes", default="3k,30k", show_default=True, help="Catalogue sizes (3k,30k,300k).")
@click.option("--size", "one_size", help="One catalogue size (overrides --sizes).")
@click.option(
    "--scenarios", default="1,2,3,4,5,6,7,8,9", show_default=True, help="Scenarios to run."
)
@click.option("--out", default="bench-results", show_default=True, help="Report directory.")
@click.option("--seed", default=1, show_default=True, help="Seed of the generated catalogues.")
@click.option("--rate", default=10.0, show_default=True, help="Throttled shop's requests/s (6).")
@click.option("--throttled-max", default="3k", show_default=True, help="Largest size for 6.")
@click.option("--no-floor", is_flag=True, help="Skip the raw I/O floor.")
@click.option("--no-peer", is_flag=True, help="Skip the peer script.")
@click.option("--no-latency", is_flag=True, help="Skip the runs under the latency profiles.")
@click.option("--latency-max", default="30k", show_default=True, help="Largest size for them.")
@click.option("--shopify-max", default="30k", show_default=True, help="Largest size for 7, 8.")
def bench(
    sizes: str,
    one_size: str | None,
    scenarios: str,
    out: str,
    seed: int,
    rate: float,
    throttled_max: str,
    no_floor: bool,
    no_peer: bool,
    no_latency: bool,
    latency_max: str,
    shopify_max: str,
) -> None:
    """The benchmark suite: scenarios on generated catalogues, beside the I/O floor and a peer."""
    from bench.cli import run_command

    run_command(
        sizes=one_size or sizes,
        scenarios=scenarios,
        out=out,
        seed=seed,
        rate=rate,
        throttled_max=throttled_max,
        floor=not no_floor,
        peer=not no_peer,
        latency=not no_latency,
        latency_max=latency_max,
        shopify_max=shopify_max,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
