"""scan → clean → filter period → enrich → group → aggregate, collected once.

For every source the pipeline builds one lazy query per time anchor used by its KPIs (a KPI is
placed in periods by its own anchor: tickets created in the week for FRT, resolved in the week
for resolution time), one for the totals, event queries for stock KPIs (backlog, retention), and
one data-quality query; with `--compare` the same again for the previous window. All of them go
to a single `pl.collect_all`, where polars shares each source's scan between its queries.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from cscli.adapters import ADAPTERS
from cscli.adapters.base import LoadedSource
from cscli.adapters.generic import load_source
from cscli.availability import (
    BusinessHours,
    KpiStatus,
    business_hours,
    check_dimensions,
    kpi_status,
)
from cscli.config import Config, Grain
from cscli.derived import CONTACT_MEASURES, CONTACT_SOURCES, WINDOW_MEASURES
from cscli.engine.polars.enrich import Progress, enriched, with_age
from cscli.errors import UsageError
from cscli.kpis.catalog import CATALOG
from cscli.kpis.compile import N_SUFFIX, OPEN_SUFFIX, aggregations, columns_used, pending_columns
from cscli.kpis.spec import Count, Kpi, Stock, instantiate
from cscli.period import Period, add_months, add_years
from cscli.quality import (
    QualityIssue,
    SourceSummary,
    quality_checks,
    quality_query,
    quality_results,
)
from cscli.stocks import bucket, events_query, levels

PERIOD_COL = "period"
PREV_SUFFIX = "__prev"
#: a maturing KPI is provisional while more than this share of its cohort is still open
PROVISIONAL_SHARE = 0.05

__all__ = [
    "PERIOD_COL",
    "PREV_SUFFIX",
    "KpiStatus",
    "QualityIssue",
    "ReportRequest",
    "ReportResult",
    "SourceSummary",
    "run_report",
]


@dataclass(frozen=True, slots=True)
class ReportRequest:
    kpi_ids: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    grain: Grain | None = None
    compare: bool = False
    #: what the values are compared with: `previous` (the previous calendar months, else
    #: the window of equal length before) or `yoy` (the same dates one year earlier)
    compare_to: str = "previous"
    #: also compute per-bucket totals across all groups (the terminal's trend sparklines)
    trend: bool = False


@dataclass(frozen=True)
class ReportResult:
    """Everything a renderer needs.

    `table` has one row per group: the group columns, then `<id>` and `<id>__n` per available
    KPI (and `<id>__prev` with compare); `totals` has one row with the KPI columns; `trend`
    (with a grain) one row per bucket over all groups.
    """

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
    compare: Period | None = None
    trend: pl.DataFrame | None = None
    #: with a grain and compare: `previous` (each bucket vs the bucket before) or `yoy`
    compare_to: str = "previous"
    #: per source, the export time: the newest timestamp of its records (UTC)
    data_end: Mapping[str, datetime] = field(default_factory=dict)

    @property
    def group_columns(self) -> tuple[str, ...]:
        return (*self.by, PERIOD_COL) if self.grain else self.by

    @property
    def available(self) -> tuple[Kpi, ...]:
        return tuple(s.kpi for s in self.kpis if s.available)

    def provisional(self) -> tuple[Kpi, ...]:
        """The KPIs with a provisional value in the totals or any row (is_provisional)."""
        rows = [self.totals.row(0, named=True)] if self.totals.height else []
        if self.group_columns:
            rows += self.table.iter_rows(named=True)
        return tuple(k for k in self.available if any(is_provisional(r, k) for r in rows))

    def data_ends(self) -> dict[str, date]:
        """Per source of the available KPIs (contacts: tickets and calls), the local day of
        its export time, for the sources whose export time falls before the period's end:
        the period runs past the data, and its last days are not quiet but unknown."""
        end = self.period.end
        if end is None:
            return {}
        used = {k.source for k in self.available}
        if "contacts" in used:
            used |= {"tickets", "calls"}
        zone = ZoneInfo(self.timezone)
        out = {}
        for name in sorted(used & self.data_end.keys()):
            day = self.data_end[name].astimezone(zone).date()
            if day < end:
                out[name] = day
        return out

    @property
    def effective_period(self) -> tuple[date | None, date | None]:
        """The period asked for, with open ends closed by the data's span."""
        return (self.period.start or self.data_span[0], self.period.end or self.data_span[1])


