"""Schedules: intervals and cron expressions, and how missed due times collapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.schedule import Cron, Every, next_due, parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_interval_counts_from_the_previous_due_time() -> None:
    schedule = parse_schedule("5m")
    assert isinstance(schedule, Every)
    assert schedule.next_after(at("2025-03-01 10:02:30")) == at("2025-03-01 10:07:30")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", "2025-03-01 10:02:30", "2025-03-01 10:15:00"),
        ("*/15 * * * *", "2025-03-01 10:15:00", "2025-03-01 10:30:00"),
        ("30 2 * * *", "2025-03-01 02:30:00", "2025-03-02 02:30:00"),
        ("30 2 * * 1-5", "2025-03-01 00:00:00", "2025-03-03 02:30:00"),  # Saturday -> Monday
        ("0 6 1,15 * *", "2025-03-02 00:00:00", "2025-03-15 06:00:00"),
        ("0 0 * * sun", "2025-03-01 12:00:00", "2025-03-02 00:00:00"),
        ("0 0 * * 7", "2025-03-01 12:00:00", "2025-03-02 00:00:00"),  # 7 is Sunday too
        ("0 0 1 jan *", "2025-03-01 00:00:00", "2026-01-01 00:00:00"),
        ("0 0 29 2 *", "2025-03-01 00:00:00", "2028-02-29 00:00:00"),
        ("0 12 13 * 5", "2025-03-01 00:00:00", "2025-03-07 12:00:00"),  # day OR weekday
        ("5-10/5 8 * * *", "2025-03-01 08:05:00", "2025-03-01 08:10:00"),
    ],
)
def test_cron_expressions(expression: str, after: str, expected: str) -> None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, Cron)
    assert schedule.next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5 minutes", "neither an interval"),
        ("0m", "not a duration"),
        ("61 * * * *", "minute field: '61' is outside 0-59"),
        ("* 24 * * *", "hour field: '24' is outside 0-23"),
        ("* * * foo *", "month field: 'foo' is not a number"),
        ("*/0 * * * *", "step must be at least 1"),
        ("0 0 31 2 *", "never matches"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_schedule(text)


def test_missed_due_times_collapse_into_one_run_now() -> None:
    schedule = parse_schedule("10m")
    due = at("2025-03-01 10:00:00")
    assert next_due(schedule, due, due + timedelta(minutes=2)) == at("2025-03-01 10:10:00")
    # Overran three intervals: one catch-up run now, not three in a row.
    late = due + timedelta(minutes=31)
    assert next_due(schedule, due, late) == late
