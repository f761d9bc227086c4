"""Derived measures: per-record values computed from canonical columns before aggregation.

Durations are measured once, by the loader (in seconds, as Float64, microsecond-exact), so that
KPI SQL can say `first_response_seconds <= 3600` instead of repeating date arithmetic that SQL
dialects disagree on. A measure exists in a source only when all of its inputs do. This module
holds what each measure is (engine-neutral: `cscli.derived` declares each as a derivation); an
engine computes them (`cscli.engine.polars.measures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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
    Measure(
        "invitation_response_seconds",
        "survey_invitations",
        "seconds_between",
        ("sent_at", "responded_at"),
        "responded_at − sent_at (answered invitations)",
        "responded_at before sent_at",
    ),
)


def measures_for(table: str, columns: set[str] | frozenset[str]) -> list[Measure]:
    """The measures a source of `table` with `columns` can compute."""
    return [m for m in MEASURES if m.table == table and set(m.inputs) <= columns]


#: duration measures that also exist in business time (`hours: business`), by source
BUSINESS_MEASURES: dict[str, str] = {
    "first_response_seconds": "business_first_response_seconds",
    "resolution_seconds": "business_resolution_seconds",
    "answer_seconds": "business_answer_seconds",
    "wait_seconds": "business_wait_seconds",
    "age_seconds": "business_age_seconds",
}
