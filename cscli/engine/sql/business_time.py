"""Business seconds between two instants on a SQL engine: the lookup arrays of the polars
engine (`cscli.engine.polars.business_time`), shipped to the engine as a table and joined.

Polars reads B(t), a calendar's open time from a fixed origin up to instant t, from a grid of
equal UTC buckets: for the bucket that holds t (row `(us − (origin − width)) // width`, with
`us` the instant in µs since the epoch), B(t) = min(max(us + off, lo), hi). The SQL engines
join the very same arrays, one `Lookup` table per calendar (`row`, `off`, [`lo`,] `hi`, Int64;
broadcast on Spark), on the row computed in SQL, and take

    B = LEAST(GREATEST(us + off, lo), hi)          (GREATEST/LEAST skip NULL, as polars)
    business seconds = CAST(B(end) − B(start) AS DOUBLE) * CAST(1e-06 AS DOUBLE)

so every value is bit-identical to polars'. The grid's null sentinel rows (instants outside
the covered years) are left out of the table: a LEFT JOIN finds no row there, and a NULL
instant computes a NULL row that matches nothing, so B is NULL exactly where polars' is.

When a calendar's grid would exceed 64 MiB (openings off the 10-minute marks with short closed
gaps, over the default 51 years), polars searches its sorted open stretches instead: B(t) =
min(us + off, hi) on the last stretch starting at or before t. The SQL engines join those
arrays too, bucketed by UTC day from the origin (`bucket`, `start`, `until`, `off`, `hi`: each
stretch listed under every day it meets), on `bucket = (us − origin) // day` AND `start ≤ us <
until`: an equi-join with a residual range condition, a few rows per bucket.

Table size: a 15-minute grid holds 35,040 rows a year (4 × 24 × 365), 3 BIGINT columns (24
bytes a row, 841 KB a year) or 4 with `lo`; over the default years 2000–2050 that is 1.79M rows
(43 MB), above Spark's 10 MB broadcast threshold: the join carries a BROADCAST hint. A calendar
whose openings all fall on whole hours has an hourly grid: 447k rows (10.7 MB). The searched
tables are smaller (a row per day and per open stretch: ~45k rows, 1.8 MB, for Mon–Fri with a
break).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from sqlglot import exp

from cscli.derived import DERIVATIONS, Derivation
from cscli.engine.sql.kinds import Unsupported
from cscli.engine.sql.relations import (
    Lookup,
    Relation,
    SqlBuilder,
    SqlContext,
    alias,
    col,
    null_timestamp,
    source_end,
    subquery,
)
from cscli.kpis.measures import MEASURES

if TYPE_CHECKING:
    from cscli.business_hours.model import Calendar
    from cscli.config import CalendarAssignment
    from cscli.engine.polars.business_time import Grid, Pieces
    from cscli.engine.sql.dialect import Dialect

#: the prefix of the helper columns a business-seconds step adds and drops again
PREFIX = "__bh_"

#: "auto": the lookup polars uses by default; "search": its sorted-search arrays (as polars'
#: `strategy`)
Strategy = Literal["auto", "search"]

__all__ = [
    "BUSINESS_BUILDERS",
    "Unsupported",
    "business_age",
    "business_twin",
    "grid_lookup",
    "lookup_table",
    "with_business_seconds",
]


def lookup_table(
    calendar: Calendar, years: range | None = None, strategy: Strategy = "auto"
) -> tuple[Grid | Pieces, Lookup]:
    """The polars engine's lookup of `calendar` (its grid, or its searched stretches by day)
    and the `Lookup` table that ships it: columns `__bh_row`, `__bh_off`, [`__bh_lo`,]
    `__bh_hi` for a grid; `__bh_bucket`, `__bh_start`, `__bh_until`, `__bh_off`, `__bh_hi`
    for the stretches."""
    # The arrays are polars' own (equal results by construction); building them needs polars,
    # which is loaded anyway when a Lookup frame exists.
    from cscli.engine.polars.business_time import lookup_grid, lookup_pieces

    found = lookup_grid(calendar, years) if strategy == "auto" else None
    table = found if found is not None else lookup_pieces(calendar, years)
    frame = table.frame.rename({c: PREFIX + c for c in table.frame.columns})
    kind = "grid" if found is not None else "search"
    return table, Lookup(_table_name(calendar, years, kind), frame, broadcast=True)


def grid_lookup(calendar: Calendar, years: range | None = None) -> tuple[Grid | Pieces, Lookup]:
    """`lookup_table(calendar, years)`: kept for the engine's calendar check. Every calendar
    is measured exactly now (a grid or the searched stretches), so it never raises
    `Unsupported` (re-exported for the callers that catch it)."""
    return lookup_table(calendar, years)


def _table_name(calendar: Calendar, years: range | None, kind: str) -> str:
    """A table name unique to the calendar's definition, years and kind (names are free
    text)."""
    digest = hashlib.sha256(repr((calendar, years, kind)).encode()).hexdigest()[:12]
    slug = re.sub(r"[^a-z0-9]+", "_", calendar.name.lower()).strip("_")[:24]
    return f"cscli_hours_{slug}_{digest}"


def _clock(
    d: Dialect, us: exp.Expr, table: Grid | Pieces, lookup: Lookup, alias_: str
) -> tuple[exp.Expr, exp.Expr, exp.Expr]:
    """(the joined table, its ON condition, B) for the instant `us` (µs, a column of `_l`)
    read from `lookup` joined as `alias_`: B(t) in µs, NULL for a NULL instant or one
    outside the covered years."""
    from cscli.engine.polars.business_time import Grid

    def j(name: str) -> exp.Expr:
        return col(PREFIX + name, alias_)

    is_grid = isinstance(table, Grid)
    # grid rows count from 1 (row 0 of polars' arrays is the sentinel below the range)
    first = table.origin - table.width if is_grid else table.origin
    shifted = exp.Sub(this=us.copy(), expression=exp.Literal.number(str(first)))
    key = d.floor_div(shifted, exp.Literal.number(str(table.width)))
    on: exp.Expr
    if is_grid:
        on = exp.EQ(this=j("row"), expression=key)
    else:
        on = exp.and_(
            exp.EQ(this=j("bucket"), expression=key),
            exp.GTE(this=us.copy(), expression=j("start")),
            exp.LT(this=us.copy(), expression=j("until")),
        )
    value: exp.Expr = exp.Add(this=us.copy(), expression=j("off"))
    if PREFIX + "lo" in lookup.frame.columns:
        value = d.greatest(value, j("lo"))
    joined = subquery(exp.Table(this=exp.to_identifier(lookup.name, quoted=True)), alias_)
    return joined, on, d.least(value, j("hi"))


def _seconds_by_calendar(
    rel: Relation,
    s_us: str,
    e_us: str,
    outs: dict[str, Calendar],
    ctx: SqlContext,
    years: range | None,
    strategy: Strategy,
) -> Relation:
    """`rel` plus, for each `out → calendar` of `outs`, B(end) − B(start) on that calendar in
    seconds (µs × 1e-6), from the instants `s_us`, `e_us` (µs columns): one SELECT joining
    each calendar's lookup twice (a LEFT JOIN: an instant without a row gives NULL)."""
    d = ctx.d
    joins: list[tuple[exp.Expr, exp.Expr]] = []
    values: list[exp.Expr] = []
    for i, calendar in enumerate(outs.values()):
        table, lookup = lookup_table(calendar, years, strategy)
        ctx.lookup(lookup)
        clocks = []
        for side, us in (("s", s_us), ("e", e_us)):
            joined, on, clock = _clock(d, col(us, "_l"), table, lookup, f"_j{side}{i}")
            joins.append((joined, on))
            clocks.append(clock)
        values.append(d.seconds(exp.Sub(this=clocks[1], expression=clocks[0])))
    kept = [c for c in rel.columns if c not in outs]
    items = [col(c, "_l") for c in kept] + [alias(v, o) for o, v in zip(outs, values, strict=True)]
    query = exp.Select(expressions=items).from_(subquery(rel.query, "_l"), copy=False)
    hinted = [exp.to_identifier(j.alias) for j, _ in joins]
    query.set("hint", exp.Hint(expressions=[exp.Anonymous(this="BROADCAST", expressions=hinted)]))
    for joined, on in joins:
        query = query.join(joined, on=on, join_type="left", copy=False)
    return Relation(query, (*kept, *outs))


