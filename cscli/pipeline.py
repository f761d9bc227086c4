"""scan → clean → filter period → enrich (surveys ↔ contacts) → group → aggregate, collected once.

For every source the pipeline builds one lazy query per time anchor used by its KPIs (a KPI is
placed in periods by its own anchor: tickets created in the week for FRT, resolved in the week
for resolution time), one for the totals, and one data-quality query. All of them go to a
single `pl.collect_all`, where polars shares each source's scan between its queries.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from cscli.adapters import ADAPTERS
from cscli.adapters.base import FILE_COL, ROW_COL, LoadedSource
from cscli.adapters.generic import load_source
from cscli.config import Config, Grain
from cscli.errors import UsageError
from cscli.kpis.compile import N_SUFFIX, aggregations, columns_used, sql
from cscli.kpis.measures import MEASURES
from cscli.kpis.spec import Count, Kpi
from cscli.period import GRAIN_EVERY, Period
from cscli.schema import SURVEY_CONTACT_DIMENSIONS

PERIOD_COL = "period"
EXAMPLES = 5

#: surveys inherit these dimensions from the contact they rate, by the key that links them
SURVEY_LINKS = (("tickets", "ticket_id"), ("calls", "call_id"))


@dataclass(frozen=True, slots=True)
class KpiStatus:
    kpi: Kpi
    reason: str | None = None  # None = available

    @property
    def available(self) -> bool:
        return self.reason is None


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


@dataclass(frozen=True, slots=True)
class ReportRequest:
    kpi_ids: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    grain: Grain | None = None


@dataclass(frozen=True)
class ReportResult:
    """Everything a renderer needs. `table` has one row per group with the group columns, then
    `<id>` and `<id>__n` per available KPI; `totals` has one row with the same KPI columns."""

    config_path: Path
    timezone: str
    period: Period
    #: first and last local day with records, among the anchors of the KPIs computed
    data_span: tuple[date | None, date | None]
    by: tuple[str, ...]
    grain: Grain | None
    kpis: tuple[KpiStatus, ...]
    table: pl.DataFrame
    totals: pl.DataFrame
    data_quality: tuple[QualityIssue, ...]
    sources: tuple[SourceSummary, ...] = field(default=())

    @property
    def group_columns(self) -> tuple[str, ...]:
        return (*self.by, PERIOD_COL) if self.grain else self.by

    @property
    def available(self) -> tuple[Kpi, ...]:
        return tuple(s.kpi for s in self.kpis if s.available)

    @property
    def effective_period(self) -> tuple[date | None, date | None]:
        """The period asked for, with open ends closed by the data's span."""
        return (self.period.start or self.data_span[0], self.period.end or self.data_span[1])


# --- planning -----------------------------------------------------------------------------


def select_kpis(config: Config, requested: Sequence[str]) -> list[Kpi]:
    if not requested:
        if config.report.kpis:
            requested = config.report.kpis
        elif not config.kpis_explicit:
            # the default set: every built-in KPI whose source is configured
            return [k for k in config.kpis if k.source in config.sources]
        else:
            return list(config.kpis)
    known = {k.id: k for k in config.kpis}
    if not config.kpis_explicit:
        known.update({k.id: k for k in config.kpis})
    chosen = []
    for kpi_id in requested:
        if kpi_id not in known:
            match = difflib.get_close_matches(kpi_id, list(known), n=1)
            raise UsageError(
                f"unknown KPI {kpi_id!r}" + (f" (did you mean {match[0]!r}?)" if match else ""),
                hint="`cscli kpis` lists the catalogue; custom KPIs are defined under `kpis:`",
            )
        chosen.append(known[kpi_id])
    return chosen


def load_sources(config: Config, names: set[str]) -> dict[str, LoadedSource]:
    loaded = {}
    for name in sorted(names):
        cfg = config.sources[name]
        adapter = ADAPTERS.get(cfg.adapter)
        if adapter is None:
            match = difflib.get_close_matches(cfg.adapter, list(ADAPTERS), n=1)
            raise UsageError(
                f"sources.{name}.adapter: unknown adapter {cfg.adapter!r}"
                + (f" (did you mean {match[0]!r}?)" if match else ""),
                hint=f"adapters: {', '.join(ADAPTERS)}",
            )
        loaded[name] = load_source(name, cfg, config.base_dir, adapter, str(config.path))
    return loaded