# --- planning -----------------------------------------------------------------------------


def select_kpis(config: Config, requested: Sequence[str]) -> list[Kpi]:
    """The KPIs of this report: `--kpi`, else `report.kpis`, else the config's (or default) set.

    Any built-in id may be asked for with `--kpi` even when the config lists other KPIs.
    """
    if not requested:
        requested = config.report.kpis
    if not requested:
        if config.kpis_explicit:
            return list(config.kpis)
        return [k for k in config.kpis if k.source in config.sources or k.source == "contacts"]
    known = {k.id: k for k in config.kpis}
    chosen = []
    for kpi_id in requested:
        if kpi_id in known:
            chosen.append(known[kpi_id])
        elif kpi_id in CATALOG:
            chosen.append(instantiate(CATALOG[kpi_id]))
        else:
            options = sorted({*known, *CATALOG})
            match = difflib.get_close_matches(kpi_id, options, n=1)
            raise UsageError(
                f"unknown KPI {kpi_id!r}" + (f" (did you mean {match[0]!r}?)" if match else ""),
                hint="`cscli kpis` lists the catalogue; custom KPIs are defined under `kpis:`",
            )
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


# --- running ------------------------------------------------------------------------------


class _Batch:
    """Queries to collect together; `add` returns the index of the result."""

    def __init__(self) -> None:
        self.queries: list[pl.LazyFrame] = []
        self.results: list[pl.DataFrame] = []

    def add(self, lf: pl.LazyFrame) -> int:
        self.queries.append(lf)
        return len(self.queries) - 1

    def collect(self) -> None:
        self.results = pl.collect_all(self.queries) if self.queries else []

    def __getitem__(self, i: int) -> pl.DataFrame:
        return self.results[i]


@dataclass
class _WindowPlan:
    lo: datetime | None
    hi: datetime | None
    grouped: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    trend: list[int] = field(default_factory=list)
    #: (kpi, index of its event counts, dims) for stock KPIs cut by a grain
    stock_rows: list[tuple[Kpi, int, list[str]]] = field(default_factory=list)
    stock_trend: list[tuple[Kpi, int]] = field(default_factory=list)


def run_report(
    config: Config, request: ReportRequest, period: Period, *, progress: Progress | None = None
) -> ReportResult:
    return run_reports(config, [request], period, progress=progress)[0]


