"""The config's `calendars:` sub-language → `Calendar`s, every problem reported with its path.

One calendar, as YAML gives it:

    timezone: Europe/Berlin              # IANA; default: the config's `timezone:`
    hours:                               # or the word 24/7
      mon-fri: [09:00-12:30, 13:30-17:00]  # keys: mon…sun, ranges, comma lists,
      sat: 10:00-14:00                     #   daily, weekdays, weekends
      sun: closed                          # optional; missing days are closed
    holidays: {country: DE, subdivision: BE}   # or DE, or DE-BE
    closed: [2026-12-24, 2026-12-28..2026-12-31]
    open:                                # extra or changed days, replacing their hours
      2026-12-27: [10:00-14:00]          # explicit intervals,
      2026-12-20: mon                    # or the hours of a weekday

`read_calendars` reports into the config's `Problems` (paths under `calendars:`);
`parse_calendars` and `parse_calendar` read plain data on their own and raise a `ConfigError`
whose problems carry their path inside the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from cscli.business_hours.model import (
    WEEKDAYS,
    Calendar,
    Interval,
    PublicHolidays,
    SpecPath,
    holiday_codes_problem,
    holidays_module,
    zone_problem_of,
)
from cscli.config.problems import Problems
from cscli.errors import ConfigError
from cscli.suggest import did_you_mean

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

Week = tuple[tuple[Interval, ...], ...]


# --- on their own: plain data in, calendars or a ConfigError out ----------------------------


def parse_calendars(
    data: Mapping[str, Any], *, default_timezone: str | None = None
) -> dict[str, Calendar]:
    """The config's `calendars:` mapping (name → spec) → calendars by name.

    Raises `ConfigError` with every problem of every calendar, paths starting with the name.
    """
    problems = Problems()
    calendars = read_calendars(data, problems, default_timezone=default_timezone)
    problems.raise_if_any()
    return calendars


def parse_calendar(name: str, spec: Any, *, default_timezone: str | None = None) -> Calendar:
    """One calendar from plain data (see the module docstring).

    Raises `ConfigError` listing every problem with its path inside `spec`, or (with an
    install hint) when public holidays are asked for and `holidays` is not installed.
    """
    problems = Problems()
    calendar = read_calendar(name, spec, problems, default_timezone=default_timezone)
    problems.raise_if_any()
    assert calendar is not None
    return calendar


# --- into a config's problems ---------------------------------------------------------------


def read_calendars(
    data: Mapping[str, Any], problems: Problems, *, default_timezone: str | None = None
) -> dict[str, Calendar]:
    """Every valid calendar of `data` by name; the problems of the others go to `problems`,
    below each calendar's name. Raises `ConfigError` when `holidays` is not installed."""
    calendars: dict[str, Calendar] = {}
    for name, spec in data.items():
        calendar = read_calendar(
            str(name), spec, problems.within(str(name)), default_timezone=default_timezone
        )
        if calendar is not None:
            calendars[str(name)] = calendar
    return calendars


def read_calendar(
    name: str, spec: Any, problems: Problems, *, default_timezone: str | None = None
) -> Calendar | None:
    """The calendar `spec` describes, or None when it has problems (reported to `problems`,
    paths relative to the calendar's own mapping)."""
    before = len(problems)
    if isinstance(spec, str) and spec.strip() == "24/7" and default_timezone:
        spec = {"hours": "24/7"}
    if not isinstance(spec, Mapping):
        problems.add((), f"expected a mapping with timezone and hours, got {spec!r}", labelled=True)
        return None
    for key in spec:
        if key not in _KEYS:
            problems.add(
                (str(key),), f"unknown key {key!r}{did_you_mean(str(key), _KEYS)}", labelled=True
            )
    timezone = _read_timezone(spec.get("timezone", default_timezone), problems)
    hours: Week = ((),) * 7
    owner: dict[int, str] = {}  # weekday → the `hours` key that set it
    if "hours" not in spec:
        problems.add(
            ("hours",), "missing: give weekly hours, e.g. mon-fri: 09:00-17:00", labelled=True
        )
    else:
        hours, owner = _parse_hours(spec["hours"], problems)
    holidays = _parse_holidays(spec.get("holidays"), problems)
    closed = _parse_closed(spec.get("closed"), problems)
    open_dates = _parse_open(spec.get("open"), hours, problems)
    if len(problems) > before or timezone is None:
        return None
    try:
        return Calendar(name, timezone, hours, holidays, closed, open_dates)
    except ConfigError as e:  # the whole calendar's faults: overlaps, a week without hours
        for p in e.problems:
            problems.add(_at_hours_key(p.path, owner), p.message, labelled=True)
        return None


def _read_timezone(timezone: Any, problems: Problems) -> str | None:
    if timezone is None:
        problems.add(
            ("timezone",), "missing: give an IANA time zone such as Europe/Berlin", labelled=True
        )
        return None
    if not isinstance(timezone, str):
        problems.add(("timezone",), f"expected a time zone name, got {timezone!r}", labelled=True)
        return None
    problem = zone_problem_of(timezone)
    if problem:
        problems.add(("timezone",), problem, labelled=True)
    return timezone


