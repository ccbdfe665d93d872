"""The ``concord`` command."""

from __future__ import annotations

import asyncio
import contextlib
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
from engine.config import Config, jobs_of, load_config
from engine.errors import ConcordError
from engine.logs import setup_logging
from engine.progress import TerminalProgress
from engine.runtime import database_url_of, open_adapters, open_config_store, open_store
from rules.policy import KindRules

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
            f"{j} ({job.kind}, every {job.every})" for j, job in jobs_of(connection).items()
        )
        click.echo(f"{name}: {connection.erp['type']} <-> {connection.shop['type']}; jobs: {jobs}")
    click.echo(f"{config.source}: OK")


@main.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring the database schema up to date (a no-op when it is)."""
    from engine.database import create_pool, database_url
    from engine.migrate import migrate as apply_migrations

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
    from engine.cycle import CycleResult, run_cycle

    config = _config(ctx)
    names = [only_connection] if only_connection else list(config.connections)
    for name in names:
        if name not in config.connections:
            raise click.BadParameter(f"no connection {name!r}", param_hint="--connection")
        if only_job and only_job not in jobs_of(config.connections[name]):
            raise click.BadParameter(f"{name} has no job {only_job!r}", param_hint="--job")

    async def go() -> list[tuple[str, str, CycleResult]]:
        done: list[tuple[str, str, CycleResult]] = []
        async with open_config_store(config) as store:
            for name in names:
                connection = config.connections[name]
                async with open_adapters(config, name) as adapters:
                    for job_name, job in jobs_of(connection).items():
                        if only_job and job_name != only_job:
                            continue
                        bar = TerminalProgress(f"{name}/{job_name}")
                        try:
                            result = await run_cycle(
                                store,
                                connection=name,
                                job_name=job_name,
                                job=job,
                                rules=connection.rules.get(job.kind, KindRules()),
                                adapters=adapters,
                                full=True,
                                dry_run=dry_run,
                                progress=bar,
                            )
                        finally:
                            bar.close()
                        done.append((name, job_name, result))
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
def demo(products: int, seed: int, data_dir: str | None) -> None:
    """A full two-way run between two simulated platforms on the embedded database."""
    from engine.demo import run_demo

    async def go(directory: Path) -> list[Any]:
        async with open_store(
            os.environ.get("CONCORD_DATABASE_URL") or None, directory, auto_migrate=True
        ) as store:
            bar = TerminalProgress("demo")
            try:
                rounds = await run_demo(store, products=products, seed=seed, progress=bar)
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


@main.group()
def conflicts() -> None:
    """Review the conflicts the rules could not settle."""


@conflicts.command("list")
@click.option("--connection", help="Only this connection.")
@click.option("--kind", help="Only this kind of record.")
@click.option(
    "--status",
    default="open",
    show_default=True,
    type=click.Choice(["open", "resolved", "applied", "dismissed", "all"]),
)
@click.option("--search", help="Only keys or fields containing this text.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@click.pass_context
def conflicts_list(
    ctx: click.Context,
    connection: str | None,
    kind: str | None,
    status: str,
    search: str | None,
    as_json: bool,
) -> None:
    """List conflicts."""
    config = _config(ctx)

    async def go() -> list[Any]:
        async with open_config_store(config) as store:
            return list(
                await store.list_conflicts(
                    connection=connection,
                    kind=kind,
                    status=None if status == "all" else status,
                    search=search,
                )
            )

    rows = _run(go())
    if as_json:
        click.echo(msgspec.json.encode(rows).decode())
    elif rows:
        _print_conflicts(rows)
    else:
        click.echo("no conflicts")


@conflicts.command("show")
@click.argument("conflict_id", type=int)
@click.pass_context
def conflicts_show(ctx: click.Context, conflict_id: int) -> None:
    """Show one conflict in full."""
    config = _config(ctx)

    async def go() -> Any:
        async with open_config_store(config) as store:
            return await store.get_conflict(conflict_id)

    row = _run(go())
    if row is None:
        raise click.ClickException(f"no conflict #{conflict_id}")
    for name in row.__struct_fields__:
        click.echo(f"{name:>17}: {msgspec.json.encode(getattr(row, name)).decode()}")


@conflicts.command("resolve")
@click.argument("conflict_id", type=int)
@click.option("--take", type=click.Choice(["erp", "shop"]), help="Keep this side's value.")
@click.option("--value", help="Enter the value instead (JSON, or plain text).")
@click.option("--by", default=lambda: os.environ.get("USER", "cli"), help="Who resolves it.")
@click.pass_context
def conflicts_resolve(
    ctx: click.Context, conflict_id: int, take: str | None, value: str | None, by: str
) -> None:
    """Resolve a conflict; the next cycle writes the value to both sides."""
    if (take is None) == (value is None):
        raise click.UsageError("give exactly one of --take erp|shop or --value V")
    config = _config(ctx)

    async def go() -> Any:
        async with open_config_store(config) as store:
            row = await store.get_conflict(conflict_id)
            if row is None:
                raise click.ClickException(f"no conflict #{conflict_id}")
            if take == "erp":
                return await store.resolve_conflict(conflict_id, source="erp", value=row.erp, by=by)
            if take == "shop":
                return await store.resolve_conflict(
                    conflict_id, source="shop", value=row.shop, by=by
                )
            return await store.resolve_conflict(
                conflict_id, source="value", value=_parse_value(value or ""), by=by
            )

    try:
        row = _run(go())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"#{row.id} {row.key} {row.field} resolved to {_show(row.resolution)}; "
        "the next cycle applies it"
    )


def _parse_value(text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text


@main.command()
@click.option("--connection", help="Only this connection.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@click.pass_context
def status(ctx: click.Context, connection: str | None, as_json: bool) -> None:
    """Last runs per job, dead letters and open conflicts."""
    config = _config(ctx)

    async def go() -> dict[str, Any]:
        async with open_config_store(config) as store:
            runs = await store.list_runs(connection, limit=200)
            letters = await store.list_dead_letters(connection)
            open_conflicts = await store.count_open_conflicts(connection)
        last: dict[tuple[str, str], Any] = {}
        for run in runs:  # newest first: keep each job's latest
            last.setdefault((run.connection, run.job), run)
        return {
            "runs": list(last.values()),
            "dead_letters": letters,
            "open_conflicts": open_conflicts,
        }

    report = _run(go())
    if as_json:
        click.echo(msgspec.json.encode(report).decode())
        return
    for run in report["runs"]:
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()) if v)
        click.echo(
            f"{run.connection}/{run.job}: {run.status} {run.mode} at "
            f"{run.started_at:%Y-%m-%d %H:%M:%S} ({took:.1f}s) {counts}"
            + (f" error: {run.error}" if run.error else "")
        )
    if not report["runs"]:
        click.echo("no runs yet")
    click.echo(f"dead letters: {len(report['dead_letters'])}")
    for letter in report["dead_letters"][:20]:
        click.echo(
            f"  {letter.connection}/{letter.kind} {letter.key} on {letter.side} "
            f"(x{letter.attempts}): {letter.reason}"
        )
    click.echo(f"open conflicts: {report['open_conflicts']}")


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
