"""``concord accounting export``: book a period's sales, payments and refunds, write its file.

::

    concord accounting export --from 2026-11-01 --to 2026-11-30            # the FEC, here
    concord accounting export --from 2026-11-01 --to 2026-11-30 --format csv -o books/
    concord accounting export --from 2026-11-01 --to 2026-11-30 --dry-run  # book nothing

Booking is exactly once: a second export of the same period books nothing more and writes the
same file. A FEC is checked before the command says it is written; a problem ends it with
status 1, as does any document held (its reason is printed and kept as a dead letter).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from pathlib import Path

import click

from adapters.base import AdapterError
from canonical.errors import ConcordError
from engine.accounting.export import Format, export_file
from engine.accounting.job import BookingResult, run_booking
from engine.config import Config, load_config
from engine.runtime import open_adapters, open_config_store
from rules.accounting.chart import AccountingConfig
from rules.accounting.fec_check import check_fec

_DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def accounting() -> None:
    """The books: web sales, payments and refunds as journal entries, and their files."""


def _connection(config: Config, name: str | None) -> tuple[str, AccountingConfig]:
    with_books = {n: c.accounting for n, c in config.connections.items() if c.accounting}
    if name is None:
        if len(with_books) != 1:
            raise click.BadParameter(
                f"name one of {', '.join(sorted(with_books)) or 'none'}",
                param_hint="--connection",
            )
        name = next(iter(with_books))
    books = with_books.get(name)
    if books is None:
        raise click.BadParameter(
            f"connection {name!r} has no [accounting] table", param_hint="--connection"
        )
    return name, books


def _summary(name: str, result: BookingResult, *, dry_run: bool) -> list[str]:
    kinds = Counter(entry.kind for entry in result.planned)
    verb = "would book" if dry_run else "booked"
    counts = result.counts
    done = len(result.planned) if dry_run else counts.get("booked", 0)
    lines = [
        f"{name}: {counts.get('read', 0)} orders read, {verb} {done} entries "
        f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none new'}), "
        f"{len(result.held)} held, {counts.get('waiting', 0)} waiting for their day"
    ]
    lines += [f"  held {held.key}: {held.reason}" for held in result.held]
    return lines


@accounting.command("export")
@click.option("--connection", help="The connection (default: the one with an [accounting]).")
@click.option("--from", "start", type=_DAY, required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=_DAY, required=True, help="Last day, included; the FEC's date.")
@click.option(
    "--format", "fmt", type=click.Choice(["fec", "csv"]), default="fec", show_default=True
)
@click.option("--separator", type=click.Choice(["tab", "pipe"]), default="tab", show_default=True)
@click.option("--dry-run", is_flag=True, help="Show what would be booked; book and write nothing.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="The file, or a folder for the default name (<SIREN>FEC<YYYYMMDD>.txt).",
)
@click.pass_context
def export(
    ctx: click.Context,
    connection: str | None,
    start: datetime,
    end: datetime,
    fmt: Format,
    separator: str,
    dry_run: bool,
    output: Path | None,
) -> None:
    """Book the period's sales, payments and refunds (once), then write its FEC or CSV."""
    path = getattr(ctx.obj, "config_path", "concord.toml")
    try:
        config = load_config(path)
    except ConcordError as exc:
        raise click.ClickException(str(exc)) from None
    name, books = _connection(config, connection)
    first, last = start.date(), end.date()
    if last < first:
        raise click.BadParameter("is before --from", param_hint="--to")

    async def go() -> tuple[BookingResult, Path | None, int]:
        async with open_config_store(config) as store, open_adapters(config, name) as adapters:
            result = await run_booking(
                store,
                connection=name,
                adapters=adapters,
                config=books,
                start=first,
                end=last,
                dry_run=dry_run,
            )
            if dry_run:
                return result, None, 0
            target, booked = await export_file(
                store,
                connection=name,
                config=books,
                start=first,
                end=last,
                fmt=fmt,
                output=output,
                separator=separator,
            )
            return result, target, len(booked)

    try:
        result, target, written = asyncio.run(go())
    except (ConcordError, AdapterError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in _summary(name, result, dry_run=dry_run):
        click.echo(line)
    if target is None:
        return
    click.echo(f"{target}: {written} entries from {first} to {last}")
    if fmt == "fec":
        named = output is None or output.is_dir()
        text = target.read_bytes().decode("iso8859_15")
        problems = check_fec(text, name=target.name if named else None)
        for problem in problems[:20]:
            click.echo(f"  FEC check: {problem}", err=True)
        if problems:
            ctx.exit(1)
    if result.held:
        ctx.exit(1)
