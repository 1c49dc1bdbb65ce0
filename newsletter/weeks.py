"""Which days an edition covers: an ISO week in the publication's time zone, or a date range."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
from msgspec import Struct

WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class Selection(Struct, frozen=True):
    """What the user asked for; ``resolve`` turns it into concrete days."""

    week: str | None = None
    since: date | None = None
    until: date | None = None


class Period(Struct, frozen=True):
    """Concrete inclusive days, and the folder name of the edition under issues/."""

    key: str
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def parse_selection(week: str | None, since: date | None, until: date | None) -> Selection:
    """Check the options belong together; wrong usage is a click.UsageError (exit 2)."""
    if week and (since or until):
        raise click.UsageError("Use either --week or --since/--until, not both.")
    if (since is None) != (until is None):
        raise click.UsageError("--since and --until go together: give both dates.")
    if since and until and since > until:
        raise click.UsageError(f"--since {since} is after --until {until}.")
    if week:
        week_period(week)  # validate now, before any work
    return Selection(week, since, until)


def week_period(week: str) -> Period:
    match = WEEK_RE.match(week.strip())
    if not match:
        raise click.UsageError(f"--week '{week}' is not an ISO week; write it like 2026-W48.")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        start = date.fromisocalendar(year, number, 1)
    except ValueError:
        raise click.UsageError(f"--week '{week}': {year} has no week {number}.") from None
    return Period(f"{year}-W{number:02d}", start, start + timedelta(days=6))


def week_of(day: date) -> Period:
    year, number, _ = day.isocalendar()
    return week_period(f"{year}-W{number:02d}")


def resolve(selection: Selection, tz: ZoneInfo, now: datetime | None = None) -> Period:
    """The days to build: the chosen week or range, else the current week where the newsroom is."""
    if selection.since and selection.until:
        key = f"{selection.since.isoformat()}_{selection.until.isoformat()}"
        return Period(key, selection.since, selection.until)
    if selection.week:
        return week_period(selection.week)
    today = (now or datetime.now(tz)).astimezone(tz).date()
    return week_of(today)
