"""Stock KPIs on polars: the event counts per bucket that `cscli.stocks.levels` turns into
levels (see there for the arithmetic).

Per (dims, bucket): records opened in the bucket, records closed in it, and, of those closed,
the ones opened in an earlier bucket; events before the report's start go to the BEFORE bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import polars as pl

from cscli.engine.polars.bands import BAND_BELOW, BAND_FROM
from cscli.engine.polars.compile import sql
from cscli.kpis.spec import Stock
from cscli.period import Grain


def bucket(expr: pl.Expr, grain: str, timezone: str) -> pl.Expr:
    """The local date that starts the grain bucket of a UTC instant (ISO weeks: Monday); for
    an interval grain (15m, 30m, hour) the bucket's start instant as a `Datetime("us", zone)`.

    Interval buckets are real elapsed intervals on local wall-clock edges: the instant minus
    how far its local time is past the local edge, so a zone 5:45 ahead of UTC buckets on
    local :00/:30, and the repeated hour of a fall-back day gives two buckets (two offsets)."""
    g = Grain(grain)
    if g.is_interval:
        at = expr.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        wall = at.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
        start = at - (wall - wall.dt.truncate(g.every))
        return start.dt.convert_time_zone(timezone)
    # truncating the local date is cheaper than the zone-aware datetime, with the same buckets
    return day_bucket(expr.dt.convert_time_zone(timezone).dt.date(), grain)


def day_bucket(day: pl.Expr, grain: str) -> pl.Expr:
    """The date that starts the bucket of a local date, for a grain of a day or more: the day
    itself, the Monday of its ISO week, the first of its month or quarter. A day count minus
    the day's place in its week or month: `dt.truncate`'s bucket, cheaper."""
    g = Grain(grain)
    if g is Grain.day:
        return day
    if g is Grain.week:  # Monday is weekday 1
        return (day.cast(pl.Int32) - day.dt.weekday().cast(pl.Int32) + 1).cast(pl.Date)
    if g is Grain.month:
        return (day.cast(pl.Int32) - day.dt.day().cast(pl.Int32) + 1).cast(pl.Date)
    return day.dt.truncate(g.every)


def bucket_range(first: date, last: date, grain: str, timezone: str) -> pl.Series:
    """Every bucket start from `first` to `last` (bucket starts, both included): local dates,
    or for an interval grain the zone-aware start instants, stepping real elapsed time (46
    half hours on a spring-forward day, 50 on a fall-back day)."""
    g = Grain(grain)
    if g.is_interval:
        assert isinstance(first, datetime) and isinstance(last, datetime)
        utc = pl.datetime_range(
            first.astimezone(UTC),
            last.astimezone(UTC),
            g.every,
            time_unit="us",
            time_zone="UTC",
            eager=True,
        )
        return utc.dt.convert_time_zone(timezone)
    return pl.date_range(first, last, g.every, eager=True)


def bucket_dtype(grain: str, timezone: str) -> pl.DataType:
    """The dtype of the bucket column: Date, or Datetime("us", zone) for an interval grain."""
    return pl.Datetime("us", timezone) if Grain(grain).is_interval else pl.Date()


def before(grain: str, timezone: str) -> pl.Expr:
    """The BEFORE bucket as a literal of the bucket column's dtype."""
    if Grain(grain).is_interval:
        return pl.lit(BEFORE_INSTANT).dt.convert_time_zone(timezone)
    return pl.lit(BEFORE)


BEFORE = date(1, 1, 1)  # the bucket of every event before the report's start
BEFORE_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)  # the same, for an interval grain


_MICROSECOND = timedelta(microseconds=1)


def _in_band(lf: pl.LazyFrame, kind: Stock) -> tuple[pl.LazyFrame, pl.Expr, pl.Expr]:
    """A record's time in an age band [a, b) as the interval of a stock of its own.

    A record is open at t when opened < t ≤ closed (closed null = never); in the band when
    also a ≤ t − opened < b. On the microsecond clock of the timestamps that is
    opened' < t ≤ closed' with opened' = opened + a − 1µs (for a > 0: t ≥ opened + a) and
    closed' = min(closed, opened + b − 1µs) (t < opened + b): the same event counts then give
    the band's level at every bucket's end. A record that ends before it reaches the band
    opens and closes in one bucket (closed' < opened'), and counts in none."""
    opened, closed = pl.col(kind.opened), pl.col(kind.closed)
    if kind.age_hours == "business":
        return _in_business_band(lf, kind)
    start = opened
    if kind.age_from:
        start = opened + timedelta(seconds=kind.age_from) - _MICROSECOND
    end = closed
    if kind.age_below is not None:
        leaves = opened + timedelta(seconds=kind.age_below) - _MICROSECOND
        end = pl.when(closed.is_null() | (closed > leaves)).then(leaves).otherwise(closed)
    banded = lf.with_columns(start.alias("_band_opened"), end.alias("_band_closed"))
    return banded, pl.col("_band_opened"), pl.col("_band_closed")


