"""Report periods: `--from`, `--to`, `--last`, in the config's time zone, and grains.

Nothing here imports polars: the CLI reads `Grain` for its `--grain` choices at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from cscli.errors import UsageError

_LAST = re.compile(r"^\s*(\d+)\s*(d|w|m|q|y)\s*$")


class Grain(StrEnum):
    """The time buckets of `--grain` and `report.grain`; weeks are ISO weeks from Monday.

    The one definition: the CLI's choices, the config's allowed values and the polars
    intervals of the buckets all come from here."""

    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    #: interval grains: real elapsed intervals in the config's zone (a fall-back DST day has
    #: 50 half hours, a spring-forward day 46); their bucket is a zone-aware datetime
    m15 = "15m"
    m30 = "30m"
    hour = "hour"

    @property
    def every(self) -> str:
        """The polars interval of one bucket, for `dt.truncate` (a bucket's start),
        `date_range`/`datetime_range` (every bucket) and `dt.offset_by` (the next or
        previous bucket)."""
        return {
            "day": "1d",
            "week": "1w",
            "month": "1mo",
            "quarter": "3mo",
            "15m": "15m",
            "30m": "30m",
            "hour": "1h",
        }[self.value]

    @property
    def is_interval(self) -> bool:
        """True for the sub-day grains (15m, 30m, hour), whose bucket is a datetime."""
        return self.seconds is not None

    @property
    def seconds(self) -> int | None:
        """The length of one interval bucket in seconds; None for day and coarser."""
        return {"15m": 900, "30m": 1800, "hour": 3600}.get(self.value)


#: the most interval buckets (15m, 30m, hour) one report may have per group: 10,000 is 104
#: days of 15 minutes, 208 of half hours, 416 of hours; past that a table or chart per interval
#: is no longer read, and the intraday profile (`--by weekday,hour_of_day`) is the answer
MAX_INTERVAL_BUCKETS = 10_000


def check_interval_span(grain: Grain, first: datetime, last: datetime) -> None:
    """Refuse an interval grain whose buckets from `first` to `last` exceed the bound."""
    seconds = grain.seconds
    if seconds is None:
        return
    count = int((last - first).total_seconds()) // seconds + 1
    if count > MAX_INTERVAL_BUCKETS:
        most = MAX_INTERVAL_BUCKETS * seconds // 86400
        raise UsageError(
            f"--grain {grain.value} over {first.date()} → {last.date()} gives {count:,} "
            f"buckets per group, more than {MAX_INTERVAL_BUCKETS:,}",
            hint=f"narrow the period (at most {most} days at {grain.value}, e.g. --last 28d), "
            "use --grain day, or --by weekday,hour_of_day for the intraday profile",
        )


#: dimensions every source has, derived from the anchor of each KPI in the config's zone:
#: the local hour 0-23 and the ISO weekday 1 (Monday) … 7 (Sunday)
TIME_DIMENSIONS = ("hour_of_day", "weekday")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Period:
    """Whole local days from `start` to `end`, both inclusive; None = open (all the data)."""

    start: date | None
    end: date | None
    timezone: str

    def bounds_utc(self) -> tuple[datetime | None, datetime | None]:
        """[start 00:00 local, day after end 00:00 local) as UTC instants."""
        from zoneinfo import ZoneInfo  # here, not at import: `cscli --help` starts without it

        zone = ZoneInfo(self.timezone)

        def at_midnight(d: date) -> datetime:
            return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)

        lo = at_midnight(self.start) if self.start else None
        hi = at_midnight(self.end + timedelta(days=1)) if self.end else None
        return lo, hi

    @property
    def days(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def previous(self, mode: str = "previous") -> Period:
        """The window this one is compared with.

        `yoy`: the same dates one year earlier (29 February → 28 February). `previous`: a
        period of whole calendar months (so also quarters and years) compares with the same
        number of whole months just before it (February with January, Q2 with Q1); any other
        period with the window of equal length just before it (the 7 days before a week)."""
        if self.start is None or self.end is None:
            raise UsageError("comparing needs a bounded period: give --from and --to, or --last")
        if mode == "yoy":
            return Period(add_years(self.start, -1), add_years(self.end, -1), self.timezone)
        months = self.whole_months()
        if months:
            return Period(
                add_months(self.start, -months),
                self.start - timedelta(days=1),
                self.timezone,
            )
        length = timedelta(days=(self.end - self.start).days + 1)
        return Period(self.start - length, self.start - timedelta(days=1), self.timezone)

    def whole_months(self) -> int | None:
        """How many whole calendar months the period spans, or None when it is not made of
        whole months (it starts on a 1st and ends on a month's last day)."""
        if self.start is None or self.end is None or self.start.day != 1:
            return None
        if (self.end + timedelta(days=1)).day != 1:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a year without one
        return d.replace(year=d.year + years, day=28)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last_day = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return date(year, month, min(d.day, last_day))


#: the dates a period may start or end on: far enough from date.min/max that a period, the one
#: before it and their UTC bounds in any time zone stay representable
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)


def _in_range(d: date, option: str) -> date:
    if not FIRST_DATE <= d <= LAST_DATE:
        raise UsageError(
            f"{option}: {d.isoformat()} is outside the dates cscli handles",
            hint=f"use dates from {FIRST_DATE} to {LAST_DATE}",
        )
    return d


def parse_date(text: str, option: str) -> date:
    try:
        parsed = date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option}: cannot read {text!r} as a date", hint="use YYYY-MM-DD, e.g. 2026-03-01"
        ) from None
    return _in_range(parsed, option)


def resolve_period(
    date_from: str | None,
    date_to: str | None,
    last: str | None,
    timezone: str,
    today: date | None = None,
) -> Period:
    """Turn the period options into a Period.

    `--last N{d,w,m,q,y}` is the N days, weeks, months, quarters or years ending on `--to`
    (default: today in the config's time zone), today included: `--last 7d` on a Wednesday
    starts on the Thursday before.
    """
    start = parse_date(date_from, "--from") if date_from else None
    end = parse_date(date_to, "--to") if date_to else None
    if last:
        if start is not None:
            raise UsageError("--last and --from cannot be combined", hint="use one of them")
        m = _LAST.match(last)
        if not m:
            raise UsageError(f"--last: cannot read {last!r}", hint="use e.g. 30d, 4w, 3m, 1q or 1y")
        n, unit = int(m[1]), m[2]
        if n < 1:
            raise UsageError("--last must be at least 1")
        if end is None:
            if today is None:
                from zoneinfo import ZoneInfo  # here: `cscli --help` starts without it

                today = datetime.now(ZoneInfo(timezone)).date()
            end = today
        after = end + timedelta(days=1)
        # the longest --last that can stay in range; more would overflow the date arithmetic
        days = {"d": 1, "w": 7, "m": 28, "q": 89, "y": 365}[unit]
        if n * days > (after - FIRST_DATE).days:
            raise UsageError(
                f"--last {last.strip()} reaches before {FIRST_DATE}",
                hint="give a shorter period, or --from and --to",
            )
        if unit == "d":
            start = after - timedelta(days=n)
        elif unit == "w":
            start = after - timedelta(weeks=n)
        else:
            start = add_months(after, -n * {"m": 1, "q": 3, "y": 12}[unit])
        _in_range(start, "--last")
    if start and end and start > end:
        raise UsageError(f"--from {start} is after --to {end}")
    return Period(start, end, timezone)
