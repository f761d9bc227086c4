"""Facts about one source's records that several derivations, and the quality counts, read.

- a source's export time: the newest of its timestamps (how far the data can tell);
- a ticket that ended without a resolution (backlog, gave-up rate and the contacts agree);
- an id as message threading compares it (`in_response_to` 3.0 matches `message_id` 3).
"""

from __future__ import annotations

import polars as pl

from cscli.schema import GAVE_UP_STATUSES

#: the timestamp columns of each source, whose newest value is the source's export time
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

#: a whole number written with a zero fraction: `3.0` (pandas writes integer ids so when the
#: column has empty cells; polars reads such a column as floats)
ZERO_FRACTION = r"^([+-]?[0-9]+)\.0+$"


def source_end(name: str, columns: frozenset[str] | set[str]) -> pl.Expr:
    """The newest timestamp of a source (its export time, as far as the data can tell): the
    latest value of any of its timestamp columns, over every usable record (the greatest of
    the columns' maxima: the same instant as the maximum of each row's greatest, without a
    comparison per row and column)."""
    stamps = [c for c in TIMESTAMPS.get(name, ()) if c in columns]
    return pl.max_horizontal([pl.col(c).max() for c in stamps])


def ticket_ended_unresolved(columns: frozenset[str] | set[str]) -> pl.Expr | None:
    """Tickets that ended without a resolution: no resolved_at, and a closed_at or a status
    that ends a ticket (closed, cancelled, rejected, abandoned). None when the export cannot
    tell (no resolved_at, or neither status nor closed_at)."""
    if "resolved_at" not in columns:
        return None
    ended: pl.Expr | None = None
    if "status" in columns:
        ended = pl.col("status").is_in(GAVE_UP_STATUSES).fill_null(False)
    if "closed_at" in columns:
        closed = pl.col("closed_at").is_not_null()
        ended = closed if ended is None else ended | closed
    if ended is None:
        return None
    return pl.col("resolved_at").is_null() & ended


def thread_key(col: pl.Expr) -> pl.Expr:
    """An id as message threading compares it: text, trimmed, with `3.0` read as `3`, so that
    `in_response_to` 3.0 matches `message_id` 3."""
    return col.cast(pl.String).str.strip_chars().str.replace(ZERO_FRACTION, "$1")
