"""A ticket's status history, reduced to per-ticket status times (`derived.STATUS_TIMES`).

Definitions of Zendesk Explore and fivetran dbt_zendesk (models/ticket_history): a status
interval runs from a status change to the ticket's next change, in time order; a ticket's time
in a status is the sum of its intervals. requester wait = new + open + hold, agent work =
new + open, agent wait = pending, on hold = hold; first resolution = created → the first
solved; full resolution = created → the final solve (the start of the final run of solved /
closed statuses). The last interval of a ticket the history still has open runs to the export
time of the events (their newest `at`). A status time in calendar time sums the intervals'
whole microseconds, then converts (µs × 1e-6): exact whatever the order of the sum, so every
engine gives the same bits (a sum of float seconds depends on the summation order).

Events are ordered totally — ticket, time, then their row in the file — and every step is a
window (`.over`) or a group-by: no Python loop touches an event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.engine.polars.facts import thread_key
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.measures import seconds
from cscli.quality import EXAMPLES, QualityIssue

if TYPE_CHECKING:
    from cscli.business_hours.assignment import BusinessHours
    from cscli.derived import Derivation
    from cscli.engine.polars.enrich import Context

#: the statuses that end a ticket's work (a solved ticket is closed later, without a change)
SOLVED = ("solved", "closed")
#: the statuses each status time adds up
GROUPS = {
    "requester_wait_seconds": ("new", "open", "hold"),
    "agent_work_seconds": ("new", "open"),
    "agent_wait_seconds": ("pending",),
    "on_hold_seconds": ("hold",),
}
KEY = "ticket_id"


def ordered_events(events: pl.LazyFrame) -> pl.LazyFrame:
    """The events with a usable ticket, time and status, in a total order, each with the end
    of its interval (`_end`: the ticket's next change, or the newest event of the export)."""
    names = events.collect_schema().names()
    row = [ROW_COL] if ROW_COL in names else []
    # ticket, time, the row in the file (events of the same minute in the order the system
    # wrote them), then the status: a total order
    order = [KEY, "at", *row, "status"]
    frame = events.select(
        pl.col(KEY).cast(pl.String).str.strip_chars(), "at", "status", *row
    ).filter(pl.col(KEY).is_not_null() & pl.col("at").is_not_null())
    export = pl.col("at").max()
    return (
        frame.sort(order, nulls_last=True, maintain_order=True)
        .with_columns(_export=export)
        .with_columns(
            _end=pl.coalesce(pl.col("at").shift(-1).over(KEY), pl.col("_export")),
            _solved=pl.col("status").is_in(list(SOLVED)).fill_null(False),
        )
    )


def _durations(
    interval: pl.Expr, prefix: str, total: Callable[[pl.Expr], pl.Expr]
) -> list[pl.Expr]:
    status = pl.col("status")
    return [
        total(interval.filter(status.is_in(list(members))).sum()).alias(f"{prefix}{name}")
        for name, members in GROUPS.items()
    ]


def _history(
    events: pl.LazyFrame,
    interval: pl.Expr,
    prefix: str,
    total: Callable[[pl.Expr], pl.Expr] = lambda e: e,
) -> pl.LazyFrame:
    """One row per ticket: its status times (`total` of the sum of its intervals per status
    group), solves, reopens and whether it is still open."""
    solved = pl.col("_solved")
    position = pl.int_range(pl.len())
    last_open = position.filter(~solved).max()
    final = pl.col("at").filter(solved & (last_open.is_null() | (position > last_open))).min()
    reopened = (~solved & solved.shift(1).fill_null(False)).sum().cast(pl.Int64)
    aggs = [
        *_durations(interval, prefix, total),
        pl.col("at").filter(solved).min().alias("first_solved_at"),
        final.alias("final_solved_at"),
        reopened.alias("history_reopens"),
        (~solved.last()).alias("history_open"),
    ]
    return events.group_by(KEY).agg(aggs)


FACTS = ("first_solved_at", "final_solved_at", "history_reopens", "history_open")


def with_status_times(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    """Add `derived.STATUS_TIMES` and the history facts to the tickets, per ticket_id (a
    ticket without history gets nulls)."""
    events = ordered_events(ctx.sources["ticket_events"].usable)
    # whole microseconds summed (Duration), then seconds: exact in any summation order
    history = _history(events, pl.col("_end") - pl.col("at"), "", seconds)
    start = pl.col("created_at")
    return frame.join(history, on=KEY, how="left").with_columns(
        first_resolution_seconds=seconds(pl.col("first_solved_at") - start),
        full_resolution_seconds=seconds(pl.col("final_solved_at") - start),
    )


def with_business_status_times(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    """The status times in business time under the tickets' calendar(s): each interval is
    measured by B(t) (`business_time`), created → first and final solve likewise."""
    if ctx.hours is None:
        return frame
    events = ordered_events(ctx.sources["ticket_events"].usable)
    by = _calendar_column(ctx.hours)
    if by is not None and by in ctx.columns:
        events = events.join(frame.select(KEY, by).unique(KEY), on=KEY, how="left")
    interval = _business(pl.col("at"), pl.col("_end"), ctx.hours)
    if interval is None:
        return frame
    history = _history(events, interval, "business_").rename({f: f"_b_{f}" for f in FACTS})
    joined = frame.join(history, on=KEY, how="left")
    start = pl.col("created_at")
    first = _business(start, pl.col("_b_first_solved_at"), ctx.hours)
    final = _business(start, pl.col("_b_final_solved_at"), ctx.hours)
    assert first is not None and final is not None
    return joined.with_columns(
        business_first_resolution_seconds=first, business_full_resolution_seconds=final
    ).drop(f"_b_{f}" for f in FACTS)


def _calendar_column(hours: BusinessHours) -> str | None:
    assigned = hours.for_source("tickets")
    return None if assigned is None or isinstance(assigned, str) else assigned.by


def _business(start: pl.Expr, end: pl.Expr, hours: BusinessHours) -> pl.Expr | None:
    from cscli.engine.polars.enrich import business_expr

    expr: Any = business_expr(start, end, hours, "tickets")
    return expr  # type: ignore[no-any-return]


#: child source → (its time column, how its ticket_id is compared, the finding's effect)
_EARLY: dict[str, tuple[str, Callable[[pl.Expr], pl.Expr], str]] = {
    "ticket_comments": (
        "created_at",
        lambda c: thread_key(c),
        "kept as dated: reply waits run from comment to comment and do not use the ticket's "
        "created_at (a clock skew, or a thread imported from another system, is the usual "
        "cause)",
    ),
    "ticket_events": (
        "at",
        lambda c: c.cast(pl.String).str.strip_chars(),
        "kept: their intervals count in the status times; first and full resolution still "
        "run from created_at (a solve before it gives a negative time, left out of them)",
    ),
}


def early_record_issues(sources: Mapping[str, LoadedSource]) -> list[QualityIssue]:
    """Comments and status events dated before their ticket's `created_at` (the earliest one
    when a ticket id repeats): counted with their first rows, and kept (`_EARLY` says what
    that does). Records of a ticket missing from the tickets source are not compared."""
    tickets = sources.get("tickets")
    if tickets is None or "created_at" not in tickets.columns:
        return []
    found: list[tuple[str, str]] = []
    queries: list[pl.LazyFrame] = []
    for child, (at, key, _) in _EARLY.items():
        source = sources.get(child)
        if source is None or not {KEY, at} <= source.columns:
            continue
        created = tickets.usable.group_by(key(pl.col(KEY)).alias("_ticket")).agg(
            pl.col("created_at").min().alias("_created")
        )
        early = (
            source.frame.filter(pl.col(at).is_not_null())
            .with_columns(key(pl.col(KEY)).alias("_ticket"))
            .join(created, on="_ticket", how="inner", maintain_order="left")
            .filter(pl.col(at) < pl.col("_created"))
        )
        found.append((child, at))
        queries.append(
            early.select(
                pl.len().alias("n"),
                pl.struct(FILE_COL, ROW_COL).head(EXAMPLES).implode().alias("examples"),
            )
        )
    issues = []
    for (child, at), frame in zip(found, pl.collect_all(queries), strict=True):
        n = int(frame["n"][0])
        if n:
            issues.append(
                QualityIssue(
                    source=child,
                    issue=f"{at} before the ticket's created_at (in tickets)",
                    rows=n,
                    column=at,
                    examples=tuple((x[FILE_COL], int(x[ROW_COL])) for x in frame["examples"][0]),
                    effect=_EARLY[child][2],
                )
            )
    return issues
