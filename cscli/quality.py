"""Data-quality findings: records a source or a KPI cannot use, counted with their first rows.

Checks run over the whole source as read (not only the report period), in the same
`collect_all` as the KPIs, so the scan is shared and nothing is dropped without being counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL, LoadedSource
from cscli.kpis.compile import sql
from cscli.kpis.spec import Kpi

EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class QualityIssue:
    source: str
    issue: str
    rows: int
    column: str | None = None
    examples: tuple[tuple[str, int], ...] = ()
    effect: str = ""


@dataclass(frozen=True, slots=True)
class SourceSummary:
    name: str
    files: tuple[Path, ...]
    rows: int
    mapping: Mapping[str, str]
    unmapped: tuple[str, ...]


def quality_query(source: LoadedSource, kpis: Sequence[Kpi]) -> pl.LazyFrame:
    """Count, over the whole source, the records each check flags, with the first rows."""
    exprs: list[pl.Expr] = [pl.len().alias("_rows")]
    checks = [(c.issue, c.predicate, c.column, c.effect) for c in source.checks]
    by_issue: dict[str, list[str]] = defaultdict(list)
    rules = {}
    for k in kpis:
        for rule in k.built.quality:
            if set(sql(rule.predicate).meta.root_names()) <= source.columns:
                by_issue[rule.issue].append(k.id)
                rules[rule.issue] = rule
    for issue, rule in rules.items():
        effect = f"excluded from {', '.join(by_issue[issue])}"
        checks.append((issue, sql(rule.predicate), rule.column, effect))
    for i, (_, predicate, _, _) in enumerate(checks):
        flag = predicate.fill_null(False)
        exprs.append(flag.cast(pl.Int64).sum().alias(f"_n{i}"))
        exprs.append(
            pl.struct(FILE_COL, ROW_COL).filter(flag).head(EXAMPLES).implode().alias(f"_x{i}")
        )
    return source.frame.select(exprs).with_columns(
        pl.lit([c[0] for c in checks] or [""], dtype=pl.List(pl.String)).alias("_issues"),
        pl.lit([c[2] or "" for c in checks] or [""], dtype=pl.List(pl.String)).alias("_cols"),
        pl.lit([c[3] for c in checks] or [""], dtype=pl.List(pl.String)).alias("_effects"),
    )


def quality_results(
    sources: Mapping[str, LoadedSource], parts: Mapping[str, pl.DataFrame]
) -> tuple[list[QualityIssue], list[SourceSummary]]:
    issues = []
    summaries = []
    for name, frame in parts.items():
        row = frame.row(0, named=True)
        labels, columns, effects = row["_issues"], row["_cols"], row["_effects"]
        for i in range(sum(1 for c in frame.columns if c.startswith("_n"))):
            count = row[f"_n{i}"]
            if count:
                examples = tuple((x[FILE_COL], int(x[ROW_COL])) for x in row[f"_x{i}"])
                issues.append(
                    QualityIssue(name, labels[i], count, columns[i] or None, examples, effects[i])
                )
        src = sources[name]
        summaries.append(SourceSummary(name, src.files, row["_rows"], src.mapping, src.unmapped))
    return issues, summaries
