"""When a job is due: an interval (``5m``, ``1h``, ``1d``) or a 5-field cron expression.

A schedule answers one question, :meth:`Schedule.next_after`: the first moment strictly after a
given one at which the job is due. Cron expressions are read in UTC (the workers of one database
may live on machines set to different zones; UTC is the one they agree on)::

    minute hour day-of-month month day-of-week
    */15   *    *            *     *            every quarter of an hour
    30     2    *            *     1-5          02:30 on weekdays
    0      6    1,15         *     *            06:00 on the 1st and the 15th

Fields take ``*``, numbers, ranges ``a-b``, steps ``*/n`` or ``a-b/n``, and lists of those;
months and weekdays also take names (``jan``, ``mon``); a weekday is 0-7 with Sunday as 0 or 7.
As in classic cron, when both day-of-month and day-of-week are restricted, either matching is
enough.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``"5m"`` → 300 seconds. Raises ``ValueError`` for anything else."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 1h or 1d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


DEFAULT_EVERY: dict[str, str] = {
    "order": "5m",
    "order_status": "5m",
    "invoice": "1h",
    "stock": "10m",
    "price": "1h",
    "product": "1d",
    "customer": "1d",
}
"""How often a job of each kind runs when its ``every`` is not given."""

DEFAULT_FULL_EVERY = "7d"
"""How often each job also runs a full resync (every record read, not just the changed ones)."""

FALLBACK_EVERY = "1h"

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_SEARCH_DAYS = 366 * 8  # long enough for 29 February; beyond, the expression never matches


class Schedule(Protocol):
    """When a job is due."""

    text: str

    def next_after(self, moment: datetime) -> datetime:
        """The first due moment strictly after ``moment`` (aware, UTC)."""
        ...


class Every:
    """A fixed interval, counted from the previous due moment."""

    def __init__(self, text: str, seconds: int) -> None:
        self.text = text
        self.seconds = seconds

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)

    def __repr__(self) -> str:
        return f"Every({self.text!r})"


class Cron:
    """A 5-field cron expression, evaluated in UTC."""

    def __init__(self, text: str) -> None:
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(
                f"{text!r} is neither an interval (30s, 5m, 1h, 1d) nor a cron expression "
                f"of 5 fields (minute hour day-of-month month day-of-week)"
            )
        sets = [_field(part, i) for i, part in enumerate(parts)]
        self.text = text
        self.minutes, self.hours, self.days, self.months, weekdays = sets
        self.weekdays = {0 if d == 7 else d for d in weekdays}
        self._any_day = parts[2] == "*"
        self._any_weekday = parts[4] == "*"
        # Refuse at once what can never match (31 February), rather than at the first run.
        self.next_after(datetime(2000, 1, 1, tzinfo=UTC))

    def _day_matches(self, moment: datetime) -> bool:
        by_day = moment.day in self.days
        by_weekday = (moment.isoweekday() % 7) in self.weekdays
        if self._any_day or self._any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, moment: datetime) -> datetime:
        t = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=_SEARCH_DAYS)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0)
            elif not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        raise ValueError(f"cron expression {self.text!r} never matches a date")

    def __repr__(self) -> str:
        return f"Cron({self.text!r})"


def _number(text: str, index: int) -> int:
    names: Sequence[str] = _MONTHS if index == 3 else _DAYS if index == 4 else ()
    lowered = text.lower()
    if lowered in names:
        return names.index(lowered) + (1 if index == 3 else 0)
    if not text.isdigit():
        raise ValueError(f"{_FIELDS[index]} field: {text!r} is not a number")
    return int(text)


def _field(text: str, index: int) -> set[int]:
    low, high = _BOUNDS[index]
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = _number(step_text, index) if step_text else 1
        if step < 1:
            raise ValueError(f"{_FIELDS[index]} field: step must be at least 1 in {item!r}")
        if span == "*":
            start, stop = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, stop = _number(first, index), _number(last, index)
        else:
            start = _number(span, index)
            stop = high if step_text else start
        if not (low <= start <= stop <= high):
            raise ValueError(f"{_FIELDS[index]} field: {item!r} is outside {low}-{high}")
        values.update(range(start, stop + 1, step))
    return values


def parse_schedule(text: str) -> Schedule:
    """An interval such as ``5m`` or a cron expression; ``ValueError`` names what is wrong."""
    text = text.strip()
    if len(text.split()) == 1:
        return Every(text, parse_duration(text))
    return Cron(text)


def next_due(schedule: Schedule, due: datetime, now: datetime) -> datetime:
    """When a job that was due at ``due`` is due next, seen at ``now``.

    Missed moments (the job overran, or no worker was up) are not run one after the other: they
    collapse into one run, now.
    """
    return max(schedule.next_after(due), now)
