"""Business calendars (`cscli.business_hours`, the engine's `business_time`): hand-worked
durations, the parser, and invariants.

Hand-worked cases state their arithmetic next to the assertion. Local times are in the
calendar's zone and turned into UTC instants by `local()`; 2026 dates used below:
Fri 2026-01-09, Sat 01-10, Mon 01-12, Tue 01-13, Wed 01-14, Fri 01-16, Sat 01-17, Mon 01-19;
Thu 2026-04-30, Fri 05-01 (Labour Day in Germany), Mon 05-04; Europe/Berlin moves its clocks
forward on Sun 2026-03-29 (02:00 → 03:00) and back on Sun 2026-10-25 (03:00 → 02:00).

The property tests compare `business_seconds` with a plain-Python reference that walks the
calendar day by day, on random calendars, zones and instants.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscli.business_hours.model import WEEKDAYS, Calendar, Interval, PublicHolidays
from cscli.business_hours.parse import parse_calendar, parse_calendars, parse_days, parse_interval
from cscli.engine.polars.business_time import business_clock, business_seconds, covered_range
from cscli.engine.polars.measures import MICRO
from cscli.errors import ConfigError
from cscli.errors import ConfigError as CalendarError

YEARS = range(2026, 2027)
UTC_US = pl.Datetime("us", "UTC")
BERLIN = "Europe/Berlin"


# --- helpers ------------------------------------------------------------------------------


def local(text: str, zone: str = BERLIN) -> datetime:
    """'2026-01-09 17:30' in `zone` → the UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def durations(
    cal: Calendar,
    pairs: Sequence[tuple[datetime | None, datetime | None]],
    *,
    strategy: Any = "auto",
    years: range = YEARS,
) -> list[float | None]:
    frame = pl.DataFrame(
        {"start": [p[0] for p in pairs], "end": [p[1] for p in pairs]},
        schema={"start": UTC_US, "end": UTC_US},
    )
    out = frame.lazy().select(
        business_seconds(pl.col("start"), pl.col("end"), cal, years=years, strategy=strategy)
    )
    return out.collect().to_series().to_list()


def micros(values: Sequence[float | None]) -> list[int]:
    """Seconds → whole microseconds (the values are µs-exact up to the float division)."""
    assert all(v is not None for v in values)
    return [round(v * 1e6) for v in values if v is not None]


def seconds(cal: Calendar, start: str, end: str, zone: str = BERLIN) -> float | None:
    """Business seconds between two local times, checked equal on both lookup strategies."""
    pair = [(local(start, zone), local(end, zone))]
    fast, reference = durations(cal, pair), durations(cal, pair, strategy="search")
    assert fast == reference
    return fast[0]


def calendar(hours: Any, **spec: Any) -> Calendar:
    return parse_calendar("test", {"timezone": BERLIN, "hours": hours, **spec})


NINE_TO_FIVE = calendar({"mon-fri": "09:00-17:00"})
SPLIT = calendar({"mon-fri": ["09:00-12:30", "13:30-17:00"]})
NIGHTS = calendar({"daily": "22:00-06:00"})
ALWAYS = calendar("24/7")


# --- hand-worked durations ----------------------------------------------------------------


def test_start_outside_hours_counts_from_the_next_opening() -> None:
    # Fri 17:30 → Mon 09:30 on Mon–Fri 09:00–17:00: Friday after closing 0 + weekend 0 +
    # Monday 09:00–09:30 = 30 min = 1,800 s (frappe/helpdesk#2075 counted from the start).
    assert seconds(NINE_TO_FIVE, "2026-01-09 17:30", "2026-01-12 09:30") == 1800


def test_start_during_lunch_break() -> None:
    # Tue 12:45 → 14:15 on 09:00–12:30 + 13:30–17:00: lunch 0 + 13:30–14:15 = 45 min = 2,700 s
    assert seconds(SPLIT, "2026-01-13 12:45", "2026-01-13 14:15") == 2700
    # Tue 11:00 → 13:00, ending in the break: 11:00–12:30 = 1.5 h = 5,400 s
    assert seconds(SPLIT, "2026-01-13 11:00", "2026-01-13 13:00") == 5400
    # across a whole day: Tue 09:00 → Wed 09:00 = 3.5 h + 3.5 h = 25,200 s
    assert seconds(SPLIT, "2026-01-13 09:00", "2026-01-14 09:00") == 25200


