"""The duration measures as polars expressions (the data of each is in `cscli.kpis.measures`).

Durations are measured in seconds, as Float64 and microsecond-exact; a measure is null where it
would be negative, so that no KPI can use a duration that went backwards.
"""

from __future__ import annotations

import polars as pl

from cscli.kpis.measures import Measure

#: seconds per microsecond: durations are µs × 1e-6 everywhere (a multiply has one result on
#: every path; polars' Int64 / 1e6 is sometimes a multiply by the reciprocal, sometimes not)
MICRO = 1 / 1_000_000


def seconds(delta: pl.Expr) -> pl.Expr:
    """A Duration expression in seconds, Float64: µs × MICRO."""
    return delta.dt.total_microseconds() * MICRO


def _raw(m: Measure) -> pl.Expr:
    if m.kind == "seconds_between":
        start, end, *fallback = m.inputs
        end_expr = pl.coalesce(end, *fallback) if fallback else pl.col(end)
        return seconds(end_expr - pl.col(start))
    talk, hold, wrap = m.inputs
    return pl.col(talk) + pl.col(hold).fill_null(0.0) + pl.col(wrap).fill_null(0.0)


def invalid_expr(m: Measure) -> pl.Expr:
    """Records whose measure cannot be trusted: a negative duration or component."""
    if m.kind == "seconds_between":
        return _raw(m) < 0
    return pl.any_horizontal(pl.col(c) < 0 for c in m.inputs).fill_null(False)


def measure_expr(m: Measure) -> pl.Expr:
    """The measure, null where `invalid_expr` holds (so no KPI can use a negative duration)."""
    return pl.when(invalid_expr(m).not_()).then(_raw(m)).alias(m.name)
