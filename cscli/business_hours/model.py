"""A business calendar: when a team is open, validated on construction.

A `Calendar` says when a team is open: weekly opening hours in an IANA time zone (several
intervals a day, overnight shifts), public holidays of a country or subdivision (from the
`holidays` package, offline), extra closed dates and extra open dates.

Which days are open. For each local date: an entry in `open_dates` gives that date's hours
(even on a holiday); otherwise a date in `closed` or a public holiday is closed all day;
otherwise the weekday's hours apply. An interval belongs to the date on which it opens, so an
overnight shift that starts the evening before a holiday runs to its normal end.

An invalid calendar raises `ConfigError`, one `ConfigProblem` per fault, each with its `path`
inside the calendar's spec (`("hours", "mon")`); `cscli.business_hours.parse` points them at
the config's keys.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from types import ModuleType
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cscli.errors import ConfigError, ConfigProblem
from cscli.suggest import did_you_mean

#: weekday names in `Calendar.hours` order (Monday is 0, as in `date.weekday()`)
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

INSTALL_HINT = 'pip install "cscli[calendar]"'

DAY_SECONDS = 86_400

#: a path inside one calendar's spec: ("hours", "mon-fri"), ("closed", 0)
SpecPath = tuple[str | int, ...]


class Interval(NamedTuple):
    """Opening hours within one day, from `open` to `close` (local wall-clock time).

    `close <= open` means the interval runs past midnight into the next day: 22:00–06:00 is an
    overnight shift and 00:00–00:00 (written `00:00-24:00`) is the whole day.
    """

    open: time
    close: time

    @property
    def overnight(self) -> bool:
        return self.close <= self.open

    @property
    def span(self) -> tuple[int, int]:
        """(open, close) in wall-clock seconds from the opening day's midnight; close > open."""
        start, end = _clock_seconds(self.open), _clock_seconds(self.close)
        return start, end + DAY_SECONDS if end <= start else end

    @property
    def seconds(self) -> int:
        """Length on a day without a clock change: close − open (+ 24 h when overnight)."""
        start, end = self.span
        return end - start

    def __str__(self) -> str:
        close = "24:00" if self.close == time(0) else _format_time(self.close)
        return f"{_format_time(self.open)}-{close}"


@dataclass(frozen=True, slots=True)
class PublicHolidays:
    """Public holidays of a country (ISO 3166-1 code) and optionally one of its subdivisions,
    as the `holidays` package knows them (observed days included; data bundled, offline)."""

    country: str
    subdivision: str | None = None

    def __post_init__(self) -> None:
        problem = holiday_codes_problem(self.country, self.subdivision)
        if problem:
            raise _invalid([(("holidays",), problem)])

    def dates(self, years: Iterable[int]) -> frozenset[date]:
        """The holiday dates in `years`."""
        return _holiday_dates(self, tuple(years))

    def __str__(self) -> str:
        return self.country + (f"-{self.subdivision}" if self.subdivision else "")


