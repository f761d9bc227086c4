"""Status times in SQL (the twin of `cscli.engine.polars.lifecycle.with_status_times`): a
ticket's status history reduced to its time per status group, first and final solve, reopens
and whether the history still has it open.

Events are ordered totally per ticket — time, row in the file, status, then the file (polars'
stable sort keeps file order) —; an interval runs to the ticket's next event (`LEAD`) or the
export time of the events (`MAX(at) OVER ()`). A status time sums the intervals' whole
microseconds and converts once (µs × 1e-6), as polars does: exact in any summation order.
"""

from __future__ import annotations

from sqlglot import exp

from cscli.derived import Derivation
from cscli.engine.sql.derive.common import (
    both,
    fill_false,
    grouped,
    lit,
    not_null,
    num,
    ordered,
    text,
    when,
    window,
)
from cscli.engine.sql.relations import FILE_COL, ROW_COL, Relation, SqlContext, col

KEY = "ticket_id"
#: the statuses that end a ticket's work, and the statuses each status time adds up (those of
#: `cscli.engine.polars.lifecycle`, which this module may not import: a test keeps them equal)
SOLVED = ("solved", "closed")
STATUS_GROUPS = {
    "requester_wait_seconds": ("new", "open", "hold"),
    "agent_work_seconds": ("new", "open"),
    "agent_wait_seconds": ("pending",),
    "on_hold_seconds": ("hold",),
}


def _in(statuses: tuple[str, ...]) -> exp.Expr:
    return exp.In(this=col("status"), expressions=[lit(s) for s in statuses])


def ordered_events(ctx: SqlContext) -> Relation:
    """The usable events with a ticket and a time, each with `_us` (the microseconds to the
    ticket's next event, or to the export time), `_solved`, `_was` (the previous event's
    `_solved`), `_pos` (1-based), `_last_open` (the last unsolved position) and `_n`."""
    d = ctx.d
    events = ctx.sources["ticket_events"].relation(d)
    extra = [c for c in (ROW_COL, FILE_COL) if c in events.columns]
    rows = events.select((KEY, d.trim(text(col(KEY)))), "at", "status", *extra).filter(
        both(not_null(col(KEY)), not_null(col("at")))
    )
    by = [col(KEY)]
    keys = ["at", *([ROW_COL] if ROW_COL in extra else []), "status"]
    keys += [FILE_COL] if FILE_COL in extra else []
    order = [ordered(col(c), nulls_first=False) for c in keys]
    solved = fill_false(_in(SOLVED))
    lead = exp.Anonymous(this="LEAD", expressions=[col("at")])
    lag = exp.Anonymous(this="LAG", expressions=[solved.copy()])
    step = rows.with_columns(
        _end=exp.func("COALESCE", window(lead, by, order), window(exp.Max(this=col("at")))),
        _solved=solved,
        _was=window(lag, by, order),
        _pos=window(exp.Anonymous(this="ROW_NUMBER", expressions=[]), by, order),
    )
    return step.with_columns(
        _us=exp.Sub(this=d.epoch_us(col("_end")), expression=d.epoch_us(col("at"))),
        _last_open=window(exp.Max(this=when(exp.Not(this=col("_solved")), col("_pos"))), by),
        _n=window(exp.Count(this=exp.Star()), by),
    )


def history(ctx: SqlContext) -> Relation:
    """One row per ticket: its status times, solves, reopens and whether it is still open."""
    d = ctx.d
    unsolved = exp.Not(this=col("_solved"))
    final = both(
        col("_solved"),
        exp.Or(
            this=exp.Is(this=col("_last_open"), expression=exp.Null()),
            expression=exp.GT(this=col("_pos"), expression=col("_last_open")),
        ),
    )
    times = [
        (
            name,
            d.seconds(
                exp.func("COALESCE", exp.Sum(this=when(_in(members), col("_us"))), d.bigint(0))
            ),
        )
        for name, members in STATUS_GROUPS.items()
    ]
    last_open = both(exp.EQ(this=col("_pos"), expression=col("_n")), unsolved.copy())
    facts = [
        ("first_solved_at", exp.Min(this=when(col("_solved"), col("at")))),
        ("final_solved_at", exp.Min(this=when(final, col("at")))),
        (
            "history_reopens",
            exp.Count(this=when(both(unsolved, fill_false(col("_was"))), num(1))),
        ),
        ("history_open", exp.GT(this=exp.Count(this=when(last_open, num(1))), expression=num(0))),
    ]
    return grouped(ordered_events(ctx), [KEY], [*times, *facts])


def with_status_times(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """Add `derived.STATUS_TIMES` and the history facts to the tickets, per ticket_id (a
    ticket without history gets NULLs)."""
    h = history(ctx)
    joined = rel.left_join(h, on=[KEY], take=[c for c in h.columns if c != KEY])
    start = col("created_at")
    return joined.with_columns(
        first_resolution_seconds=ctx.d.seconds_between(col("first_solved_at"), start),
        full_resolution_seconds=ctx.d.seconds_between(col("final_solved_at"), start),
    )
