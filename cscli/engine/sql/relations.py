"""The enriched records of a source as SQL: a `Relation` (a query and its output columns) that
derivation builders grow one step at a time, the mirror of `cscli.engine.polars.enrich`.

A loaded source (`SqlSource`, a view over its canonical Parquet) gives its usable records with
the load-stage duration measures (`SqlSource.relation`); `enriched` applies, in registry order,
the derivations of `cscli.derived` a report asks for, each built by the `SqlBuilder` registered
under its name (`CORE_BUILDERS` here: the ticket ends and the ages; the others in
`cscli.engine.sql.derive`). A derivation without a builder is not computed by the SQL engines:
availability reports the KPIs that read it as unavailable on the engine.

Every step wraps the previous query (`SELECT <columns>, <expr> AS name FROM (<query>) AS _r`)
and lists its columns by name (no `SELECT * EXCLUDE`: Spark has none), so that a relation's
columns are always known without asking the engine. Small tables a builder needs (a
business-hours grid, sentiment scores) are `Lookup`s, registered with the runner before the
queries run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlglot import exp

from cscli.derived import WINDOW_MEASURES, Derivation, plan
from cscli.engine.sql.dialect import Dialect
from cscli.kpis.measures import MEASURES, Measure, measures_for
from cscli.schema import GAVE_UP_STATUSES

if TYPE_CHECKING:
    import polars as pl

    from cscli.business_hours.assignment import BusinessHours
    from cscli.quality import QualityIssue, SourceSummary

#: the columns of canonical Parquet that are not canonical data (file, row, usable flag)
FILE_COL, ROW_COL, USABLE_COL = "_file", "_row", "_usable"
BOOKKEEPING = frozenset({FILE_COL, ROW_COL, USABLE_COL})

#: the timestamp columns of each source, whose newest value is the source's export time (as
#: `cscli.engine.polars.facts.TIMESTAMPS`)
TIMESTAMPS = {
    "tickets": ("created_at", "first_response_at", "resolved_at", "closed_at"),
    "calls": ("queued_at", "answered_at", "ended_at"),
    "surveys": ("responded_at",),
    "messages": ("created_at",),
    "ticket_comments": ("created_at",),
    "customers": ("started_at", "churned_at"),
    "agent_states": ("started_at", "ended_at"),
    "ticket_events": ("at",),
    "survey_invitations": ("sent_at", "responded_at"),
}


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference (a column name is one identifier: `Queue.Name` too)."""
    return exp.column(name, table=table, quoted=True)


def alias(e: exp.Expr, name: str) -> exp.Expr:
    """`e AS "name"`."""
    return exp.Alias(this=e, alias=exp.to_identifier(name, quoted=True))


def subquery(query: exp.Expr, name: str) -> exp.Expr:
    """`(query) AS name`, or the table itself when `query` is a table reference."""
    if isinstance(query, exp.Table):
        return exp.Table(
            this=query.this.copy(),
            db=query.args.get("db"),
            catalog=query.args.get("catalog"),
            alias=exp.TableAlias(this=exp.to_identifier(name)),
        )
    return exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier(name)))


