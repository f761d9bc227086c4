"""The ticket KPIs: volume, response and resolution times, backlog, first contact resolution,
reopens, reroutes, knowledge-base usage and the first-response SLA.

Each is one `KpiDef`; `KPIS` lists them in catalogue order (`cscli.kpis.catalog`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.builtin.common import (
    HOURS,
    NO_CUSTOMER,
    WINDOW,
    judged,
    measure,
    no_repeat,
    sql_num,
    stat_param,
)
from cscli.kpis.spec import Built, Count, KpiDef, Param, QualityRule, Ratio, Stat, Stock
from cscli.schema import GAVE_UP_STATUSES

#: a ticket still open: neither resolved nor ended without a resolution (derived.TICKET_ENDS)
OPEN = "ticket_open"
#: the sentence every maturing KPI's definition ends with
PROVISIONAL_NOTE = (
    "The value is provisional while more than 5% of the period's cohort is {open} at the "
    "export time (the open share is reported)."
)


TICKET_VOLUME = KpiDef(
    id="ticket_volume",
    title="Tickets",
    short="Tickets",
    source="tickets",
    unit="count",
    higher_is_better=None,
    anchor="created_at",
    definition="Number of tickets created in the period.",
    build=lambda p: Built(Count()),
)

FIRST_RESPONSE_TIME = KpiDef(
    id="first_response_time",
    title="First response time",
    short="FRT",
    source="tickets",
    unit="seconds",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "{stat} of first_response_at − created_at, in {hours} time, over tickets created in "
        "the period that have a first response. Tickets without a response are not counted "
        "(see resolution_rate and backlog for those); negative durations are excluded and "
        "reported in data_quality. " + PROVISIONAL_NOTE.format(open="still open and unanswered")
    ),
    params=(stat_param("median"), HOURS),
    requires=("first_response_at",),
    build=lambda p: Built(
        Stat(
            measure("first_response_seconds", p),
            p["stat"],
            pending=f"first_response_at IS NULL AND {OPEN}",
        )
    ),
)

RESOLUTION_TIME = KpiDef(
    id="resolution_time",
    title="Resolution time",
    short="Resolution",
    source="tickets",
    unit="seconds",
    higher_is_better=False,
    anchor="resolved_at",
    definition=(
        "{stat} of resolved_at − created_at, in {hours} time, over tickets resolved in the "
        "period (placed in the period of resolved_at). Negative durations are excluded and "
        "reported in data_quality."
    ),
    params=(stat_param("median"), HOURS),
    requires=("resolved_at",),
    build=lambda p: Built(Stat(measure("resolution_seconds", p), p["stat"])),
)

RESOLUTION_RATE = KpiDef(
    id="resolution_rate",
    title="Resolution rate",
    short="Resolved",
    source="tickets",
    unit="ratio",
    higher_is_better=True,
    anchor="created_at",
    definition=(
        "Tickets created in the period that have a resolved_at (at any time up to the end of "
        "the data) / tickets created in the period. "
        + PROVISIONAL_NOTE.format(open="still open (neither resolved nor ended)")
    ),
    requires=("resolved_at",),
    build=lambda p: Built(Ratio("resolved_at IS NOT NULL", pending=OPEN)),
)

_ENDED = "status IN (" + ", ".join(f"'{s}'" for s in GAVE_UP_STATUSES) + ")"
#: tickets that ended without a resolution and without an end instant (left out of backlog)
ENDLESS = (
    QualityRule(
        "ticket ended without resolution and without an end time",
        f"resolved_at IS NULL AND closed_at IS NULL AND {_ENDED}",
        column="closed_at",
    ),
    QualityRule(
        "ticket ended without resolution and without an end time",
        f"resolved_at IS NULL AND {_ENDED}",
        column="status",
        absent=("closed_at",),
    ),
)

BACKLOG = KpiDef(
    id="backlog",
    title="Backlog",
    short="Backlog",
    source="tickets",
    unit="count",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "Tickets open at the end of the period: created before the period's end and not ended "
        "by then. A ticket ends when it is resolved (resolved_at) or, without a resolution, "
        "when it is closed, cancelled, rejected or abandoned (closed_at). A ticket with such a "
        "status but neither resolved_at nor closed_at has no known end instant: it is left "
        "out of every level and counted in data_quality. A stock, not a flow: each period gets "
        "its own end-of-period level and the total is the level at the end of the whole report "
        "period, never a sum. Without a period end, the level after the last record."
    ),
    requires=("resolved_at",),
    build=lambda p: Built(
        Stock("created_at", "ended_at", "end", where="NOT ticket_end_unknown"),
        quality=ENDLESS,
    ),
)

FCR_METHODS = ("auto", "flag", "one_touch", "no_repeat")


def _fcr_kind(method: str, window: float) -> Ratio:
    resolved = "resolved_at IS NOT NULL"
    if method == "flag":
        return Ratio(
            "first_contact_resolved", where=f"{resolved} AND first_contact_resolved IS NOT NULL"
        )
    if method == "no_repeat":
        return Ratio(
            no_repeat(window),
            where=f"{resolved} AND customer_id IS NOT NULL",
            judged=judged(window),
        )
    return Ratio(
        "agent_replies = 1 AND (reopens IS NULL OR reopens = 0)",
        where=f"{resolved} AND agent_replies IS NOT NULL",
    )


def _fcr(p: Mapping[str, Any]) -> Built:
    if p["method"] == "auto":
        # the export's own flag when it has one, else one_touch (DESIGN §5)
        return Built(_fcr_kind("flag", p["window"]), fallback=Built(_fcr_kind("one_touch", 0)))
    quality = (NO_CUSTOMER,) if p["method"] == "no_repeat" else ()
    return Built(_fcr_kind(p["method"], p["window"]), quality=quality)


FIRST_CONTACT_RESOLUTION = KpiDef(
    id="first_contact_resolution",
    title="First contact resolution",
    short="FCR",
    source="tickets",
    unit="ratio",
    higher_is_better=True,
    anchor="resolved_at",
    definition=(
        "Tickets resolved in the period that were resolved on first contact / tickets resolved "
        "in the period that can be judged. Method {method}: flag = the export's "
        "first_contact_resolved column; one_touch = exactly one agent reply and never reopened "
        "(a ticket resolved with no reply is not one-touch); no_repeat = the same customer made "
        "no other contact (ticket or inbound call) after creating the ticket and up to {window} "
        "after its resolution. A call linked to the ticket (calls.ticket_id) is the same "
        "contact, not a repeat. A ticket is judged when a repeat was seen, or when the data "
        "(the export time of tickets and calls: the earlier of their newest timestamps) extends "
        "past resolved_at + {window}; the others leave the denominator, and the value is "
        "provisional while they are more than 5% of the resolved tickets. Tickets without a "
        "customer_id are not judged (data_quality). auto = flag when the export has the column, "
        "else one_touch."
    ),
    params=(
        Param("method", "choice", "auto", "how first-contact resolution is decided", FCR_METHODS),
        WINDOW,
    ),
    build=_fcr,
)

REOPEN_RATE = KpiDef(
    id="reopen_rate",
    title="Reopen rate",
    short="Reopened",
    source="tickets",
    unit="ratio",
    higher_is_better=False,
    anchor="resolved_at",
    definition=(
        "Tickets resolved in the period that were reopened at least once (reopens > 0) / tickets "
        "resolved in the period with a known reopens count. With a ticket_events status "
        "history, reopens are counted from it (history_reopens: changes from solved or closed "
        "back to another status) over the resolved tickets that have a history."
    ),
    build=lambda p: Built(
        Ratio(
            "history_reopens > 0",
            where="resolved_at IS NOT NULL AND history_reopens IS NOT NULL",
        ),
        fallback=Built(
            Ratio("reopens > 0", where="resolved_at IS NOT NULL AND reopens IS NOT NULL")
        ),
    ),
)

REROUTE_RATE = KpiDef(
    id="reroute_rate",
    title="Reroute rate",
    short="Rerouted",
    source="tickets",
    unit="ratio",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "Tickets created in the period that were reassigned at least once (reassignments > 0) / "
        "tickets created in the period with a known reassignments count."
    ),
    build=lambda p: Built(Ratio("reassignments > 0", where="reassignments IS NOT NULL")),
)

KB_USAGE_RATE = KpiDef(
    id="kb_usage_rate",
    title="Knowledge-base usage",
    short="KB used",
    source="tickets",
    unit="ratio",
    higher_is_better=True,
    anchor="created_at",
    definition=(
        "Tickets created in the period on which the agent used the knowledge base (kb_used "
        "true) / tickets created in the period with a known kb_used (employee self-service)."
    ),
    build=lambda p: Built(Ratio("kb_used", where="kb_used IS NOT NULL")),
)

DEFAULT_TARGETS = {"urgent": 3600.0, "high": 4 * 3600.0, "normal": 8 * 3600.0, "low": 24 * 3600.0}


def _target_sql(targets: Mapping[str, float]) -> str:
    cases = " ".join(
        f"WHEN priority = '{k.replace(chr(39), chr(39) * 2)}' THEN {sql_num(v)}"
        for k, v in targets.items()
    )
    return f"CASE {cases} END"


def _sla(p: Mapping[str, Any]) -> Built:
    target = _target_sql(p["targets"])
    frt, age = measure("first_response_seconds", p), measure("age_seconds", p)
    # due: answered (whenever), or still unanswered when its target had passed at the export
    # time (the newest timestamp of the tickets); an unanswered ticket not yet due is not judged
    due = f"{frt} IS NOT NULL OR (first_response_at IS NULL AND {age} > ({target}))"
    met = f"{frt} IS NOT NULL AND {frt} <= ({target})"
    return Built(Ratio(met, where=f"({target}) IS NOT NULL", judged=due))


SLA_ATTAINMENT = KpiDef(
    id="sla_attainment",
    title="First-response SLA attainment",
    short="SLA met",
    source="tickets",
    unit="ratio",
    higher_is_better=True,
    anchor="created_at",
    definition=(
        "Tickets created in the period whose first response came within the target for their "
        "priority ({targets}, in {hours} time; a response exactly at the target meets it) / "
        "tickets created in "
        "the period that have a target and are due: answered, or still unanswered after their "
        "target had passed at the export time (the newest timestamp of the tickets source: a "
        "miss), whatever the report period's end. Tickets of other priorities, and unanswered "
        "tickets whose target has not passed by the export time, are not counted (their share "
        "is the open share; the value is provisional above 5%)."
    ),
    params=(
        Param(
            "targets",
            "targets",
            DEFAULT_TARGETS,
            "first-response target per priority, e.g. {urgent: 1h, high: 4h}",
        ),
        HOURS,
    ),
    requires=("first_response_at", "priority"),
    build=_sla,
)


KPIS: tuple[KpiDef, ...] = (
    TICKET_VOLUME,
    FIRST_RESPONSE_TIME,
    RESOLUTION_TIME,
    RESOLUTION_RATE,
    BACKLOG,
    FIRST_CONTACT_RESOLUTION,
    REOPEN_RATE,
    REROUTE_RATE,
    KB_USAGE_RATE,
    SLA_ATTAINMENT,
)
