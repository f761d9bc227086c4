from datetime import UTC, date, datetime
from typing import Any

import pytest

from cscli.errors import UsageError
from cscli.period import Period, resolve_period

TODAY = date(2026, 3, 18)  # a Wednesday


def test_open_period_is_all_data() -> None:
    p = resolve_period(None, None, None, "UTC", today=TODAY)
    assert (p.start, p.end) == (None, None)
    assert p.bounds_utc() == (None, None)


@pytest.mark.parametrize(
    ("last", "start"),
    [
        ("1d", date(2026, 3, 18)),
        ("7d", date(2026, 3, 12)),
        ("4w", date(2026, 2, 19)),
        ("3m", date(2025, 12, 19)),
        ("1q", date(2025, 12, 19)),
        ("1y", date(2025, 3, 19)),
    ],
)
def test_last_ends_today_inclusive(last: str, start: date) -> None:
    p = resolve_period(None, None, last, "UTC", today=TODAY)
    assert (p.start, p.end) == (start, TODAY)


def test_last_ends_at_to() -> None:
    p = resolve_period(None, "2026-01-31", "1m", "UTC", today=TODAY)
    assert (p.start, p.end) == (date(2026, 1, 1), date(2026, 1, 31))


def test_bounds_are_local_midnights() -> None:
    # Berlin is UTC+1 in January: the local day 2026-01-01 starts at 2025-12-31 23:00 UTC
    p = resolve_period("2026-01-01", "2026-01-31", None, "Europe/Berlin")
    lo, hi = p.bounds_utc()
    assert lo == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert hi == datetime(2026, 1, 31, 23, tzinfo=UTC)


def test_previous_window_has_equal_length() -> None:
    # not whole months: the 31 days just before
    p = Period(date(2026, 3, 2), date(2026, 4, 1), "UTC")
    assert p.previous() == Period(date(2026, 1, 30), date(2026, 3, 1), "UTC")
    assert p.previous().days == p.days == 31


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        # whole months compare with the previous calendar months (February with January,
        # March with February: 28 days, not "the 31 days before")
        ((2026, 2, 1), (2026, 2, 28), ((2026, 1, 1), (2026, 1, 31))),
        ((2026, 3, 1), (2026, 3, 31), ((2026, 2, 1), (2026, 2, 28))),
        ((2026, 4, 1), (2026, 6, 30), ((2026, 1, 1), (2026, 3, 31))),  # Q2 → Q1
        ((2025, 1, 1), (2025, 12, 31), ((2024, 1, 1), (2024, 12, 31))),  # a year
        # Jan 4–31 is not whole months: the 28 days before
        ((2026, 1, 4), (2026, 1, 31), ((2025, 12, 7), (2026, 1, 3))),
    ],
)
def test_previous_is_calendar_aligned(
    start: tuple[int, int, int], end: tuple[int, int, int], previous: tuple[Any, Any]
) -> None:
    p = Period(date(*start), date(*end), "UTC").previous()
    assert (p.start, p.end) == (date(*previous[0]), date(*previous[1]))


def test_previous_year_over_year() -> None:
    p = Period(date(2026, 6, 22), date(2026, 6, 28), "UTC").previous("yoy")
    assert (p.start, p.end) == (date(2025, 6, 22), date(2025, 6, 28))
    leap = Period(date(2024, 2, 1), date(2024, 2, 29), "UTC").previous("yoy")
    assert (leap.start, leap.end) == (date(2023, 2, 1), date(2023, 2, 28))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2026-01-01", None, "7d"), "cannot be combined"),
        (("2026-02-01", "2026-01-01", None), "after"),
        ((None, None, "7 fortnights"), "cannot read"),
        (("01/02/2026", None, None), "cannot read"),
    ],
)
def test_bad_period_options(args: tuple[str | None, str | None, str | None], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_period(*args, "UTC", today=TODAY)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("0001-01-01", None, None), "--from: 0001-01-01 is outside the dates cscli handles"),
        ((None, "9999-12-31", None), "--to: 9999-12-31 is outside the dates cscli handles"),
        ((None, None, "99999y"), "--last 99999y reaches before 1900-01-01"),
        ((None, None, "99999999999999999999d"), "reaches before 1900-01-01"),
        ((None, "1900-06-30", "7m"), "reaches before 1900-01-01"),
    ],
)
def test_extreme_periods_are_usage_errors(
    args: tuple[str | None, str | None, str | None], message: str
) -> None:
    # these raised OverflowError / ValueError (a traceback) in date arithmetic
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        resolve_period(*args, "Europe/Berlin", today=date(2026, 3, 4))


def test_the_edges_of_the_date_range_work() -> None:
    p = resolve_period("1900-01-01", "2999-12-31", None, "Pacific/Kiritimati")
    lo, hi = p.bounds_utc()
    assert lo is not None and hi is not None
    # Kiritimati is UTC+14 (and was UTC−10:40 in 1900): bounds stay representable
    assert hi.year == 2999 and lo.year == 1900
    assert resolve_period(None, "1900-12-31", "12m", "UTC").start == date(1900, 1, 1)
