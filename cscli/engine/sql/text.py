"""Kind and user SQL text as sqlglot trees, rewritten to mean on DuckDB and Spark what it
means on polars.

Every SQL text of a kind (`cscli.kpis.columns.kind_sql`) and every user expression (`sql:`,
`filter:`, derived columns, `checks[].where`) is parsed once (`sqlglot.parse_one(text,
read="duckdb")`, the dialect closest to polars' SQL) and cached. Before that, the text passes
`cscli.sqlcheck.check_sql` (no subqueries, no table functions, bounded size), exactly as on
the polars engine. The tree may hold only the node types of `_ALLOWED` (comparisons, AND/OR/
NOT, IN, BETWEEN, IS [NOT] NULL, CASE, COALESCE, string and arithmetic functions, CAST and the
exact aggregates); anything else is refused with the reason and, where there is one, the
portable spelling (`problems`).

The rewrites (`compile_sql`, per dialect), each one a place where the engines differ:

- a decimal literal (`20.0`, `1e3`) → `CAST(20.0 AS DOUBLE)`: DECIMAL in DuckDB and Spark;
- `a / b` → IEEE division of doubles (`Dialect.divide`): polars gives 7 / 2 = 3.5 and
  1 / 0 = inf; `a // b` and `a % b` truncate, NULL for a zero divisor;
- `quantile_cont(x, q)` and `median(x)` → the exact quantile (`Dialect.quantile`);
- `agg(x) FILTER (WHERE w)` → `agg(CASE WHEN w THEN x END)` (`count(*)`: of 1), which every
  engine reads the same way;
- `sum(p)` / `avg(p)` of a predicate → of `CAST(p AS INT)` (polars counts it; Spark refuses
  SUM(boolean));
- `trim(x)` → every Unicode whitespace character (polars `strip_chars`), `length(x)` →
  characters, `concat` skips NULLs (Spark: `concat_ws('', …)`), `starts_with`, `ends_with`,
  `replace`, `left`, `right` by each engine's name, `round(x)` → half to even (polars),
  CAST to an integer type truncates (DuckDB rounds: `CAST(trunc(x) AS INT)`), GREATEST/LEAST
  skip NULL.

One difference stays, documented: a user `max(x)` over doubles that mix NaN with numbers is
NaN on the SQL engines (they order NaN above every number) where polars skips the NaN; the
kinds' own statistics spell polars' rule out (`kinds.nan_max`, on DOUBLE values), but a user
expression's type is not known here.

Refused: `WITHIN GROUP`, approximate aggregates (`approx_*`, `percentile_approx`),
`quantile`/`quantile_disc` (discrete), window functions, unknown functions, casts to
strings or 32-bit floats and `round(x, n)` for n ≠ 0 (formatted or rounded differently
by each engine), qualified names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from cscli.engine.sql.dialect import Dialect
from cscli.sqlcheck import MAX_SQL_CHARS, check_sql


class SqlTextError(ValueError):
    """A SQL text the SQL engines cannot run exactly as polars does; the message says why
    and, where there is one, how to write it portably."""


#: nodes whose value is a boolean
_PREDICATES = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.And,
    exp.Or,
    exp.Not,
    exp.In,
    exp.Between,
    exp.Is,
    exp.Like,
    exp.ILike,
)

#: node types a text may hold as they are (sqlglot renders them the same in every dialect)
_ALLOWED: frozenset[type[exp.Expr]] = frozenset(
    {
        *_PREDICATES,
        exp.Column,
        exp.Identifier,
        exp.Literal,
        exp.Boolean,
        exp.Null,
        exp.Paren,
        exp.Tuple,
        exp.Case,
        exp.If,
        exp.Coalesce,
        exp.Nullif,
        exp.Lower,
        exp.Upper,
        exp.DPipe,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Neg,
        exp.Abs,
        exp.Floor,
        exp.Ceil,
        exp.Count,
        exp.Sum,
        exp.Avg,
        exp.Min,
        exp.Max,
        exp.Distinct,
        exp.Star,
        exp.DataType,
        exp.Where,
        # rewritten (see `_rewrite`)
        exp.Div,
        exp.IntDiv,
        exp.Mod,
        exp.Cast,
        exp.Median,
        exp.PercentileCont,
        exp.Filter,
        exp.Trim,
        exp.Length,
        exp.Round,
        exp.Greatest,
        exp.Least,
        exp.StartsWith,
        exp.EndsWith,
        exp.Replace,
        exp.Left,
        exp.Right,
        exp.Concat,
    }
)

#: node types refused with a reason and the portable spelling
_REFUSED: dict[type[exp.Expr], str] = {
    exp.WithinGroup: "WITHIN GROUP is not supported: write quantile_cont(x, q)",
    exp.ApproxQuantile: "approximate quantiles are not exact: write quantile_cont(x, q)",
    exp.ApproxDistinct: "approximate distinct counts are not exact: write count(DISTINCT x)",
    exp.Quantile: "quantile(x, q) is a discrete quantile on DuckDB: write quantile_cont(x, q)",
    exp.PercentileDisc: "quantile_disc is not supported: write quantile_cont(x, q) (linear)",
    exp.Window: "window functions (OVER) are not allowed in a KPI expression",
    exp.Subquery: "subqueries are not allowed: SQL here is an expression over the columns",
    exp.Select: "SELECT is not allowed: SQL here is an expression over the columns",
    exp.Exists: "EXISTS is not allowed: SQL here is an expression over the columns",
}

#: CAST target types and what they mean; others are refused
_INTEGER_TYPES = frozenset(
    {exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT}
    | {exp.DataType.Type.BIGINT}
)
_CAST_TYPES = _INTEGER_TYPES | {
    exp.DataType.Type.DOUBLE,
    exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.DATE,
}


@lru_cache(maxsize=4096)
def _parsed(text: str) -> exp.Expr | str:
    """The checked tree of `text`, or the reason it is refused (cached: parsed once)."""
    found = check_sql(text)
    if found is not None:
        # a refused function may have a portable spelling: say it (sqlglot parses without
        # running anything; the size limits have held when the problem is a name)
        specific = _specific(text) if len(text) <= MAX_SQL_CHARS else None
        return specific or found.message
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except SqlglotError as e:
        first = str(e).strip().splitlines()
        return f"cannot parse: {first[0] if first else type(e).__name__}"
    for node in tree.walk():
        reason = _refusal(node)
        if reason is not None:
            return reason
    return tree


def _specific(text: str) -> str | None:
    """The reason with a portable spelling for a text `check_sql` refused, if it has one."""
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except (SqlglotError, RecursionError):
        return None
    for node in tree.walk():
        if type(node) in _REFUSED and not isinstance(node, exp.Select | exp.Subquery):
            return _REFUSED[type(node)]
        if isinstance(node, exp.Anonymous) and str(node.this).lower().startswith(
            ("approx", "percentile_approx")
        ):
            return f"{str(node.this).lower()}() is approximate: write quantile_cont(x, q)"
    return None


def _refusal(node: exp.Expr) -> str | None:
    kind = type(node)
    if kind in _REFUSED:
        return _REFUSED[kind]
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name.startswith("approx") or name == "percentile_approx":
            return f"{name}() is approximate: write quantile_cont(x, q) or count(DISTINCT x)"
        return f"function {name}() is not supported on the SQL engines"
    if isinstance(node, exp.Func) and kind not in _ALLOWED:
        return f"function {node.sql_name().lower()}() is not supported on the SQL engines"
    if kind not in _ALLOWED:
        return f"{node.key.upper()} is not supported on the SQL engines"
    if isinstance(node, exp.Column) and node.table:
        return f"qualified name {node.sql()!r} is not supported: name the column alone"
    if isinstance(node, exp.Cast):
        to = node.to
        if to.this not in _CAST_TYPES:
            return (
                f"CAST(… AS {to.sql()}) is not supported on the SQL engines (each formats or "
                "rounds it its own way): cast to DOUBLE, BIGINT, INTEGER, BOOLEAN or DATE"
            )
    if isinstance(node, exp.PercentileCont) and _quantile_of(node) is None:
        return "quantile_cont(x, q) needs a number q between 0 and 1"
    if isinstance(node, exp.Trim) and (node.args.get("expression") or node.args.get("position")):
        return "TRIM(… FROM …) is not supported: write trim(x) (whitespace)"
    if isinstance(node, exp.Round) and not _whole(node.args.get("decimals")):
        return (
            "round(x, n) rounds decimal digits differently on each engine (polars rounds the "
            "shortest decimal form of 2.675 up, DuckDB the double down): write round(x * 100) "
            "/ 100 for two digits"
        )
    if isinstance(node, exp.Is) and not isinstance(node.expression, exp.Null):
        return "IS TRUE / IS FALSE is not supported: write coalesce(x, FALSE) or x IS NULL"
    if isinstance(node, exp.Like | exp.ILike) and node.args.get("escape"):
        return "LIKE … ESCAPE is not supported on the SQL engines"
    return None


def _whole(digits: exp.Expr | None) -> bool:
    """No digits, or 0: rounding to a whole number, the same on every engine."""
    return digits is None or (isinstance(digits, exp.Literal) and digits.this == "0")


def _quantile_of(node: exp.PercentileCont) -> float | None:
    q = node.expression
    if isinstance(q, exp.Literal) and q.is_number:
        value = float(q.this)
        return value if 0 <= value <= 1 else None
    return None


def parse(text: str) -> exp.Expr:
    """The checked tree of `text` (a fresh copy: trees are mutable); raises SqlTextError."""
    tree = _parsed(text)
    if isinstance(tree, str):
        raise SqlTextError(tree)
    return tree.copy()


def problems(text: str, d: Dialect) -> list[str]:
    """Why `text` cannot run exactly on dialect `d` (empty when it can): for config load and
    `cscli validate`."""
    try:
        compile_sql(text, d)
    except SqlTextError as e:
        return [str(e)]
    return []


def column_names(text: str) -> set[str]:
    """The columns a (valid) text names; raises SqlTextError for a refused one."""
    return {c.name for c in parse(text).find_all(exp.Column) if not c.table}


def compile_sql(text: str, d: Dialect) -> exp.Expr:
    """`text` rewritten for dialect `d` (a fresh copy); raises SqlTextError."""
    return _compiled(text, d).copy()


@lru_cache(maxsize=4096)
def _compiled(text: str, d: Dialect) -> exp.Expr:
    tree = parse(text).transform(_unfilter, copy=False)
    return _bottom_up(tree, _rewriter(d))


def _bottom_up(node: exp.Expr, fun: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """`fun` applied to every node, children first (sqlglot's `transform` is top-down and
    does not visit the children of a node it replaced)."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expr):
            node.set(key, _bottom_up(value, fun))
        elif isinstance(value, list):
            node.set(key, [_bottom_up(v, fun) if isinstance(v, exp.Expr) else v for v in value])
    return fun(node)


