"""Compile KPI kinds into polars aggregation expressions: one builder per kind.

Each KPI becomes two expressions, `<id>` (the value) and `<id>__n` (the records it rests on),
valid inside `group_by().agg()` and `select()`. Booleans are cast to Int64 before they are
summed: a polars sum of booleans is UInt32 and a difference of two wraps around (the NPS trap).
A zero denominator gives null, never NaN or infinity.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

import polars as pl

from cscli.kpis.spec import (
    Count,
    DistinctRatio,
    Kind,
    Kpi,
    NetScore,
    Ratio,
    SqlAggregate,
    Stat,
    Stock,
    stat_quantile,
)
from cscli.results import N_SUFFIX as N_SUFFIX  # the flat frames name the columns
from cscli.results import OPEN_SUFFIX as OPEN_SUFFIX
from cscli.sqlcheck import parse


@cache
def sql(text: str) -> pl.Expr:
    """A SQL expression over canonical columns as a polars expression.

    The text passes `cscli.sqlcheck` first (no subqueries, no table functions, bounded size):
    raises `SqlError` (a ValueError) otherwise, before polars reads it.
    """
    return parse(text)


def _mask(*predicates: str | None) -> pl.Expr | None:
    """A boolean mask in which null (unknown) counts as false; None when nothing filters."""
    expr: pl.Expr | None = None
    for p in predicates:
        if p:
            term = sql(p).fill_null(False)
            expr = term if expr is None else expr & term
    return expr


def _count(mask: pl.Expr | None) -> pl.Expr:
    return pl.len().cast(pl.Int64) if mask is None else mask.cast(pl.Int64).sum()


def _safe_div(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None)


def columns_used(kind: Kind) -> set[str]:
    """Every column (canonical or measure) the kind's SQL refers to."""
    texts: list[str | None]
    if isinstance(kind, Count):
        texts = [kind.where]
    elif isinstance(kind, Ratio):
        texts = [kind.numerator, kind.denominator, kind.where, kind.judged]
    elif isinstance(kind, Stat | NetScore):
        texts = [kind.value, kind.where]
    elif isinstance(kind, DistinctRatio):
        texts = [kind.key, kind.numerator, kind.where, kind.judged]
    elif isinstance(kind, Stock):
        texts = [kind.opened, kind.closed, kind.where]
    else:
        texts = [kind.expr]
    names: set[str] = set()
    for t in texts:
        if t:
            names.update(sql(t).meta.root_names())
    return names


def pending_columns(kind: Kind) -> set[str]:
    """The columns of a kind's optional `pending` predicate (dropped when the source lacks
    them: the value is still exact, only its maturity cannot be told)."""
    pending = getattr(kind, "pending", None)
    return set(sql(pending).meta.root_names()) if pending else set()


def aggregations(kpi: Kpi, lo: datetime | None = None, hi: datetime | None = None) -> list[pl.Expr]:
    """(value, n[, open share]) expressions for one KPI, aliased `<id>`, `<id>__n` and, for
    a maturing KPI, `<id>__open`.

    `lo` and `hi` bound the window [lo, hi) for stock kinds, which look at every record (a
    ticket created last year can be in this week's backlog); flow kinds ignore them because the
    pipeline has already kept only the records whose anchor falls in the window.
    """
    if isinstance(kpi.kind, Stock):
        value, n = stock_aggregation(kpi.kind, lo, hi)
    else:
        value, n = _build(kpi.kind)
    exprs = [value.alias(kpi.id), n.cast(pl.Int64).alias(kpi.id + N_SUFFIX)]
    share = open_share(kpi.kind)
    if share is not None:
        exprs.append(share.alias(kpi.id + OPEN_SUFFIX))
    return exprs


def open_share(kind: Kind) -> pl.Expr | None:
    """The share of the cohort whose outcome is not known yet, or None for a KPI that does
    not mature (null when the cohort is empty)."""
    if isinstance(kind, Ratio) and (kind.judged or kind.pending):
        cohort = _mask(kind.where, kind.denominator)
        unknown = _unknown(kind.judged) if kind.judged else _mask(kind.pending)
        assert unknown is not None
        both = unknown if cohort is None else cohort & unknown
        return _safe_div(_count(both), _count(cohort))
    if isinstance(kind, Stat) and kind.pending:
        cohort = _mask(kind.where)
        return _safe_div(_count(_mask(kind.where, kind.pending)), _count(cohort))
    if isinstance(kind, DistinctRatio) and kind.judged:
        every, judged = _distinct_counts(kind)[0:2]
        return _safe_div(every - judged, every)
    return None


