"""Compile KPI kinds into SQL aggregates (sqlglot trees): the mirror of
`cscli.engine.polars.compile`, kind by kind, with exactly its semantics.

`aggregations(kpi, d, lo, hi)` gives the select items of one KPI for a GROUP BY (or a totals
SELECT) over the records of a window, aliased `<id>`, `<id>__n` (BIGINT) and, for a maturing
kind, `<id>__open`; `breach(kpi, d, cond, hi, columns)` gives the records behind a breach and
each one's value. The per-kind classes are in `cscli.engine.sql.kinds`.

The SQL spellings of polars' pieces (prototype measurements):

- a mask (null counts as false) is `COALESCE((p), FALSE)`;
- a count of a mask is `COUNT(CASE WHEN m THEN 1 END)` (Spark rejects SUM(boolean), and a SUM
  over zero rows is NULL where polars gives 0); no mask is `COUNT(*)`;
- a division is `CASE WHEN den > 0 THEN CAST(num AS DOUBLE) / den END`: zero → NULL, never
  NaN or infinity;
- a filtered aggregate `v.filter(keep).agg()` is `agg(CASE WHEN keep THEN v END)`.

A banded stock (an age band of the backlog) without a period end measures the ages at the
newest stamp of the records: the relation gets that column (`AS_OF`) from `as_of(kind, d, hi)`
first, over every record, as the polars engine does (`with_as_of`).

StateTime is computed over agent-state segments split at the bucket edges, which only the
polars engine builds: `Unsupported`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlglot import exp

from cscli.conditions import Condition
from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.kinds import AS_OF, Unsupported, as_of, column, compiled
from cscli.engine.sql.text import column_names
from cscli.kpis.columns import N_SUFFIX, OPEN_SUFFIX, kind_sql, matures
from cscli.kpis.measures import MEASURES
from cscli.kpis.spec import Count, DistinctRatio, Kind, Kpi, StateTime, Stock

__all__ = ["AS_OF", "Unsupported", "aggregations", "alias", "as_of", "breach", "record_value"]

#: dtype names of numeric columns (`CanonicalSource.columns`; polars' numeric, not Boolean)
NUMERIC = frozenset({"int", "float"})

#: (records to list, their per-record value or None)
Breach = tuple[exp.Expr, exp.Expr | None]


def alias(e: exp.Expr, name: str) -> exp.Expr:
    """`e AS "name"` (quoted: a KPI id or column is one identifier)."""
    return exp.Alias(this=e, alias=exp.to_identifier(name, quoted=True))


def aggregations(
    kpi: Kpi, d: Dialect, lo: datetime | None = None, hi: datetime | None = None
) -> list[exp.Expr]:
    """The select items (value, n[, open share]) of one KPI, aliased `<id>`, `<id>__n`
    (BIGINT) and, for a maturing KPI, `<id>__open` (DOUBLE).

    `lo` and `hi` bound the window [lo, hi) for stock kinds, which look at every record;
    flow kinds ignore them (the query keeps only the records whose anchor is in the window).
    Raises `Unsupported` for a kind the SQL engines do not compute (StateTime) and
    `SqlTextError` for SQL they cannot run exactly.
    """
    kind = compiled(kpi.kind, d)
    value, n = kind.value_n(lo, hi)
    items = [alias(value, kpi.id), alias(d.bigint(n), kpi.id + N_SUFFIX)]
    if matures(kpi.kind):
        items.append(alias(kind.open_share(), kpi.id + OPEN_SUFFIX))
    return items


def breach(
    kpi: Kpi,
    d: Dialect,
    cond: Condition | None,
    hi: datetime | None,
    columns: Mapping[str, str],
) -> Breach:
    """The records behind a failed or warned KPI (a predicate over its records), and each
    one's value (DOUBLE) or None; the rules of `cscli.engine.polars.compile.breach`.

    `cond` is the threshold that decided (None for a change rule); `columns` the records'
    columns → dtype names ("string", "int", "float", "bool", "datetime", "date", …: those of
    `CanonicalSource.columns`; measures and derived durations are "float")."""
    predicate, value = compiled(kpi.kind, d).breach(kpi.higher_is_better, cond, hi)
    if value is None:
        value = record_value(kpi.kind, d, columns)
    return predicate, value


# --- a record's own value -----------------------------------------------------------------


def record_value(kind: Kind, d: Dialect, columns: Mapping[str, str]) -> exp.Expr | None:
    """A record's own value for a kind without one (`cscli.engine.polars.compile.
    record_value`): the first numeric column its SQL names, else the duration measures of
    the timestamps it names (the first known), else None. `columns`: name → dtype name."""
    if isinstance(kind, Count | Stock | StateTime):
        return None
    named: list[str] = []
    # not a distinct ratio's key: a customer id is no value
    texts = [t for t in kind_sql(kind) if not isinstance(kind, DistinctRatio) or t != kind.key]
    for text in texts:
        named += sorted(column_names(text) - set(named), key=text.find)
    numeric = [c for c in named if columns.get(c) in NUMERIC]
    if numeric:
        return d.double(column(numeric[0]))
    durations = [
        m.name
        for c in named
        for m in MEASURES
        if c in m.inputs and m.kind == "seconds_between" and m.name in columns
    ]
    durations = list(dict.fromkeys(durations))
    if durations:
        return exp.Coalesce(
            this=d.double(column(durations[0])),
            expressions=[d.double(column(x)) for x in durations[1:]],
        )
    return None