def _in_business_band(lf: pl.LazyFrame, kind: Stock) -> tuple[pl.LazyFrame, pl.Expr, pl.Expr]:
    """`_in_band` in business time: the band's instants are `bands.BAND_FROM` and
    `bands.BAND_BELOW` (B⁻¹ of the record's business clock) instead of opened + a and
    opened + b; a record that never enters its band (past the calendar's years) is left out."""
    opened, closed = pl.col(kind.opened), pl.col(kind.closed)
    start = opened
    if kind.age_from:
        lf = lf.filter(pl.col(BAND_FROM).is_not_null())
        start = pl.col(BAND_FROM) - _MICROSECOND
    end = closed
    if kind.age_below is not None:
        leaves = pl.col(BAND_BELOW) - _MICROSECOND
        end = (
            pl.when(leaves.is_null())
            .then(closed)
            .when(closed.is_null() | (closed > leaves))
            .then(leaves)
            .otherwise(closed)
        )
    banded = lf.with_columns(start.alias("_band_opened"), end.alias("_band_closed"))
    return banded, pl.col("_band_opened"), pl.col("_band_closed")


def events_query(
    frame: pl.LazyFrame,
    kind: Stock,
    dims: Sequence[str],
    grain: str,
    timezone: str,
    hi: datetime | None,
    lo: datetime | None = None,
) -> pl.LazyFrame:
    """(dims, bucket) → opened, closed, lost_from_earlier, for records up to `hi`.

    Events before `lo` go to the BEFORE bucket, so the first bucket's level starts at the
    report's start (a mid-month --from does not count the month's earlier days)."""
    opened, closed = pl.col(kind.opened), pl.col(kind.closed)
    lf = frame.filter(opened.is_not_null())
    if kind.where:
        lf = lf.filter(sql(kind.where).fill_null(False))
    if kind.banded:
        lf, opened, closed = _in_band(lf, kind)
    if hi is not None:
        lf = lf.filter(opened < hi)
    ob, cb = bucket(opened, grain, timezone), bucket(closed, grain, timezone)
    if lo is not None:
        ob = pl.when(opened < lo).then(before(grain, timezone)).otherwise(ob)
        cb = pl.when(closed < lo).then(before(grain, timezone)).otherwise(cb)
    is_closed = closed.is_not_null()
    if hi is not None:
        is_closed = is_closed & (closed < hi)
    # one pass over the records: how many open in a bucket and close in another (`_cb`, null
    # while open at `hi`); a record closed before it opened (bad data, reported by quality
    # checks) closes at once. The few (opened, closed) bucket pairs then give the events.
    pairs = lf.group_by(*dims, _ob=ob, _cb=pl.when(is_closed).then(pl.max_horizontal(ob, cb))).agg(
        _n=pl.len().cast(pl.Int64)
    )
    n, zero = pl.col("_n"), pl.lit(0, dtype=pl.Int64)
    opened_in = pairs.group_by(*dims, _b="_ob").agg(_open=n.sum(), _close=zero, _lost=zero)
    closed_in = (
        pairs.filter(pl.col("_cb").is_not_null())
        .group_by(*dims, _b="_cb")
        .agg(
            _open=zero,
            _close=n.sum(),
            _lost=(n * (pl.col("_ob") < pl.col("_cb")).cast(pl.Int64)).sum(),
        )
    )
    events = pl.concat([opened_in, closed_in], how="vertical")
    return events.group_by(*dims, "_b").agg(
        pl.col("_open").sum().cast(pl.Int64),
        pl.col("_close").sum().cast(pl.Int64),
        pl.col("_lost").sum().cast(pl.Int64),
    )
