"""KPIs as polars columns: the kinds of `cscli.engine.polars.kinds`, aliased.

`aggregations` gives a KPI's value, n and open share over the records as `<id>`, `<id>__n` and
`<id>__open` (`cscli.kpis.columns`); `rollup` the same KPIs as parts aggregated per finest
group once, which the coarser groups and the totals merge instead of reading the records
again; `breach` and `record_value` the records behind a breached threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from cscli.conditions import Condition
from cscli.engine.polars.kinds import (
    Breach,
    Finished,
    compiled,
    parse_kind,
    sql,
    stat_values,
    with_as_of,
)
from cscli.kpis.columns import N_SUFFIX, OPEN_SUFFIX, kind_sql, matures
from cscli.kpis.measures import MEASURES
from cscli.kpis.spec import Count, DistinctRatio, Kind, Kpi, Stock
from cscli.sqlcheck import column_names

__all__ = [
    "Rollup",
    "aggregations",
    "breach",
    "compiled",
    "parse_kind",
    "record_value",
    "rollup",
    "sql",
    "stat_values",
    "with_as_of",
]


def aggregations(kpi: Kpi, lo: datetime | None = None, hi: datetime | None = None) -> list[pl.Expr]:
    """(value, n[, open share]) expressions for one KPI, aliased `<id>`, `<id>__n` and, for
    a maturing KPI, `<id>__open`.

    `lo` and `hi` bound the window [lo, hi) for stock kinds, which look at every record (a
    ticket created last year can be in this week's backlog); flow kinds ignore them because the
    engine has already kept only the records whose anchor falls in the window.
    """
    kind = compiled(kpi.kind)
    value, n = kind.value_n(lo, hi)
    exprs = [value.alias(kpi.id), n.cast(pl.Int64).alias(kpi.id + N_SUFFIX)]
    if matures(kpi.kind):
        exprs.append(kind.open_share().alias(kpi.id + OPEN_SUFFIX))
    return exprs


@dataclass(frozen=True)
class Rollup:
    """KPIs as parts: `parts` aggregate the records per group (columns `_p_<id>__<part>`),
    `merges` merge such groups' rows into their union's (the same columns, over a coarser
    group_by or the totals' select), `columns` make the KPIs' own columns of either. The
    quantiles' values are not parts: they roll up on their own (`cscli.engine.polars.quantiles`).

    Exact for counts, minima and maxima; a mean's sum of sums adds the same values in another
    order than one sum over the records (the last bit of a float can differ, as it does between
    polars' streaming and in-memory sums of the same values)."""

    parts: list[pl.Expr]
    merges: list[pl.Expr]
    columns: list[pl.Expr]


def rollup(kpis: Sequence[Kpi]) -> Rollup | None:
    """The KPIs as parts that merge across groups; None when one of them has none (a distinct
    count, a SQL aggregate)."""
    out = Rollup([], [], [])
    for kpi in kpis:
        kind = compiled(kpi.kind)
        parts = kind.parts()
        if parts is None:
            return None
        names = {name: f"_p_{kpi.id}__{name}" for name in parts}
        for name, (expr, merge) in parts.items():
            out.parts.append(expr.alias(names[name]))
            column = pl.col(names[name])
            out.merges.append(getattr(column, merge)().alias(names[name]))
        finished = kind.finish({name: pl.col(alias) for name, alias in names.items()})
        out.columns.extend(_columns(kpi, finished))
    return out


def _columns(kpi: Kpi, finished: Finished) -> list[pl.Expr]:
    value, n, share = finished
    exprs = [] if value is None else [value.alias(kpi.id)]
    exprs.append(n.cast(pl.Int64).alias(kpi.id + N_SUFFIX))
    if share is not None:
        exprs.append(share.alias(kpi.id + OPEN_SUFFIX))
    return exprs


def breach(
    kpi: Kpi, cond: Condition | None, hi: datetime | None, schema: Mapping[str, pl.DataType]
) -> Breach:
    """The records behind a failed or warned KPI, and each one's value.

    `cond` is the threshold that decided (None for a change rule: every record the KPI counts).
    A duration or score statistic lists the records whose own value breaks the threshold
    (the tickets answered later than 1h); a rate lists the records that pulled it the wrong
    way (unsatisfied responses for CSAT, abandoned calls for abandonment); NPS its detractors;
    a stock the records open at the end (`hi`); a volume (Count) no record at all (every
    record is "behind" a volume: listing them says nothing); anything else every record.

    Each record's value: a statistic's or a net score's own value (the duration, the score);
    for a rate and any other kind, `record_value` (the score for CSAT, the wait for
    abandonment); for a stock, the record's age at `hi`. `schema` is the records' columns.
    """
    predicate, value = compiled(kpi.kind).breach(kpi.higher_is_better, cond, hi)
    if value is None:
        value = record_value(kpi.kind, schema)
    return predicate, value


def record_value(kind: Kind, schema: Mapping[str, pl.DataType]) -> pl.Expr | None:
    """A record's own value for a kind without one (a rate, a stock, a SQL aggregate): the
    first numeric column its SQL names (`score` in CSAT's `score >= 4`, `answer_seconds` in
    service level's), else the duration measures built from the timestamps it names, the
    first that is known (abandonment's `answered_at IS NULL`: the wait, `wait_seconds`);
    for a stock, the time from its `opened` to the end of the period. None when there is none.
    """
    if isinstance(kind, Count):
        return None
    if isinstance(kind, Stock):
        return None  # its age needs the period's end: see `_Stock.breach`
    named: list[str] = []
    # not a distinct ratio's key: a customer id is no value
    texts = [t for t in kind_sql(kind) if not isinstance(kind, DistinctRatio) or t != kind.key]
    for text in texts:
        named += sorted(column_names(text) - set(named), key=text.find)
    numeric = [c for c in named if c in schema and _is_number(schema[c])]
    if numeric:
        return pl.col(numeric[0]).cast(pl.Float64)
    durations = [
        m.name
        for c in named
        for m in MEASURES
        if c in m.inputs and m.kind == "seconds_between" and m.name in schema
    ]
    durations = list(dict.fromkeys(durations))
    if durations:
        return pl.coalesce([pl.col(d).cast(pl.Float64) for d in durations])
    return None


def _is_number(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() and dtype != pl.Boolean
