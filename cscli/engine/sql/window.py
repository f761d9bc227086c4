"""The SQL queries of one window, the mirror of `cscli.engine.polars.window`.

Per flow (a source's KPIs placed by the same anchor) a window keeps the records whose anchor
falls in [lo, hi) and aggregates them over all groups (the totals, with the first and last
local day of data), per group (and bucket) and, for the trend, per bucket; a stock KPI looks
at every record instead, and with a grain is counted as events per bucket exactly as
`cscli.engine.polars.stocks.events_query` counts them (`cscli.stocks.levels` makes levels of
them on the driver). Each query is a sqlglot tree added to a `Batch`; the engine renders and
runs them all, then normalises the frames (`Shape` says what each one holds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlglot import exp

from cscli.derived import WINDOW_MEASURES
from cscli.engine.base import PERIOD_COL, ReportPlan, WindowSpec
from cscli.engine.sql.compile import AS_OF, Unsupported, aggregations, as_of
from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.relations import Relation, alias, col, subquery
from cscli.engine.sql.text import compile_sql
from cscli.kpis.columns import columns_used
from cscli.kpis.spec import Kpi, Stock
from cscli.period import TIME_DIMENSIONS, Grain

#: the bucket of every stock event before the report's start (as `cscli.engine.polars.stocks`)
BEFORE = date(1, 1, 1)
BEFORE_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Shape:
    """What a result frame holds, for the dtype normalisation: its bucket column (`period`
    or the stock events' `_b`) and grain, and whether it has the `_first`/`_last` span."""

    bucket: str | None = None
    grain: str | None = None
    span: bool = False


@dataclass
class Batch:
    """Queries to run together; `add` returns the index of the result."""

    queries: list[exp.Expr] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)

    def add(self, query: exp.Expr, shape: Shape | None = None) -> int:
        self.queries.append(query)
        self.shapes.append(shape or Shape())
        return len(self.queries) - 1


@dataclass
class WindowQueries:
    """Where a window's results will be in the batch (as `cscli.engine.polars.window`)."""

    grouped: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    trend: list[int] = field(default_factory=list)
    stock_rows: list[tuple[Kpi, int, list[str]]] = field(default_factory=list)
    stock_trend: list[tuple[Kpi, int]] = field(default_factory=list)


def _select(rel: Relation, items: Sequence[exp.Expr], group: Sequence[str] = ()) -> exp.Expr:
    """`SELECT items FROM (rel) AS _r [GROUP BY group]`."""
    query = exp.Select(expressions=list(items)).from_(subquery(rel.query, "_r"), copy=False)
    if group:
        query = query.group_by(*(col(g) for g in group), copy=False)
    return query


