"""Derived measures: per-record values computed from canonical columns before aggregation.

Durations are measured here once (in seconds, as Float64, microsecond-exact) so that KPI SQL can
say `first_response_seconds <= 3600` instead of repeating date arithmetic that SQL dialects
disagree on. A measure exists in a source only when all of its inputs do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import polars as pl


#: seconds per microsecond: durations are µs × 1e-6 everywhere (a multiply has one result on
#: every path; polars' Int64 / 1e6 is sometimes a multiply by the reciprocal, sometimes not)
MICRO = 1 / 1_000_000


def seconds(delta: pl.Expr) -> pl.Expr:
    """A Duration expression in seconds, Float64: µs × MICRO."""
    return delta.dt.total_microseconds() * MICRO


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    table: str
    kind: Literal["seconds_between", "handle_sum"]
    #: seconds_between: (start, end[, fallback end]); handle_sum: (talk, hold, wrap)
    inputs: tuple[str, ...]
    doc: str
    #: the data-quality issue recorded when the value comes out negative
    negative_issue: str


MEASURES: tuple[Measure, ...] = (
    Measure(
        "first_response_seconds",
        "tickets",
        "seconds_between",
        ("created_at", "first_response_at"),
        "first_response_at − created_at",
        "first_response_at before created_at",
    ),
    Measure(
        "resolution_seconds",
        "tickets",
        "seconds_between",
        ("created_at", "resolved_at"),
        "resolved_at − created_at",
        "resolved_at before created_at",
    ),
    Measure(
        "answer_seconds",
        "calls",
        "seconds_between",
        ("queued_at", "answered_at"),
        "answered_at − queued_at (answered calls)",
        "answered_at before queued_at",
    ),
    Measure(
        "wait_seconds",
        "calls",
        "seconds_between",
        ("queued_at", "answered_at", "ended_at"),
        "time in queue: (answered_at, or ended_at for unanswered calls) − queued_at",
        "call answered or ended before it was queued",
    ),
    Measure(
        "handle_seconds",
        "calls",
        "handle_sum",
        ("talk_seconds", "hold_seconds", "wrap_seconds"),
        "talk_seconds + hold_seconds + wrap_seconds (null hold or wrap counts as 0)",
        "negative talk, hold or wrap seconds",
    ),
)


def measures_for(table: str, columns: set[str] | frozenset[str]) -> list[Measure]:
    """The measures a source of `table` with `columns` can compute."""
    return [m for m in MEASURES if m.table == table and set(m.inputs) <= columns]


def _raw(m: Measure) -> pl.Expr:
    import polars as pl

    if m.kind == "seconds_between":
        start, end, *fallback = m.inputs
        end_expr = pl.coalesce(end, *fallback) if fallback else pl.col(end)
        return seconds(end_expr - pl.col(start))
    talk, hold, wrap = m.inputs
    return pl.col(talk) + pl.col(hold).fill_null(0.0) + pl.col(wrap).fill_null(0.0)


def invalid_expr(m: Measure) -> pl.Expr:
    """Records whose measure cannot be trusted: a negative duration or component."""
    import polars as pl

    if m.kind == "seconds_between":
        return _raw(m) < 0
    return pl.any_horizontal(pl.col(c) < 0 for c in m.inputs).fill_null(False)


def measure_expr(m: Measure) -> pl.Expr:
    """The measure, null where `invalid_expr` holds (so no KPI can use a negative duration)."""
    import polars as pl

    return pl.when(invalid_expr(m).not_()).then(_raw(m)).alias(m.name)


MEASURE_NAMES = frozenset(m.name for m in MEASURES)

#: duration measures that also exist in business time (`hours: business`), by source
BUSINESS_MEASURES: dict[str, str] = {
    "first_response_seconds": "business_first_response_seconds",
    "resolution_seconds": "business_resolution_seconds",
    "answer_seconds": "business_answer_seconds",
    "wait_seconds": "business_wait_seconds",
    "age_seconds": "business_age_seconds",
}
