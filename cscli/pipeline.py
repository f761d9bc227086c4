"""A report: which KPIs, over which windows, computed by the engine, assembled into tables.

The pipeline plans: it chooses the KPIs (`select_kpis`), tells which are available in the
sources loaded, and which windows each report needs (the period; with `--compare` the previous
window and, with a grain, whole buckets one step or a year earlier). An engine
(`cscli.engine.base.Engine`; polars by default) aggregates every window of every report in one
pass, each KPI placed in windows by its own anchor (tickets created in the week for FRT,
resolved in the week for resolution time). The small tables it returns are merged here into
the report's table, totals and trend, with quiet buckets filled and previous values attached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from cscli.availability import (
    Capability,
    KpiStatus,
    business_hours,
    check_dimensions,
    kpi_status,
)
from cscli.config import Config, Grain
from cscli.derived import CONTACT_MEASURES, CONTACT_SOURCES
from cscli.derived import plan as derivations_for
from cscli.engine import engine_for
from cscli.engine.base import PERIOD_COL, Engine, Plan, ReportPlan, WindowSpec, WindowTables
from cscli.engine.polars.enrich import Progress
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.staffing import STAFFED, erlang_columns, needs_staffed
from cscli.engine.polars.stocks import bucket, bucket_range
from cscli.errors import UsageError
from cscli.kpis.catalog import CATALOG
from cscli.kpis.columns import N_SUFFIX, columns_used
from cscli.kpis.spec import Count, Kpi, Stock, expand, instantiate
from cscli.period import Period, add_months, add_years, check_interval_span
from cscli.quality import QualityIssue, SourceSummary
from cscli.results import PREV_SUFFIX, ReportResult, from_frames
from cscli.stocks import levels
from cscli.suggest import did_you_mean

#: why an SLA-policy KPI cannot be computed without policies
NO_POLICIES = "needs sla_policies: in the config (docs/sla-policies.md)"

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
        built = ("contacts", "sla_targets")
        return [k for k in config.kpis if k.source in config.sources or k.source in built]
    known = {k.id: k for k in config.kpis}
    families = {k.family for k in config.kpis if k.family}
    members = {m.id: m for m in _catalog_members()}
    chosen: list[Kpi] = []
    for kpi_id in requested:
        if kpi_id in known:
            chosen.append(known[kpi_id])
        elif kpi_id in families:  # a family of the config: every member (backlog_age_…)
            chosen += [k for k in config.kpis if k.family == kpi_id]
        elif kpi_id in CATALOG:
            chosen += expand(instantiate(CATALOG[kpi_id]))
        elif kpi_id in members:
            chosen.append(members[kpi_id])
        else:
            options = sorted({*known, *CATALOG})
            raise UsageError(
                f"unknown KPI {kpi_id!r}" + did_you_mean(kpi_id, options),
                hint="`cscli kpis` lists the catalogue; custom KPIs are defined under `kpis:`",
            )
    return chosen


def _catalog_members() -> list[Kpi]:
    """The members of the catalogue's families with their default parameters (so that
    `--kpi backlog_age_ge_7d` works without a `kpis:` entry)."""
    return [m for d in CATALOG.values() if d.family for m in expand(instantiate(d))]


# --- running ------------------------------------------------------------------------------


def _linked_sources(config: Config, kpis: Sequence[Kpi], by: Sequence[str]) -> set[str]:
    """The other sources the derived columns of these KPIs and dimensions read (a ticket's
    status history for its status times, its comments for its replies), when the config has
    them."""
    out: set[str] = set()
    for k in kpis:
        wanted = columns_used(k.kind) | {k.anchor} | set(by)
        for d in derivations_for(k.source, wanted):
            out |= {link.source for link in d.needs_sources if link.source in config.sources}
    return out


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
        needed |= _linked_sources(config, kpis, request.by)
        contacts = any(k.source == "contacts" for k in kpis) or any(
            columns_used(k.kind) & CONTACT_MEASURES for k in kpis
        )
        if contacts or (request.by and any(k.source == "surveys" for k in kpis)):
            needed |= {c for c in CONTACT_SOURCES if c in config.sources}
        if needs_staffed(kpis) and "agent_states" in config.sources:
            needed.add("agent_states")
    engine: Engine[LoadedSource] = engine_for(config, progress=progress)
    capability = Capability(engine.name, engine.derivations, engine.kinds, engine.refusals)
    try:
        sources = engine.load(needed)
        hours = business_hours(config)
        planned = []
        for request, kpis in zip(requests, chosen, strict=True):
            by = request.by
            check_dimensions(by, sources)
            if request.grain is not None and Grain(request.grain).is_interval:
                first, last = _bucket_bounds(period, request.grain, config.timezone)
                if isinstance(first, datetime) and isinstance(last, datetime):
                    check_interval_span(Grain(request.grain), first, last)
            statuses = [
                KpiStatus(k, NO_POLICIES)
                if k.source == "sla_targets" and not config.sla_policies
                else kpi_status(k, sources, by, hours, request.grain, capability)
                for k in kpis
            ]
            available = [s.kpi for s in statuses if s.available]
            previous = period.previous(request.compare_to) if request.compare else None
            earlier = None
            if previous is not None and request.grain:
                earlier = bucket_window(period, request.grain, request.compare_to)
            planned.append((request, statuses, available, previous, earlier))
        plan = Plan(
            tuple(
                ReportPlan(
                    (*available, *_helpers(available)),
                    request.by,
                    _windows(request, period, previous, earlier),
                )
                for request, _, available, previous, earlier in planned
            ),
            config.timezone,
        )
        aggregates = engine.aggregate(sources, plan)

        tz = config.timezone
        results = []
        for (request, statuses, available, previous, earlier), windows in zip(
            planned, aggregates.reports, strict=True
        ):
            table, totals, span = _assemble(windows[0], available, request, tz, period)
            trend = _assemble_trend(windows[0], available, request, tz, period)
            if previous is not None:
                prev_table, prev_totals, _ = _assemble(windows[1], available, request, tz, previous)
                if earlier is not None:
                    prev_table, _, _ = _assemble(windows[2], available, request, tz, earlier)
                table = _attach_previous(table, prev_table, available, request, period)
                totals = _attach_totals_previous(totals, prev_totals, available)
            keys = (*request.by, PERIOD_COL) if request.grain else request.by
            rows, total, trend_rows = from_frames(table, totals, trend, keys=keys, kpis=available)
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
                    rows=rows,
                    total=total,
                    trend_rows=trend_rows,
                    data_quality=aggregates.issues,
                    sources=aggregates.sources,
                    compare=previous,
                    trend=trend,
                    compare_to=request.compare_to,
                    data_end=aggregates.data_end,
                    min_n=config.report.min_n,
                    engine="" if engine.name == "polars" else f"{engine.name} {engine.version}",
                )
            )
        return results
    finally:
        engine.close()


def _helpers(available: Sequence[Kpi]) -> tuple[Kpi, ...]:
    """KPIs computed only to feed others: agents_staffed per bucket for the Erlang C service
    level of the agents staffed (dropped from the table once used)."""
    if needs_staffed(available):
        return (instantiate(CATALOG["agents_staffed"], id=STAFFED),)
    return ()


def _windows(
    request: ReportRequest, period: Period, previous: Period | None, earlier: Period | None
) -> tuple[WindowSpec, ...]:
    """The windows of one report: the period, then with compare the previous window. With a
    grain the previous window gives only the totals' previous values, and each bucket's comes
    from `earlier`: whole buckets one step (or a year) before, grouped but without totals."""
    lo, hi = period.bounds_utc()
    # without a `by` the table itself is the trend
    windows = [WindowSpec(lo, hi, request.by, request.grain, request.trend and bool(request.by))]
    if previous is not None:
        lo, hi = previous.bounds_utc()
        if request.grain is None:
            windows.append(WindowSpec(lo, hi, request.by))
        else:
            windows.append(WindowSpec(lo, hi))
            assert earlier is not None
            lo, hi = earlier.bounds_utc()
            windows.append(WindowSpec(lo, hi, request.by, request.grain, totals=False))
    return tuple(windows)


def _bucket_bounds(period: Period, grain: str, tz: str) -> tuple[date | None, date | None]:
    lo, hi = period.bounds_utc()
    first = bucket_of(lo, grain, tz) if lo else None
    last = bucket_of(hi - timedelta(microseconds=1), grain, tz) if hi else None
    return first, last


def bucket_of(instant: datetime, grain: str, tz: str) -> date:
    frame = pl.DataFrame({"t": [instant.astimezone(ZoneInfo("UTC"))]})
    return frame.select(bucket(pl.col("t"), grain, tz))["t"][0]  # type: ignore[no-any-return]


def _assemble(
    tables: WindowTables,
    kpis: Sequence[Kpi],
    request: ReportRequest,
    tz: str,
    period: Period,
) -> tuple[pl.DataFrame, pl.DataFrame, tuple[date | None, date | None]]:
    keys = [*request.by, PERIOD_COL] if request.grain else list(request.by)
    parts = list(tables.grouped)
    if request.grain and tables.stock_rows:
        first, last = _bucket_bounds(period, request.grain, tz)
        for k, events, dims in tables.stock_rows:
            parts.append(levels(events, k, dims, request.grain, first, last, PERIOD_COL))
    table = _merge(parts, keys, kpis)
    if request.grain and not table.is_empty():
        table = _every_bucket(table, kpis, request, period, tz)
    # Erlang numbers per interval on the driver; never over the totals (not additive)
    table = erlang_columns(table, kpis, Grain(request.grain).seconds if request.grain else None)
    totals_parts = tables.totals
    firsts = [d for t in totals_parts for d in t["_first"].to_list() if d is not None]
    lasts = [d for t in totals_parts for d in t["_last"].to_list() if d is not None]
    totals = (
        pl.concat([t.drop("_first", "_last") for t in totals_parts], how="horizontal")
        if totals_parts
        else pl.DataFrame()
    )
    span = (min(firsts, default=None), max(lasts, default=None))
    return table, erlang_columns(_fill_counts(totals, kpis), kpis, None), span


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
    if isinstance(first, datetime) and isinstance(last, datetime):
        check_interval_span(Grain(request.grain), first, last)
    grid = pl.DataFrame({PERIOD_COL: bucket_range(first, last, request.grain, tz)})
    by = list(request.by)
    if by:
        grid = table.select(by).unique().join(grid, how="cross")
    full = grid.join(table, on=[*by, PERIOD_COL], how="full", coalesce=True, nulls_equal=True)
    return _fill_counts(full, kpis).sort([*by, PERIOD_COL], nulls_last=True)


def _assemble_trend(
    tables: WindowTables,
    kpis: Sequence[Kpi],
    request: ReportRequest,
    tz: str,
    period: Period,
) -> pl.DataFrame | None:
    if not (request.trend and request.grain):
        return None
    if not request.by:
        return None  # the table itself is the trend
    parts = list(tables.trend)
    first, last = _bucket_bounds(period, request.grain, tz)
    for k, events in tables.stock_trend:
        parts.append(levels(events, k, [], request.grain, first, last, PERIOD_COL))
    trend = _merge(parts, [PERIOD_COL], kpis)
    if trend.is_empty():
        return trend
    trend = _every_bucket(trend, kpis, dataclasses.replace(request, by=()), period, tz)
    return erlang_columns(trend, kpis, Grain(request.grain).seconds)


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


def _shift_bucket(d: date, grain: str, mode: str, steps: int = -1) -> date:
    """The start of the bucket `steps` grains (or, with yoy, years) from bucket `d`; for an
    interval grain the local date of that bucket (the compared window is whole days)."""
    seconds = Grain(grain).seconds
    if seconds is not None:
        assert isinstance(d, datetime)
        local = d if mode == "yoy" else d + timedelta(seconds=seconds * steps)
        day = local.astimezone(d.tzinfo).date()
        return add_years(day, steps) if mode == "yoy" else day
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
    if Grain(grain).is_interval:  # whole local days holding every earlier bucket
        end = _shift_bucket(last, grain, mode)
        return Period(start, end, period.timezone)
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
    back = "-" + Grain(grain).every
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
    if Grain(grain).is_interval:  # whole-day periods never cut an interval bucket
        return out
    step_end = pl.col(PERIOD_COL).dt.offset_by(Grain(grain).every) - timedelta(days=1)
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