def _distinct_counts(kind: DistinctRatio) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(keys in the population, keys judged, keys in the numerator).

    With `judged`, a key is judged when one of its records is in the numerator or all of its
    records are judged: |all| − |U \\ S| with U the keys of an unjudged record and S the
    numerator's keys, and |U \\ S| = |U ∪ S| − |S|."""
    key = sql(kind.key)

    def distinct(mask: pl.Expr | None) -> pl.Expr:
        values = key.filter(mask) if mask is not None else key
        return values.drop_nulls().n_unique().cast(pl.Int64)

    where = _mask(kind.where)
    hit = _mask(kind.numerator)
    assert hit is not None
    every = distinct(where)
    num = distinct(hit if where is None else where & hit)
    if kind.judged is None:
        return every, every, num
    unknown_or_hit = _unknown(kind.judged) | hit
    unknown_or_hit = unknown_or_hit if where is None else where & unknown_or_hit
    return every, every - distinct(unknown_or_hit) + num, num


def _unknown(judged: str) -> pl.Expr:
    """Records not judged: the predicate does not hold *or is unknown* (null)."""
    mask = _mask(judged)
    assert mask is not None
    return ~mask


def open_between(kind: Stock, at: datetime | None) -> pl.Expr:
    """Records open at instant `at` (or still open, after the last record, when None)."""
    opened, closed = pl.col(kind.opened), pl.col(kind.closed)
    if at is None:
        return opened.is_not_null() & closed.is_null()
    return (opened < at) & (closed.is_null() | (closed >= at))


def stock_aggregation(
    kind: Stock, lo: datetime | None, hi: datetime | None
) -> tuple[pl.Expr, pl.Expr]:
    where = _mask(kind.where)

    def keep(e: pl.Expr) -> pl.Expr:
        return e if where is None else e & where

    end = _count(keep(open_between(kind, hi)))
    if kind.measure == "end":
        return end, end
    opened, closed = pl.col(kind.opened), pl.col(kind.closed)
    if lo is None:  # no period start: nobody is "active at the start"
        zero = pl.lit(0, dtype=pl.Int64)
        return pl.lit(None, dtype=pl.Float64), zero
    start = _count(keep(open_between(kind, lo)))
    if kind.measure == "retention":
        # N: customers who started in the period and are still active at its end
        in_window = opened >= lo if hi is None else (opened >= lo) & (opened < hi)
        new = _count(keep(in_window & open_between(kind, hi)))
        return _safe_div(end - new, start), start
    closed_in = closed >= lo if hi is None else (closed >= lo) & (closed < hi)
    lost = _count(keep((opened < lo) & closed_in))
    return _safe_div(lost, start), start


def _build(kind: Kind) -> tuple[pl.Expr, pl.Expr]:
    if isinstance(kind, Count):
        n = _count(_mask(kind.where))
        return n, n
    if isinstance(kind, Ratio):
        num = _count(_mask(kind.where, kind.denominator, kind.judged, kind.numerator))
        den = _count(_mask(kind.where, kind.denominator, kind.judged))
        return _safe_div(num, den), den
    if isinstance(kind, Stat):
        v = sql(kind.value).cast(pl.Float64)
        keep = v.is_not_null()
        where = _mask(kind.where)
        if where is not None:
            keep = keep & where
        if kind.nonnegative:
            keep = keep & (v >= 0)
        values = v.filter(keep)
        return _statistic(values, kind.stat), values.count()
    if isinstance(kind, NetScore):
        v = sql(kind.value).cast(pl.Float64)
        where = _mask(kind.where)
        values = v.filter(v.is_not_null() if where is None else v.is_not_null() & where)
        promoters = (values >= kind.promoter_min).cast(pl.Int64).sum()
        detractors = (values <= kind.detractor_max).cast(pl.Int64).sum()
        n = values.count()
        return _safe_div((promoters - detractors) * 100, n), n
    if isinstance(kind, DistinctRatio):
        _, den, num = _distinct_counts(kind)
        return _safe_div(num, den), den
    assert isinstance(kind, SqlAggregate)
    return sql(kind.expr).cast(pl.Float64), pl.len().cast(pl.Int64)


def _statistic(values: pl.Expr, stat: str) -> pl.Expr:
    q = stat_quantile(stat)
    if q is not None:
        return values.quantile(q, interpolation="linear")
    if stat == "mean":
        return values.mean()
    if stat == "min":
        return values.min()
    return values.max()
