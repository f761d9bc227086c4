"""Survey derivations in SQL: the contact a survey rates (its `--by` dimensions from the
ticket or call), and how long after an invitation the export still sees.

A duplicated contact id must not multiply responses: the lookup keeps one row per id, the
first in file order (the smallest `_file`, `_row`: polars' `first()` of a group keeps the
order the records were read in), NULL values kept (`first_by`).
"""

from __future__ import annotations

from sqlglot import exp

from cscli.derived import Derivation
from cscli.engine.sql.derive.common import grouped, not_null
from cscli.engine.sql.relations import (
    FILE_COL,
    ROW_COL,
    Relation,
    SqlContext,
    col,
    source_end,
    subquery,
)


def rated_contact(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """A survey's `--by` dimensions that it lacks, from the ticket or call it rates (the
    survey's own value first, then the ticket's, then the call's)."""
    dia = ctx.d
    wanted = [c for c in ctx.by if c in d.inherits]
    links = [
        (link.source, link.key)
        for link in d.needs_sources
        if link.source in ctx.sources and link.key is not None and link.key in ctx.columns
    ]
    for contact, key in links:
        src = ctx.sources[contact]
        dims = [c for c in wanted if c in src.columns]
        if not dims:
            continue
        rows = src.relation(dia)
        order = [col(c) for c in (FILE_COL, ROW_COL) if c in rows.columns]
        # only the contacts some survey rates are grouped (a semi join first)
        rated = exp.Select(expressions=[col(key)]).from_(subquery(rel.query, "_s"), copy=False)
        rated = rated.where(not_null(col(key)), copy=False)
        rows = rows.filter(exp.In(this=col(key), query=exp.Subquery(this=rated)))
        firsts = [(f"_{contact}_{c}", _first(col(c), order, ctx)) for c in dims]
        lookup = grouped(rows, [key], firsts)
        rel = rel.left_join(lookup, on=[key], take=[f"_{contact}_{c}" for c in dims])
    for c in wanted:
        parts = [c] if c in ctx.columns else []
        parts += [f"_{s}_{c}" for s, _ in links if c in ctx.sources[s].columns]
        if parts:
            value = col(parts[0]) if len(parts) == 1 else exp.func("COALESCE", *map(col, parts))
            rel = rel.with_columns(**{c: value})
    return rel


def _first(x: exp.Expr, order: list[exp.Column], ctx: SqlContext) -> exp.Expr:
    """The value of `x` on the first record in file order (a warehouse table has no file
    order: then its smallest value)."""
    if not order:
        return exp.Min(this=x)
    return ctx.d.first_by(x, [o.copy() for o in order])


def invitation_observed(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """`invitation_observed_seconds`: the export time of the invitations (their newest
    `sent_at` or `responded_at`) − `sent_at`."""
    as_of = source_end(ctx.name, ctx.columns, ctx.d)
    assert as_of is not None  # sent_at is required
    return rel.with_columns(**{d.name: ctx.d.seconds_between(as_of, col("sent_at"))})
