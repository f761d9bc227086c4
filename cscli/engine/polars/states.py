"""Agent state rows split exactly at bucket edges (`StateTime` KPIs: occupancy,
agents_staffed), vectorised: each row gets the list of bucket starts it touches
(`pl.datetime_ranges` in the config's zone, so a DST day's buckets are real elapsed time),
is exploded to one segment per bucket and clipped to the bucket, the window [lo, hi) and the
data's span.

A row without `ended_at` (or an export without the column, one row per state change) lasts
to the same agent's next row, and the agent's last one to the export time (the latest start
or end of the source). A row with an unknown state or ending before it starts is left out
(counted as a finding by the loader). Overlapping rows of one agent both count (a finding too).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from cscli.engine.base import PERIOD_COL
from cscli.engine.polars.measures import seconds
from cscli.period import Grain
from cscli.schema import AGENT_STATE_NAMES


def segments(
    frame: pl.LazyFrame,
    dims: Sequence[str],
    grain: str | None,
    timezone: str,
    lo: datetime | None,
    hi: datetime | None,
) -> pl.LazyFrame:
    """One row per (state row, bucket) with time inside it: dims, PERIOD_COL (with a grain),
    `state`, `_sec` (its seconds there), `_len` (the bucket's seconds inside the window and
    the data) and `_seg` (the state row)."""
    names = frame.collect_schema().names()
    utc = pl.Datetime("us", "UTC")
    start = pl.col("started_at").dt.convert_time_zone("UTC").cast(utc)
    if "ended_at" in names:
        end = pl.col("ended_at").dt.convert_time_zone("UTC").cast(utc)
    else:
        end = pl.lit(None, dtype=utc)
    agent = ["agent"] if "agent" in names else []
    lf = (
        frame.with_row_index("_seg")
        .select(*dict.fromkeys([*dims, *agent]), "_seg", "state", _s=start, _e=end)
        .sort([*agent, "_s"], nulls_last=True)
    )
    # the data's span: the first start to the export time (the latest instant); a row without
    # an end lasts to the agent's next row, or (the last one) to the export time
    nxt = pl.col("_s").shift(-1)
    lf = lf.with_columns(
        _d0=pl.col("_s").min(),
        _d1=pl.max_horizontal(pl.col("_s").max(), pl.col("_e").max()),
        _next=nxt.over(agent) if agent else nxt,
    )
    lf = lf.with_columns(_e=pl.coalesce(pl.col("_e"), pl.col("_next"), pl.col("_d1")))
    lf = lf.filter(
        pl.col("_s").is_not_null()
        & pl.col("state").is_in(AGENT_STATE_NAMES)
        & (pl.col("_e") >= pl.col("_s"))
    )
    first = pl.col("_d0") if lo is None else pl.max_horizontal(pl.col("_d0"), pl.lit(lo))
    last = pl.col("_d1") if hi is None else pl.min_horizontal(pl.col("_d1"), pl.lit(hi))
    if grain is None:
        b0, b1 = first, last
    else:
        every = Grain(grain).every
        local_s = pl.col("_s").dt.convert_time_zone(timezone)
        local_e = pl.col("_e").dt.convert_time_zone(timezone)
        starts = pl.datetime_ranges(local_s.dt.truncate(every), local_e, every, closed="both")
        lf = lf.with_columns(_b=starts).explode("_b").filter(pl.col("_b").is_not_null())
        b0 = pl.col("_b").dt.convert_time_zone("UTC")
        b1 = pl.col("_b").dt.offset_by(every).dt.convert_time_zone("UTC")
        b0, b1 = pl.max_horizontal(b0, first), pl.min_horizontal(b1, last)
    seg0 = pl.max_horizontal(pl.col("_s"), b0)
    seg1 = pl.min_horizontal(pl.col("_e"), b1)
    out = lf.with_columns(
        _sec=seconds(seg1 - seg0),
        _len=seconds(b1 - b0),
    ).filter(pl.col("_sec") > 0)
    cols = [*dims, "_seg", "state", "_sec", "_len"]
    if grain is not None:
        period = pl.col("_b") if Grain(grain).is_interval else pl.col("_b").dt.date()
        out = out.with_columns(period.alias(PERIOD_COL))
        cols.append(PERIOD_COL)
    return out.select(cols)
