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

StateTime is computed over agent-state segments split at the bucket edges, which only the
polars engine builds: `Unsupported`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlglot import exp

from cscli.conditions import Condition
from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.kinds import Unsupported, compiled, record_value
from cscli.kpis.columns import N_SUFFIX, OPEN_SUFFIX, matures
from cscli.kpis.spec import Kpi

__all__ = ["Unsupported", "aggregations", "alias", "breach", "record_value"]

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