def run_reports(
    config: Config,
    requests: Sequence[ReportRequest],
    period: Period,
    *,
    progress: Progress | None = None,
) -> list[ReportResult]:
    """Several reports over the same sources (e.g. one per `by` of the checks) in one pass:
    every query of every request goes into the same `collect_all`."""
    for request in requests:
        if PERIOD_COL in request.by:
            raise UsageError("'period' is not a dimension; use --grain to slice by time")
    chosen = [select_kpis(config, r.kpi_ids) for r in requests]
    needed: set[str] = set()
    for request, kpis in zip(requests, chosen, strict=True):
        needed |= {k.source for k in kpis if k.source in config.sources}
        contacts = any(k.source == "contacts" for k in kpis) or any(
            columns_used(k.kind) & CONTACT_MEASURES for k in kpis
        )
        if contacts or (request.by and any(k.source == "surveys" for k in kpis)):
            needed |= {c for c in CONTACT_SOURCES if c in config.sources}
    sources = load_sources(config, needed)
    hours = business_hours(config)
    batch = _Batch()
    planned = []
    for request, kpis in zip(requests, chosen, strict=True):
        by = request.by
        check_dimensions(by, sources)
        statuses = [kpi_status(k, sources, by, hours) for k in kpis]
        available = [s.kpi for s in statuses if s.available]
        previous = period.previous(request.compare_to) if request.compare else None
        wanted: dict[str, set[str]] = defaultdict(set)
        for k in available:
            wanted[k.source] |= columns_used(k.kind) | pending_columns(k.kind)
        frames = {
            name: enriched(name, sources, by, cols, progress, hours)
            for name, cols in wanted.items()
        }
        windows = [_plan_window(batch, frames, available, request, config.timezone, period, hours)]
        earlier = None
        if previous is not None:
            # with a grain the previous window gives only the totals' previous values; each
            # bucket's comes from a whole bucket one step (or a year) earlier
            totals_only = (
                dataclasses.replace(request, by=(), grain=None, trend=False)
                if request.grain
                else request
            )
            windows.append(
                _plan_window(
                    batch, frames, available, totals_only, config.timezone, previous, hours
                )
            )
            if request.grain:
                earlier = bucket_window(period, request.grain, request.compare_to)
                rows_only = dataclasses.replace(request, trend=False)
                windows.append(
                    _plan_window(
                        batch,
                        frames,
                        available,
                        rows_only,
                        config.timezone,
                        earlier,
                        hours,
                        totals=False,
                    )
                )
        planned.append((request, statuses, available, previous, earlier, windows))
    every = [k for _, _, available, _, _, _ in planned for k in available]
    checks = {
        name: quality_checks(sources[name], _unique(k for k in every if k.source == name))
        for name in sorted(sources)
    }
    quality = {name: batch.add(quality_query(sources[name], checks[name])) for name in checks}
    try:
        batch.collect()
    except pl.exceptions.PolarsError as e:
        # a malformed line past the rows read up front: name the file and line
        from cscli.adapters.generic import explain_read_error

        raise explain_read_error(config.sources, config.base_dir, e) from e
    issues, summaries = quality_results(sources, checks, {n: batch[i] for n, i in quality.items()})
    ends = {
        name: end for name, i in quality.items() if isinstance(end := batch[i]["_end"][0], datetime)
    }

    tz = config.timezone
    results = []
    for request, statuses, available, previous, earlier, windows in planned:
        table, totals, span = _assemble(batch, windows[0], available, request, tz, period)
        trend = _assemble_trend(batch, windows[0], available, request, tz, period)
        if previous is not None:
            prev_table, prev_totals, _ = _assemble(
                batch, windows[1], available, request, tz, previous
            )
            if earlier is not None:
                prev_table, _, _ = _assemble(batch, windows[2], available, request, tz, earlier)
            table = _attach_previous(table, prev_table, available, request, period)
            totals = _attach_totals_previous(totals, prev_totals, available)
        results.append(
            ReportResult(
                config_path=config.path,
                timezone=tz,
                period=period,
                data_span=span,
                by=request.by,
                grain=request.grain,
                kpis=tuple(statuses),
                table=table,
                totals=totals,
                data_quality=tuple(issues),
                sources=tuple(summaries),
                compare=previous,
                trend=trend,
                compare_to=request.compare_to,
                data_end=ends,
            )
        )
    return results


def open_share(row: Mapping[str, object], kpi: Kpi) -> float | None:
    """The share of a maturing KPI's cohort still open at the export time, or None."""
    value = row.get(kpi.id + OPEN_SUFFIX)
    return float(value) if isinstance(value, int | float) and value == value else None


def is_provisional(row: Mapping[str, object], kpi: Kpi) -> bool:
    """More than PROVISIONAL_SHARE of the value's cohort is still open: it will move."""
    share = open_share(row, kpi)
    return share is not None and share > PROVISIONAL_SHARE


def _unique(kpis: Iterable[Kpi]) -> list[Kpi]:
    seen: dict[str, Kpi] = {}
    for k in kpis:
        seen.setdefault(k.id, k)
    return list(seen.values())


