"""Data-quality counts on polars: the records each check flags, over the whole source.

Checks run over the whole source as read (not only the report period), in the same
`collect_all` as the KPIs, so the scan is shared and nothing is dropped without being counted.
The findings are the engine-neutral `cscli.quality` results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.engine.polars.compile import sql
from cscli.engine.polars.loader import LoadedSource
from cscli.kpis.spec import Kpi
from cscli.quality import EXAMPLES, QualityIssue, SourceSummary


@dataclass(frozen=True, slots=True)
class Check:
    issue: str
    predicate: pl.Expr
    column: str | None
    effect: str
    #: the loader's cheaper count (`QualityCheck.count`): the count, or -1 = count `predicate`
    count: pl.Expr | None = None


def quality_checks(source: LoadedSource, kpis: Sequence[Kpi]) -> list[Check]:
    """The source's own checks, then the KPIs' rules (e.g. scores outside a KPI's scale)."""
    checks = [Check(c.issue, c.predicate, c.column, c.effect, c.count) for c in source.checks]
    by_issue: dict[str, list[str]] = defaultdict(list)
    rules = {}
    for k in kpis:
        for rule in k.built.quality:
            applies = set(sql(rule.predicate).meta.root_names()) <= source.columns
            if applies and not set(rule.absent) & source.columns:
                by_issue[rule.issue].append(k.id)
                rules[rule.issue] = rule
    for issue, rule in rules.items():
        effect = f"excluded from {', '.join(by_issue[issue])}"
        checks.append(Check(issue, sql(rule.predicate), rule.column, effect))
    return checks


def quality_query(source: LoadedSource, checks: Sequence[Check]) -> pl.LazyFrame:
    """Count, over the whole source, the records each check flags (one row: _rows, _n0…).

    Only counts: collecting example rows here too doubled the cost of the pass at 10M rows;
    `quality_results` fetches the first rows of the few checks that found something."""
    from cscli.engine.polars.facts import source_end

    return source.frame.select(
        pl.len().alias("_rows"),
        source_end(source.name, source.columns).alias("_end"),
        *(_count(c).alias(f"_n{i}") for i, c in enumerate(checks)),
    )


def _count(check: Check) -> pl.Expr:
    flagged = check.predicate.fill_null(False).sum().cast(pl.Int64)
    return flagged if check.count is None else check.count.cast(pl.Int64)


def _recount(
    sources: Mapping[str, LoadedSource],
    checks: Mapping[str, Sequence[Check]],
    counts: Mapping[str, pl.DataFrame],
) -> dict[str, dict[str, int]]:
    """The counts a check's cheaper way could not tell (-1: e.g. ids not in ascending order),
    by its predicate: one more query per such source, after the batch, so that its cost (a
    hash set of every id) is not added to the batch's peak."""
    todo = {
        name: [i for i in range(len(checks[name])) if frame[f"_n{i}"][0] == -1]
        for name, frame in counts.items()
    }
    todo = {name: idx for name, idx in todo.items() if idx}
    queries = [
        sources[name].frame.select(
            checks[name][i].predicate.fill_null(False).sum().cast(pl.Int64).alias(f"_n{i}")
            for i in idx
        )
        for name, idx in todo.items()
    ]
    frames = pl.collect_all(queries) if queries else []
    return {name: f.row(0, named=True) for name, f in zip(todo, frames, strict=True)}


def quality_results(
    sources: Mapping[str, LoadedSource],
    checks: Mapping[str, Sequence[Check]],
    counts: Mapping[str, pl.DataFrame],
) -> tuple[list[QualityIssue], list[SourceSummary]]:
    """Findings with their first rows, and a summary per source. The first rows come from
    one small query per finding (a filter and a head: the scan stops early), collected
    together; a clean source costs nothing here."""
    found: list[tuple[str, Check, int]] = []
    summaries = []
    recounted = _recount(sources, checks, counts)
    for name, frame in counts.items():
        row = frame.row(0, named=True) | recounted.get(name, {})
        for i, check in enumerate(checks[name]):
            if row[f"_n{i}"]:
                found.append((name, check, int(row[f"_n{i}"])))
        src = sources[name]
        read = src.reader.note if src.reader is not None else ""
        summaries.append(
            SourceSummary(name, src.files, row["_rows"], src.mapping, src.unmapped, read)
        )
    queries = [
        sources[name]
        .frame.filter(check.predicate.fill_null(False))
        .select(FILE_COL, ROW_COL)
        .head(EXAMPLES)
        for name, check, _ in found
    ]
    examples = pl.collect_all(queries) if queries else []
    counted = [
        QualityIssue(
            name,
            check.issue,
            count,
            check.column,
            tuple((f, int(r)) for f, r in rows.select(FILE_COL, ROW_COL).iter_rows()),
            check.effect,
        )
        for (name, check, count), rows in zip(found, examples, strict=True)
    ]
    # a source read back from `cscli ingest` brings the findings of its own checks
    issues = [
        issue
        for name in counts
        for issue in (*sources[name].findings, *(i for i in counted if i.source == name))
    ]
    return issues, summaries


def find_issues(source: LoadedSource, kpis: Sequence[Kpi] = ()) -> list[QualityIssue]:
    """The findings of one source on its own (tests, tools)."""
    checks = quality_checks(source, kpis)
    counts = quality_query(source, checks).collect()
    return quality_results({source.name: source}, {source.name: checks}, {source.name: counts})[0]