@dataclass(frozen=True, slots=True)
class Calendar:
    """A named business calendar. Validated on construction (`ConfigError`).

    hours       seven tuples of `Interval`s, Monday first (`hours[date.weekday()]`)
    holidays    public holidays closing whole local dates, or None
    closed      extra dates closed all day
    open_dates  extra or changed days: (date, intervals) pairs that replace that date's
                hours, even on a public holiday or a weekday without hours (a date cannot be
                both here and in `closed`); where such an interval overlaps the previous
                night's shift, the open time is their union, counted once

    Invalid: overlapping intervals (also an overnight interval running into the next day's),
    times with time zones or fractions of a second, and a week without any open hours (every
    duration would be 0, which is how Chatwoot dilutes its averages; here it is an error).
    """

    name: str
    timezone: str
    hours: tuple[tuple[Interval, ...], ...]
    holidays: PublicHolidays | None = None
    closed: frozenset[date] = frozenset()
    open_dates: tuple[tuple[date, tuple[Interval, ...]], ...] = ()

    def __post_init__(self) -> None:
        # Canonical order, so that equal calendars compare and hash equal.
        object.__setattr__(self, "hours", tuple(tuple(sorted(day)) for day in self.hours))
        object.__setattr__(
            self,
            "open_dates",
            tuple(sorted((d, tuple(sorted(iv))) for d, iv in self.open_dates)),
        )
        object.__setattr__(self, "closed", frozenset(self.closed))
        problems = _validate(self)
        if problems:
            raise _invalid(problems)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def weekly_open_seconds(self) -> int:
        """Open seconds in a week without holidays or clock changes."""
        return sum(iv.seconds for day in self.hours for iv in day)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The intervals that open on local date `day`: open date > closed or holiday > weekday."""
        for d, intervals in self.open_dates:
            if d == day:
                return intervals
        if day in self.closed:
            return ()
        if self.holidays is not None and day in self.holidays.dates((day.year,)):
            return ()
        return self.hours[day.weekday()]


def _invalid(problems: Sequence[tuple[SpecPath, str]]) -> ConfigError:
    """The error of an invalid calendar: every problem with its path inside the spec."""
    return ConfigError([ConfigProblem("", None, None, message, path) for path, message in problems])


# --- validation -----------------------------------------------------------------------------

Found = list[tuple[SpecPath, str]]


def _validate(cal: Calendar) -> Found:
    problems: Found = []
    zone_problem = zone_problem_of(cal.timezone)
    if zone_problem:
        problems.append((("timezone",), zone_problem))
    if len(cal.hours) != 7:
        problems.append((("hours",), f"expected 7 days (Monday first), got {len(cal.hours)}"))
        return problems
    for wd, day in enumerate(cal.hours):
        for iv in day:
            problem = _check_interval(iv)
            if problem:
                problems.append((("hours", WEEKDAYS[wd]), problem))
    if problems:
        return problems
    problems += _weekly_overlaps(cal.hours)
    if cal.weekly_open_seconds == 0:
        problems.append(
            (
                ("hours",),
                "the calendar has no open hours, so every business duration would be 0; "
                "give at least one interval (e.g. mon-fri: 09:00-17:00) or use 24/7",
            )
        )
    for d, intervals in cal.open_dates:
        where: SpecPath = ("open", d.isoformat())
        if not intervals:
            problems.append((where, "an open date needs hours (list closed dates under closed)"))
        for iv in intervals:
            problem = _check_interval(iv)
            if problem:
                problems.append((where, problem))
        if not any(path == where for path, _ in problems):
            spans = sorted((iv.span, iv) for iv in intervals)
            for (a, first), (b, second) in itertools.pairwise(spans):
                if b[0] < a[1]:
                    problems.append((where, f"{first} overlaps {second}"))
        if d in cal.closed:
            problems.append((where, f"{d} is also listed under closed"))
    if len({d for d, _ in cal.open_dates}) != len(cal.open_dates):
        problems.append((("open",), "a date is given twice"))
    return problems


def zone_problem_of(name: str) -> str | None:
    """Why `name` is not a time zone, or None when it is one."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
    return None


def _check_interval(iv: Interval) -> str | None:
    for t in iv:
        if not isinstance(t, time) or t.tzinfo is not None or t.microsecond:
            return f"opening hours need whole-second local times, got {t!r}"
    return None


def _weekly_overlaps(hours: tuple[tuple[Interval, ...], ...]) -> Found:
    """Overlaps on the weekly circle: an overnight interval reaches into the next day, and
    Sunday's into Monday."""
    week = 7 * DAY_SECONDS
    pieces: list[tuple[int, int, int, Interval]] = []
    for wd, day in enumerate(hours):
        for iv in day:
            start, end = iv.span
            start, end = start + wd * DAY_SECONDS, end + wd * DAY_SECONDS
            if end > week:
                pieces += [(start, week, wd, iv), (0, end - week, wd, iv)]
            else:
                pieces.append((start, end, wd, iv))
    pieces.sort(key=lambda p: (p[0], p[1]))
    problems: Found = []
    for (_, end1, wd1, iv1), (start2, _, wd2, iv2) in itertools.pairwise(pieces):
        if start2 < end1:
            problems.append(
                (("hours", WEEKDAYS[wd2]), f"{WEEKDAYS[wd1]} {iv1} overlaps {WEEKDAYS[wd2]} {iv2}")
            )
    return problems


# --- holidays (optional dependency) ---------------------------------------------------------


def holidays_module() -> ModuleType:
    """The `holidays` package; a `ConfigError` with the install hint when it is missing."""
    try:
        import holidays
    except ImportError:
        raise ConfigError(
            "public holidays in a calendar need the optional 'holidays' package",
            hint=INSTALL_HINT,
        ) from None
    return holidays


def holiday_codes_problem(country: str, subdivision: str | None) -> str | None:
    """Why the `holidays` package knows no such country or subdivision, or None."""
    supported: Mapping[str, Sequence[str]] = holidays_module().list_supported_countries()
    if country not in supported:
        return f"unknown country {country!r} for public holidays{did_you_mean(country, supported)}"
    subdivisions = supported[country]
    if subdivision is not None and subdivision not in subdivisions:
        listed = ", ".join(subdivisions) if subdivisions else "none"
        return (
            f"{country} has no subdivision {subdivision!r}"
            f"{did_you_mean(subdivision, subdivisions)} (known: {listed})"
        )
    return None


@lru_cache(maxsize=64)
def _holiday_dates(source: PublicHolidays, years: tuple[int, ...]) -> frozenset[date]:
    found = holidays_module().country_holidays(
        source.country, subdiv=source.subdivision, years=years
    )
    return frozenset(found.keys())


# --- small helpers --------------------------------------------------------------------------


def _clock_seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _format_time(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")
