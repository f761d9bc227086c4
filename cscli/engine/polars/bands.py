"""Age bands in business time (`backlog_age` with `hours: business`) on polars.

A record opened at o is aged [a, b) in business time at t when a ≤ B(t) − B(o) < b, B being
its calendar's open time (`business_time`). B is continuous and never decreases, so that is
B⁻¹(B(o) + a) ≤ t < B⁻¹(B(o) + b) (`business_after`): the band is an interval of instants,
computed once per record (`BAND_FROM`, `BAND_BELOW`), and a level at t, or the event counts
of the stock buckets, compare instants exactly as the calendar bands do. A record whose band
starts past the calendar's covered years never enters it; one whose band ends past them never
leaves it (until it closes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from cscli.kpis.spec import Kind, Stock

if TYPE_CHECKING:
    from cscli.business_hours.assignment import BusinessHours

#: the instant a record enters its business band (absent for a band from age 0)
BAND_FROM = "_band_from"
#: the instant it leaves it (absent for the last band)
BAND_BELOW = "_band_below"


def business_banded(kind: Kind) -> bool:
    return isinstance(kind, Stock) and kind.banded and kind.age_hours == "business"


def with_business_bands(
    frame: pl.LazyFrame, kind: Kind, hours: BusinessHours | None, source: str
) -> pl.LazyFrame:
    """The records with `BAND_FROM` / `BAND_BELOW` for a business-time band; the frame as it
    is otherwise (availability refuses the KPI when the source has no calendar)."""
    if not business_banded(kind) or hours is None:
        return frame
    assert isinstance(kind, Stock)
    exprs = []
    if kind.age_from:
        exprs.append(_after(pl.col(kind.opened), kind.age_from, hours, source).alias(BAND_FROM))
    if kind.age_below is not None:
        exprs.append(_after(pl.col(kind.opened), kind.age_below, hours, source).alias(BAND_BELOW))
    return frame.with_columns(exprs) if exprs else frame


def in_business_band(kind: Stock, when: pl.Expr) -> pl.Expr:
    """Whether the record is in its business band at instant `when` (null = no)."""
    inside = pl.lit(True)
    if kind.age_from:
        inside = inside & (when >= pl.col(BAND_FROM))
    if kind.age_below is not None:
        below = pl.col(BAND_BELOW)
        inside = inside & (below.is_null() | (when < below))
    return inside


def _after(start: pl.Expr, seconds: float, hours: BusinessHours, source: str) -> pl.Expr:
    """B⁻¹(B(start) + seconds) under the source's calendar(s)."""
    from cscli.engine.polars.business_time import business_after

    assigned = hours.for_source(source)
    assert assigned is not None
    if isinstance(assigned, str):
        return business_after(start, seconds, hours.calendars[assigned])
    expr: Any = pl
    for value, cal in assigned.map.items():
        then = business_after(start, seconds, hours.calendars[cal])
        expr = expr.when(pl.col(assigned.by) == value).then(then)
    fallback = (
        business_after(start, seconds, hours.calendars[assigned.default])
        if assigned.default
        else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    )
    return expr.otherwise(fallback)  # type: ignore[no-any-return]
