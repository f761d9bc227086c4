"""Business seconds between two instants on a `Calendar`, as one polars expression.

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

Range. The lookup table behind `business_seconds` covers the local years it is given
(`DEFAULT_YEARS`, 2000–2050, unless the caller passes others); an instant outside them gives
null, never a guess.

Time-zone changes. Opening hours are wall-clock times in the calendar's zone, turned into
instants day by day, so a day on which the clocks go forward has one hour less (00:00–24:00 is
23 h; a 22:00–06:00 shift over that night is 7 h) and a day on which they go back has one hour
more (25 h and 9 h). A boundary at a wall-clock time that does not exist that day (02:30 in
Berlin on 2026-03-29) is taken at the moment the clocks jump (03:00 CEST); one that occurs twice
(02:30 in Berlin on 2026-10-25) is taken at its first occurrence (02:30 CEST).

Which dates are open, and how a calendar is written: `cscli.business_hours`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, reduce
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

from cscli.business_hours.model import Calendar

#: the years `business_seconds` covers when the caller gives none
DEFAULT_YEARS = range(2000, 2051)

_US = 1_000_000
_HOUR_US = 3_600 * _US
#: largest lookup grid (bytes) before falling back to a sorted search (see `_lookup`)
_MAX_GRID_BYTES = 64 * 2**20
_INT64_MIN = -(2**63)

Strategy = Literal["auto", "search"]


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


def business_after(
    start: pl.Expr, seconds: float, calendar: Calendar, *, years: range | None = None
) -> pl.Expr:
    """B⁻¹(B(start) + seconds): the first instant by which `seconds` of open time have passed
    since `start` (`Datetime("us", "UTC")`); null when `start` is null or that instant lies
    outside `years`.

    B is continuous and never decreases, so for y = B(start) + seconds the instants t with
    B(t) ≥ y are exactly [B⁻¹(y), ∞): business_seconds(start, t) ≥ seconds ⟺ t ≥ the result,
    and business_seconds(start, t) < seconds ⟺ t < it. An amount reached exactly at a closing
    time gives that closing (Friday 16:00 + 1 business hour on 09:00–17:00 is Friday 17:00,
    not Monday 09:00). `seconds` is rounded to whole microseconds."""
    target = business_clock(start, calendar, years=years) + round(seconds * _US)
    return business_instant(target, calendar, years=years)


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


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """The "table" lookup of `business_seconds` as a frame, for engines that join it (the SQL
    engines ship it as a table): B(t) = min(max(t + off, lo), hi) in µs on the row
    `(t − (origin − width)) // width` (floor division), and null on a row the frame lacks (the
    instants outside the covered range: the null sentinel rows are left out).

    `frame` holds Int64 columns `row`, `off`, `lo` (only when `needs_lo`) and `hi`, the very
    arrays `business_seconds` gathers from."""

    origin: int
    width: int
    needs_lo: bool
    frame: pl.DataFrame


@lru_cache(maxsize=8)
def lookup_grid(calendar: Calendar, years: range | None = None) -> Grid | None:
    """The lookup grid `business_seconds` uses for `calendar` by default, or None when it uses
    the sorted search instead (the grid would exceed `_MAX_GRID_BYTES`)."""
    table = _lookup(calendar, DEFAULT_YEARS if years is None else years, "auto")
    if table.width is None:
        return None
    n = len(table.hi)
    columns = {"row": pl.int_range(1, n - 1, dtype=pl.Int64, eager=True)}
    columns["off"] = table.off.slice(1, n - 2)
    if table.lo is not None:
        columns["lo"] = table.lo.slice(1, n - 2)
    columns["hi"] = table.hi.slice(1, n - 2)
    return Grid(table.origin, table.width, table.lo is not None, pl.DataFrame(columns))


@dataclass(frozen=True, slots=True, eq=False)
class Pieces:
    """The "search" lookup of `business_seconds` as a frame bucketed for an equi-join: per
    bucket of `width` µs from `origin` (`bucket = (t − origin) // width`, floor division), the
    search rows whose range [start, until) meets it, with their `off` and `hi`: B(t) =
    min(t + off, hi) on the row with start ≤ t < until; no row outside the covered range."""

    origin: int
    width: int
    frame: pl.DataFrame


#: the bucket of `Pieces`: a day (a bucket holds few open stretches, so few rows)
_PIECE_US = 24 * _HOUR_US


@lru_cache(maxsize=8)
def lookup_pieces(calendar: Calendar, years: range | None = None) -> Pieces:
    """The sorted-search arrays of `business_seconds` (`strategy="search"`) for `calendar`,
    bucketed by day (`Pieces`)."""
    table = _lookup(calendar, DEFAULT_YEARS if years is None else years, "search")
    assert table.starts is not None
    n = len(table.starts)
    # rows 1 … n − 2: the zero-length row at the origin and the open intervals, each ranging
    # to the next row's start (the last one to the end sentinel's start, the range's end)
    frame = (
        pl.DataFrame(
            {
                "start": table.starts.slice(1, n - 2),
                "until": table.starts.slice(2, n - 2),
                "off": table.off.slice(1, n - 2),
                "hi": table.hi.slice(1, n - 2),
            }
        )
        .filter(pl.col("until") > pl.col("start"))
        .with_columns(
            bucket=pl.int_ranges(
                (pl.col("start") - table.origin) // _PIECE_US,
                (pl.col("until") - 1 - table.origin) // _PIECE_US + 1,
                dtype=pl.Int64,
            )
        )
        .explode("bucket")
        .select("bucket", "start", "until", "off", "hi")
    )
    return Pieces(table.origin, _PIECE_US, frame)


def business_instant(clock: pl.Expr, calendar: Calendar, *, years: range | None = None) -> pl.Expr:
    """The inverse of `business_clock`: the earliest instant t with B(t) = `clock` (whole µs,
    Int64), as `Datetime("us", "UTC")`; null when `clock` is null or beyond the covered range.
    A clock reached at the end of an open stretch gives that end (a 2h target from 15:00 on
    09:00–17:00 is due at 17:00, not at the next opening). Used for due times:
    `business_instant(business_clock(start) + target µs)`."""
    starts, before, after = _stretch_clocks(calendar, DEFAULT_YEARS if years is None else years)
    # the first stretch whose end clock reaches `clock`
    i = pl.lit(after).search_sorted(clock.fill_null(0), side="left")
    start = pl.lit(starts).gather(i, null_on_oob=True)
    at = start + (clock - pl.lit(before).gather(i, null_on_oob=True))
    return pl.from_epoch(pl.when(clock.is_not_null()).then(at), "us").dt.replace_time_zone("UTC")


@lru_cache(maxsize=8)
def _stretch_clocks(calendar: Calendar, years: range) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Per open stretch: its start (µs since the epoch), and B at its start and at its end."""
    starts, ends, _, _ = _open_stretches(calendar, years)
    after = (ends - starts).cum_sum()
    return starts.rechunk(), (after - (ends - starts)).rechunk(), after.rechunk()
