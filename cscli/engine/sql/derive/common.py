"""The SQL pieces several derivation builders share: typed NULLs, predicates, windows, a
GROUP BY over a relation, and an id as message threading compares it.

Each one mirrors a polars idiom of `cscli.engine.polars.enrich` and its helpers; where polars'
semantics need a spelling of their own in SQL (NULL order keys, `fill_null`), it is said here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.relations import Relation, alias, col, subquery

#: a whole number written with a zero fraction (`cscli.engine.polars.facts.ZERO_FRACTION`,
#: spelled without a backslash, so that no dialect's string escapes touch it)
ZERO_FRACTION = r"^([+-]?[0-9]+)[.]0+$"


def null_of(kind: str) -> exp.Expr:
    """A NULL of SQL type `kind` ("TEXT", "BOOLEAN", "DOUBLE", "BIGINT")."""
    return exp.Cast(this=exp.Null(), to=exp.DataType.build(kind))


def text(x: exp.Expr) -> exp.Expr:
    """`CAST(x AS TEXT)` (Spark: STRING)."""
    return exp.Cast(this=x, to=exp.DataType.build("TEXT"))


def lit(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def num(value: int) -> exp.Expr:
    return exp.Literal.number(str(value))


def is_null(x: exp.Expr) -> exp.Expr:
    return exp.Is(this=x, expression=exp.Null())


def not_null(x: exp.Expr) -> exp.Expr:
    return exp.Not(this=exp.Is(this=x, expression=exp.Null()))


def eq(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.EQ(this=a, expression=b)


def both(*parts: exp.Expr) -> exp.Expr:
    """`a AND b AND …` (each part parenthesised)."""
    out: exp.Expr = exp.Paren(this=parts[0])
    for p in parts[1:]:
        out = exp.And(this=out, expression=exp.Paren(this=p))
    return out


def fill_false(p: exp.Expr) -> exp.Expr:
    """`COALESCE((p), FALSE)`: polars `fill_null(False)`."""
    return exp.func("COALESCE", exp.Paren(this=p), exp.false())


def when(cond: exp.Expr, then: exp.Expr, otherwise: exp.Expr | None = None) -> exp.Expr:
    """`CASE WHEN cond THEN then [ELSE otherwise] END` (polars `when/then/otherwise`: a NULL
    condition takes the otherwise branch, NULL without one)."""
    return exp.Case(ifs=[exp.If(this=cond, true=then)], default=otherwise)


def concat(prefix: str, x: exp.Expr) -> exp.Expr:
    """`'prefix' || x`: NULL when x is (polars `concat_str`)."""
    return exp.DPipe(this=lit(prefix), expression=text(x), safe=True)


def thread_key(x: exp.Expr, d: Dialect) -> exp.Expr:
    """An id as message threading compares it (`cscli.engine.polars.facts.thread_key`): text,
    trimmed of every whitespace, `3.0` read as `3`."""
    group = "\\1" if d.name == "duckdb" else "$1"
    return d.fn("regexp_replace", d.trim(text(x)), lit(ZERO_FRACTION), lit(group))


def ordered(x: exp.Expr, *, nulls_first: bool) -> exp.Ordered:
    """`x ASC NULLS FIRST|LAST` (rendered explicitly where it differs from the default)."""
    return exp.Ordered(this=x, desc=False, nulls_first=nulls_first)


def window(
    fn: exp.Expr,
    partition: Sequence[exp.Expr] = (),
    order: Sequence[exp.Ordered] = (),
    frame: tuple[str, str | None, str | None, str | None] | None = None,
) -> exp.Expr:
    """`fn OVER (PARTITION BY … ORDER BY … [ROWS BETWEEN …])`; `frame` = (start, start side,
    end, end side), e.g. ("UNBOUNDED", "PRECEDING", "CURRENT ROW", None)."""
    spec = None
    if frame is not None:
        start, start_side, end, end_side = frame
        spec = exp.WindowSpec(
            kind="ROWS", start=start, start_side=start_side, end=end, end_side=end_side
        )
    return exp.Window(
        this=fn,
        partition_by=[p.copy() for p in partition] or None,
        order=exp.Order(expressions=[o.copy() for o in order]) if order else None,
        spec=spec,
    )


def null_safe(x: exp.Expr) -> list[exp.Expr]:
    """Order keys that sort `x` ascending with NULLs FIRST inside a tuple (polars `sort_by`
    puts nulls first; DuckDB compares a NULL field of a struct as the largest value): whether
    it is present, then its value."""
    present = when(is_null(x), num(0), num(1))
    return [present, x.copy()]


def grouped(rel: Relation, keys: Sequence[str], aggs: Sequence[tuple[str, exp.Expr]]) -> Relation:
    """`SELECT keys, agg AS name… FROM (rel) GROUP BY keys` (polars `group_by(keys).agg`)."""
    items = [col(k) for k in keys] + [alias(e, n) for n, e in aggs]
    query = exp.Select(expressions=items).from_(subquery(rel.query, "_r"), copy=False)
    query = query.group_by(*(col(k) for k in keys), copy=False)
    return Relation(query, (*keys, *(n for n, _ in aggs)))


def union_all(parts: Sequence[Relation]) -> Relation:
    """The rows of every part (same columns, in the same order), one after another."""
    first, *rest = parts
    if not rest:
        return first
    query: exp.Expr = exp.Select(expressions=[col(c) for c in first.columns]).from_(
        subquery(first.query, "_u0"), copy=False
    )
    for i, part in enumerate(rest, 1):
        assert part.columns == first.columns, (part.columns, first.columns)
        other = exp.Select(expressions=[col(c) for c in part.columns]).from_(
            subquery(part.query, f"_u{i}"), copy=False
        )
        query = exp.Union(this=query, expression=other, distinct=False)
    return Relation(query, first.columns)