def _unfilter(node: exp.Expr) -> exp.Expr:
    """`agg(x) FILTER (WHERE w)` → `agg(CASE WHEN w THEN x END)` (`count(*)`: of 1)."""
    if not isinstance(node, exp.Filter):
        return node
    agg = node.this
    where = node.expression
    cond = where.this if isinstance(where, exp.Where) else where
    if not isinstance(agg, exp.AggFunc):
        raise SqlTextError("FILTER (WHERE …) applies to an aggregate only")
    arg = agg.this
    distinct = isinstance(arg, exp.Distinct)
    inner = arg.expressions[0] if distinct and len(arg.expressions) == 1 else arg
    if distinct and len(arg.expressions) != 1:
        raise SqlTextError("count(DISTINCT …) FILTER takes one expression")
    value = exp.Literal.number("1") if isinstance(inner, exp.Star) else inner
    case = exp.Case(ifs=[exp.If(this=exp.Paren(this=cond.copy()), true=value.copy())])
    new = agg.copy()
    new.set("this", exp.Distinct(expressions=[case]) if distinct else case)
    return new


def _rewriter(d: Dialect) -> Callable[[exp.Expr], exp.Expr]:
    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Literal) and node.is_number:
            keep = isinstance(node.parent, exp.Round | exp.PercentileCont)  # arguments
            if any(c in node.this for c in ".eE") and not keep:
                return d.double(exp.Literal.number(node.this))
            return node
        if isinstance(node, exp.Div):
            return exp.Paren(this=d.divide(node.this, node.expression))
        if isinstance(node, exp.IntDiv):
            return exp.Paren(this=d.int_div(node.this, node.expression))
        if isinstance(node, exp.Mod):
            return exp.Paren(this=d.mod(node.this, node.expression))
        if isinstance(node, exp.Sum | exp.Avg) and isinstance(node.this, _PREDICATES):
            # polars sums and averages a boolean as 0/1; Spark refuses SUM(boolean)
            node.set("this", exp.Cast(this=node.this, to=exp.DataType.build("INT")))
            return node
        if isinstance(node, exp.Median):
            return d.quantile(node.this, 0.5)
        if isinstance(node, exp.PercentileCont):
            q = _quantile_of(node)
            assert q is not None  # refused at parse otherwise
            return d.quantile(node.this, q)
        if isinstance(node, exp.Trim):
            return d.trim(node.this)
        if isinstance(node, exp.Length):
            return d.length(node.this)
        if isinstance(node, exp.Round):
            return d.round(node.this, node.args.get("decimals"))
        if isinstance(node, exp.StartsWith | exp.EndsWith | exp.Left | exp.Right):
            name = {
                exp.StartsWith: "starts_with",
                exp.EndsWith: "ends_with",
                exp.Left: "left",
                exp.Right: "right",
            }[type(node)]
            return d.fn(name, node.this, node.expression)
        if isinstance(node, exp.Replace):
            return d.fn("replace", node.this, node.expression, node.args["replacement"])
        if isinstance(node, exp.Concat):
            return d.concat(*node.expressions)
        if isinstance(node, exp.Greatest):
            return d.greatest(node.this, *node.expressions)
        if isinstance(node, exp.Least):
            return d.least(node.this, *node.expressions)
        if isinstance(node, exp.Cast) and node.to.this in _INTEGER_TYPES and d.name == "duckdb":
            operand = node.this
            if not (isinstance(operand, exp.Literal) and operand.is_string):
                # DuckDB rounds a double cast to an integer; polars and Spark truncate
                trunc = exp.Anonymous(this="trunc", expressions=[operand])
                return exp.Cast(this=trunc, to=node.to)
        return node

    return rewrite