def test_public_holiday_in_the_middle() -> None:
    # Thu 2026-04-30 16:00 → Mon 05-04 10:00 on 09–17: Thu 1 h + Fri (Labour Day) 0 +
    # weekend 0 + Mon 1 h = 7,200 s; without holidays Friday adds 8 h: 36,000 s.
    with_holidays = calendar({"mon-fri": "09:00-17:00"}, holidays={"country": "DE"})
    assert seconds(with_holidays, "2026-04-30 16:00", "2026-05-04 10:00") == 7200
    assert seconds(NINE_TO_FIVE, "2026-04-30 16:00", "2026-05-04 10:00") == 36000


def test_holiday_of_a_subdivision() -> None:
    # 2026-03-08 is International Women's Day, a holiday in Berlin only (a Sunday in 2026, so
    # use a daily calendar): 00:00–24:00 daily, Sat 03-07 12:00 → Mon 03-09 12:00 =
    # 12 h + 0 + 12 h = 86,400 s in Berlin; 48 h = 172,800 s in Bavaria.
    berlin = calendar({"daily": "00:00-24:00"}, holidays="DE-BE")
    bavaria = calendar({"daily": "00:00-24:00"}, holidays={"country": "DE", "subdivision": "BY"})
    assert seconds(berlin, "2026-03-07 12:00", "2026-03-09 12:00") == 86400
    assert seconds(bavaria, "2026-03-07 12:00", "2026-03-09 12:00") == 172800


def test_overnight_shift() -> None:
    # 22:00–06:00 daily; Tue 23:00 → Wed 07:00 = 23:00–06:00 = 7 h = 25,200 s
    assert seconds(NIGHTS, "2026-01-13 23:00", "2026-01-14 07:00") == 25200
    # Tue 05:00 → Tue 23:00 = 05:00–06:00 (Monday's shift) + 22:00–23:00 = 2 h = 7,200 s
    assert seconds(NIGHTS, "2026-01-13 05:00", "2026-01-13 23:00") == 7200


def test_created_and_answered_while_closed_is_zero() -> None:
    # Saturday 10:00 → 11:00 and Tue 20:00 → Wed 08:00: all closed time, 0 s
    assert seconds(NINE_TO_FIVE, "2026-01-10 10:00", "2026-01-10 11:00") == 0
    assert seconds(NINE_TO_FIVE, "2026-01-13 20:00", "2026-01-14 08:00") == 0
    # inside the lunch break
    assert seconds(SPLIT, "2026-01-13 12:40", "2026-01-13 13:20") == 0


def test_spring_forward_day_has_23_hours() -> None:
    # 24/7 in Berlin: Sun 2026-03-29 00:00 → Mon 00:00 is 23 h of real time = 82,800 s
    assert seconds(ALWAYS, "2026-03-29 00:00", "2026-03-30 00:00") == 82800
    # the same with 00:00–24:00 written per day
    daily = calendar({"daily": "00:00-24:00"})
    assert seconds(daily, "2026-03-29 00:00", "2026-03-30 00:00") == 82800
    # the night shift Sat 22:00 → Sun 06:00 over the change: 7 h = 25,200 s
    assert seconds(NIGHTS, "2026-03-28 21:00", "2026-03-29 07:00") == 25200


def test_fall_back_day_has_25_hours() -> None:
    # Sun 2026-10-25 00:00 → Mon 00:00 is 25 h = 90,000 s; the night shift 9 h = 32,400 s
    assert seconds(ALWAYS, "2026-10-25 00:00", "2026-10-26 00:00") == 90000
    assert seconds(NIGHTS, "2026-10-24 21:00", "2026-10-25 07:00") == 32400


