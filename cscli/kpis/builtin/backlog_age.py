"""The backlog by age (issue 17): the backlog at each period's end, split into age buckets.

One `KpiDef` that is a *family*: `buckets: [1d, 3d, 7d]` gives four KPIs, one per bucket
(`backlog_age_lt_1d`, `backlog_age_1d_3d`, `backlog_age_3d_7d`, `backlog_age_ge_7d`), each a
stock exactly like `backlog` (the same open tickets, `ticket_ends`) restricted to the tickets
whose age at the level's instant falls in its bucket. One KPI per bucket, rather than a bucket
column, because every format (terminal, Markdown, HTML, JSON, CSV, XLSX), `--compare`, the
trend and the checks (`kpi: backlog_age_ge_7d`, `max: 10`) already read a report as KPIs ×
groups: a bucket is one more KPI column, and the buckets sum to `backlog` in every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.builtin.common import HOURS
from cscli.kpis.builtin.tickets import ENDLESS
from cscli.kpis.spec import Built, KpiDef, Member, Param, Stock
from cscli.units import describe_duration

#: the open tickets of `backlog`: an ended ticket without an end instant is left out
_BACKLOG = Stock("created_at", "ended_at", "end", where="NOT ticket_end_unknown")


def _band(low: float | None, high: float | None, hours: str = "calendar") -> Stock:
    return Stock(
        _BACKLOG.opened,
        _BACKLOG.closed,
        "end",
        where=_BACKLOG.where,
        age_from=low,
        age_below=high,
        age_hours="business" if hours == "business" else "calendar",
    )


def buckets(params: Mapping[str, Any]) -> tuple[Member, ...]:
    """One member per age bucket: below the first edge, between two edges, from the last."""
    edges: tuple[float, ...] = tuple(params["buckets"])
    hours = str(params.get("hours", "calendar"))
    words = [describe_duration(e) for e in edges]
    members = [
        Member(
            f"lt_{words[0]}",
            f"<{words[0]}",
            Built(_band(None, edges[0], hours), quality=ENDLESS),
            f"the tickets aged under {words[0]}.",
        )
    ]
    for i in range(1, len(edges)):
        low, high = words[i - 1], words[i]
        members.append(
            Member(
                f"{low}_{high}",
                f"{low}–{high}",
                Built(_band(edges[i - 1], edges[i], hours), quality=ENDLESS),
                f"the tickets aged {low} or more and under {high}.",
            )
        )
    members.append(
        Member(
            f"ge_{words[-1]}",
            f"≥{words[-1]}",
            Built(_band(edges[-1], None, hours), quality=ENDLESS),
            f"the tickets aged {words[-1]} or more.",
        )
    )
    return tuple(members)


BACKLOG_AGE = KpiDef(
    id="backlog_age",
    title="Backlog aged",
    short="Backlog age",
    source="tickets",
    unit="count",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "The backlog (tickets open at the end of the period, as for backlog: created before "
        "the period's end and not ended by then) split by each ticket's age at that instant "
        "(period end − created_at, in {hours} time) into buckets at {buckets}: one KPI per "
        "bucket, named by its edges (the default buckets give backlog_age_lt_1d, "
        "backlog_age_1d_3d, backlog_age_3d_7d and backlog_age_ge_7d; --kpi backlog_age asks "
        "for all of them). "
        "A ticket aged exactly on an edge is in the bucket that starts there (aged exactly 1d: "
        "in 1d–3d, not <1d). A ticket resolved after the period's end is still in that "
        "period's backlog. A stock, not a flow: with a grain each period gets its own level at "
        "its end, and the total is the level at the end of the whole report period; the "
        "buckets sum to backlog. Without a period end, the age and the level are taken at the "
        "newest created or end instant of the tickets. With hours: business the age is the "
        "open time of the tickets' calendar between created_at and that instant (a ticket "
        "created on Friday afternoon ages only by Friday's remaining open hours over the "
        "weekend): the buckets are then business-time ages (buckets: [4h, 8h, 24h] are half "
        "a day, a day and three days of 8-hour days)."
    ),
    params=(
        Param(
            "buckets",
            "durations",
            (86400.0, 3 * 86400.0, 7 * 86400.0),
            "the age edges of the buckets, increasing (whole seconds): N edges, N + 1 KPIs",
        ),
        HOURS,
    ),
    requires=("resolved_at",),
    build=lambda p: Built(_BACKLOG, quality=ENDLESS),
    family=buckets,
)

KPIS: tuple[KpiDef, ...] = (BACKLOG_AGE,)