def _plan_window(
    batch: _Batch,
    frames: Mapping[str, pl.LazyFrame],
    kpis: Sequence[Kpi],
    request: ReportRequest,
    timezone: str,
    period: Period,
    hours: BusinessHours | None = None,
    *,
    totals: bool = True,
) -> _WindowPlan:
    """The queries of one window; `totals=False` plans only the grouped ones."""
    lo, hi = period.bounds_utc()
    plan = _WindowPlan(lo, hi)
    by = list(request.by)
    flows: dict[tuple[str, str], list[Kpi]] = defaultdict(list)
    stocks: list[Kpi] = []
    for k in kpis:
        if isinstance(k.kind, Stock):
            stocks.append(k)
        else:
            flows[(k.source, k.anchor)].append(k)

    def frame_for(name: str, group: Sequence[Kpi]) -> pl.LazyFrame:
        lf = frames[name]
        if any(columns_used(k.kind) & WINDOW_MEASURES for k in group):
            lf = with_age(lf, frozenset(lf.collect_schema().names()), hours)
        return lf

    for (name, anchor), group in flows.items():
        lf = frame_for(name, group)
        at = pl.col(anchor)
        lf = lf.filter(at.is_not_null())
        if lo is not None:
            lf = lf.filter(at >= lo)
        if hi is not None:
            lf = lf.filter(at < hi)
        exprs = [e for k in group for e in aggregations(k)]
        local_day = at.dt.convert_time_zone(timezone).dt.date()
        span = [local_day.min().alias("_first"), local_day.max().alias("_last")]
        if totals:
            plan.totals.append(batch.add(lf.select(*exprs, *span)))
        if request.grain:
            bucketed = lf.with_columns(bucket(at, request.grain, timezone).alias(PERIOD_COL))
            plan.grouped.append(batch.add(bucketed.group_by([*by, PERIOD_COL]).agg(exprs)))
            if request.trend and by:
                plan.trend.append(batch.add(bucketed.group_by(PERIOD_COL).agg(exprs)))
        elif by:
            plan.grouped.append(batch.add(lf.group_by(by).agg(exprs)))

    for k in stocks:
        lf = frame_for(k.source, [k])
        exprs = list(aggregations(k, lo, hi))
        opened = pl.col(k.kind.opened) if isinstance(k.kind, Stock) else pl.lit(None)
        local_day = opened.dt.convert_time_zone(timezone).dt.date()
        span = [local_day.min().alias("_first"), local_day.max().alias("_last")]
        if totals:
            plan.totals.append(batch.add(lf.select(*exprs, *span)))
        assert isinstance(k.kind, Stock)
        if request.grain:
            events = events_query(lf, k.kind, by, request.grain, timezone, hi, lo)
            plan.stock_rows.append((k, batch.add(events), by))
            if request.trend and by:
                events = events_query(lf, k.kind, [], request.grain, timezone, hi, lo)
                plan.stock_trend.append((k, batch.add(events)))
        elif by:
            plan.grouped.append(batch.add(lf.group_by(by).agg(exprs)))
    return plan


def _bucket_bounds(period: Period, grain: str, tz: str) -> tuple[date | None, date | None]:
    lo, hi = period.bounds_utc()
    first = bucket_of(lo, grain, tz) if lo else None
    last = bucket_of(hi - timedelta(microseconds=1), grain, tz) if hi else None
    return first, last


def bucket_of(instant: datetime, grain: str, tz: str) -> date:
    frame = pl.DataFrame({"t": [instant.astimezone(ZoneInfo("UTC"))]})
    return frame.select(bucket(pl.col("t"), grain, tz))["t"][0]  # type: ignore[no-any-return]


def _assemble(
    batch: _Batch,
    plan: _WindowPlan,
    kpis: Sequence[Kpi],
    request: ReportRequest,
    tz: str,
    period: Period,
) -> tuple[pl.DataFrame, pl.DataFrame, tuple[date | None, date | None]]:
    keys = [*request.by, PERIOD_COL] if request.grain else list(request.by)
    parts = [batch[i] for i in plan.grouped]
    if request.grain and plan.stock_rows:
        first, last = _bucket_bounds(period, request.grain, tz)
        for k, i, dims in plan.stock_rows:
            parts.append(levels(batch[i], k, dims, request.grain, first, last, PERIOD_COL))
    table = _merge(parts, keys, kpis)
    if request.grain and not table.is_empty():
        table = _every_bucket(table, kpis, request, period, tz)
    totals_parts = [batch[i] for i in plan.totals]
    firsts = [d for t in totals_parts for d in t["_first"].to_list() if d is not None]
    lasts = [d for t in totals_parts for d in t["_last"].to_list() if d is not None]
    totals = (
        pl.concat([t.drop("_first", "_last") for t in totals_parts], how="horizontal")
        if totals_parts
        else pl.DataFrame()
    )
    span = (min(firsts, default=None), max(lasts, default=None))
    return table, _fill_counts(totals, kpis), span