def _not_null(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def _span(d: Dialect, at: exp.Expr, tz: str) -> list[exp.Expr]:
    day = d.local_date(at, tz)
    return [alias(exp.Min(this=day), "_first"), alias(exp.Max(this=day.copy()), "_last")]


def add_window(
    batch: Batch,
    rels: Mapping[str, Relation],
    report: ReportPlan,
    window: WindowSpec,
    timezone: str,
    d: Dialect,
    with_age: Callable[[Relation], Relation],
) -> WindowQueries:
    """Add the queries of one window of a report to the batch; `rels` are the report's
    enriched relations per source, `with_age` adds the window-stage measures."""
    out = WindowQueries()
    lo, hi = window.lo, window.hi
    by = list(window.by)
    grain = window.grain

    def rel_for(name: str, group: Sequence[Kpi]) -> Relation:
        rel = rels[name]
        if any(columns_used(k.kind) & WINDOW_MEASURES for k in group):
            rel = with_age(rel)
        return rel

    for flow in report.flows:
        rel = rel_for(flow.source, flow.kpis)
        at = col(flow.anchor)
        cond: exp.Expr = _not_null(at)
        if lo is not None:
            cond = exp.And(
                this=cond, expression=exp.GTE(this=at.copy(), expression=d.timestamp(lo))
            )
        if hi is not None:
            cond = exp.And(this=cond, expression=exp.LT(this=at.copy(), expression=d.timestamp(hi)))
        rel = with_time_dimensions(rel.filter(cond), at, by, timezone, d)

        def exprs(flow_kpis: Sequence[Kpi] = flow.kpis) -> list[exp.Expr]:
            return [e for k in flow_kpis for e in aggregations(k, d)]

        if window.totals:
            items = [*exprs(), *_span(d, at.copy(), timezone)]
            out.totals.append(batch.add(_select(rel, items), Shape(span=True)))
        if grain:
            bucketed = rel.with_columns(**{PERIOD_COL: d.bucket(at.copy(), grain, timezone)})
            period = Shape(PERIOD_COL, grain)
            items = [*(col(c) for c in by), col(PERIOD_COL), *exprs()]
            out.grouped.append(batch.add(_select(bucketed, items, [*by, PERIOD_COL]), period))
            if window.trend:
                items = [col(PERIOD_COL), *exprs()]
                out.trend.append(batch.add(_select(bucketed, items, [PERIOD_COL]), period))
        elif by:
            items = [*(col(c) for c in by), *exprs()]
            out.grouped.append(batch.add(_select(rel, items, by)))

    if report.intervals:  # availability refuses them: StateTime is not in SUPPORTED_KINDS
        raise Unsupported(f"{report.intervals[0].id}: the polars engine only computes StateTime")
    for k in report.stocks:
        assert isinstance(k.kind, Stock)
        rel = with_as_of(rel_for(k.source, [k]), k.kind, d, hi)
        items = list(aggregations(k, d, lo, hi))
        if window.totals:
            span = _span(d, compile_sql(k.kind.opened, d), timezone)
            out.totals.append(batch.add(_select(rel, [*items, *span]), Shape(span=True)))
        if grain:
            events = events_query(rel, k.kind, by, grain, timezone, d, hi, lo)
            out.stock_rows.append((k, batch.add(events, Shape("_b", grain)), by))
            if window.trend:
                events = events_query(rel, k.kind, [], grain, timezone, d, hi, lo)
                out.stock_trend.append((k, batch.add(events, Shape("_b", grain))))
        elif by:
            out.grouped.append(batch.add(_select(rel, [*(col(c) for c in by), *items], by)))
    return out


def with_as_of(rel: Relation, kind: Stock, d: Dialect, hi: datetime | None) -> Relation:
    """The records with the column `AS_OF` (over every record, before any filter or grouping,
    as `cscli.engine.polars.compile.with_as_of`) for a banded stock without a period end; the
    relation as it is otherwise."""
    newest = as_of(kind, d, hi)
    return rel if newest is None else rel.with_columns(**{AS_OF: newest})


def with_time_dimensions(
    rel: Relation, at: exp.Expr, by: Sequence[str], timezone: str, d: Dialect
) -> Relation:
    """`hour_of_day` (local hour 0-23) and `weekday` (ISO 1 = Monday … 7 = Sunday) of the
    flow's anchor in the config's zone, for the ones `by` asks for."""
    made = {
        "hour_of_day": lambda: d.hour_of_day(at.copy(), timezone),
        "weekday": lambda: d.weekday(at.copy(), timezone),
    }
    wanted = {c: made[c]() for c in by if c in TIME_DIMENSIONS}
    return rel.with_columns(**wanted) if wanted else rel


def _before(grain: str, d: Dialect) -> exp.Expr:
    if Grain(grain).is_interval:
        return d.timestamp(BEFORE_INSTANT)
    return exp.Cast(this=exp.Literal.string(BEFORE.isoformat()), to=exp.DataType.build("DATE"))


def _shifted(ts: exp.Expr, by: timedelta, d: Dialect) -> exp.Expr:
    """The instant `ts + by`, on the microsecond clock (`by` in whole microseconds, as polars
    adds a `timedelta`)."""
    us = exp.Literal.number(str(by // _MICROSECOND))
    made = d.fn("from_micros", exp.Add(this=d.epoch_us(ts), expression=us))
    if d.name == "duckdb":  # make_timestamp gives a zone-less TIMESTAMP (UTC)
        return exp.Cast(this=made, to=exp.DataType.build("TIMESTAMPTZ"))
    return made


_MICROSECOND = timedelta(microseconds=1)


def events_query(
    rel: Relation,
    kind: Stock,
    dims: Sequence[str],
    grain: str,
    timezone: str,
    d: Dialect,
    hi: datetime | None,
    lo: datetime | None = None,
) -> exp.Expr:
    """(dims, `_b`) → `_open`, `_close`, `_lost` (BIGINT), for records up to `hi`; events
    before `lo` in the BEFORE bucket (`cscli.engine.polars.stocks.events_query`).

    A banded stock counts each record's time in the band [a, b) as the interval of a stock of
    its own (`cscli.engine.polars.stocks._in_band`): opened' = opened + a − 1µs (for a > 0),
    closed' = opened + b − 1µs when the record is still open then (closed NULL or later)."""

    def raw_opened() -> exp.Expr:
        return compile_sql(kind.opened, d)

    def raw_closed() -> exp.Expr:
        return compile_sql(kind.closed, d)

    def opened() -> exp.Expr:
        if not kind.age_from:
            return raw_opened()
        return _shifted(raw_opened(), timedelta(seconds=kind.age_from) - _MICROSECOND, d)

    def closed() -> exp.Expr:
        if kind.age_below is None:
            return raw_closed()
        leaves = _shifted(raw_opened(), timedelta(seconds=kind.age_below) - _MICROSECOND, d)
        later = exp.Or(
            this=exp.Is(this=raw_closed(), expression=exp.Null()),
            expression=exp.GT(this=raw_closed(), expression=leaves.copy()),
        )
        return exp.Case(ifs=[exp.If(this=later, true=leaves)], default=raw_closed())

    keep: exp.Expr = _not_null(raw_opened())
    if kind.where:
        where = exp.func("COALESCE", exp.Paren(this=compile_sql(kind.where, d)), exp.false())
        keep = exp.And(this=keep, expression=where)
    if hi is not None:
        keep = exp.And(this=keep, expression=exp.LT(this=opened(), expression=d.timestamp(hi)))
    rows = rel.filter(keep)

    def ob() -> exp.Expr:
        b = d.bucket(opened(), grain, timezone)
        if lo is None:
            return b
        early = exp.LT(this=opened(), expression=d.timestamp(lo))
        return exp.Case(ifs=[exp.If(this=early, true=_before(grain, d))], default=b)

    def cb() -> exp.Expr:
        b = d.bucket(closed(), grain, timezone)
        if lo is None:
            return b
        early = exp.LT(this=closed(), expression=d.timestamp(lo))
        return exp.Case(ifs=[exp.If(this=early, true=_before(grain, d))], default=b)

    is_closed: exp.Expr = _not_null(closed())
    if hi is not None:
        is_closed = exp.And(
            this=is_closed, expression=exp.LT(this=closed(), expression=d.timestamp(hi))
        )
    one, zero = exp.Literal.number("1"), exp.Literal.number("0")
    dim_cols = [col(c) for c in dims]
    opens = exp.Select(
        expressions=[
            *dim_cols,
            alias(ob(), "_b"),
            alias(one.copy(), "_open"),
            alias(zero.copy(), "_close"),
            alias(zero.copy(), "_lost"),
        ]
    ).from_(subquery(rows.query, "_r"))
    # a record closed before it opened (bad data, reported by quality checks) closes at once
    lost = exp.Case(
        ifs=[exp.If(this=exp.LT(this=ob(), expression=cb()), true=one.copy())], default=zero.copy()
    )
    closes = (
        exp.Select(
            expressions=[
                *(c.copy() for c in dim_cols),
                alias(d.greatest(ob(), cb()), "_b"),
                alias(zero.copy(), "_open"),
                alias(one.copy(), "_close"),
                alias(lost, "_lost"),
            ]
        )
        .from_(subquery(rows.query, "_r"))
        .where(is_closed)
    )
    union = exp.Union(this=opens, expression=closes, distinct=False)
    events = Relation(union, (*dims, "_b", "_open", "_close", "_lost"))
    sums = [alias(d.bigint(exp.Sum(this=col(c))), c) for c in ("_open", "_close", "_lost")]
    return _select(events, [*(col(c) for c in dims), col("_b"), *sums], [*dims, "_b"])
