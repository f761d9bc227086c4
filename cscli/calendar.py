"""Business calendars, and the business seconds between two instants as one polars expression.

A `Calendar` says when a team is open: weekly opening hours in an IANA time zone (several
intervals a day, overnight shifts), public holidays of a country or subdivision (from the
`holidays` package, offline), extra closed dates and extra open dates. `parse_calendar` reads one
from the plain data of the config's `calendars:` section; `business_seconds` measures durations
on it.

Definition. Let O be the set of instants at which the calendar is open, and
B(t) = |[origin, t) ∩ O| the open time from a fixed origin up to t. Then

    business_seconds(a, b) = B(b) − B(a)
                           = |[a, b) ∩ O|      when a ≤ b
                           = −|[b, a) ∩ O|     when b < a

so that
* a start outside hours counts from the next opening: Friday 17:30 → Monday 09:30 on
  Mon–Fri 09:00–17:00 is 0 + 30 min = 1,800 s (frappe/helpdesk#2075 got this wrong);
* a start and an end inside the same closed stretch give 0 (created and answered at night);
* 0 ≤ business_seconds(a, b) ≤ b − a when a ≤ b, with equality on the right for a 24/7 calendar;
* it is additive: business(a, c) = business(a, b) + business(b, c), for any order of a, b, c.

Sign. B never decreases, so the result is ≤ 0 when end < start, but it is exactly 0 (not
negative) when both instants lie in one closed stretch. A data-quality check for "end before
start" must therefore compare the instants themselves, never the sign of the business value.

Which days are open. For each local date: an entry in `open_dates` gives that date's hours
(even on a holiday); otherwise a date in `closed` or a public holiday is closed all day;
otherwise the weekday's hours apply. An interval belongs to the date on which it opens, so an
overnight shift that starts the evening before a holiday runs to its normal end.

Range. The lookup table behind `business_seconds` covers the local years it is given
(`DEFAULT_YEARS`, 2000–2050, unless the caller passes others); an instant outside them gives
null, never a guess.

Time-zone changes. Opening hours are wall-clock times in the calendar's zone, turned into
instants day by day, so a day on which the clocks go forward has one hour less (00:00–24:00 is
23 h; a 22:00–06:00 shift over that night is 7 h) and a day on which they go back has one hour
more (25 h and 9 h). A boundary at a wall-clock time that does not exist that day (02:30 in
Berlin on 2026-03-29) is taken at the moment the clocks jump (03:00 CEST); one that occurs twice
(02:30 in Berlin on 2026-10-25) is taken at its first occurrence (02:30 CEST).
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, reduce
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cscli.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl

#: weekday names in `Calendar.hours` order (Monday is 0, as in `date.weekday()`)
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: the years `business_seconds` covers when the caller gives none
DEFAULT_YEARS = range(2000, 2051)

INSTALL_HINT = 'pip install "cscli[calendar]"'

_DAY = 86_400
_US = 1_000_000
_HOUR_US = 3_600 * _US
#: largest lookup grid (bytes) before falling back to a sorted search (see `_lookup`)
_MAX_GRID_BYTES = 64 * 2**20
_INT64_MIN = -(2**63)

SpecPath = tuple[str | int, ...]
Strategy = Literal["auto", "search"]


# --- the calendar ---------------------------------------------------------------------------


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
        return start, end + _DAY if end <= start else end

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
        problem = _check_holiday_codes(self.country, self.subdivision)
        if problem:
            raise CalendarError([CalendarProblem(("holidays",), problem)])

    def dates(self, years: Iterable[int]) -> frozenset[date]:
        """The holiday dates in `years`."""
        return _holiday_dates(self, tuple(years))

    def __str__(self) -> str:
        return self.country + (f"-{self.subdivision}" if self.subdivision else "")


@dataclass(frozen=True, slots=True)
class Calendar:
    """A named business calendar. Validated on construction (`CalendarError`).

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
            raise CalendarError(problems)

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


@dataclass(frozen=True, slots=True)
class CalendarProblem:
    """One thing wrong in a calendar spec; `path` is relative to the calendar's own mapping."""

    path: SpecPath
    message: str

    def __str__(self) -> str:
        return f"{_format_path(self.path)}: {self.message}" if self.path else self.message


