"""``concord audit orders``: shop orders missing from the ERP, and ERP web orders no shop
order explains (the daily audit, run now)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click
import msgspec

from adapters.base import AdapterError
from canonical.errors import ConcordError
from engine.config import load_config
from engine.orders.audit import AuditReport, run_audit
from engine.runtime import open_adapters, open_config_store


@click.group()
def audit() -> None:
    """Check that the two sides hold the same records."""


@audit.command("orders")
@click.option("--connection", help="Only this connection.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only orders created since this day (default: the connection's orders.since).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of lines.")
@click.pass_context
def audit_orders(
    ctx: click.Context, connection: str | None, since: datetime | None, as_json: bool
) -> None:
    """List shop orders missing from the ERP and ERP web orders without a shop order.

    Exits with status 1 when something is found, so a cron job or a monitor can alert."""
    path = getattr(ctx.obj, "config_path", "concord.toml")
    try:
        config = load_config(path)
    except ConcordError as exc:
        raise click.ClickException(str(exc)) from None
    names = [connection] if connection else list(config.connections)
    for name in names:
        if name not in config.connections:
            raise click.BadParameter(f"no connection {name!r}", param_hint="--connection")

    async def go() -> dict[str, AuditReport]:
        reports: dict[str, AuditReport] = {}
        async with open_config_store(config) as store:
            for name in names:
                async with open_adapters(config, name) as adapters:
                    reports[name] = await run_audit(
                        store,
                        connection=name,
                        adapters=adapters,
                        config=config.connections[name].orders,
                        since=since,
                    )
        return reports

    try:
        reports = asyncio.run(go())
    except (ConcordError, AdapterError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(msgspec.json.encode(reports).decode())
    for name, report in reports.items():
        if as_json:
            break
        counts = report.counts
        click.echo(
            f"{name}: {counts['shop_orders']} importable shop orders, "
            f"{counts['erp_orders']} ERP web orders: {len(report.findings) or 'no'} findings"
        )
        for finding in report.findings:
            click.echo(f"  {finding.problem}: {finding.detail}")
    if any(report.findings for report in reports.values()):
        ctx.exit(1)
