"""The ticket-lifecycle KPIs (issue 17), read from a ticket's status history (`ticket_events`):
the time a ticket spent in each group of statuses and its first and full resolution, as Zendesk
Explore and fivetran dbt_zendesk define them.

Each is a duration over tickets placed in the period of their final solve (`final_solved_at`,
the start of the final run of solved/closed statuses in the history). A ticket the history
still has open has no final solve and is not placed in any period until it is solved.
"""

from __future__ import annotations

from cscli.kpis.builtin.common import HOURS, measure, stat_param
from cscli.kpis.spec import Built, KpiDef, Stat

#: the interval rule every status time follows
INTERVALS = (
    "A status interval runs from a status change to the ticket's next change in the "
    "ticket_events history (ordered by at, then file order); the last interval of a ticket "
    "runs to the newest event of the export. Tickets are placed in the period of their final "
    "solve (the start of their final run of solved/closed statuses); tickets without a status "
    "history, or not solved yet, are not counted."
)


def _status_kpi(
    kpi_id: str, title: str, short: str, column: str, what: str, stat: str = "median"
) -> KpiDef:
    return KpiDef(
        id=kpi_id,
        title=title,
        short=short,
        source="tickets",
        unit="seconds",
        higher_is_better=False,
        anchor="final_solved_at",
        definition="{stat} of " + what + ", in {hours} time, per ticket. " + INTERVALS,
        params=(stat_param(stat), HOURS),
        build=lambda p: Built(Stat(measure(column, p), p["stat"])),
    )


REQUESTER_WAIT_TIME = _status_kpi(
    "requester_wait_time",
    "Requester wait time",
    "Req. wait",
    "requester_wait_seconds",
    "the time spent in the statuses new, open and hold",
)
AGENT_WORK_TIME = _status_kpi(
    "agent_work_time",
    "Agent work time",
    "Agent work",
    "agent_work_seconds",
    "the time spent in the statuses new and open",
)
AGENT_WAIT_TIME = _status_kpi(
    "agent_wait_time",
    "Agent wait time",
    "Agent wait",
    "agent_wait_seconds",
    "the time spent in the status pending (waiting for the customer)",
)
ON_HOLD_TIME = _status_kpi(
    "on_hold_time",
    "On-hold time",
    "On hold",
    "on_hold_seconds",
    "the time spent in the status hold (waiting for a third party)",
)
FIRST_RESOLUTION_TIME = _status_kpi(
    "first_resolution_time",
    "First resolution time",
    "First res.",
    "first_resolution_seconds",
    "created_at → the first change to solved or closed in the history",
)
FULL_RESOLUTION_TIME = _status_kpi(
    "full_resolution_time",
    "Full resolution time",
    "Full res.",
    "full_resolution_seconds",
    "created_at → the final solve (a ticket reopened and solved again counts to the last one)",
)

KPIS = (
    REQUESTER_WAIT_TIME,
    AGENT_WORK_TIME,
    AGENT_WAIT_TIME,
    ON_HOLD_TIME,
    FIRST_RESOLUTION_TIME,
    FULL_RESOLUTION_TIME,
)