def test_boundaries_at_skipped_or_repeated_wall_clock_times() -> None:
    # Daily 02:30–04:00. On 2026-03-29 02:30 does not exist: the opening is the jump
    # (03:00 CEST), so 03:00–04:00 = 3,600 s. On 2026-10-25 02:30 happens twice: the opening is
    # the first (02:30 CEST = 00:30 UTC) and 04:00 CET = 03:00 UTC, so 2.5 h = 9,000 s.
    # An ordinary day has 1.5 h = 5,400 s.
    early = calendar({"daily": "02:30-04:00"})
    assert seconds(early, "2026-03-29 00:00", "2026-03-30 00:00") == 3600
    assert seconds(early, "2026-10-25 00:00", "2026-10-26 00:00") == 9000
    assert seconds(early, "2026-01-25 00:00", "2026-01-26 00:00") == 5400


def test_midnight_that_does_not_exist() -> None:
    # America/Santiago moves 24:00 → 01:00 on Sun 2026-09-06: a 24/7 Sunday lasts 23 h.
    zone = "America/Santiago"
    always = parse_calendar("cl", {"timezone": zone, "hours": "24/7"})
    assert seconds(always, "2026-09-05 12:00", "2026-09-07 12:00", zone) == 47 * 3600
    days = parse_calendar("cl", {"timezone": zone, "hours": {"daily": "00:00-12:00"}})
    # Sunday's opening at the skipped midnight is the jump (01:00 local): Sat 23:00 → Sun 23:00
    # = Saturday closed since 12:00 + Sunday 01:00–12:00 = 11 h
    assert seconds(days, "2026-09-05 23:00", "2026-09-06 23:00", zone) == 11 * 3600


def test_closed_date() -> None:
    # Tue 2026-01-13 closed: Mon 16:00 → Wed 10:00 = Mon 1 h + Tue 0 + Wed 1 h = 7,200 s
    cal = calendar({"mon-fri": "09:00-17:00"}, closed=["2026-01-13"])
    assert seconds(cal, "2026-01-12 16:00", "2026-01-14 10:00") == 7200
    # a range of dates: Tue–Wed closed → Mon 1 h + Thu 1 h
    shut = calendar({"mon-fri": "09:00-17:00"}, closed=["2026-01-13..2026-01-14"])
    assert seconds(shut, "2026-01-12 16:00", "2026-01-15 10:00") == 7200


def test_extra_open_date() -> None:
    # Sat 2026-01-17 open 10:00–14:00: Fri 16:00 → Mon 10:00 = 1 h + 4 h + 1 h = 21,600 s
    cal = calendar({"mon-fri": "09:00-17:00"}, open={"2026-01-17": ["10:00-14:00"]})
    assert seconds(cal, "2026-01-16 16:00", "2026-01-19 10:00") == 21600
    # with a weekday's hours instead: 1 h + 8 h + 1 h = 36,000 s
    as_monday = calendar({"mon-fri": "09:00-17:00"}, open={date(2026, 1, 17): "mon"})
    assert seconds(as_monday, "2026-01-16 16:00", "2026-01-19 10:00") == 36000
    # an open date wins over a public holiday: Fri 2026-05-01 10:00–12:00 = 7,200 s
    holiday_shift = calendar(
        {"mon-fri": "09:00-17:00"}, holidays="DE", open={"2026-05-01": "10:00-12:00"}
    )
    assert seconds(holiday_shift, "2026-05-01 00:00", "2026-05-02 00:00") == 7200


def test_null_inputs_and_instants_outside_the_years_give_null() -> None:
    t = local("2026-01-12 10:00")
    outside = local("2025-06-01 10:00")
    assert durations(NINE_TO_FIVE, [(None, t), (t, None), (None, None), (outside, t)]) == [
        None,
        None,
        None,
        None,
    ]
    first, last = covered_range(NINE_TO_FIVE, YEARS)
    # local midnight 2026-01-01 in Berlin is 2025-12-31 23:00 UTC; 2027-01-01 too
    assert (first, last) == (local("2026-01-01 00:00"), local("2027-01-01 00:00"))