def _replace(rel: Relation, dropped: Sequence[str], **named: exp.Expr) -> Relation:
    """`rel` without the columns `dropped`, plus `named` (computed over all of them), in one
    SELECT."""
    kept = [c for c in rel.columns if c not in dropped and c not in named]
    return rel.select(*kept, *named.items())


def with_business_seconds(
    rel: Relation,
    start: str | exp.Expr,
    end: str | exp.Expr,
    out_col: str,
    assigned: str | CalendarAssignment | None,
    ctx: SqlContext,
    *,
    when: exp.Expr | None = None,
    years: range | None = None,
    strategy: Strategy = "auto",
) -> Relation:
    """`rel` plus `out_col`, the business seconds from `start` to `end` (column names or
    expressions over `rel`'s columns) under `assigned`, what `BusinessHours.for_source`
    gives: one calendar's name, or a calendar by the value of a column with a default (NULL
    where no calendar applies), as `cscli.engine.polars.enrich.business_expr`. `when`: the
    value is NULL where this predicate is not true (a twin is NULL where its measure is).
    `rel` unchanged when `assigned` is None (no calendar: the column is not made, as polars).
    `years` and `strategy` as `cscli.engine.polars.business_time.business_seconds`'s.

    Three SELECTs deep whatever the number of calendars: the instants in µs, then every
    lookup joined in one SELECT, then the choice of calendar."""
    if assigned is None:
        return rel
    assert ctx.hours is not None, "a calendar assignment comes from the context's hours"
    d = ctx.d
    # the instants once, as µs columns, so that an expression (COALESCE, a window MAX) is not
    # evaluated again for every calendar
    s_us, e_us = PREFIX + "start_us", PREFIX + "end_us"
    rel = rel.with_columns(
        **{
            s_us: d.epoch_us(col(start) if isinstance(start, str) else start),
            e_us: d.epoch_us(col(end) if isinstance(end, str) else end),
        }
    )
    if isinstance(assigned, str):
        chosen = [assigned]
    else:
        chosen = [*assigned.map.values(), *([assigned.default] if assigned.default else [])]
    names = {name: f"{PREFIX}s{i}" for i, name in enumerate(dict.fromkeys(chosen))}
    outs = {column: ctx.hours.calendars[name] for name, column in names.items()}
    rel = _seconds_by_calendar(rel, s_us, e_us, outs, ctx, years, strategy)
    if isinstance(assigned, str):
        value: exp.Expr = col(names[assigned])
    else:
        # first match wins, a NULL or unmapped value takes the default (polars when/then chain)
        ifs = [
            exp.If(
                this=exp.EQ(this=col(assigned.by), expression=exp.Literal.string(key)),
                true=col(names[target]),
            )
            for key, target in assigned.map.items()
        ]
        default = col(names[assigned.default]) if assigned.default else _null_double()
        value = exp.Case(ifs=ifs, default=default)
    if when is not None:
        value = exp.Case(ifs=[exp.If(this=when, true=value)])
    return _replace(rel, (s_us, e_us, *names.values()), **{out_col: value})


