"""`SqlEngine`: the engine seam (`cscli.engine.base.Engine`) over a SQL database (`Runner`).

Loading stays polars': the sources are materialised as canonical Parquet in a work directory
(`cscli.engine.polars.ingest.materialise`: the same CSV parsing, timestamp reading and
findings as the polars engine) and registered with the runner as views. `aggregate` builds,
per report, the enriched relation of each source its KPIs read (`relations.enriched`), every
window's queries (`window.add_window`) and the KPI quality-rule counts (`quality`), renders
them for the runner's dialect, runs them, and normalises the frames to the dtypes the polars
engine gives for the same plan; merging, stock levels and the previous period stay in the
shared driver code. `close` ends the session and removes the work directory.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlglot import exp

from cscli.business_hours.assignment import BusinessHours, business_hours
from cscli.config import Config
from cscli.derived import (
    CONTACT_MEASURES,
    CONTACT_SOURCES,
    WINDOW_MEASURES,
)
from cscli.engine.base import (
    BREACH_COLUMNS,
    BREACH_DIMENSIONS,
    Aggregates,
    Breach,
    Plan,
    WindowTables,
)
from cscli.engine.sql.business_time import BUSINESS_BUILDERS
from cscli.engine.sql.catalog import catalog_source
from cscli.engine.sql.compile import breach
from cscli.engine.sql.quality import Rule, counts_query, examples_query, rules_for
from cscli.engine.sql.relations import (
    CORE_BUILDERS,
    FILE_COL,
    MEASURE_NAMES,
    ROW_COL,
    Canonical,
    Relation,
    SqlBuilder,
    SqlContext,
    SqlSource,
    SqlSourceBuilder,
    alias,
    col,
    enriched,
    render,
    subquery,
    with_window_measures,
)
from cscli.engine.sql.runner import Runner
from cscli.engine.sql.window import Batch, Shape, WindowQueries, add_window, with_as_of
from cscli.kpis.columns import columns_used
from cscli.kpis.measures import measures_for
from cscli.kpis.spec import Stock
from cscli.period import TIME_DIMENSIONS, Grain, Period
from cscli.quality import QualityIssue
from cscli.schema import DERIVED_TABLES, TABLES

#: materialise(config, names, workdir) -> canonical sources (`cscli.engine.polars.ingest`)
Materialise = Callable[[Config, Collection[str], Path], Mapping[str, Canonical]]


def builders() -> tuple[dict[str, SqlBuilder], dict[str, SqlSourceBuilder]]:
    """Every derivation builder of the SQL engines, and the builders of derived sources."""
    try:
        derive = importlib.import_module("cscli.engine.sql.derive")
    except ModuleNotFoundError:  # the derivation builders of cscli.engine.sql.derive
        return {**CORE_BUILDERS, **BUSINESS_BUILDERS}, {}
    steps: dict[str, SqlBuilder] = dict(derive.SQL_BUILDERS)
    sources: dict[str, SqlSourceBuilder] = dict(derive.SQL_SOURCES)
    return {**steps, **CORE_BUILDERS, **BUSINESS_BUILDERS}, sources


#: why the SQL engines refuse the SLA-policy KPIs
SLA_REFUSAL = (
    "the SLA-policy clocks (pauses from the status history, due times in business hours) "
    "are computed by the polars engine only; run them with engine: polars"
)


def supported_derivations() -> frozenset[str]:
    """The derivations the SQL engines compute (availability refuses KPIs reading others)."""
    steps, sources = builders()
    return frozenset(steps) | frozenset(sources) | MEASURE_NAMES


def _default_materialise(
    config: Config, names: Collection[str], workdir: Path
) -> Mapping[str, Canonical]:
    from cscli.engine.polars.ingest import materialise

    return materialise(config, names, workdir)


class SqlEngine:
    """The sources of one config, aggregated in SQL by `runner`."""

    def __init__(
        self, config: Config, runner: Runner, *, materialise: Materialise | None = None
    ) -> None:
        self.config = config
        self.runner = runner
        self.d = runner.dialect
        self.name = runner.name
        self.version = runner.version
        self.kinds: frozenset[str] | None = SUPPORTED_KINDS
        self.derivations: frozenset[str] | None = supported_derivations()
        #: every derivation with a builder is computed exactly for any config; the SLA
        #: clocks (first match of user SQL, pauses from the status history, due times as the
        #: inverse of the business clock) are polars-only
        self.refusals: Mapping[str, str] = {"sla_targets": SLA_REFUSAL}
        self._materialise = materialise or _default_materialise
        self._workdir: Path | None = None
        self._sources: dict[str, SqlSource] = {}
        self._lookups: set[str] = set()
        self.builders, self.source_builders = builders()

    # --- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """End the runner's session and remove the materialised Parquet."""
        self.runner.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> SqlEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the seam -------------------------------------------------------------------------

    def load(self, names: Collection[str]) -> dict[str, SqlSource]:
        todo = sorted(n for n in names if n not in self._sources)
        for name in [n for n in todo if self.config.sources[n].is_catalog]:
            todo.remove(name)
            view = f"cscli_{name}"
            cs, required = catalog_source(name, self.config.sources[name], self.runner, view)
            self._sources[name] = self._source(name, view, cs, required)
        if todo:
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="cscli-sql-"))
            canon = self._materialise(self.config, todo, self._workdir)
            for name in todo:
                self._sources[name] = self._register(name, canon[name])
        return {n: self._sources[n] for n in sorted(names)}

    def _register(self, name: str, cs: Canonical) -> SqlSource:
        view = f"cscli_{name}"
        self.runner.register(view, cs)
        table = TABLES.get(cs.table)
        return self._source(name, view, cs, tuple(table.required) if table is not None else ())

    def _source(self, name: str, view: str, cs: Canonical, required: tuple[str, ...]) -> SqlSource:
        data = {c for c in cs.columns if c not in {FILE_COL, ROW_COL, "_usable"}}
        measures = {m.name for m in measures_for(cs.table, data)}
        return SqlSource(name, view, frozenset(data | measures), tuple(cs.dimensions), cs, required)

    def _context(
        self,
        name: str,
        sources: Mapping[str, SqlSource],
        by: Sequence[str],
        columns: frozenset[str],
    ) -> SqlContext:
        run = self.runner.run
        return SqlContext(
            name, sources, columns, by, self.d, self._hours, run=lambda q: run(list(q))
        )

    @property
    def _hours(self) -> BusinessHours | None:
        return business_hours(self.config)

    def _enriched(
        self,
        name: str,
        sources: Mapping[str, SqlSource],
        by: Sequence[str],
        needed: set[str],
        lookups: list[Any],
    ) -> Relation:
        cols = sources[name].columns if name in sources else frozenset()
        ctx = self._context(name, sources, by, cols)
        rel = enriched(name, sources, by, needed, ctx, self.builders, self.source_builders)
        lookups.extend(ctx.lookups)
        return rel

    def _with_age(
        self, sources: Mapping[str, SqlSource], lookups: list[Any]
    ) -> Callable[[Relation], Relation]:
        def add(rel: Relation) -> Relation:
            ctx = self._context("tickets", sources, (), frozenset(rel.columns))
            out = with_window_measures(rel, ctx, self.builders)
            lookups.extend(ctx.lookups)
            return out

        return add

    def _run(self, queries: Sequence[Any], lookups: Sequence[Any]) -> list[pl.DataFrame]:
        for lk in lookups:
            if lk.name not in self._lookups:
                self.runner.register_lookup(lk)
                self._lookups.add(lk.name)
        return self.runner.run([render(q, self.d) for q in queries])

    def aggregate(self, sources: Mapping[str, SqlSource], plan: Plan) -> Aggregates:
        batch = Batch()
        lookups: list[Any] = []
        planned: list[list[WindowQueries]] = []
        age = self._with_age(sources, lookups)
        for report in plan.reports:
            rels = {
                name: self._enriched(name, sources, report.by, cols, lookups)
                for name, cols in report.columns.items()
            }
            planned.append(
                [
                    add_window(batch, rels, report, w, plan.timezone, self.d, age)
                    for w in report.windows
                ]
            )
        rules = {name: rules_for(sources[name], plan.kpis_of(name)) for name in sorted(sources)}
        counted = {
            name: batch.add(counts_query(sources[name], rs, self.d))
            for name, rs in rules.items()
            if rs
        }
        frames = self._run(batch.queries, lookups)
        tz = plan.timezone
        results = [normalised(f, s, tz) for f, s in zip(frames, batch.shapes, strict=True)]
        issues = self._issues(sources, rules, {n: results[i] for n, i in counted.items()})
        return Aggregates(
            reports=tuple(tuple(_tables(w, results) for w in windows) for windows in planned),
            issues=tuple(issues),
            sources=tuple(sources[name].canonical.summary for name in sorted(sources)),
            data_end={
                name: end
                for name in sorted(sources)
                if isinstance(end := sources[name].canonical.data_end, datetime)
            },
        )

    def _issues(
        self,
        sources: Mapping[str, SqlSource],
        rules: Mapping[str, Sequence[Rule]],
        counts: Mapping[str, pl.DataFrame],
    ) -> list[QualityIssue]:
        """Per source (in name order): its own findings, then the KPI rules that found rows,
        with their first rows (one small query each)."""
        found: list[tuple[str, Rule, int]] = []
        for name, frame in counts.items():
            row = frame.row(0, named=True)
            for i, rule in enumerate(rules[name]):
                if row[f"_n{i}"]:
                    found.append((name, rule, int(row[f"_n{i}"])))
        # a catalog table has no `_file`/`_row`: its findings come without examples
        listed = [f for f in found if FILE_COL in sources[f[0]].stored]
        frames = self._run([examples_query(sources[n], r, self.d) for n, r, _ in listed], [])
        by_rule = {(n, r.issue): f for (n, r, _), f in zip(listed, frames, strict=True)}
        none = pl.DataFrame(schema={FILE_COL: pl.String, ROW_COL: pl.Int64})
        examples = [by_rule.get((n, r.issue), none) for n, r, _ in found]
        by_source: dict[str, list[QualityIssue]] = {}
        for (name, rule, count), rows in zip(found, examples, strict=True):
            by_source.setdefault(name, []).append(
                QualityIssue(
                    name,
                    rule.issue,
                    count,
                    rule.column,
                    tuple((str(f), int(r)) for f, r in rows.select(FILE_COL, ROW_COL).iter_rows()),
                    rule.effect,
                )
            )
        out: list[QualityIssue] = []
        for name in sorted(sources):
            out += list(sources[name].canonical.findings)
            out += by_source.get(name, [])
        return out

    def records(self, breaches: Sequence[Breach], period: Period, limit: int) -> pl.DataFrame:
        if not breaches:
            return pl.DataFrame(schema=dict.fromkeys(BREACH_COLUMNS, pl.String))
        needed: set[str] = set()
        for b in breaches:
            needed.add(b.kpi.source)
            if b.kpi.source == "contacts" or b.by or columns_used(b.kpi.kind) & CONTACT_MEASURES:
                needed |= set(CONTACT_SOURCES)
        sources = self.load({n for n in needed if n in self.config.sources})
        lo, hi = period.bounds_utc()
        lookups: list[Any] = []
        age = self._with_age(sources, lookups)
        queries = []
        for b in breaches:
            queries.append(self._breach_query(b, sources, lo, hi, limit, lookups, age))
        frames = self._run(queries, lookups)
        listed = [_listed(f, b) for f, b in zip(frames, breaches, strict=True)]
        return pl.concat(listed, how="vertical_relaxed")

    def _breach_query(
        self,
        b: Breach,
        sources: Mapping[str, SqlSource],
        lo: datetime | None,
        hi: datetime | None,
        limit: int,
        lookups: list[Any],
        age: Callable[[Relation], Relation],
    ) -> Any:
        kpi = b.kpi
        rel = self._enriched(kpi.source, sources, b.by, set(columns_used(kpi.kind)), lookups)
        if columns_used(kpi.kind) & WINDOW_MEASURES:
            rel = age(rel)
        d = self.d
        if isinstance(kpi.kind, Stock):  # over every record, before the group's
            rel = with_as_of(rel, kpi.kind, d, hi)
        else:
            at = col(kpi.anchor)
            cond: Any = exp_not_null(at)
            if lo is not None:
                cond = exp_and(cond, exp_cmp(">=", col(kpi.anchor), d.timestamp(lo)))
            if hi is not None:
                cond = exp_and(cond, exp_cmp("<", col(kpi.anchor), d.timestamp(hi)))
            rel = rel.filter(cond)
        for dim, value in b.group.items():
            rel = rel.filter(exp_equal(col(dim), value, d))
        types = _dtypes(kpi.source, sources, rel.columns)
        predicate, value = breach(kpi, d, b.condition, hi, types)
        table = TABLES.get(kpi.source) or DERIVED_TABLES[kpi.source]
        names = set(rel.columns)
        items: list[Any] = [
            alias(col(table.id_column), "id") if table.id_column in names else alias(null(), "id"),
            alias(col(kpi.anchor), "at"),
            alias(value if value is not None else d.double(null()), "value"),
            *(alias(col(c), c) if c in names else alias(null(), c) for c in BREACH_DIMENSIONS),
            alias(col(FILE_COL), "file") if FILE_COL in names else alias(null(), "file"),
            alias(col(ROW_COL), "row") if ROW_COL in names else alias(null(), "row"),
        ]
        order = [c for c in (FILE_COL, ROW_COL) if c in names] or [kpi.anchor]
        return (
            exp.Select(expressions=items)
            .from_(subquery(rel.filter(predicate).query, "_r"))
            .order_by(*(col(c) for c in order))
            .limit(limit)
        )