def _every_bucket(
    table: pl.DataFrame, kpis: Sequence[Kpi], request: ReportRequest, period: Period, tz: str
) -> pl.DataFrame:
    """Every bucket of the period for every group seen, so trends never skip a quiet week: a
    bucket without records has counts of 0 and n = 0, other values null."""
    assert request.grain is not None
    first, last = _bucket_bounds(period, request.grain, tz)
    seen = table[PERIOD_COL].drop_nulls()
    first = first or seen.min()  # type: ignore[assignment]
    last = last or seen.max()  # type: ignore[assignment]
    if first is None or last is None:
        return table
    grid = pl.DataFrame({PERIOD_COL: pl.date_range(first, last, _STEP[request.grain], eager=True)})
    by = list(request.by)
    if by:
        grid = table.select(by).unique().join(grid, how="cross")
    full = grid.join(table, on=[*by, PERIOD_COL], how="full", coalesce=True, nulls_equal=True)
    return _fill_counts(full, kpis).sort([*by, PERIOD_COL], nulls_last=True)


def _assemble_trend(
    batch: _Batch,
    plan: _WindowPlan,
    kpis: Sequence[Kpi],
    request: ReportRequest,
    tz: str,
    period: Period,
) -> pl.DataFrame | None:
    if not (request.trend and request.grain):
        return None
    if not request.by:
        return None  # the table itself is the trend
    parts = [batch[i] for i in plan.trend]
    first, last = _bucket_bounds(period, request.grain, tz)
    for k, i in plan.stock_trend:
        parts.append(levels(batch[i], k, [], request.grain, first, last, PERIOD_COL))
    trend = _merge(parts, [PERIOD_COL], kpis)
    if trend.is_empty():
        return trend
    return _every_bucket(trend, kpis, dataclasses.replace(request, by=()), period, tz)


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


_STEP = {"day": "1d", "week": "1w", "month": "1mo", "quarter": "3mo"}


def _shift_bucket(d: date, grain: str, mode: str, steps: int = -1) -> date:
    """The start of the bucket `steps` grains (or, with yoy, years) from bucket `d`."""
    if mode == "yoy":
        if grain == "week":  # 52 weeks: the same weekdays, the same ISO week in most years
            return d + timedelta(weeks=52 * steps)
        return add_years(d, steps)
    if grain == "day":
        return d + timedelta(days=steps)
    if grain == "week":
        return d + timedelta(weeks=steps)
    return add_months(d, steps * (3 if grain == "quarter" else 1))


def bucket_window(period: Period, grain: str, mode: str) -> Period:
    """Whole buckets, one step (or a year) before each bucket the period touches: the
    previous values of a report by `grain`."""
    first, last = _bucket_bounds(period, grain, period.timezone)
    assert first is not None and last is not None
    start = _shift_bucket(first, grain, mode)
    end = _shift_bucket(_shift_bucket(last, grain, mode), grain, "previous", 1)
    return Period(start, end - timedelta(days=1), period.timezone)


