"""``concord conflicts``: list, show, resolve (one, several, or all matching) and export.

A resolution records the person's choice; the next cycle of the job writes it to both sides.
The HTML export is the review page's own rendering (``web.export``, loaded on demand: it is
plain Python, but the web package is kept out of the engine's imports).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
import msgspec

from adapters.base import AdapterError
from canonical.errors import ConcordError
from engine.config import Config, load_config
from engine.runtime import open_config_store
from engine.store.state import ConflictRow, Store

T = TypeVar("T")
STATUSES = ["open", "resolved", "applied", "dismissed", "all"]
ALL_MATCHING_LIMIT = 100_000


def _run(coroutine: Awaitable[T]) -> T:
    """Run a command's coroutine; Concord's and adapters' errors end it with a clear line."""

    async def main() -> T:
        return await coroutine

    try:
        return asyncio.run(main())
    except (ConcordError, AdapterError) as exc:
        raise click.ClickException(str(exc)) from None


def _config(ctx: click.Context) -> Config:
    try:
        return load_config(ctx.obj.config_path)
    except ConcordError as exc:
        raise click.ClickException(str(exc)) from None


def _show(value: Any, limit: int = 40) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_conflicts(rows: list[ConflictRow]) -> None:
    """One line per conflict: id, kind, key, field, the three values and why it is open."""
    for row in rows:
        click.echo(
            f"  #{row.id} {row.kind} {row.key} {row.field}: "
            f"ERP {_show(row.erp)} | shop {_show(row.shop)} | base {_show(row.base)}"
            f" ({row.reason})"
        )


def _web(module: str, attribute: str) -> Any:
    return getattr(importlib.import_module(f"web.{module}"), attribute)


def _parse_value(kind: str, field: str, text: str) -> Any:
    """A typed value read as the field expects it (the review page's rule)."""
    parse = cast(Callable[[str, str, str], Any], _web("values", "parse_typed"))
    try:
        return parse(kind, field, text)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def conflicts() -> None:
    """Review the conflicts the rules could not settle."""


def _filters(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--connection", help="Only this connection."),
            click.option("--kind", help="Only this kind of record."),
            click.option(
                "--status",
                default="open",
                show_default=True,
                type=click.Choice(STATUSES),
            ),
            click.option("--search", help="Only keys or fields containing this text."),
        ]
    ):
        function = option(function)
    return function


async def _list(
    store: Store, connection: str | None, kind: str | None, status: str, search: str | None
) -> list[ConflictRow]:
    return await store.list_conflicts(
        connection=connection,
        kind=kind,
        status=None if status == "all" else status,
        search=search,
        limit=ALL_MATCHING_LIMIT,
    )


@conflicts.command("list")
@_filters
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

    async def go() -> list[ConflictRow]:
        async with open_config_store(config) as store:
            return await _list(store, connection, kind, status, search)

    rows = _run(go())
    if as_json:
        click.echo(msgspec.json.encode(rows).decode())
    elif rows:
        print_conflicts(rows)
    else:
        click.echo("no conflicts")


@conflicts.command("show")
@click.argument("conflict_id", type=int)
@click.pass_context
def conflicts_show(ctx: click.Context, conflict_id: int) -> None:
    """Show one conflict in full."""
    config = _config(ctx)

    async def go() -> ConflictRow | None:
        async with open_config_store(config) as store:
            return await store.get_conflict(conflict_id)

    row = _run(go())
    if row is None:
        raise click.ClickException(f"no conflict #{conflict_id}")
    for name in row.__struct_fields__:
        click.echo(f"{name:>17}: {msgspec.json.encode(getattr(row, name)).decode()}")


