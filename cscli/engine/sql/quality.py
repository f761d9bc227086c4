"""Data-quality counts in SQL: the KPI quality rules over every row of a source.

A source's own findings (rows without required values, unreadable stamps…) were counted when
it was loaded and come with its canonical Parquet (`CanonicalSource.findings`, exactly the
polars engine's); what is counted here are the rules of the KPIs a run computes (a score
outside a KPI's scale), over the whole source as read, usable or not (as
`cscli.engine.polars.quality`), with the first rows of each finding by `_file, _row`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.relations import (
    FILE_COL,
    ROW_COL,
    Relation,
    SqlSource,
    alias,
    col,
    measure_expr,
    subquery,
)
from cscli.engine.sql.text import column_names, compile_sql
from cscli.kpis.measures import measures_for
from cscli.kpis.spec import Kpi
from cscli.quality import EXAMPLES


@dataclass(frozen=True, slots=True)
class Rule:
    """One KPI quality rule that applies to a source: its issue, SQL predicate, the column it
    names and its effect ("excluded from csat, ces")."""

    issue: str
    predicate: str
    column: str | None
    effect: str


def rules_for(source: SqlSource, kpis: Sequence[Kpi]) -> list[Rule]:
    """The KPIs' rules whose columns the source has (and not the columns of a variant), in
    the order of `cscli.engine.polars.quality.quality_checks`."""
    by_issue: dict[str, list[str]] = defaultdict(list)
    rules = {}
    for k in kpis:
        for rule in k.built.quality:
            applies = column_names(rule.predicate) <= source.columns
            if applies and not set(rule.absent) & source.columns:
                by_issue[rule.issue].append(k.id)
                rules[rule.issue] = rule
    return [
        Rule(issue, r.predicate, r.column, f"excluded from {', '.join(by_issue[issue])}")
        for issue, r in rules.items()
    ]


def every_row(source: SqlSource, d: Dialect) -> Relation:
    """Every row of the source as read (usable or not), with its load-stage measures."""
    rows = source.all_rows()
    measures = measures_for(source.canonical.table, set(source.data_columns))
    if not measures:
        return rows
    return rows.with_columns(**{m.name: measure_expr(m, d) for m in measures})


def _flag(rule: Rule, d: Dialect) -> exp.Expr:
    return exp.func("COALESCE", exp.Paren(this=compile_sql(rule.predicate, d)), exp.false())


def counts_query(source: SqlSource, rules: Sequence[Rule], d: Dialect) -> exp.Expr:
    """One row: `_n0`, `_n1`… the rows each rule flags (BIGINT)."""
    items = [
        alias(
            d.bigint(
                exp.Count(
                    this=exp.Case(ifs=[exp.If(this=_flag(r, d), true=exp.Literal.number("1"))])
                )
            ),
            f"_n{i}",
        )
        for i, r in enumerate(rules)
    ]
    return exp.Select(expressions=items).from_(subquery(every_row(source, d).query, "_r"))


def examples_query(source: SqlSource, rule: Rule, d: Dialect) -> exp.Expr:
    """The first rows a rule flags (by `_file, _row`), as `_file`, `_row`."""
    return (
        exp.Select(expressions=[col(FILE_COL), col(ROW_COL)])
        .from_(subquery(every_row(source, d).query, "_r"))
        .where(_flag(rule, d))
        .order_by(col(FILE_COL), col(ROW_COL))
        .limit(EXAMPLES)
    )