def test_end_before_start_is_negative_or_zero() -> None:
    # Mon 10:00 ← Mon 12:00 reversed: −2 h; reversed inside one closed night: 0 (not negative)
    assert seconds(NINE_TO_FIVE, "2026-01-12 12:00", "2026-01-12 10:00") == -7200
    assert seconds(NINE_TO_FIVE, "2026-01-12 23:00", "2026-01-12 20:00") == 0


def test_business_clock_is_open_microseconds() -> None:
    # B(t) is Int64 µs; business_seconds is the difference of two clocks over 1e6.
    frame = pl.DataFrame(
        {"a": [local("2026-01-09 17:30")], "b": [local("2026-01-12 09:30")]},
        schema={"a": UTC_US, "b": UTC_US},
    )
    clocks = frame.select(
        a=business_clock(pl.col("a"), NINE_TO_FIVE, years=YEARS),
        b=business_clock(pl.col("b"), NINE_TO_FIVE, years=YEARS),
    )
    assert clocks.schema == {"a": pl.Int64, "b": pl.Int64}
    assert clocks.item(0, "b") - clocks.item(0, "a") == 1_800_000_000


def test_default_years_cover_a_long_span() -> None:
    start, end = local("2003-02-03 16:00"), local("2003-02-04 10:00")  # Mon → Tue
    assert durations(NINE_TO_FIVE, [(start, end)], years=range(2000, 2051)) == [7200.0]
    frame = pl.DataFrame({"a": [start], "b": [end]})
    assert frame.select(business_seconds(pl.col("a"), pl.col("b"), NINE_TO_FIVE)).item() == 7200


# --- the parser ---------------------------------------------------------------------------


def test_parse_full_example() -> None:
    cal = parse_calendar(
        "support",
        {
            "timezone": "Europe/Berlin",
            "hours": {"mon-fri": ["09:00-12:30", "13:30-17:00"], "sat": ["10:00-14:00"]},
            "holidays": {"country": "DE", "subdivision": "BE"},
            "closed": ["2026-12-24"],
            "open": {"2026-12-27": ["10:00-14:00"]},
        },
    )
    split = (Interval(time(9), time(12, 30)), Interval(time(13, 30), time(17)))
    assert cal.hours == (*(split,) * 5, (Interval(time(10), time(14)),), ())
    assert cal.holidays == PublicHolidays("DE", "BE")
    assert cal.closed == frozenset({date(2026, 12, 24)})
    assert cal.open_dates == ((date(2026, 12, 27), (Interval(time(10), time(14)),)),)
    # Mon–Fri 7 h + Sat 4 h = 39 h
    assert cal.weekly_open_seconds == 39 * 3600
    assert cal.hours_on(date(2026, 12, 25)) == ()  # Christmas Day
    assert cal.hours_on(date(2026, 12, 27)) == (Interval(time(10), time(14)),)
    # the same calendar written differently is equal (and so shares the cached lookup table)
    same = {
        "timezone": "Europe/Berlin",
        "hours": {"mon-fri": ["13:30-17:00", "09:00-12:30"], "sat": "10:00-14:00"},
        "holidays": "DE-be",
        "closed": [date(2026, 12, 24)],
        "open": {"2026-12-27": "10:00-14:00"},
    }
    assert parse_calendar("support", same) == cal
    assert hash(parse_calendar("support", same)) == hash(cal)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat, sun", (5, 6)),
        ("Mon,Wed,Fri", (0, 2, 4)),
        ("daily", tuple(range(7))),
        ("weekdays", (0, 1, 2, 3, 4)),
        ("weekends", (5, 6)),
        ("Thursday-Saturday", (3, 4, 5)),
    ],
)
def test_parse_days(text: str, days: tuple[int, ...]) -> None:
    assert parse_days(text) == days


def test_day_ranges_do_not_wrap() -> None:
    with pytest.raises(ValueError, match="runs backwards; write it as fri-sun, mon-tue"):
        parse_days("fri-tue")


def test_parse_interval() -> None:
    assert parse_interval("09:00-17:00") == Interval(time(9), time(17))
    assert parse_interval("9:00 – 17:30:15") == Interval(time(9), time(17, 30, 15))
    assert parse_interval("22:00-06:00").overnight
    assert parse_interval("00:00-24:00") == Interval(time(0), time(0))
    assert parse_interval("00:00-24:00").seconds == 86400
    assert str(parse_interval("22:00-24:00")) == "22:00-24:00"


