"""The polars queries of one window, added to a batch that is collected once.

Per flow (a source's KPIs placed by the same anchor) a window keeps the records whose anchor
falls in it and aggregates them over all groups (the totals, with the first and last local day
of data), per group (and bucket) and, for the trend, per bucket. The records are read once per
flow: when its KPIs are made of parts (`cscli.engine.polars.compile.rollup`), the trend and the
totals merge the finest groups' parts after the collect. A stock KPI looks at every record
instead, and with a grain is counted as events per bucket (`cscli.stocks.levels` makes levels
of them after the collect). A multi-valued dimension (a ticket's tags) is
exploded for the grouped queries only: a record is in the group of each of its values, and
the totals and the trend count it once. Every query of every window goes to one
`pl.collect_all`, where polars shares each source's scan between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from cscli.business_hours.assignment import BusinessHours
from cscli.derived import WINDOW_MEASURES
from cscli.engine.base import PERIOD_COL, ReportPlan, WindowSpec, WindowTables
from cscli.engine.polars.bands import with_business_bands
from cscli.engine.polars.batch import Batch
from cscli.engine.polars.compile import Rollup, aggregations, rollup, with_as_of
from cscli.engine.polars.enrich import exploded, with_age
from cscli.engine.polars.quantiles import joined, level, narrow_queries, split
from cscli.engine.polars.states import segments
from cscli.engine.polars.stocks import bucket, day_bucket, events_query
from cscli.kpis.columns import columns_used
from cscli.kpis.spec import Kpi, Stock
from cscli.period import TIME_DIMENSIONS, Grain

#: the local day of a flow's anchor, and the first and last of them in the totals
DAY, FIRST, LAST = "_day", "_first", "_last"
#: the totals' span, over records (`DAY`) or over groups that have one each
_SPAN = (pl.col(DAY).min().alias(FIRST), pl.col(DAY).max().alias(LAST))
_SPAN_MERGED = (pl.col(FIRST).min(), pl.col(LAST).max())


@dataclass(frozen=True)
class Grouped:
    """Where a grouped table will be in the batch: its streamed aggregations and, for the
    quantile KPIs of a flow, the levels of the two-pass queries joined back on `keys`
    (`cscli.engine.polars.quantiles`), in the columns' original `order`. With `parts`, `main`
    holds the parts of a finer grouping, merged over `keys` here (the totals: with the span)."""

    main: int
    #: (index in the batch, level) of each quantile query
    narrow: tuple[tuple[int, int], ...] = ()
    keys: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    parts: Rollup | None = None
    #: the keys `main` is grouped by (with `parts`), when it is not also by more
    finer: tuple[str, ...] = ()
    #: the parts are in the first step of `main`, a quantile's first pass (`narrow_queries`)
    first: bool = False

    def table(self, batch: Batch) -> pl.DataFrame:
        narrow = [level(batch[i], n, self.keys) for i, n in self.narrow]
        main = batch.first(self.main) if self.first else batch[self.main]
        return joined(self._main(main), narrow, self.keys, self.order)

    def _main(self, main: pl.DataFrame) -> pl.DataFrame:
        if self.parts is None:
            return main
        keys = list(self.keys)
        if not keys:
            merged = main.select(*self.parts.merges, *_SPAN_MERGED)
            return merged.select(*self.parts.columns, FIRST, LAST)
        if keys != list(self.finer):  # a coarser group, or the buckets of a quantile's pass
            main = main.group_by(keys).agg(self.parts.merges)
        return main.select(*keys, *self.parts.columns)


def add_flow(
    batch: Batch,
    lf: pl.LazyFrame,
    kpis: Sequence[Kpi],
    groupings: Sequence[tuple[pl.LazyFrame, Sequence[str]]],
) -> list[Grouped]:
    """A flow's KPIs per group of each grouping's keys, on its frame (`[]`: the totals, one
    row with the span of its local days, `_first` and `_last`, after them; `lf` has `DAY`).

    The groupings whose frame is `lf` itself read it once: the first with keys is aggregated
    as parts and the others (the trend, the totals) merge its groups, when every KPI has
    parts; their quantile KPIs roll up from the first's two passes, whose first pass carries
    the parts. The others (a multi-valued dimension's exploded frame) have queries of their
    own."""
    parts = split(kpis)
    # the groupings on `lf` itself: level 0 the first, the others its rollups; when every KPI
    # has parts, they are aggregated per group of the first (it has keys), and the others
    # merge its groups; with a quantile, in its first pass, which groups every record
    own = [i for i, (frame, _) in enumerate(groupings) if frame is lf]
    finer = list(groupings[own[0]][1]) if own else []
    merged = rollup(kpis) if finer and len(own) > 1 else None
    extra: list[pl.Expr] = []
    if merged is not None:
        extra = [*merged.parts, *(_SPAN if any(not groupings[i][1] for i in own) else ())]
    shared: list[int] = []
    if own and parts.narrow:
        first, *rollups = (list(groupings[i][1]) for i in own)
        queries = narrow_queries(lf, first, parts, rollups, extra)
        shared = [batch.add(q, step=batch.later, heavy=True) for q in queries]
    if merged is not None and shared:
        parted, in_first = shared[0], True
    elif merged is not None:
        parted, in_first = batch.add(lf.group_by(finer).agg(extra), heavy=True), False
    out = []
    for i, (frame, keys) in enumerate(groupings):
        if i in own:
            narrow = tuple((q, own.index(i)) for q in shared)
        else:
            queries = narrow_queries(frame, keys, parts)
            narrow = tuple((batch.add(q, step=batch.later, heavy=True), 0) for q in queries)
        table = Grouped(-1, narrow, tuple(keys), tuple(parts.order))
        if merged is not None and i in own:
            grouped_by = () if in_first else tuple(finer)  # a first pass: per bucket too
            table = replace(table, main=parted, parts=merged, finer=grouped_by, first=in_first)
        elif keys:
            table = replace(
                table, main=batch.add(frame.group_by(keys).agg(parts.streamed), heavy=True)
            )
        else:
            table = replace(table, main=batch.add(frame.select(*parts.streamed, *_SPAN)))
        out.append(table)
    return out


@dataclass
class WindowQueries:
    """Where a window's results will be in the batch (the indices of `WindowTables`' parts)."""

    grouped: list[Grouped] = field(default_factory=list)
    totals: list[Grouped] = field(default_factory=list)
    trend: list[Grouped] = field(default_factory=list)
    #: (kpi, index of its event counts, dims) for stock KPIs cut by a grain
    stock_rows: list[tuple[Kpi, int, list[str]]] = field(default_factory=list)
    stock_trend: list[tuple[Kpi, int]] = field(default_factory=list)

    def tables(self, batch: Batch) -> WindowTables:
        """The window's results, once the batch is collected."""
        return WindowTables(
            grouped=[g.table(batch) for g in self.grouped],
            totals=[g.table(batch) for g in self.totals],
            trend=[g.table(batch) for g in self.trend],
            stock_rows=[(k, batch[i], dims) for k, i, dims in self.stock_rows],
            stock_trend=[(k, batch[i]) for k, i in self.stock_trend],
        )


