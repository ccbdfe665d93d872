"""The booking as a scheduled job of ``concord run``.

A connection with an ``[accounting]`` table (and ``enabled`` left true) gets the job
``accounting`` (every ``accounting.every``, daily by default): it books what is new from the
first day of the previous month (or ``accounting.since``, when later) to today, so late
refunds and documents held last month are taken up again. Files are written on demand by
``concord accounting export``, which books first in the same way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.accounting.job import run_booking
from engine.config import ConnectionConfig, JobConfig
from engine.jobs import JobContext, JobOutcome
from rules.accounting.chart import AccountingConfig
from rules.order_rules import since_moment

JOB = "accounting"


def accounting_jobs(connection: ConnectionConfig) -> dict[str, JobConfig]:
    """The booking job of ``connection``, none without an enabled ``[accounting]`` table."""
    books = connection.accounting
    if books is None or not books.enabled:
        return {}
    return {JOB: JobConfig(kind="order", every=books.every, run="accounting")}


def booking_period(books: AccountingConfig, today: date) -> tuple[date, date]:
    """From the first day of the previous month (or ``since``, when later) to ``today``."""
    last_month = today.replace(day=1) - timedelta(days=1)
    previous = last_month.replace(day=1)
    if books.since is not None:
        previous = max(previous, since_moment(books.since).date())
    return previous, today


async def booking_job(context: JobContext) -> JobOutcome:
    """Book the connection's new sales, payments and refunds (see :mod:`engine.accounting.job`)."""
    books = context.accounting
    if books is None:
        return JobOutcome(run_id=None, counts={})
    today = datetime.now(ZoneInfo(books.timezone)).date()
    start, end = booking_period(books, today)
    result = await run_booking(
        context.store,
        connection=context.connection,
        adapters=context.adapters,
        config=books,
        start=start,
        end=end,
        today=today,
        job=context.job_name,
    )
    return JobOutcome(run_id=result.run_id, counts=result.counts)
