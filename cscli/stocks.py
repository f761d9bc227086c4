"""Stock KPIs per time bucket: backlog at each bucket's end, retention and churn within it.

A level cannot be grouped by an anchor like a flow (a ticket opened in March is still in the
April backlog), so per bucket an engine counts only *events* (`WindowTables.stock_rows`):
records opened in the bucket, records closed in it, and, of those closed, the ones opened in an
earlier bucket, with every event before the report's start in one bucket before the first.
Levels are then running sums over that (small) aggregated frame, the same for every engine:

    S_k = level before the first bucket + Σ_{j<k} (opened_j − closed_j)   open at k's start
    E_k = S_k + opened_k − closed_k                                        open at k's end
    lost_k = closed_k among records opened before bucket k

backlog_k = E_k; retention_k = (E_k − N_k) / S_k with N_k the records opened in the bucket and
still open at its end; churn_k = lost_k / S_k (null when S_k = 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import polars as pl

from cscli.kpis.columns import N_SUFFIX
from cscli.kpis.spec import Kpi, Stock
from cscli.period import Grain


def levels(
    events: pl.DataFrame,
    kpi: Kpi,
    dims: Sequence[str],
    grain: str,
    first: date | None,
    last: date | None,
    period_col: str,
) -> pl.DataFrame:
    """Turn event counts into one row per (dims, bucket) from `first` to `last`."""
    assert isinstance(kpi.kind, Stock)
    dtype = events.schema["_b"] if "_b" in events.columns else pl.Date()
    if events.height == 0:
        return pl.DataFrame(
            schema={
                **dict.fromkeys(dims, pl.String),
                period_col: dtype,
                kpi.id: pl.Float64,
                kpi.id + N_SUFFIX: pl.Int64,
            }
        )
    lo: date = first or events["_b"].min()  # type: ignore[assignment]
    hi: date = last or events["_b"].max()  # type: ignore[assignment]
    first = lo
    if Grain(grain).is_interval:  # real elapsed intervals, stepped in UTC (46/50 on DST days)
        zone = getattr(dtype, "time_zone", None) or "UTC"
        assert isinstance(lo, datetime) and isinstance(hi, datetime)
        utc = pl.datetime_range(
            lo.astimezone(UTC), hi.astimezone(UTC), Grain(grain).every, time_zone="UTC", eager=True
        )
        grid = pl.DataFrame({"_b": utc.dt.convert_time_zone(zone)})
    else:
        grid = pl.DataFrame({"_b": pl.date_range(lo, hi, Grain(grain).every, eager=True)})
    keys = events.select(dims).unique() if dims else pl.DataFrame({"_k": [0]})
    full = keys.join(grid, how="cross")
    before = (
        events.filter(pl.col("_b") < first)
        .group_by(dims or pl.lit(0).alias("_k"))
        .agg(_level0=(pl.col("_open") - pl.col("_close")).sum())
    )
    inside = events.filter(pl.col("_b") >= first)
    if not dims:
        inside = inside.with_columns(_k=pl.lit(0))
        full_keys = ["_k"]
    else:
        full_keys = list(dims)
    table = (
        full.join(inside, on=[*full_keys, "_b"], how="left", nulls_equal=True)
        .join(before, on=full_keys, how="left", nulls_equal=True)
        .with_columns(pl.col("_open", "_close", "_lost", "_level0").fill_null(0))
        .sort([*full_keys, "_b"], nulls_last=True)
        .with_columns(
            _end=pl.col("_level0") + (pl.col("_open") - pl.col("_close")).cum_sum().over(full_keys)
        )
        .with_columns(_start=pl.col("_end") - pl.col("_open") + pl.col("_close"))
    )
    measure = kpi.kind.measure
    start = pl.col("_start")
    if measure == "end":
        value, n = pl.col("_end").cast(pl.Float64), pl.col("_end")
    elif measure == "retention":
        # N_k = opened in the bucket and still open at its end = opened − (closed − lost)
        still_new = pl.col("_open") - (pl.col("_close") - pl.col("_lost"))
        value = pl.when(start > 0).then((pl.col("_end") - still_new) / start)
        n = start
    else:
        value, n = pl.when(start > 0).then(pl.col("_lost") / start), start
    out = table.select(
        *dims,
        pl.col("_b").alias(period_col),
        value.alias(kpi.id),
        n.cast(pl.Int64).alias(kpi.id + N_SUFFIX),
    )
    if measure == "end":
        out = out.with_columns(pl.col(kpi.id).cast(pl.Int64))
    return out