@dataclass(frozen=True)
class Relation:
    """A query whose output columns are exactly `columns` (in that order)."""

    query: exp.Expr
    columns: tuple[str, ...]

    @classmethod
    def table(cls, name: str, columns: Sequence[str]) -> Relation:
        """Every column of a registered view or table."""
        return cls(exp.Table(this=exp.to_identifier(name, quoted=True)), tuple(columns))

    def select(self, *items: str | tuple[str, exp.Expr]) -> Relation:
        """A projection: column names kept as they are, `(name, expr)` computed."""
        exprs: list[exp.Expr] = []
        names: list[str] = []
        for item in items:
            if isinstance(item, str):
                exprs.append(col(item))
                names.append(item)
            else:
                exprs.append(alias(item[1], item[0]))
                names.append(item[0])
        query = exp.Select(expressions=exprs).from_(subquery(self.query, "_r"), copy=False)
        return Relation(query, tuple(names))

    def with_columns(self, **named: exp.Expr) -> Relation:
        """The columns plus `named` (replacing columns of the same name), computed over the
        old ones: `SELECT <kept>, <expr> AS name… FROM (query) AS _r`."""
        kept = [c for c in self.columns if c not in named]
        return self.select(*kept, *named.items())

    def drop(self, *names: str) -> Relation:
        return self.select(*(c for c in self.columns if c not in names))

    def filter(self, predicate: exp.Expr) -> Relation:
        """The rows where `predicate` is true (NULL counts as false, as in polars)."""
        query = (
            exp.Select(expressions=[col(c) for c in self.columns])
            .from_(subquery(self.query, "_r"), copy=False)
            .where(predicate, copy=False)
        )
        return Relation(query, self.columns)

    def left_join(
        self,
        other: Relation,
        on: Sequence[str] | Mapping[str, str],
        take: Sequence[str],
        *,
        broadcast: bool = False,
    ) -> Relation:
        """Every row of this relation with the columns `take` of the matching row of `other`
        (NULL where none; a key that is NULL matches nothing, as a polars join). `on` names
        the key columns of both, or maps this relation's key to `other`'s. The taken columns
        replace columns of the same name. `broadcast`: `other` is small (a Spark hint)."""
        pairs = dict(on) if isinstance(on, Mapping) else {c: c for c in on}
        cond: exp.Expr | None = None
        for left, right in pairs.items():
            eq = exp.EQ(this=col(left, "_l"), expression=col(right, "_j"))
            cond = eq if cond is None else exp.And(this=cond, expression=eq)
        kept = [c for c in self.columns if c not in take]
        items = [col(c, "_l") for c in kept] + [alias(col(c, "_j"), c) for c in take]
        query = exp.Select(expressions=items).from_(subquery(self.query, "_l"), copy=False)
        if broadcast:
            query.set(
                "hint",
                exp.Hint(
                    expressions=[
                        exp.Anonymous(this="BROADCAST", expressions=[exp.to_identifier("_j")])
                    ]
                ),
            )
        query = query.join(subquery(other.query, "_j"), on=cond, join_type="left", copy=False)
        return Relation(query, (*kept, *take))

    def sql(self, d: Dialect) -> str:
        return render(self.query, d)


def render(query: exp.Expr, d: Dialect) -> str:
    """The SQL text of a query for `d` (join hints are Spark's: dropped for the others)."""
    if d.name != "spark":
        query = query.copy()
        for select in query.find_all(exp.Select):
            select.set("hint", None)
    return d.render(query)


class Canonical(Protocol):
    """What the SQL engines read of a source's canonical Parquet
    (`cscli.engine.canonical.CanonicalSource`)."""

    @property
    def name(self) -> str: ...
    @property
    def table(self) -> str: ...
    @property
    def paths(self) -> tuple[str, ...]: ...
    @property
    def columns(self) -> Mapping[str, str]: ...
    @property
    def dimensions(self) -> tuple[str, ...]: ...
    @property
    def summary(self) -> SourceSummary: ...
    @property
    def findings(self) -> tuple[QualityIssue, ...]: ...
    @property
    def usable_col(self) -> str | None: ...
    @property
    def data_end(self) -> datetime | None: ...


@dataclass(frozen=True)
class SqlSource:
    """The engine's handle of a loaded source: a view over its canonical Parquet.

    `columns` are what planning reads (as a polars `LoadedSource`'s): the canonical and extra
    columns, plus the duration measures they allow; `dimensions` those that can cut a report."""

    name: str
    view: str
    columns: frozenset[str]
    dimensions: tuple[str, ...]
    canonical: Canonical
    #: the canonical table's required columns (the usable rows of a warehouse table)
    required: tuple[str, ...] = ()

    @property
    def stored(self) -> tuple[str, ...]:
        """The columns of the view, canonical Parquet's bookkeeping columns included."""
        return tuple(self.canonical.columns)

    @property
    def data_columns(self) -> tuple[str, ...]:
        """The columns of the view that are data (not `_file`, `_row`, `_usable`)."""
        return tuple(c for c in self.canonical.columns if c not in BOOKKEEPING)

    def dtype(self, column: str) -> str:
        """The dtype name of a column ("float" for the measures)."""
        return self.canonical.columns.get(column, "float")

    def all_rows(self) -> Relation:
        """Every row of the view (usable or not), as stored."""
        return Relation.table(self.view, self.stored)

    def usable(self) -> exp.Expr:
        """The predicate of a usable row: the `_usable` flag, or the required values present."""
        if self.canonical.usable_col is not None:
            return exp.func("COALESCE", col(self.canonical.usable_col), exp.false())
        parts = [exp.Not(this=exp.Is(this=col(c), expression=exp.Null())) for c in self.required]
        out: exp.Expr = exp.true()
        for p in parts:
            out = p if out == exp.true() else exp.And(this=out, expression=p)
        return out

    def relation(self, d: Dialect) -> Relation:
        """The usable records: the data columns, `_file`/`_row` when stored, and the
        load-stage measures (null where negative)."""
        keep = [c for c in self.stored if c != USABLE_COL]
        rows = Relation.table(self.view, self.stored).filter(self.usable()).select(*keep)
        measures = measures_for(self.canonical.table, set(self.data_columns))
        if not measures:
            return rows
        return rows.with_columns(**{m.name: measure_expr(m, d) for m in measures})


