"""Compile KPI kinds into polars aggregation expressions: one builder per kind.

Each KPI becomes two expressions, `<id>` (the value) and `<id>__n` (the records it rests on),
valid inside `group_by().agg()` and `select()`. Booleans are cast to Int64 before they are
summed: a polars sum of booleans is UInt32 and a difference of two wraps around (the NPS trap).
A zero denominator gives null, never NaN or infinity.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from cscli.kpis.spec import (
    Count,
    Kind,
    Kpi,
    NetScore,
    Ratio,
    SqlAggregate,
    Stat,
    stat_quantile,
)

N_SUFFIX = "__n"


@cache
def sql(text: str) -> pl.Expr:
    """A SQL expression over canonical columns as a polars expression."""
    return pl.sql_expr(text)


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
        texts = [kind.numerator, kind.denominator, kind.where]
    elif isinstance(kind, Stat | NetScore):
        texts = [kind.value, kind.where]
    else:
        texts = [kind.expr]
    names: set[str] = set()
    for t in texts:
        if t:
            names.update(sql(t).meta.root_names())
    return names


def aggregations(kpi: Kpi) -> tuple[pl.Expr, pl.Expr]:
    """(value, n) expressions for one KPI, aliased `<id>` and `<id>__n`."""
    value, n = _build(kpi.kind)
    return value.alias(kpi.id), n.cast(pl.Int64).alias(kpi.id + N_SUFFIX)


def _build(kind: Kind) -> tuple[pl.Expr, pl.Expr]:
    if isinstance(kind, Count):
        n = _count(_mask(kind.where))
        return n, n
    if isinstance(kind, Ratio):
        num = _count(_mask(kind.where, kind.numerator))
        den = _count(_mask(kind.where, kind.denominator))
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