def _null_double() -> exp.Expr:
    return exp.Cast(this=exp.Null(), to=exp.DataType.build("DOUBLE"))


# --- the builders of the business derivations (the mirror of polars' enrich) -----------------


def business_twin(rel: Relation, dv: Derivation, ctx: SqlContext) -> Relation:
    """The business-time twin of a duration measure: NULL where the measure is (missing or
    negative), as `cscli.engine.polars.enrich._business_twin`."""
    assert dv.twin_of is not None
    (measure,) = (m for m in MEASURES if m.name == dv.twin_of)
    start, end, *fallback = measure.inputs
    end_expr: exp.Expr = (
        exp.func("COALESCE", col(end), *(col(f) for f in fallback)) if fallback else col(end)
    )
    if ctx.hours is None:
        return rel
    measured = exp.Not(this=exp.Is(this=col(dv.twin_of), expression=exp.Null()))
    assigned = ctx.hours.for_source(ctx.name)
    return with_business_seconds(rel, start, end_expr, dv.name, assigned, ctx, when=measured)


def business_age(rel: Relation, dv: Derivation, ctx: SqlContext) -> Relation:
    """`business_age_seconds`: business seconds from `created_at` to the export time (the
    newest timestamp of the records), as `cscli.engine.polars.enrich._business_age`."""
    if ctx.hours is None:
        return rel
    as_of = source_end(ctx.name, ctx.columns, ctx.d)
    end = as_of if as_of is not None else null_timestamp(ctx.d)
    assigned = ctx.hours.for_source(ctx.name)
    return with_business_seconds(rel, "created_at", end, dv.name, assigned, ctx)


#: the builders of the business-time derivations, by derivation name (as polars' BUILDERS)
BUSINESS_BUILDERS: dict[str, SqlBuilder] = {
    **{d.name: business_twin for d in DERIVATIONS if d.twin_of and d.stage == "enrich"},
    "business_age_seconds": business_age,
}