def _attach_previous(
    table: pl.DataFrame,
    prev: pl.DataFrame,
    kpis: Sequence[Kpi],
    request: ReportRequest,
    period: Period,
) -> pl.DataFrame:
    """`<id>__prev` per row: the same group in the previous window or, with a grain, the
    same group's whole bucket one step earlier (`previous`) or one year earlier (`yoy`; for
    weeks 52 weeks earlier, the same weekdays). A
    bucket the period cuts (a week that starts before --from) has no previous value:
    comparing part of a bucket with a whole one would mislead."""
    if table.is_empty():
        return table
    by, grain = request.by, request.grain
    cols = [k.id for k in kpis if k.id in table.columns and k.id in prev.columns]
    if grain is None:
        if not by:
            return table
        renamed = prev.select(*by, *(pl.col(c).alias(c + PREV_SUFFIX) for c in cols))
        joined = table.join(renamed, on=list(by), how="left", nulls_equal=True)
        return _zero_previous(joined, kpis)
    back = "-" + _STEP[grain]
    if request.compare_to == "yoy":
        back = "-52w" if grain == "week" else "-1y"
    earlier = pl.col(PERIOD_COL).dt.offset_by(back)
    lookup = prev.select(
        *by,
        pl.col(PERIOD_COL).alias("_earlier"),
        *(pl.col(c).alias(c + PREV_SUFFIX) for c in cols),
    )
    out = table.with_columns(_earlier=earlier).join(
        lookup, on=[*by, "_earlier"], how="left", nulls_equal=True
    )
    out = _zero_previous(out.drop("_earlier"), kpis)
    assert period.start is not None and period.end is not None
    step_end = pl.col(PERIOD_COL).dt.offset_by(_STEP[grain]) - timedelta(days=1)
    cut = (pl.col(PERIOD_COL) < period.start) | (step_end > period.end)
    return out.with_columns(
        pl.when(cut).then(None).otherwise(pl.col(c + PREV_SUFFIX)).alias(c + PREV_SUFFIX)
        for c in cols
    )


def _zero_previous(table: pl.DataFrame, kpis: Sequence[Kpi]) -> pl.DataFrame:
    """A group with no record in the previous window had a count (and a backlog) of 0 there."""
    zero = [
        pl.col(k.id + PREV_SUFFIX).fill_null(0)
        for k in kpis
        if k.id + PREV_SUFFIX in table.columns
        and (isinstance(k.kind, Count) or (isinstance(k.kind, Stock) and k.kind.measure == "end"))
    ]
    return table.with_columns(zero) if zero else table


def _attach_totals_previous(
    totals: pl.DataFrame, prev: pl.DataFrame, kpis: Sequence[Kpi]
) -> pl.DataFrame:
    if totals.is_empty() or prev.is_empty():
        return totals
    return totals.with_columns(
        pl.lit(prev[k.id][0]).alias(k.id + PREV_SUFFIX) for k in kpis if k.id in prev.columns
    )


def kpi_records(
    config: Config,
    items: Sequence[tuple[Kpi, Sequence[str], Mapping[str, object]]],
    period: Period,
    *,
    progress: Progress | None = None,
) -> list[pl.LazyFrame]:
    """The records behind KPIs in given groups: for each (kpi, by, group), the usable records
    of its source in the period (by its anchor; every record for stock KPIs), enriched as the
    report was, with `_file` and `_row` where the source has them. Lazy; the caller filters."""
    needed: set[str] = set()
    for kpi, by, _ in items:
        needed.add(kpi.source)
        if kpi.source == "contacts" or by or columns_used(kpi.kind) & CONTACT_MEASURES:
            needed |= set(CONTACT_SOURCES)
    sources = load_sources(config, {n for n in needed if n in config.sources})
    hours = business_hours(config)
    lo, hi = period.bounds_utc()
    out = []
    for kpi, by, group in items:
        frame = enriched(kpi.source, sources, by, columns_used(kpi.kind), progress, hours)
        if columns_used(kpi.kind) & WINDOW_MEASURES:
            frame = with_age(frame, frozenset(frame.collect_schema().names()), hours)
        if not isinstance(kpi.kind, Stock):
            at = pl.col(kpi.anchor)
            frame = frame.filter(at.is_not_null())
            if lo is not None:
                frame = frame.filter(at >= lo)
            if hi is not None:
                frame = frame.filter(at < hi)
        for dim, value in group.items():
            col = pl.col(dim)
            frame = frame.filter(col.is_null() if value is None else col == value)
        out.append(frame)
    return out