# --- small SQL helpers -----------------------------------------------------------------------

#: the kinds the SQL engines compile (`cscli.engine.sql.kinds`; StateTime is polars-only),
#: with "Stock[banded]" (`cscli.availability.BANDED_STOCK`): the levels by age band
SUPPORTED_KINDS = frozenset(
    {"Count", "Ratio", "Stat", "NetScore", "DistinctRatio", "Stock", "SqlAggregate", "Erlang"}
    | {"Stock[banded]"}
)


def null() -> exp.Expr:
    return exp.Null()


def exp_not_null(e: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def exp_and(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.And(this=a, expression=b)


def exp_cmp(op: str, a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.GTE(this=a, expression=b) if op == ">=" else exp.LT(this=a, expression=b)


def exp_equal(c: exp.Expr, value: object, d: Any) -> exp.Expr:
    """`c IS NULL` for a None group value, else `c = value` (a typed literal)."""
    if value is None:
        return exp.Is(this=c, expression=exp.Null())
    lit: exp.Expr
    if isinstance(value, bool):
        lit = exp.true() if value else exp.false()
    elif isinstance(value, int):
        lit = exp.Literal.number(str(value))
    elif isinstance(value, float):
        lit = d.double(value)
    elif isinstance(value, datetime):
        lit = d.timestamp(value)
    else:
        lit = exp.Literal.string(str(value))
    return exp.EQ(this=c, expression=lit)


def _dtypes(
    source: str, sources: Mapping[str, SqlSource], columns: Sequence[str]
) -> dict[str, str]:
    """Column → dtype name for the breach values: the source's stored types, "float" for
    measures and derived durations."""
    stored = sources[source].canonical.columns if source in sources else {}
    return {c: stored.get(c, "float") for c in columns}


def _listed(frame: pl.DataFrame, b: Breach) -> pl.DataFrame:
    """The records of one breach as rows of the records table (as the polars engine lists
    them)."""
    kpi = b.kpi
    at = frame["at"]
    if at.dtype == pl.Datetime or isinstance(at.dtype, pl.Datetime):
        at_text = pl.col("at").dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%SZ")
    else:
        at_text = pl.col("at").cast(pl.String)
    return frame.select(
        pl.lit(b.check).alias("check"),
        pl.lit(kpi.id).alias("kpi"),
        pl.lit(b.label).alias("group"),
        pl.lit(b.status).alias("status"),
        pl.lit(kpi.source).alias("source"),
        pl.col("id").cast(pl.String),
        at_text.alias("at"),
        pl.col("value").cast(pl.Float64),
        *(pl.col(c).cast(pl.String) for c in BREACH_DIMENSIONS),
        pl.col("file").cast(pl.String),
        pl.col("row").cast(pl.Int64),
    )


# --- result frames ---------------------------------------------------------------------------


def normalised(frame: pl.DataFrame, shape: Shape, timezone: str) -> pl.DataFrame:
    """A result frame in the polars engine's dtypes: Int64 counts, Float64 values, Date spans
    and day buckets, `Datetime("us", zone)` interval buckets, Int8 time dimensions."""
    casts = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        if name == shape.bucket and shape.grain is not None:
            if Grain(shape.grain).is_interval:
                casts.append(
                    c.cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(timezone).alias(name)
                )
            else:
                casts.append(c.cast(pl.Date).alias(name))
        elif name in ("_first", "_last"):
            casts.append(c.cast(pl.Date).alias(name))
        elif name in TIME_DIMENSIONS:
            casts.append(c.cast(pl.Int8).alias(name))
        elif isinstance(dtype, pl.Decimal) or dtype == pl.Float32:
            casts.append(c.cast(pl.Float64).alias(name))
        elif dtype.is_integer() and dtype != pl.Int64:
            casts.append(c.cast(pl.Int64).alias(name))
        elif isinstance(dtype, pl.Datetime):
            casts.append(c.cast(pl.Datetime("us", "UTC")).alias(name))
    return frame.with_columns(casts) if casts else frame


def _tables(w: WindowQueries, results: Sequence[pl.DataFrame]) -> WindowTables:
    return WindowTables(
        grouped=[results[i] for i in w.grouped],
        totals=[results[i] for i in w.totals],
        trend=[results[i] for i in w.trend],
        stock_rows=[(k, results[i], dims) for k, i, dims in w.stock_rows],
        stock_trend=[(k, results[i]) for k, i in w.stock_trend],
    )