#: a small table a builder needs, registered with the runner under `name` before the queries
#: run (`broadcast`: join it to every partition, on Spark)
@dataclass(frozen=True)
class Lookup:
    name: str
    frame: pl.DataFrame
    broadcast: bool = True


@dataclass
class SqlContext:
    """What a builder reads besides the relation: the source, the others, the report's cuts,
    the dialect, the business calendars; `lookups` collects the small tables builders need."""

    name: str
    sources: Mapping[str, SqlSource]
    #: the columns of the source as loaded
    columns: frozenset[str]
    by: Sequence[str]
    d: Dialect
    hours: BusinessHours | None = None
    lookups: list[Lookup] = field(default_factory=list)
    #: runs rendered queries at once (a builder that needs data first: the distinct texts
    #: to score for sentiment); set by the engine
    run: Callable[[Sequence[str]], list[pl.DataFrame]] | None = None

    def lookup(self, item: Lookup) -> None:
        """Ask for a lookup table (once per name)."""
        if all(known.name != item.name for known in self.lookups):
            self.lookups.append(item)


#: adds the columns of one derivation to the relation of its source
SqlBuilder = Callable[[Relation, Derivation, SqlContext], Relation]
#: builds a source from others (the contacts), given the derivations asked of it
SqlSourceBuilder = Callable[[Mapping[str, SqlSource], Sequence[Derivation], SqlContext], Relation]


# --- measures -------------------------------------------------------------------------------


def _raw(m: Measure, d: Dialect) -> exp.Expr:
    if m.kind == "seconds_between":
        start, end, *fallback = m.inputs
        end_expr: exp.Expr = (
            exp.func("COALESCE", col(end), *(col(f) for f in fallback)) if fallback else col(end)
        )
        return d.seconds_between(end_expr, col(start))
    talk, hold, wrap = m.inputs
    zero = d.double(0.0)
    return exp.Add(
        this=exp.Add(
            this=d.double(col(talk)),
            expression=exp.func("COALESCE", d.double(col(hold)), zero),
        ),
        expression=exp.func("COALESCE", d.double(col(wrap)), zero.copy()),
    )


def invalid_expr(m: Measure, d: Dialect) -> exp.Expr:
    """Records whose measure cannot be trusted: a negative duration or component (NULL where
    the inputs are missing, as polars)."""
    zero = exp.Literal.number("0")
    if m.kind == "seconds_between":
        return exp.LT(this=exp.Paren(this=_raw(m, d)), expression=zero)
    parts = [exp.LT(this=col(c), expression=zero.copy()) for c in m.inputs]
    anyneg: exp.Expr = parts[0]
    for p in parts[1:]:
        anyneg = exp.Or(this=anyneg, expression=p)
    return exp.func("COALESCE", exp.Paren(this=anyneg), exp.false())


def measure_expr(m: Measure, d: Dialect) -> exp.Expr:
    """The measure (DOUBLE), NULL where `invalid_expr` holds or is NULL."""
    ok = exp.Not(this=exp.Paren(this=invalid_expr(m, d)))
    return exp.Case(ifs=[exp.If(this=ok, true=_raw(m, d))])


# --- the builders of this module --------------------------------------------------------------


def null_timestamp(d: Dialect) -> exp.Expr:
    """A NULL UTC instant."""
    kind = "TIMESTAMPTZ" if d.name == "duckdb" else "TIMESTAMP"
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(kind))