def _survey_dimensions(sources: Mapping[str, LoadedSource]) -> set[str]:
    dims: set[str] = set()
    for contact, key in SURVEY_LINKS:
        if contact in sources and key in sources["surveys"].columns:
            dims.update(d for d in sources[contact].dimensions if d in SURVEY_CONTACT_DIMENSIONS)
    return dims


def _dimensions(name: str, sources: Mapping[str, LoadedSource]) -> set[str]:
    dims = set(sources[name].dimensions)
    if name == "surveys":
        dims |= _survey_dimensions(sources)
    return dims


def _status(kpi: Kpi, sources: Mapping[str, LoadedSource], by: Sequence[str]) -> KpiStatus:
    source = sources.get(kpi.source)
    if source is None:
        return KpiStatus(kpi, f"no {kpi.source} source in the config")
    needed = columns_used(kpi.kind) | {kpi.anchor} | set(kpi.base.requires)
    # a measure is missing because one of its inputs is: name the export's missing column
    measures = {m.name: m for m in MEASURES if m.table == kpi.source}
    for name in needed & measures.keys():
        needed = (needed - {name}) | set(measures[name].inputs)
    missing = sorted(needed - source.columns)
    if missing:
        return KpiStatus(kpi, f"{kpi.source} has no {', '.join(missing)} column")
    no_dim = [d for d in by if d not in _dimensions(kpi.source, sources)]
    if no_dim:
        return KpiStatus(kpi, f"{kpi.source} cannot be cut by {', '.join(no_dim)}")
    return KpiStatus(kpi)


def _enriched(name: str, sources: Mapping[str, LoadedSource], by: Sequence[str]) -> pl.LazyFrame:
    """The usable records of a source; surveys gain their contact's dimensions."""
    frame = sources[name].usable
    if name != "surveys":
        return frame
    survey = sources["surveys"]
    wanted = [d for d in by if d in SURVEY_CONTACT_DIMENSIONS]
    for contact, key in SURVEY_LINKS:
        if contact not in sources or key not in survey.columns:
            continue
        dims = [d for d in wanted if d in sources[contact].columns]
        if not dims:
            continue
        # one row per contact id, so a duplicated id cannot multiply survey responses
        lookup = (
            sources[contact]
            .usable.group_by(key)
            .agg(pl.col(d).first().alias(f"_{contact}_{d}") for d in dims)
        )
        frame = frame.join(lookup, on=key, how="left")
    for d in wanted:
        parts = [d] if d in survey.columns else []
        parts += [
            f"_{c}_{d}"
            for c, k in SURVEY_LINKS
            if c in sources and k in survey.columns and d in sources[c].columns
        ]
        if parts:
            frame = frame.with_columns(pl.coalesce(parts).alias(d))
    return frame


# --- running ------------------------------------------------------------------------------