def _at_hours_key(path: SpecPath, owner: Mapping[int, str]) -> SpecPath:
    """Point a weekday's problem at the `hours` key that set the day ("mon-fri", not "mon")."""
    if len(path) == 2 and path[0] == "hours" and path[1] in WEEKDAYS:
        key = owner.get(WEEKDAYS.index(str(path[1])))
        if key is not None:
            return ("hours", key)
    return path


# --- the pieces -----------------------------------------------------------------------------


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
        f"unknown day {word!r} in {whole!r}{did_you_mean(word, choices)} "
        f"(use {', '.join(WEEKDAYS)}, ranges like mon-fri, or {', '.join(_DAY_GROUPS)})"
    )


def _parse_hours(value: Any, problems: Problems) -> tuple[Week, dict[int, str]]:
    if isinstance(value, str) and value.strip().lower() in ("24/7", "24x7"):
        whole_day = (Interval(time(0), time(0)),)
        return (whole_day,) * 7, {}
    if not isinstance(value, Mapping):
        problems.add(
            ("hours",),
            f"expected 24/7 or a mapping of days to intervals (mon-fri: 09:00-17:00), "
            f"got {value!r}",
            labelled=True,
        )
        return ((),) * 7, {}
    week: list[tuple[Interval, ...]] = [()] * 7
    owner: dict[int, str] = {}
    for key, day_value in value.items():
        where: SpecPath = ("hours", str(key))
        try:
            days = parse_days(str(key))
        except ValueError as e:
            problems.add(where, str(e), labelled=True)
            continue
        intervals = _parse_intervals(day_value, where, problems, allow_closed=True)
        for d in days:
            if d in owner:
                problems.add(
                    where,
                    f"{WEEKDAYS[d]} is given twice (in {owner[d]!r} and {str(key)!r})",
                    labelled=True,
                )
                continue
            owner[d] = str(key)
            week[d] = intervals
    return tuple(week), owner


def _parse_intervals(
    value: Any, where: SpecPath, problems: Problems, *, allow_closed: bool
) -> tuple[Interval, ...]:
    if value is None or (isinstance(value, str) and value.strip().lower() in _CLOSED_WORDS):
        if not allow_closed:
            problems.add(where, "an open date needs hours", labelled=True)
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        problems.add(where, f"expected intervals such as 09:00-17:00, got {value!r}", labelled=True)
        return ()
    out: list[Interval] = []
    for i, item in enumerate(items):
        try:
            out.append(parse_interval(item))
        except ValueError as e:
            problems.add(
                (*where, i) if not isinstance(value, str) else where, str(e), labelled=True
            )
    return tuple(out)


def _parse_holidays(value: Any, problems: Problems) -> PublicHolidays | None:
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
                problems.add(
                    ("holidays", str(key)),
                    f"unknown key {key!r}{did_you_mean(str(key), ('country', 'subdivision'))}",
                    labelled=True,
                )
        country, subdivision = value.get("country"), value.get("subdivision")
        if not isinstance(country, str):
            problems.add(
                ("holidays", "country"),
                f"expected a country code such as DE, got {country!r}",
                labelled=True,
            )
            return None
        if subdivision is not None and not isinstance(subdivision, str):
            subdivision = str(subdivision)
    else:
        problems.add(
            ("holidays",),
            f"expected a country code (DE, DE-BE) or {{country, subdivision}}, got {value!r}",
            labelled=True,
        )
        return None
    country = country.strip().upper()
    if subdivision is not None:
        # Codes are upper case except a few named ones ("Augsburg"): match case-insensitively.
        supported = holidays_module().list_supported_countries().get(country, ())
        subdivision = next(
            (s for s in supported if s.lower() == subdivision.strip().lower()),
            subdivision.strip(),
        )
    problem = holiday_codes_problem(country, subdivision)
    if problem:
        problems.add(("holidays",), problem, labelled=True)
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


def _parse_closed(value: Any, problems: Problems) -> frozenset[date]:
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
            problems.add(where, str(e), labelled=True)
    return frozenset(out)


def _parse_open(
    value: Any, hours: Week, problems: Problems
) -> tuple[tuple[date, tuple[Interval, ...]], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        problems.add(
            ("open",),
            f"expected a mapping of dates to hours (2026-12-27: mon), got {value!r}",
            labelled=True,
        )
        return ()
    out: list[tuple[date, tuple[Interval, ...]]] = []
    for key, day_value in value.items():
        where: SpecPath = ("open", str(key))
        try:
            day = _parse_date(key)
        except ValueError as e:
            problems.add(where, str(e), labelled=True)
            continue
        word = day_value.strip().lower() if isinstance(day_value, str) else None
        if word is not None and word in _DAY_NAMES:
            intervals = hours[_DAY_NAMES[word]]
            if not intervals:
                problems.add(
                    where, f"{word} has no opening hours to copy; give intervals", labelled=True
                )
                continue
        else:
            before = len(problems)
            intervals = _parse_intervals(day_value, where, problems, allow_closed=False)
            if not intervals:
                if len(problems) == before:  # an empty list
                    problems.add(where, "an open date needs hours", labelled=True)
                continue
        out.append((day, intervals))
    return tuple(out)