def ticket_ended_unresolved(columns: frozenset[str] | set[str]) -> exp.Expr | None:
    """Tickets that ended without a resolution (`cscli.engine.polars.facts`): no resolved_at,
    and a closed_at or a status that ends a ticket. None when the export cannot tell."""
    if "resolved_at" not in columns:
        return None
    ended: exp.Expr | None = None
    if "status" in columns:
        statuses = [exp.Literal.string(s) for s in GAVE_UP_STATUSES]
        ended = exp.func("COALESCE", exp.In(this=col("status"), expressions=statuses), exp.false())
    if "closed_at" in columns:
        closed = exp.Not(this=exp.Is(this=col("closed_at"), expression=exp.Null()))
        ended = closed if ended is None else exp.Or(this=ended, expression=closed)
    if ended is None:
        return None
    unresolved = exp.Is(this=col("resolved_at"), expression=exp.Null())
    return exp.And(this=unresolved, expression=exp.Paren(this=ended))


def with_ticket_ends(rel: Relation, columns: frozenset[str], d: Dialect) -> Relation:
    """TICKET_ENDS: `ended_at`, `ticket_end_unknown`, `ticket_open`."""
    ended = ticket_ended_unresolved(columns)
    closed = col("closed_at") if "closed_at" in columns else null_timestamp(d)
    unresolved = exp.Is(this=col("resolved_at"), expression=exp.Null())
    closed_null = exp.Is(this=closed.copy(), expression=exp.Null())
    return rel.with_columns(
        ended_at=exp.func("COALESCE", col("resolved_at"), closed),
        ticket_end_unknown=(
            exp.And(this=exp.Paren(this=ended), expression=closed_null)
            if ended is not None
            else exp.false()
        ),
        ticket_open=(
            exp.And(this=unresolved, expression=exp.Not(this=exp.Paren(this=ended.copy())))
            if ended is not None
            else unresolved
        ),
    )


def source_end(name: str, columns: frozenset[str] | set[str], d: Dialect) -> exp.Expr | None:
    """The newest timestamp of the relation's records, as a window aggregate over all rows
    (`MAX(GREATEST(stamps…)) OVER ()`); None when the source has no timestamp column."""
    stamps = [col(c) for c in TIMESTAMPS.get(name, ()) if c in columns]
    if not stamps:
        return None
    newest = stamps[0] if len(stamps) == 1 else d.greatest(*stamps)
    return exp.Window(this=exp.Max(this=newest))


def _age(rel: Relation, dv: Derivation, ctx: SqlContext) -> Relation:
    as_of = source_end(ctx.name, ctx.columns, ctx.d)
    if as_of is None:
        return rel.with_columns(
            **{dv.name: exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE"))}
        )
    return rel.with_columns(**{dv.name: ctx.d.seconds_between(as_of, col("created_at"))})


CORE_BUILDERS: dict[str, SqlBuilder] = {
    "ticket_ends": lambda rel, dv, ctx: with_ticket_ends(rel, ctx.columns, ctx.d),
    "age_seconds": _age,
}

#: the derivations every SQL engine computes at load (the duration measures)
MEASURE_NAMES = frozenset(m.name for m in MEASURES)


def enriched(
    name: str,
    sources: Mapping[str, SqlSource],
    by: Sequence[str],
    needed: set[str],
    ctx: SqlContext,
    builders: Mapping[str, SqlBuilder],
    source_builders: Mapping[str, SqlSourceBuilder],
) -> Relation:
    """The usable records of `name` with the derived columns that `needed` and `by` ask for.
    Availability has made sure every step has a builder."""
    steps = plan(name, {*needed, *by})
    if name not in sources:
        return source_builders[name](sources, steps, ctx)
    rel = sources[name].relation(ctx.d)
    for dv in steps:
        rel = builders[dv.name](rel, dv, ctx)
    return rel


def with_window_measures(
    rel: Relation, ctx: SqlContext, builders: Mapping[str, SqlBuilder]
) -> Relation:
    """`age_seconds` (and its business twin) for the queries that read them (`window` stage):
    the export time (the newest timestamp of the tickets) − created_at."""
    for dv in plan("tickets", WINDOW_MEASURES, "window"):
        if dv.name in builders:
            rel = builders[dv.name](rel, dv, ctx)
    return rel