@pytest.mark.parametrize("text", ["9-17", "25:00-26:00", "09:60-10:00", "24:00-02:00", "nine"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="as opening hours"):
        parse_interval(text)


def test_24_7_and_a_default_time_zone() -> None:
    cal = parse_calendar("always", "24/7", default_timezone="UTC")
    assert cal.timezone == "UTC"
    assert cal.weekly_open_seconds == 7 * 86400
    assert parse_calendar("x", {"hours": "24/7"}, default_timezone="Asia/Tokyo").timezone == (
        "Asia/Tokyo"
    )


def problems(spec: Any, **kwargs: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(CalendarError) as info:
        parse_calendar("test", spec, **kwargs)
    return [(p.path, p.message) for p in info.value.problems]


def test_overlapping_intervals_are_rejected() -> None:
    found = problems({"timezone": BERLIN, "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}})
    assert found == [(("hours", "mon"), "mon 09:00-12:00 overlaps mon 11:00-13:00")]
    # an overnight shift running into the next morning's hours, reported at the day's key
    found = problems(
        {"timezone": BERLIN, "hours": {"sun": "22:00-06:00", "mon-fri": "05:00-09:00"}}
    )
    assert found == [(("hours", "mon-fri"), "sun 22:00-06:00 overlaps mon 05:00-09:00")]


def test_bad_day_names_and_repeated_days() -> None:
    ((path, message),) = problems({"timezone": BERLIN, "hours": {"mon-fry": "09:00-17:00"}})
    assert path == ("hours", "mon-fry")
    assert "unknown day 'fry'" in message and "did you mean 'fri'" in message
    ((path, message),) = problems(
        {"timezone": BERLIN, "hours": {"mon-fri": "09:00-17:00", "fri": "09:00-15:00"}}
    )
    assert path == ("hours", "fri")
    assert message == "fri is given twice (in 'mon-fri' and 'fri')"


def test_no_open_hours_is_a_config_error_not_zero() -> None:
    no_hours: list[dict[str, Any]] = [{}, {"mon-fri": []}, {"daily": "closed"}]
    for hours in no_hours:
        ((path, message),) = problems({"timezone": BERLIN, "hours": hours})
        assert path == ("hours",)
        assert "no open hours" in message and "would be 0" in message


def test_bad_time_strings_point_at_the_item() -> None:
    found = problems({"timezone": BERLIN, "hours": {"mon": ["09:00-12:00", "1pm-5pm"]}})
    assert found == [
        (
            ("hours", "mon", 1),
            "cannot read '1pm-5pm' as opening hours: write HH:MM-HH:MM, e.g. 09:00-17:00 "
            "(22:00-06:00 runs past midnight)",
        )
    ]


def test_every_problem_is_reported_at_once() -> None:
    found = dict(
        problems(
            {
                "timezone": "Europe/Berlinn",
                "hours": {"mon": "9-5"},
                "hollidays": "DE",
                "holidays": {"country": "XX"},
                "closed": ["2026-02-30"],
                "open": {"2026-12-27": "closed"},
            }
        )
    )
    assert "did you mean 'holidays'" in found[("hollidays",)]
    assert "cannot read '9-5'" in found[("hours", "mon")]
    assert "unknown country 'XX'" in found[("holidays",)]
    assert "cannot read '2026-02-30' as a date" in found[("closed", 0)]
    assert "needs hours" in found[("open", "2026-12-27")]
    assert "unknown time zone 'Europe/Berlinn'" in found[("timezone",)]


def test_holiday_codes_are_checked() -> None:
    ((path, message),) = problems(
        {"timezone": BERLIN, "hours": "24/7", "holidays": {"country": "DE", "subdivision": "XY"}}
    )
    assert path == ("holidays",)
    assert message.startswith("DE has no subdivision 'XY'")
    ((_, message),) = problems({"timezone": BERLIN, "hours": "24/7", "holidays": "GER"})
    assert "unknown country 'GER'" in message


def test_missing_time_zone_and_conflicting_dates() -> None:
    assert problems({"hours": "24/7"}) == [
        (("timezone",), "missing: give an IANA time zone such as Europe/Berlin")
    ]
    found = problems(
        {
            "timezone": BERLIN,
            "hours": "24/7",
            "closed": ["2026-12-27"],
            "open": {"2026-12-27": "10:00-12:00"},
        }
    )
    assert found == [(("open", "2026-12-27"), "2026-12-27 is also listed under closed")]
    assert problems({"timezone": BERLIN, "hours": "24/7", "open": {"2026-12-27": []}}) == [
        (("open", "2026-12-27"), "an open date needs hours")
    ]


def test_parse_calendars_prefixes_paths_with_the_name() -> None:
    with pytest.raises(CalendarError) as info:
        parse_calendars(
            {"ok": {"hours": "24/7"}, "bad": {"hours": {"mon": "9-5"}}}, default_timezone="UTC"
        )
    assert [p.path for p in info.value.problems] == [("bad", "hours", "mon")]
    assert str(info.value).startswith("bad.hours.mon: cannot read '9-5'")
    both = parse_calendars({"a": {"hours": "24/7"}, "b": "24/7"}, default_timezone="UTC")
    assert set(both) == {"a", "b"}


def test_missing_holidays_package_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)  # makes `import holidays` fail
    with pytest.raises(ConfigError) as info:
        calendar({"mon-fri": "09:00-17:00"}, holidays="DE")
    assert "holidays" in info.value.message
    assert info.value.hint == 'pip install "cscli[calendar]"'
    # calendars without public holidays do not need the package
    assert calendar({"mon-fri": "09:00-17:00"}).holidays is None


def test_calendar_validates_when_built_directly() -> None:
    with pytest.raises(CalendarError, match="expected 7 days"):
        Calendar("x", "UTC", ((Interval(time(9), time(17)),),))
    with pytest.raises(CalendarError, match="unknown time zone"):
        Calendar("x", "Mars/Olympus", ((Interval(time(9), time(17)),),) * 7)


# --- properties ---------------------------------------------------------------------------

ZONES = ["UTC", BERLIN, "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
# 2026 instants, dense around Berlin's and New York's clock changes as well as anywhere
START_2026 = datetime(2026, 1, 1, tzinfo=UTC)
instants = st.one_of(
    st.integers(2 * 86400 * 10**6, 360 * 86400 * 10**6).map(
        lambda us: START_2026 + timedelta(microseconds=us)
    ),
    st.sampled_from(
        [
            local("2026-03-29 00:00"),
            local("2026-10-25 00:00"),
            local("2026-03-08 00:00", "America/New_York"),
        ]
    ).flatmap(
        lambda day: st.integers(-6 * 3600, 30 * 3600).map(lambda s: day + timedelta(seconds=s))
    ),
)


@st.composite
def weekly_hours(draw: st.DrawFn) -> dict[str, list[str]]:
    """Up to three intervals a day at 15-minute marks, sometimes one overnight."""
    hours: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        marks = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
        marks = marks[: len(marks) // 2 * 2]
        pairs = [(marks[i], marks[i + 1]) for i in range(0, len(marks), 2)]
        if pairs and pairs[-1][1] == 96 and draw(st.booleans()):
            pairs[-1] = (pairs[-1][0], draw(st.integers(1, 8)))  # past midnight, into 00:15–02:00
        hours[day] = [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in pairs]
    return hours


def _hhmm(quarter: int) -> str:
    return f"{quarter // 4:02d}:{quarter % 4 * 15:02d}"


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    spec: dict[str, Any] = {"timezone": draw(st.sampled_from(ZONES))}
    spec["hours"] = draw(weekly_hours())
    days = st.integers(0, 364).map(lambda n: date(2026, 1, 1) + timedelta(days=n))
    spec["closed"] = [d.isoformat() for d in draw(st.sets(days, max_size=5))]
    spec["open"] = {
        d.isoformat(): draw(st.sampled_from(["10:00-14:00", "20:00-02:00", "mon", "00:00-24:00"]))
        for d in draw(st.sets(days, max_size=3))
        if d.isoformat() not in spec["closed"]
    }
    if draw(st.booleans()):
        spec["holidays"] = "DE"
    try:
        return parse_calendar("random", spec)
    except CalendarError:
        # overlapping overnight draws or an all-closed week; fall back to a valid calendar
        return parse_calendar("random", {**spec, "hours": {"mon-fri": "09:00-17:00"}})


def reference(cal: Calendar, a: datetime, b: datetime) -> float:
    """Business seconds from a to b walking the calendar day by day in plain Python."""
    if b < a:
        return -reference(cal, b, a)
    zone = cal.zone
    stretches: list[tuple[datetime, datetime]] = []
    day = a.astimezone(zone).date() - timedelta(days=2)
    while day <= b.astimezone(zone).date() + timedelta(days=1):
        for iv in cal.hours_on(day):
            opening = datetime.combine(day, iv.open)
            closing = datetime.combine(day + timedelta(days=iv.overnight), iv.close)
            stretches.append((wall_to_utc(opening, zone), wall_to_utc(closing, zone)))
        day += timedelta(days=1)
    total = timedelta()
    covered = a  # stretches may overlap (an open date after a night shift): count once
    for start, end in sorted(stretches):
        start, end = max(start, covered), min(end, b)
        if end > start:
            total += end - start
            covered = end
    return total.total_seconds()


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """First occurrence of a repeated time; a skipped time moves to the end of the jump."""
    while True:
        aware = wall.replace(tzinfo=zone, fold=0)
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
            return aware.astimezone(UTC)
        wall += timedelta(minutes=1)  # still inside the skipped hour (transitions: whole min)
        wall = wall.replace(second=0)


@settings(max_examples=50, deadline=None)
@given(calendars(), st.lists(st.tuples(instants, instants), min_size=1, max_size=8))
def test_matches_a_day_by_day_reference(
    cal: Calendar, pairs: list[tuple[datetime, datetime]]
) -> None:
    fast = durations(cal, pairs)
    assert fast == durations(cal, pairs, strategy="search")
    assert micros(fast) == [round(reference(cal, a, b) * 1e6) for a, b in pairs]


@settings(max_examples=50, deadline=None)
@given(calendars(), instants, instants)
def test_business_time_is_at_most_calendar_time(cal: Calendar, a: datetime, b: datetime) -> None:
    a, b = min(a, b), max(a, b)
    (value,) = durations(cal, [(a, b)])
    assert value is not None
    assert 0 <= value <= (b - a).total_seconds()


@settings(max_examples=50, deadline=None)
@given(calendars(), instants, instants, instants)
def test_additivity(cal: Calendar, a: datetime, b: datetime, c: datetime) -> None:
    # exact to the microsecond in any order, each value being B(end) − B(start) in integer µs
    ab, bc, ac = micros(durations(cal, [(a, b), (b, c), (a, c)]))
    assert ac == ab + bc


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(ZONES), instants, instants)
def test_24_7_equals_calendar_time(zone: str, a: datetime, b: datetime) -> None:
    # equal to the float the calendar-hours measure computes (cscli.kpis.measures)
    always = parse_calendar("always", {"timezone": zone, "hours": "24/7"})
    frame = pl.DataFrame({"a": [a], "b": [b]}, schema={"a": UTC_US, "b": UTC_US})
    calendar_hours = (pl.col("b") - pl.col("a")).dt.total_microseconds() * MICRO
    business = business_seconds(pl.col("a"), pl.col("b"), always, years=YEARS)
    assert frame.select(business.eq(calendar_hours)).item()


@settings(max_examples=50, deadline=None)
@given(calendars(), instants, st.lists(instants, min_size=2, max_size=10))
def test_monotone_in_end(cal: Calendar, a: datetime, ends: list[datetime]) -> None:
    ends.sort()
    values = durations(cal, [(a, end) for end in ends])
    assert all(v is not None for v in values)
    assert values == sorted(values)  # type: ignore[type-var]
