"""The SLA-policy KPIs (issue 17): attainment of the config's `sla_policies:` targets.

Each reads the `sla_targets` source (`schema.SLA_TARGETS`), one row per target of a ticket
under the first policy that matches it, built by the engine (`cscli.engine.polars.sla`); the
clocks are defined once, in `CLOCKS`, and in docs/sla-policies.md. The names follow the
catalogue's `sla_attainment` (the first-response SLA from one per-priority `targets:`
parameter): `<target>_sla_attainment`, and `sla_policy_attainment` for all targets together.
"""

from __future__ import annotations

from cscli.kpis.spec import Built, Count, KpiDef, Ratio

MEASURED = "sla_state <> 'unmeasured'"

CLOCKS = (
    "A ticket gets the first of the config's sla_policies: whose where: matches it (a ticket "
    "no policy matches has no SLA target). Its clocks run in the policy's hours (business: "
    "only the open time of the tickets' calendar; calendar: every second): first_reply from "
    "created_at to the first public agent comment (ticket_comments, else first_response_at); "
    "next_reply from each public end-user comment that follows a public agent comment to "
    "the next public agent comment (the waits of next_reply_time); resolution from created_at "
    "to the final solve in the ticket_events history (else resolved_at), counting only the "
    "time in statuses that are neither solved/closed nor in the policy's pause: (a ticket "
    "reopened after a solve runs again until its final solve). The reply clocks never pause. "
    "A target is met when its clock stopped at or before the target, breached when it "
    "stopped later or, still running, its due time has passed at the export time (the "
    "earliest newest timestamp of the sources read); a target still running and not yet due "
    "(or paused) is pending: not in the denominator, its share is the open share "
    "(provisional). Targets are placed in the period of their stop, a breached one still "
    "running at its due time, a pending one at the export time. A ticket whose policy has no "
    "target for its priority is not measured for it and is counted in data quality."
)


def _attainment(kpi_id: str, title: str, short: str, target: str | None, what: str) -> KpiDef:
    where = MEASURED if target is None else f"{MEASURED} AND target = '{target}'"
    return KpiDef(
        id=kpi_id,
        title=title,
        short=short,
        source="sla_targets",
        unit="ratio",
        higher_is_better=True,
        anchor="placed_at",
        definition=f"{what} met / {what} met or breached, placed in the period. " + CLOCKS,
        build=lambda p: Built(Ratio("sla_met", where=where, judged="sla_met IS NOT NULL")),
    )


SLA_POLICY_ATTAINMENT = _attainment(
    "sla_policy_attainment",
    "SLA policy attainment",
    "SLA policy",
    None,
    "SLA targets (first reply, next replies and resolution together, each target one)",
)
FIRST_REPLY_SLA_ATTAINMENT = _attainment(
    "first_reply_sla_attainment",
    "First-reply SLA attainment",
    "1st reply SLA",
    "first_reply",
    "First-reply targets",
)
NEXT_REPLY_SLA_ATTAINMENT = _attainment(
    "next_reply_sla_attainment",
    "Next-reply SLA attainment",
    "Next reply SLA",
    "next_reply",
    "Next-reply targets (one per customer wait)",
)
RESOLUTION_SLA_ATTAINMENT = _attainment(
    "resolution_sla_attainment",
    "Resolution SLA attainment",
    "Resol. SLA",
    "resolution",
    "Resolution targets",
)

SLA_TARGETS_PENDING = KpiDef(
    id="sla_targets_pending",
    title="SLA targets pending",
    short="SLA pending",
    source="sla_targets",
    unit="count",
    higher_is_better=None,
    anchor="placed_at",
    definition=(
        "The SLA targets (every target of every policy) still running and not yet due, or "
        "paused, at the export time: the ones the attainment KPIs leave out of their "
        "denominator (their open share). Counted in the period that holds the export time, "
        "where they are placed. " + CLOCKS
    ),
    build=lambda p: Built(Count(where=f"{MEASURED} AND sla_state = 'pending'")),
)

KPIS = (
    SLA_POLICY_ATTAINMENT,
    FIRST_REPLY_SLA_ATTAINMENT,
    NEXT_REPLY_SLA_ATTAINMENT,
    RESOLUTION_SLA_ATTAINMENT,
    SLA_TARGETS_PENDING,
)
