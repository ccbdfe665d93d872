"""Checking a connection's ``[accounting]`` table beyond its shape: the chart, the time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rules.accounting.chart import AccountingConfig, check_chart
from rules.order_rules import since_moment


def check_accounting(config: AccountingConfig) -> list[tuple[str, str]]:
    """(key under ``accounting``, reason) for every problem; empty when it can be used."""
    problems = [
        (f"{p.record}.{p.field}" if p.record else p.field, p.reason) for p in check_chart(config)
    ]
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(("timezone", f"{config.timezone!r} is not a known time zone"))
    if config.since is not None:
        try:
            since_moment(config.since)
        except ValueError:
            problems.append(("since", f"{config.since!r} is not a day (YYYY-MM-DD)"))
    return problems
