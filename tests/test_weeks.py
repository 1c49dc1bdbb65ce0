"""Selecting the days of an edition: ISO weeks in the publication's time zone, or a range."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import click
import pytest

from newsletter.weeks import Selection, parse_selection, resolve, week_period

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("week", "start", "end", "key"),
    [
        ("2026-W48", date(2026, 11, 23), date(2026, 11, 29), "2026-W48"),
        ("2026w48", date(2026, 11, 23), date(2026, 11, 29), "2026-W48"),
        ("2026-W1", date(2025, 12, 29), date(2026, 1, 4), "2026-W01"),  # ISO week 1 starts in December
        ("2020-W53", date(2020, 12, 28), date(2021, 1, 3), "2020-W53"),
    ],
)
def test_week_period(week: str, start: date, end: date, key: str) -> None:
    period = week_period(week)
    assert (period.start, period.end, period.key) == (start, end, key)


@pytest.mark.parametrize("week", ["2026-48", "W48", "2026-W00", "2026-W54", "2025-W53", "next week"])
def test_bad_weeks_are_usage_errors(week: str) -> None:
    with pytest.raises(click.UsageError):
        parse_selection(week, None, None)


@pytest.mark.parametrize(
    ("week", "since", "until", "message"),
    [
        ("2026-W48", date(2026, 11, 1), date(2026, 11, 2), "either --week or --since"),
        (None, date(2026, 11, 1), None, "go together"),
        (None, None, date(2026, 11, 1), "go together"),
        (None, date(2026, 11, 5), date(2026, 11, 1), "is after"),
    ],
)
def test_bad_combinations(week: str | None, since: date | None, until: date | None, message: str) -> None:
    with pytest.raises(click.UsageError, match=message):
        parse_selection(week, since, until)


@pytest.mark.parametrize(
    ("now", "key"),
    [
        # Sunday evening in California is already Monday in UTC: still week 48 for the newsroom
        (datetime(2026, 11, 30, 5, 0, tzinfo=UTC), "2026-W48"),
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "2026-W49"),
        (datetime(2026, 11, 23, 7, 59, tzinfo=UTC), "2026-W47"),
        (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "2026-W48"),
    ],
)
def test_current_week_is_the_newsrooms(now: datetime, key: str) -> None:
    assert resolve(Selection(), LA, now).key == key


def test_range() -> None:
    period = resolve(Selection(since=date(2026, 11, 1), until=date(2026, 11, 14)), LA)
    assert period.key == "2026-11-01_2026-11-14"
    assert date(2026, 11, 14) in period and date(2026, 11, 15) not in period
