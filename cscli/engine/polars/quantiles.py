"""Quantiles of a grouped query, computed apart from it on narrow (keys, value) frames.

Polars' streaming `group_by` has no quantile: a group_by that asks for one hands the whole
operation, with every input column, to the in-memory engine (at 10M tickets that was a
gigabyte and most of the batch's time). So a grouped query keeps its streamable aggregations,
and the quantile KPIs that share a value and a filter get one narrow query of their own: the
group keys and the kept values only. After the collect, the small tables are joined back on
the keys (a null key matches a null key) in the columns' original order; a group without any
kept value is not in the narrow table and gets null, as the quantile of no values is.

Each group's kept values are the same multiset either way, and polars' quantile depends only on
that multiset, so the values are polars' own `quantile(q, interpolation="linear")`, exactly.
The totals (a `select`, no group_by) stream as they are and keep their quantiles inline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from cscli.engine.polars.compile import aggregations, stat_values
from cscli.kpis.spec import Kpi, Stat, stat_quantile

_VALUE = "_q_value"


@dataclass
class Narrow:
    """The quantile KPIs over one value and filter: (alias, q) each."""

    value: pl.Expr
    keep: pl.Expr
    quantiles: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Split:
    """A grouped query's aggregations without their quantiles, the quantiles by value, and
    the aggregated columns in their original order."""

    streamed: list[pl.Expr]
    narrow: list[Narrow]
    order: list[str]


def split(kpis: Sequence[Kpi]) -> Split:
    """The aggregations of `kpis` (flow kinds) for a grouped query, quantiles set apart."""
    streamed: list[pl.Expr] = []
    narrow: list[Narrow] = []
    order: list[str] = []
    for k in kpis:
        exprs = aggregations(k)
        order += [e.meta.output_name() for e in exprs]
        q = stat_quantile(k.kind.stat) if isinstance(k.kind, Stat) else None
        if q is None or not isinstance(k.kind, Stat):
            streamed += exprs
            continue
        streamed += [e for e in exprs if e.meta.output_name() != k.id]
        value, keep = stat_values(k.kind)
        same = next((n for n in narrow if n.value.meta.eq(value) and n.keep.meta.eq(keep)), None)
        if same is None:
            same = Narrow(value, keep)
            narrow.append(same)
        same.quantiles.append((k.id, q))
    return Split(streamed, narrow, order)


def narrow_queries(lf: pl.LazyFrame, keys: Sequence[str], parts: Split) -> list[pl.LazyFrame]:
    """One query per value: its quantiles per group of `keys`, over the kept values only."""
    return [
        lf.select(*keys, n.value.alias(_VALUE), n.keep.alias("_q_keep"))
        .filter(pl.col("_q_keep"))
        .group_by(keys)
        .agg(
            pl.col(_VALUE).quantile(q, interpolation="linear").alias(alias)
            for alias, q in n.quantiles
        )
        for n in parts.narrow
    ]


def joined(
    grouped: pl.DataFrame, narrow: Sequence[pl.DataFrame], keys: Sequence[str], order: Sequence[str]
) -> pl.DataFrame:
    """The grouped table with its quantiles joined back, columns in their original order."""
    if not narrow:
        return grouped
    for part in narrow:
        grouped = grouped.join(part, on=list(keys), how="left", nulls_equal=True)
    return grouped.select(*keys, *order)