class CalendarError(ValueError):
    """A calendar spec is invalid. Carries every problem found, each with its path."""

    def __init__(self, problems: Sequence[CalendarProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def prefixed(self, *prefix: str | int) -> CalendarError:
        """The same problems with `prefix` in front of every path (e.g. the calendar's name)."""
        return CalendarError(
            [CalendarProblem((*prefix, *p.path), p.message) for p in self.problems]
        )


# --- validation -----------------------------------------------------------------------------


def _validate(cal: Calendar) -> list[CalendarProblem]:
    problems: list[CalendarProblem] = []
    zone_problem = _check_zone(cal.timezone)
    if zone_problem:
        problems.append(CalendarProblem(("timezone",), zone_problem))
    if len(cal.hours) != 7:
        problems.append(
            CalendarProblem(("hours",), f"expected 7 days (Monday first), got {len(cal.hours)}")
        )
        return problems
    for wd, day in enumerate(cal.hours):
        for iv in day:
            problem = _check_interval(iv)
            if problem:
                problems.append(CalendarProblem(("hours", WEEKDAYS[wd]), problem))
    if problems:
        return problems
    problems += _weekly_overlaps(cal.hours)
    if cal.weekly_open_seconds == 0:
        problems.append(
            CalendarProblem(
                ("hours",),
                "the calendar has no open hours, so every business duration would be 0; "
                "give at least one interval (e.g. mon-fri: 09:00-17:00) or use 24/7",
            )
        )
    for d, intervals in cal.open_dates:
        where: SpecPath = ("open", d.isoformat())
        if not intervals:
            problems.append(
                CalendarProblem(where, "an open date needs hours (list closed dates under closed)")
            )
        for iv in intervals:
            problem = _check_interval(iv)
            if problem:
                problems.append(CalendarProblem(where, problem))
        if not any(p.path == where for p in problems):
            spans = sorted((iv.span, iv) for iv in intervals)
            for (a, first), (b, second) in itertools.pairwise(spans):
                if b[0] < a[1]:
                    problems.append(CalendarProblem(where, f"{first} overlaps {second}"))
        if d in cal.closed:
            problems.append(CalendarProblem(where, f"{d} is also listed under closed"))
    if len({d for d, _ in cal.open_dates}) != len(cal.open_dates):
        problems.append(CalendarProblem(("open",), "a date is given twice"))
    return problems


def _check_zone(name: str) -> str | None:
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


def _weekly_overlaps(hours: tuple[tuple[Interval, ...], ...]) -> list[CalendarProblem]:
    """Overlaps on the weekly circle: an overnight interval reaches into the next day, and
    Sunday's into Monday."""
    week = 7 * _DAY
    pieces: list[tuple[int, int, int, Interval]] = []
    for wd, day in enumerate(hours):
        for iv in day:
            start, end = iv.span
            start, end = start + wd * _DAY, end + wd * _DAY
            if end > week:
                pieces += [(start, week, wd, iv), (0, end - week, wd, iv)]
            else:
                pieces.append((start, end, wd, iv))
    pieces.sort(key=lambda p: (p[0], p[1]))
    problems: list[CalendarProblem] = []
    for (_, end1, wd1, iv1), (start2, _, wd2, iv2) in itertools.pairwise(pieces):
        if start2 < end1:
            problems.append(
                CalendarProblem(
                    ("hours", WEEKDAYS[wd2]),
                    f"{WEEKDAYS[wd1]} {iv1} overlaps {WEEKDAYS[wd2]} {iv2}",
                )
            )
    return problems


# --- holidays (optional dependency) ---------------------------------------------------------


def _holidays_module() -> ModuleType:
    try:
        import holidays
    except ImportError:
        raise ConfigError(
            "public holidays in a calendar need the optional 'holidays' package",
            hint=INSTALL_HINT,
        ) from None
    return holidays


def _check_holiday_codes(country: str, subdivision: str | None) -> str | None:
    supported: Mapping[str, Sequence[str]] = _holidays_module().list_supported_countries()
    if country not in supported:
        return f"unknown country {country!r} for public holidays{_did_you_mean(country, supported)}"
    subdivisions = supported[country]
    if subdivision is not None and subdivision not in subdivisions:
        listed = ", ".join(subdivisions) if subdivisions else "none"
        return (
            f"{country} has no subdivision {subdivision!r}"
            f"{_did_you_mean(subdivision, subdivisions)} (known: {listed})"
        )
    return None


@lru_cache(maxsize=64)
def _holiday_dates(source: PublicHolidays, years: tuple[int, ...]) -> frozenset[date]:
    found = _holidays_module().country_holidays(
        source.country, subdiv=source.subdivision, years=years
    )
    return frozenset(found.keys())


# --- parsing the config's plain data --------------------------------------------------------

_KEYS = ("timezone", "hours", "holidays", "closed", "open")
_DAY_NAMES = {
    **{name: i for i, name in enumerate(WEEKDAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
_DAY_GROUPS = {
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekend": (5, 6),
    "weekends": (5, 6),
}
_CLOSED_WORDS = ("closed", "none")
_TIME = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_INTERVAL = re.compile(rf"^\s*{_TIME}\s*[-–]\s*{_TIME}\s*$")
_INTERVAL_HELP = "write HH:MM-HH:MM, e.g. 09:00-17:00 (22:00-06:00 runs past midnight)"


def parse_calendars(
    data: Mapping[str, Any], *, default_timezone: str | None = None
) -> dict[str, Calendar]:
    """The config's `calendars:` mapping (name → spec) → calendars by name.

    Raises `CalendarError` with every problem of every calendar, paths starting with the name.
    """
    calendars: dict[str, Calendar] = {}
    problems: list[CalendarProblem] = []
    for name, spec in data.items():
        try:
            calendars[str(name)] = parse_calendar(
                str(name), spec, default_timezone=default_timezone
            )
        except CalendarError as e:
            problems += e.prefixed(str(name)).problems
    if problems:
        raise CalendarError(problems)
    return calendars


def parse_calendar(name: str, spec: Any, *, default_timezone: str | None = None) -> Calendar:
    """One calendar from plain data, as YAML gives it, e.g.

        timezone: Europe/Berlin              # IANA; default: `default_timezone`
        hours:                               # or the word 24/7
          mon-fri: [09:00-12:30, 13:30-17:00]  # keys: mon…sun, ranges, comma lists,
          sat: 10:00-14:00                     #   daily, weekdays, weekends
          sun: closed                          # optional; missing days are closed
        holidays: {country: DE, subdivision: BE}   # or DE, or DE-BE
        closed: [2026-12-24, 2026-12-28..2026-12-31]
        open:                                # extra or changed days, replacing their hours
          2026-12-27: [10:00-14:00]          # explicit intervals,
          2026-12-20: mon                    # or the hours of a weekday

    Raises `CalendarError` listing every problem with its path inside `spec`; `ConfigError`
    (with an install hint) when public holidays are asked for and `holidays` is not installed.
    """
    problems: list[CalendarProblem] = []
    if isinstance(spec, str) and spec.strip() == "24/7" and default_timezone:
        spec = {"hours": "24/7"}
    if not isinstance(spec, Mapping):
        raise CalendarError(
            [CalendarProblem((), f"expected a mapping with timezone and hours, got {spec!r}")]
        )
    for key in spec:
        if key not in _KEYS:
            problems.append(
                CalendarProblem((str(key),), f"unknown key {key!r}{_did_you_mean(str(key), _KEYS)}")
            )

    timezone = spec.get("timezone", default_timezone)
    if timezone is None:
        problems.append(
            CalendarProblem(("timezone",), "missing: give an IANA time zone such as Europe/Berlin")
        )
    elif not isinstance(timezone, str):
        problems.append(
            CalendarProblem(("timezone",), f"expected a time zone name, got {timezone!r}")
        )
    else:
        problem = _check_zone(timezone)
        if problem:
            problems.append(CalendarProblem(("timezone",), problem))

    hours: tuple[tuple[Interval, ...], ...] = ((),) * 7
    owner: dict[int, str] = {}  # weekday → the `hours` key that set it
    if "hours" not in spec:
        problems.append(
            CalendarProblem(("hours",), "missing: give weekly hours, e.g. mon-fri: 09:00-17:00")
        )
    else:
        hours, owner = _parse_hours(spec["hours"], problems)

    holidays = _parse_holidays(spec.get("holidays"), problems)
    closed = _parse_closed(spec.get("closed"), problems)
    open_dates = _parse_open(spec.get("open"), hours, problems)

    if problems:
        raise CalendarError(problems)
    assert isinstance(timezone, str)
    try:
        return Calendar(name, timezone, hours, holidays, closed, open_dates)
    except CalendarError as e:
        raise CalendarError([_at_hours_key(p, owner) for p in e.problems]) from None


def _at_hours_key(problem: CalendarProblem, owner: Mapping[int, str]) -> CalendarProblem:
    """Point a weekday's problem at the `hours` key that set the day ("mon-fri", not "mon")."""
    path = problem.path
    if len(path) == 2 and path[0] == "hours" and path[1] in WEEKDAYS:
        key = owner.get(WEEKDAYS.index(str(path[1])))
        if key is not None:
            return CalendarProblem(("hours", key), problem.message)
    return problem


def parse_interval(text: str) -> Interval:
    """`09:00-17:00` → Interval; `22:00-06:00` runs past midnight; `24:00` only as a close."""
    m = _INTERVAL.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"cannot read {text!r} as opening hours: {_INTERVAL_HELP}")
    open_h, open_m, open_s, close_h, close_m, close_s = (int(g or 0) for g in m.groups())
    for h, mi, s in ((open_h, open_m, open_s), (close_h, close_m, close_s)):
        if h > 24 or mi > 59 or s > 59 or (h == 24 and (mi or s)):
            raise ValueError(
                f"cannot read {text!r} as opening hours: {h:02d}:{mi:02d} is not a time"
            )
    if open_h == 24:
        raise ValueError(f"cannot read {text!r} as opening hours: 24:00 can only close an interval")
    return Interval(time(open_h, open_m, open_s), time(close_h % 24, close_m, close_s))


def parse_days(text: str) -> tuple[int, ...]:
    """`mon-fri`, `sat, sun`, `daily`, `weekdays` → weekday numbers (Monday is 0)."""
    days: list[int] = []
    for raw in str(text).lower().split(","):
        part = raw.strip()
        if part in _DAY_GROUPS:
            days += _DAY_GROUPS[part]
        elif "-" in part:
            first, last = (_day_number(p.strip(), text) for p in part.split("-", 1))
            if last < first:
                raise ValueError(
                    f"day range {part!r} runs backwards; write it as "
                    f"{WEEKDAYS[first]}-sun, mon-{WEEKDAYS[last]}"
                )
            days += range(first, last + 1)
        else:
            days.append(_day_number(part, text))
    return tuple(days)


def _day_number(word: str, whole: str) -> int:
    if word in _DAY_NAMES:
        return _DAY_NAMES[word]
    choices = (*WEEKDAYS, *_DAY_GROUPS)
    raise ValueError(
        f"unknown day {word!r} in {whole!r}{_did_you_mean(word, choices)} "
        f"(use {', '.join(WEEKDAYS)}, ranges like mon-fri, or {', '.join(_DAY_GROUPS)})"
    )


def _parse_hours(
    value: Any, problems: list[CalendarProblem]
) -> tuple[tuple[tuple[Interval, ...], ...], dict[int, str]]:
    if isinstance(value, str) and value.strip().lower() in ("24/7", "24x7"):
        whole_day = (Interval(time(0), time(0)),)
        return (whole_day,) * 7, {}
    if not isinstance(value, Mapping):
        problems.append(
            CalendarProblem(
                ("hours",),
                f"expected 24/7 or a mapping of days to intervals (mon-fri: 09:00-17:00), "
                f"got {value!r}",
            )
        )
        return ((),) * 7, {}
    week: list[tuple[Interval, ...]] = [()] * 7
    owner: dict[int, str] = {}
    for key, day_value in value.items():
        where: SpecPath = ("hours", str(key))
        try:
            days = parse_days(str(key))
        except ValueError as e:
            problems.append(CalendarProblem(where, str(e)))
            continue
        intervals = _parse_intervals(day_value, where, problems, allow_closed=True)
        for d in days:
            if d in owner:
                problems.append(
                    CalendarProblem(
                        where, f"{WEEKDAYS[d]} is given twice (in {owner[d]!r} and {str(key)!r})"
                    )
                )
                continue
            owner[d] = str(key)
            week[d] = intervals
    return tuple(week), owner


def _parse_intervals(
    value: Any, where: SpecPath, problems: list[CalendarProblem], *, allow_closed: bool
) -> tuple[Interval, ...]:
    if value is None or (isinstance(value, str) and value.strip().lower() in _CLOSED_WORDS):
        if allow_closed:
            return ()
        problems.append(CalendarProblem(where, "an open date needs hours"))
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        problems.append(
            CalendarProblem(where, f"expected intervals such as 09:00-17:00, got {value!r}")
        )
        return ()
    out: list[Interval] = []
    for i, item in enumerate(items):
        try:
            out.append(parse_interval(item))
        except ValueError as e:
            problems.append(
                CalendarProblem((*where, i) if not isinstance(value, str) else where, str(e))
            )
    return tuple(out)


def _parse_holidays(value: Any, problems: list[CalendarProblem]) -> PublicHolidays | None:
    if value is None or value is False:
        return None
    country: Any
    subdivision: Any = None
    if isinstance(value, str):
        country, _, rest = value.strip().partition("-")
        subdivision = rest or None
    elif isinstance(value, Mapping):
        for key in value:
            if key not in ("country", "subdivision"):
                problems.append(
                    CalendarProblem(
                        ("holidays", str(key)),
                        f"unknown key {key!r}{_did_you_mean(str(key), ('country', 'subdivision'))}",
                    )
                )
        country, subdivision = value.get("country"), value.get("subdivision")
        if not isinstance(country, str):
            problems.append(
                CalendarProblem(
                    ("holidays", "country"), f"expected a country code such as DE, got {country!r}"
                )
            )
            return None
        if subdivision is not None and not isinstance(subdivision, str):
            subdivision = str(subdivision)
    else:
        problems.append(
            CalendarProblem(
                ("holidays",),
                f"expected a country code (DE, DE-BE) or {{country, subdivision}}, got {value!r}",
            )
        )
        return None
    country = country.strip().upper()
    if subdivision is not None:
        # Codes are upper case except a few named ones ("Augsburg"): match case-insensitively.
        supported = _holidays_module().list_supported_countries().get(country, ())
        subdivision = next(
            (s for s in supported if s.lower() == subdivision.strip().lower()),
            subdivision.strip(),
        )
    problem = _check_holiday_codes(country, subdivision)
    if problem:
        problems.append(CalendarProblem(("holidays",), problem))
        return None
    return PublicHolidays(country, subdivision)


def _parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"cannot read {value!r} as a date: write YYYY-MM-DD, e.g. 2026-12-24")


def _parse_closed(value: Any, problems: list[CalendarProblem]) -> frozenset[date]:
    if value is None:
        return frozenset()
    items = value if isinstance(value, list | tuple) else [value]
    out: set[date] = set()
    for i, item in enumerate(items):
        where: SpecPath = ("closed", i) if isinstance(value, list | tuple) else ("closed",)
        try:
            if isinstance(item, str) and ".." in item:
                first_text, last_text = item.split("..", 1)
                first, last = _parse_date(first_text), _parse_date(last_text)
                if last < first:
                    raise ValueError(f"date range {item!r} runs backwards")
                out.update(first + timedelta(days=n) for n in range((last - first).days + 1))
            else:
                out.add(_parse_date(item))
        except ValueError as e:
            problems.append(CalendarProblem(where, str(e)))
    return frozenset(out)


def _parse_open(
    value: Any, hours: tuple[tuple[Interval, ...], ...], problems: list[CalendarProblem]
) -> tuple[tuple[date, tuple[Interval, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        problems.append(
            CalendarProblem(
                ("open",), f"expected a mapping of dates to hours (2026-12-27: mon), got {value!r}"
            )
        )
        return ()
    out: list[tuple[date, tuple[Interval, ...]]] = []
    for key, day_value in value.items():
        where: SpecPath = ("open", str(key))
        try:
            day = _parse_date(key)
        except ValueError as e:
            problems.append(CalendarProblem(where, str(e)))
            continue
        word = day_value.strip().lower() if isinstance(day_value, str) else None
        if word is not None and word in _DAY_NAMES:
            intervals = hours[_DAY_NAMES[word]]
            if not intervals:
                problems.append(
                    CalendarProblem(where, f"{word} has no opening hours to copy; give intervals")
                )
                continue
        else:
            before = len(problems)
            intervals = _parse_intervals(day_value, where, problems, allow_closed=False)
            if not intervals:
                if len(problems) == before:  # an empty list
                    problems.append(CalendarProblem(where, "an open date needs hours"))
                continue
        out.append((day, intervals))
    return tuple(out)


# --- business seconds -----------------------------------------------------------------------


def business_seconds(
    start: pl.Expr,
    end: pl.Expr,
    calendar: Calendar,
    *,
    years: range | None = None,
    strategy: Strategy = "auto",
) -> pl.Expr:
    """Business seconds from `start` to `end` on `calendar`: B(end) − B(start), Float64.

    B(t) is the calendar's open time up to instant t (see the module docstring), so the result
    is the measure of [start, end) ∩ open hours: a start outside hours counts from the next
    opening, a start and end in one closed stretch give 0, and end < start gives −|[end, start)
    ∩ open hours| (≤ 0, and 0 inside one closed stretch: test end < start on the instants).

    `start` and `end` are instants: `Datetime` columns, canonically `Datetime("us", "UTC")`
    (a naive datetime is read as UTC). Null when either is null, and null when either lies
    outside `years` (local 1 January of the first year to local midnight after 31 December of
    the last, widened to whole UTC hours); `years` defaults to `DEFAULT_YEARS` (2000–2050).

    Vectorised: B is read from a lookup table built once per (calendar, years) and cached. By
    default (`strategy="auto"`) the table is a grid of equal UTC buckets holding, per bucket,
    B at its start and its one open stretch (two or three `gather`s per instant, no search);
    `"search"` uses a binary search over the open intervals instead (slower, the reference).
    """
    table = _lookup(calendar, DEFAULT_YEARS if years is None else years, strategy)
    # µs × 1e-6, as polars' own Int64 / 1e6 computes it on its vectorised path (a multiply by
    # the reciprocal); an explicit multiply never takes the exact-division path some small
    # frames take, so equal inputs always give equal seconds (monotone in `end`).
    return (_open_time(end, table) - _open_time(start, table)) * (1 / _US)  # = MICRO


def business_clock(
    instant: pl.Expr,
    calendar: Calendar,
    *,
    years: range | None = None,
    strategy: Strategy = "auto",
) -> pl.Expr:
    """B(instant): the calendar's open time, in whole microseconds (Int64), from the start of
    the covered range up to `instant`; null when the instant is null or outside `years`.

    `business_seconds(a, b)` is `(business_clock(b) − business_clock(a)) / 1e6`. Computing the
    clock of a shared start column once (e.g. `created_at` for both first response and
    resolution) and subtracting saves its lookups; polars' common-subexpression elimination
    shares only the bucket arithmetic between two `business_seconds` calls.
    """
    table = _lookup(calendar, DEFAULT_YEARS if years is None else years, strategy)
    return _open_time(instant, table)


def covered_range(calendar: Calendar, years: range | None = None) -> tuple[datetime, datetime]:
    """[first, last) UTC instants `business_seconds` can measure for `years`; outside: null."""
    table = _lookup(calendar, DEFAULT_YEARS if years is None else years, "auto")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + timedelta(microseconds=table.origin), epoch + timedelta(microseconds=table.end)


@dataclass(frozen=True, slots=True, eq=False)
class _Lookup:
    """B(t) = min(max(t + off[i], lo[i]), hi[i]) in µs, for the row i that holds t.

    Rows are grid buckets of `width` µs from `origin` (row 0 and the last row are null
    sentinels for instants outside the covered range), or, when `width` is None, open
    intervals found by a sorted search over `starts`. `lo` is None when t + off[i] ≥ lo[i] holds
    anyway (every open stretch starts at its row's start).
    """

    origin: int
    end: int
    width: int | None
    starts: pl.Series | None
    off: pl.Series
    lo: pl.Series | None
    hi: pl.Series


def _open_time(instant: pl.Expr, table: _Lookup) -> pl.Expr:
    """B(instant) in µs since the table's origin (Int64; null outside the covered range)."""
    import polars as pl

    us = instant.dt.epoch("us")
    if table.width is not None:
        rows = ((us - (table.origin - table.width)) // table.width).clip(0, len(table.hi) - 1)
    else:
        assert table.starts is not None
        # A null instant searches as the smallest one: row 0, the null sentinel.
        rows = pl.lit(table.starts).search_sorted(us.fill_null(_INT64_MIN), side="right") - 1
    value = us + pl.lit(table.off).gather(rows)
    if table.lo is not None:
        value = pl.max_horizontal(value, pl.lit(table.lo).gather(rows))
    # Sentinel rows are null in off, lo and hi alike, so the horizontal min/max (which skip
    # nulls) see only nulls there and give null.
    return pl.min_horizontal(value, pl.lit(table.hi).gather(rows))


@lru_cache(maxsize=8)  # a table is ~15–30 MB over the default years
def _lookup(calendar: Calendar, years: range, strategy: Strategy) -> _Lookup:
    import polars as pl

    starts, ends, origin, end = _open_stretches(calendar, years)
    lengths = ends - starts
    before = lengths.cum_sum() - lengths
    span = end - origin

    # Grid widths that keep at most one open stretch per bucket (both divide an hour, so the
    # hour-aligned range is tiled exactly):
    #   aligned: every opening on a bucket start, so B = min(t + off, hi) (two gathers);
    #   general: no closed gap shorter than a bucket, so B = min(max(t + off, lo), hi).
    aligned = reduce(math.gcd, set((starts % _HOUR_US).to_list()), _HOUR_US)
    gaps = (starts.slice(1) - ends.slice(0, max(len(ends) - 1, 0))).to_list()
    min_gap = min([_HOUR_US, *gaps])
    general = max((d * _US for d in _HOUR_DIVISORS if d * _US <= min_gap), default=0)

    def fits(width: int, arrays: int) -> bool:
        return width > 0 and (span // width + 2) * 8 * arrays <= _MAX_GRID_BYTES

    # Two gathers beat three unless the aligned grid is more than twice as fine.
    if fits(aligned, 2) and (2 * aligned >= general or not fits(general, 3)):
        width, needs_lo = aligned, False
    elif fits(general, 3):
        width, needs_lo = general, True
    else:
        strategy = "search"
    if strategy == "search":
        # Rows: a null sentinel below the range, a zero-length interval at its start, the open
        # intervals, a null sentinel from its end.
        # (Every array is one contiguous chunk: `gather` from a chunked one is ~3× slower.)
        row_starts = pl.concat([pl.Series([_INT64_MIN, origin]), starts, pl.Series([end])])
        off = pl.concat([pl.Series([None, -origin]), before - starts, pl.Series([None])])
        hi = pl.concat([pl.Series([None, 0]), before + lengths, pl.Series([None])])
        row_starts, off, hi = row_starts.rechunk(), off.rechunk(), hi.rechunk()
        return _Lookup(origin, end, None, row_starts, off, None, hi)

    # Row 0 of the stretch arrays is a zero-length stretch at the origin, so that every bucket
    # start g has a last stretch i starting at or before it.
    st = pl.lit(pl.concat([pl.Series([origin]), starts]))
    en = pl.lit(pl.concat([pl.Series([origin]), ends]))
    bf = pl.lit(pl.concat([pl.Series([0]), before]))
    g, i = pl.col("g"), pl.col("i")
    e_i, s_j = en.gather(i), st.gather(i + 1, null_on_oob=True)
    open_at_g = e_i > g
    opens_inside = (s_j < g + width).fill_null(False)
    # the bucket's one open stretch [s, e), empty (s = e = g) when it is closed throughout
    s = pl.when(open_at_g.not_() & opens_inside).then(s_j).otherwise(g)
    e = pl.min_horizontal(
        pl.when(open_at_g)
        .then(e_i)
        .when(opens_inside)
        .then(en.gather(i + 1, null_on_oob=True))
        .otherwise(g),
        g + width,
    )
    base = bf.gather(i) + pl.min_horizontal(g, e_i) - st.gather(i)  # B(g)
    # No check needed that each bucket holds at most one open stretch: in the aligned form
    # every opening is a bucket start, and in the general form a bucket holding two stretches
    # would hold the whole closed gap between them, which is at least a bucket long.
    frame = (
        pl.LazyFrame({"g": pl.int_range(0, span // width, dtype=pl.Int64, eager=True)})
        .with_columns(g=g * width + origin)
        .with_columns(i=st.search_sorted(g, side="right") - 1)
        .select(off=base - s, lo=base, hi=base + e - s)
        .collect()
    )
    null = pl.Series([None], dtype=pl.Int64)

    def column(name: str) -> pl.Series:
        # one contiguous chunk: `gather` from a chunked array is ~3× slower
        return pl.concat([null, frame[name], null]).rechunk()

    return _Lookup(
        origin,
        end,
        width,
        None,
        column("off"),
        column("lo") if needs_lo else None,
        column("hi"),
    )


_HOUR_DIVISORS = tuple(d for d in range(3600, 0, -1) if 3600 % d == 0)


def _open_stretches(calendar: Calendar, years: range) -> tuple[pl.Series, pl.Series, int, int]:
    """The calendar's open time over `years` as disjoint, sorted, non-touching UTC intervals
    (start, end in µs since the epoch), clipped to the covered range [origin, end), which is
    returned with them: local midnight of 1 January of the first year to local midnight after
    31 December of the last, widened to whole UTC hours."""
    import polars as pl

    if len(years) == 0 or years.step != 1 or years.start < 1900 or years[-1] > 2200:
        raise ValueError(f"years must be a non-empty range of consecutive years, got {years!r}")
    first, last = date(years.start, 1, 1), date(years[-1], 12, 31)
    build_from, build_to = first - timedelta(days=2), last + timedelta(days=2)
    zone = calendar.timezone

    excluded = set(calendar.closed) | {d for d, _ in calendar.open_dates}
    if calendar.holidays is not None:
        excluded |= calendar.holidays.dates(range(build_from.year, build_to.year + 1))
    weekly = pl.DataFrame(
        [(wd, *iv.span) for wd, day in enumerate(calendar.hours) for iv in day],
        schema={"weekday": pl.Int8, "open_s": pl.Int64, "close_s": pl.Int64},
        orient="row",
    )
    regular = (
        pl.DataFrame({"day": pl.date_range(build_from, build_to, "1d", eager=True)})
        .filter(pl.col("day").is_in(sorted(excluded)).not_())
        .with_columns(weekday=(pl.col("day").dt.weekday() - 1).cast(pl.Int8))
        .join(weekly, on="weekday")
        .select("day", "open_s", "close_s")
    )
    extra = pl.DataFrame(
        [
            (d, *iv.span)
            for d, intervals in calendar.open_dates
            if build_from <= d <= build_to
            for iv in intervals
        ],
        schema={"day": pl.Date, "open_s": pl.Int64, "close_s": pl.Int64},
        orient="row",
    )
    days = pl.concat([regular, extra])
    midnight = pl.col("day").cast(pl.Datetime("us"))
    local = days.select(
        open=midnight + pl.duration(seconds=pl.col("open_s")),
        close=midnight + pl.duration(seconds=pl.col("close_s")),
    )
    bounds = pl.Series(
        [datetime.combine(first, time(0)), datetime.combine(last + timedelta(days=1), time(0))],
        dtype=pl.Datetime("us"),
    )
    origin_us, end_us = _wall_to_utc(bounds, zone).to_list()
    origin = origin_us // _HOUR_US * _HOUR_US
    end = -(-end_us // _HOUR_US) * _HOUR_US

    stretches = (
        pl.DataFrame(
            {"start": _wall_to_utc(local["open"], zone), "end": _wall_to_utc(local["close"], zone)}
        )
        .with_columns(pl.col("start").clip(origin, end), pl.col("end").clip(origin, end))
        .filter(pl.col("end") > pl.col("start"))
        .sort("start")
        # Merge overlapping and touching intervals (an open date overlapping the night shift
        # of the day before counts once; adjacent days of a 24/7 calendar become one stretch).
        .with_columns(
            group=(pl.col("start") > pl.col("end").cum_max().shift(1)).fill_null(True).cum_sum()
        )
        .group_by("group")
        .agg(pl.col("start").min(), pl.col("end").max())
        .sort("start")
    )
    return stretches["start"], stretches["end"], origin, end


def _wall_to_utc(local: pl.Series, zone: str) -> pl.Series:
    """Naive local wall-clock datetimes → UTC µs since the epoch (Int64), with the DST rule of
    the module docstring: a time twice is its first occurrence, a skipped time is the jump."""
    import polars as pl

    utc = local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.epoch("us")
    wall = local.dt.epoch("us")
    skipped = wall.filter(utc.is_null() & wall.is_not_null()).unique().to_list()
    if not skipped:
        return utc
    fixed = {w: _moment_of_jump(w, ZoneInfo(zone)) for w in skipped}
    return pl.select(
        pl.coalesce(utc, wall.replace_strict(fixed, default=None, return_dtype=pl.Int64))
    ).to_series()


def _moment_of_jump(wall_us: int, zone: ZoneInfo) -> int:
    """The instant (UTC µs) at which the clocks jump over the skipped wall-clock time."""
    naive = datetime(1970, 1, 1) + timedelta(microseconds=wall_us)
    early = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)  # read with the later offset
    late = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)  # read with the earlier offset
    after = late.astimezone(zone).utcoffset()
    lo, hi = int(early.timestamp()), int(late.timestamp())
    while lo < hi:  # the first whole second that has the new offset
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid + 1
    return hi * _US


# --- small helpers --------------------------------------------------------------------------


def _clock_seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _format_time(t: time) -> str:
    return t.strftime("%H:%M:%S" if t.second else "%H:%M")


def _format_path(path: SpecPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""