@conflicts.command("resolve")
@click.argument("conflict_ids", metavar="[CONFLICT_ID]...", type=int, nargs=-1)
@click.option(
    "--take",
    type=click.Choice(["erp", "shop", "suggested"]),
    help="Keep this side's value (suggested: the side the conflict suggests).",
)
@click.option("--value", help="Enter the value instead (JSON, or plain text).")
@click.option(
    "--all-matching",
    "search",
    metavar="SEARCH",
    help="Every open conflict whose key or field contains SEARCH (with --connection/--kind).",
)
@click.option("--connection", help="With --all-matching: only this connection.")
@click.option("--kind", help="With --all-matching: only this kind of record.")
@click.option("--by", default=lambda: os.environ.get("USER", "cli"), help="Who resolves it.")
@click.pass_context
def conflicts_resolve(
    ctx: click.Context,
    conflict_ids: tuple[int, ...],
    take: str | None,
    value: str | None,
    search: str | None,
    connection: str | None,
    kind: str | None,
    by: str,
) -> None:
    """Resolve conflicts (by id, or all matching); the next cycle writes the value to both
    sides."""
    if (take is None) == (value is None):
        raise click.UsageError("give exactly one of --take erp|shop|suggested or --value V")
    if bool(conflict_ids) == (search is not None):
        raise click.UsageError("give conflict ids or --all-matching SEARCH (not both)")
    if search is None and (connection or kind):
        raise click.UsageError("--connection and --kind narrow --all-matching")
    config = _config(ctx)

    async def resolve_one(store: Store, row: ConflictRow) -> ConflictRow:
        if value is not None:
            return await store.resolve_conflict(
                row.id, source="value", value=_parse_value(row.kind, row.field, value), by=by
            )
        side = row.suggested if take == "suggested" else take
        if side == "erp":
            return await store.resolve_conflict(row.id, source="erp", value=row.erp, by=by)
        if side == "shop":
            return await store.resolve_conflict(row.id, source="shop", value=row.shop, by=by)
        raise ValueError(f"conflict {row.id} has no suggestion: take erp or shop, or a value")

    async def go() -> tuple[list[str], list[str]]:
        done: list[str] = []
        failed: list[str] = []
        async with open_config_store(config) as store:
            if search is not None:
                rows = await _list(store, connection, kind, "open", search)
            else:
                rows = []
                for conflict_id in conflict_ids:
                    row = await store.get_conflict(conflict_id)
                    if row is None:
                        failed.append(f"no conflict #{conflict_id}")
                    else:
                        rows.append(row)
            for row in rows:
                try:
                    resolved = await resolve_one(store, row)
                except ValueError as exc:
                    failed.append(f"#{row.id}: {exc}")
                    continue
                done.append(
                    f"#{resolved.id} {resolved.key} {resolved.field} resolved to "
                    f"{_show(resolved.resolution)}; the next cycle applies it"
                )
        return done, failed

    done, failed = _run(go())
    for line in done:
        click.echo(line)
    if search is not None and not done and not failed:
        click.echo(f"no open conflict matches {search!r}")
    if len(conflict_ids) == 1 and failed:
        raise click.ClickException(failed[0])
    for line in failed:
        click.echo(f"not resolved: {line}", err=True)
    if len(done) + len(failed) > 1:
        click.echo(f"resolved {len(done)}, not resolved {len(failed)}")
    if failed:
        sys.exit(1)


@conflicts.command("export")
@_filters
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "json", "html"]),
    default="csv",
    show_default=True,
    help="csv for a spreadsheet, json for programs, html for people (the review page's look).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of the standard output.",
)
@click.pass_context
def conflicts_export(
    ctx: click.Context,
    connection: str | None,
    kind: str | None,
    status: str,
    search: str | None,
    format_: str,
    output: Path | None,
) -> None:
    """Export conflicts as CSV, JSON or a self-contained HTML page."""
    config = _config(ctx)

    async def go() -> list[ConflictRow]:
        async with open_config_store(config) as store:
            return await _list(store, connection, kind, status, search)

    rows = _run(go())
    text = cast(str, _web("export", "export")(rows, format_))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} conflicts written to {output}", err=True)