def add_window(
    batch: Batch,
    frames: Mapping[str, pl.LazyFrame],
    report: ReportPlan,
    window: WindowSpec,
    timezone: str,
    hours: BusinessHours | None = None,
) -> WindowQueries:
    """Add the queries of one window of a report to the batch; `frames` are the report's
    enriched records per source."""
    out = WindowQueries()
    lo, hi = window.lo, window.hi
    by = list(window.by)

    def frame_for(name: str, group: Sequence[Kpi]) -> pl.LazyFrame:
        lf = frames[name]
        if any(columns_used(k.kind) & WINDOW_MEASURES for k in group):
            lf = with_age(lf, frozenset(lf.collect_schema().names()), hours)
        return lf

    for flow in report.flows:
        lf = frame_for(flow.source, flow.kpis)
        at = pl.col(flow.anchor)
        lf = lf.filter(at.is_not_null())
        if lo is not None:
            lf = lf.filter(at >= lo)
        if hi is not None:
            lf = lf.filter(at < hi)
        lf = with_time_dimensions(lf, at, by, timezone)
        # the local day once per record: the day grains' bucket and the totals' span
        lf = lf.with_columns(at.dt.convert_time_zone(timezone).dt.date().alias(DAY))
        bucketed = lf
        if window.grain:
            g = window.grain
            period = bucket(at, g, timezone) if Grain(g).is_interval else day_bucket(pl.col(DAY), g)
            bucketed = lf.with_columns(period.alias(PERIOD_COL))
        keys = [*by, PERIOD_COL] if window.grain else by
        groupings: list[tuple[pl.LazyFrame, Sequence[str]]] = []
        if keys:
            groupings.append((exploded(bucketed, by), keys))
        if window.grain and window.trend:
            groupings.append((bucketed, [PERIOD_COL]))
        if window.totals:
            groupings.append((bucketed, []))
        tables = add_flow(batch, bucketed, flow.kpis, groupings)
        if keys:
            out.grouped.append(tables.pop(0))
        if window.grain and window.trend:
            out.trend.append(tables.pop(0))
        if window.totals:
            out.totals.append(tables.pop(0))

    for k in report.stocks:
        assert isinstance(k.kind, Stock)
        lf = with_as_of(frame_for(k.source, [k]), k.kind, hi)
        lf = with_business_bands(lf, k.kind, hours, k.source)
        exprs = list(aggregations(k, lo, hi))
        local_day = pl.col(k.kind.opened).dt.convert_time_zone(timezone).dt.date()
        span = [local_day.min().alias("_first"), local_day.max().alias("_last")]
        if window.totals:
            out.totals.append(Grouped(batch.add(lf.select(*exprs, *span))))
        if window.grain:
            events = events_query(exploded(lf, by), k.kind, by, window.grain, timezone, hi, lo)
            out.stock_rows.append((k, batch.add(events, heavy=True), by))
            if window.trend:
                events = events_query(lf, k.kind, [], window.grain, timezone, hi, lo)
                out.stock_trend.append((k, batch.add(events, heavy=True)))
        elif by:
            grouped = exploded(lf, by).group_by(by).agg(exprs)
            out.grouped.append(Grouped(batch.add(grouped, heavy=True)))
    for k in report.intervals:
        lf = frames[k.source]
        exprs = list(aggregations(k, lo, hi))
        if window.totals:
            segs = segments(lf, [], None, timezone, lo, hi)
            local_day = pl.col("started_at").dt.convert_time_zone(timezone).dt.date()
            first_last = lf.select(local_day.min().alias("_first"), local_day.max().alias("_last"))
            totals = pl.concat([segs.select(exprs), first_last], how="horizontal")
            out.totals.append(Grouped(batch.add(totals)))
        if window.grain:
            segs = segments(lf, by, window.grain, timezone, lo, hi)
            grouped = segs.group_by([*by, PERIOD_COL]).agg(exprs)
            out.grouped.append(Grouped(batch.add(grouped, heavy=True)))
            if window.trend:
                trend = segs.group_by(PERIOD_COL).agg(exprs)
                out.trend.append(Grouped(batch.add(trend, heavy=True)))
        elif by:
            segs = segments(lf, by, None, timezone, lo, hi)
            out.grouped.append(Grouped(batch.add(segs.group_by(by).agg(exprs), heavy=True)))
    return out


def with_time_dimensions(
    lf: pl.LazyFrame, at: pl.Expr, by: Sequence[str], timezone: str
) -> pl.LazyFrame:
    """`hour_of_day` (local hour 0-23) and `weekday` (ISO 1 = Monday … 7 = Sunday) of the
    flow's anchor in the config's zone, for the ones `by` asks for."""
    local = at.dt.convert_time_zone(timezone)
    derived = {"hour_of_day": local.dt.hour().cast(pl.Int8), "weekday": local.dt.weekday()}
    wanted = [derived[d].alias(d) for d in by if d in TIME_DIMENSIONS]
    return lf.with_columns(wanted) if wanted else lf