def run_report(config: Config, request: ReportRequest, period: Period) -> ReportResult:
    kpis = select_kpis(config, request.kpi_ids)
    by = request.by
    if PERIOD_COL in by:
        raise UsageError("'period' is not a dimension; use --grain to slice by time")
    needed = {k.source for k in kpis if k.source in config.sources}
    if "surveys" in needed and by:
        needed |= {c for c, _ in SURVEY_LINKS if c in config.sources}
    sources = load_sources(config, needed)
    _check_dimensions(by, sources)
    statuses = [_status(k, sources, by) for k in kpis]
    available = [s.kpi for s in statuses if s.available]

    lo, hi = period.bounds_utc()
    queries: list[pl.LazyFrame] = []
    plan: list[tuple[str, str, str]] = []  # (kind, source, anchor) per query
    by_anchor: dict[tuple[str, str], list[Kpi]] = defaultdict(list)
    for k in available:
        by_anchor[(k.source, k.anchor)].append(k)
    frames = {name: _enriched(name, sources, by) for name in {s for s, _ in by_anchor}}

    for (name, anchor), group in by_anchor.items():
        lf = frames[name]
        if lo is not None:
            lf = lf.filter(pl.col(anchor) >= lo)
        if hi is not None:
            lf = lf.filter(pl.col(anchor) < hi)
        if lo is None or hi is None:
            lf = lf.filter(pl.col(anchor).is_not_null())
        exprs = [e for k in group for e in aggregations(k)]
        keys = list(by)
        if request.grain:
            local = pl.col(anchor).dt.convert_time_zone(config.timezone)
            bucket = local.dt.truncate(GRAIN_EVERY[request.grain]).dt.date().alias(PERIOD_COL)
            lf_keys = lf.with_columns(bucket)
            keys.append(PERIOD_COL)
        else:
            lf_keys = lf
        if keys:
            queries.append(lf_keys.group_by(keys).agg(exprs))
            plan.append(("group", name, anchor))
        local_anchor = pl.col(anchor).dt.convert_time_zone(config.timezone).dt.date()
        queries.append(
            lf.select(*exprs, local_anchor.min().alias("_first"), local_anchor.max().alias("_last"))
        )
        plan.append(("total", name, anchor))

    quality_sources = sorted(sources)
    for name in quality_sources:
        queries.append(_quality_query(sources[name], [k for k in available if k.source == name]))
        plan.append(("quality", name, ""))

    results = pl.collect_all(queries) if queries else []

    grouped = [r for r, (kind, _, _) in zip(results, plan, strict=True) if kind == "group"]
    totals_parts = [r for r, (kind, _, _) in zip(results, plan, strict=True) if kind == "total"]
    quality_parts = {
        name: r for r, (kind, name, _) in zip(results, plan, strict=True) if kind == "quality"
    }
    keys = [*by, PERIOD_COL] if request.grain else list(by)
    table = _merge(grouped, keys, available)
    firsts = [d for t in totals_parts for d in t["_first"].to_list() if d is not None]
    lasts = [d for t in totals_parts for d in t["_last"].to_list() if d is not None]
    totals = (
        pl.concat([t.drop("_first", "_last") for t in totals_parts], how="horizontal")
        if totals_parts
        else pl.DataFrame()
    )
    totals = _fill_counts(totals, available)
    issues, summaries = _quality_results(sources, quality_parts)
    return ReportResult(
        config_path=config.path,
        timezone=config.timezone,
        period=period,
        data_span=(min(firsts, default=None), max(lasts, default=None)),
        by=by,
        grain=request.grain,
        kpis=tuple(statuses),
        table=table,
        totals=totals,
        data_quality=tuple(issues),
        sources=tuple(summaries),
    )


def _check_dimensions(by: Sequence[str], sources: Mapping[str, LoadedSource]) -> None:
    everywhere: set[str] = set()
    for name in sources:
        everywhere |= _dimensions(name, sources)
    for d in by:
        if d not in everywhere:
            match = difflib.get_close_matches(d, sorted(everywhere), n=1)
            raise UsageError(
                f"--by {d}: no source has a dimension called {d!r}"
                + (f" (did you mean {match[0]!r}?)" if match else ""),
                hint=f"dimensions: {', '.join(sorted(everywhere)) or 'none'}; add export "
                "columns as dimensions with `extra_columns:`",
            )


def _merge(parts: list[pl.DataFrame], keys: list[str], kpis: Sequence[Kpi]) -> pl.DataFrame:
    """Outer-join the per-anchor results on the group keys; empty groups get 0 / null."""
    if not keys or not parts:
        return pl.DataFrame()
    table = parts[0]
    for part in parts[1:]:
        table = table.join(part, on=keys, how="full", coalesce=True, nulls_equal=True)
    table = _fill_counts(table, kpis)
    return table.sort(keys, nulls_last=True)


def _fill_counts(frame: pl.DataFrame, kpis: Sequence[Kpi]) -> pl.DataFrame:
    """A group with no records of a source has n = 0, and a count of 0 (other KPIs: null)."""
    fills = []
    for k in kpis:
        if k.id + N_SUFFIX in frame.columns:
            fills.append(pl.col(k.id + N_SUFFIX).fill_null(0))
            if isinstance(k.kind, Count):
                fills.append(pl.col(k.id).fill_null(0))
    return frame.with_columns(fills) if fills else frame


def _quality_query(source: LoadedSource, kpis: Sequence[Kpi]) -> pl.LazyFrame:
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


def _quality_results(
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
