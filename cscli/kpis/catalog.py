"""The built-in KPIs (DESIGN §5): one `KpiDef` entry each.

Adding a KPI means adding one entry here: its explanation as data and a `build` function that
returns a kind (`cscli.kpis.spec`). Definitions are templates over the parameters' described
values, so `cscli kpis` and every report print the definition actually computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.spec import (
    Built,
    Count,
    DistinctRatio,
    KpiDef,
    NetScore,
    Param,
    ParamError,
    QualityRule,
    Ratio,
    Stat,
    Stock,
)
from cscli.schema import GAVE_UP_STATUSES

STAT_DOC = "mean, median, min, max or pNN (linear interpolation between closest ranks)"
HOURS = Param(
    "hours",
    "choice",
    "calendar",
    "calendar (every second) or business (only the seconds inside the source's calendar's "
    "open hours; see docs/business-hours.md)",
    ("calendar", "business"),
)


def _measure(name: str, p: Mapping[str, Any]) -> str:
    """The calendar-time measure, or its business-time twin with `hours: business`."""
    return f"business_{name}" if p.get("hours") == "business" else name


def _stat(default: str) -> Param:
    return Param("stat", "stat", default, STAT_DOC)


def _and(*predicates: str | None) -> str | None:
    parts = [f"({p})" for p in predicates if p]
    return " AND ".join(parts) if parts else None


def _num(value: float) -> str:
    """A SQL numeric literal."""
    return repr(float(value))


#: a ticket still open: neither resolved nor ended without a resolution (derived.TICKET_ENDS)
OPEN = "ticket_open"
#: the sentence every maturing KPI's definition ends with
PROVISIONAL_NOTE = (
    "The value is provisional while more than 5% of the period's cohort is {open} at the "
    "export time (the open share is reported)."
)


# --- tickets ------------------------------------------------------------------------------

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
    params=(_stat("median"), HOURS),
    requires=("first_response_at",),
    build=lambda p: Built(
        Stat(
            _measure("first_response_seconds", p),
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
    params=(_stat("median"), HOURS),
    requires=("resolved_at",),
    build=lambda p: Built(Stat(_measure("resolution_seconds", p), p["stat"])),
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

# --- calls --------------------------------------------------------------------------------

INBOUND = "direction = 'inbound'"


def _short_abandon(p: Mapping[str, Any]) -> str | None:
    """Records left in the population once short abandons are excluded."""
    if p["short_abandon"] <= 0:
        return None
    return (
        "NOT (answered_at IS NULL AND wait_seconds IS NOT NULL "
        f"AND wait_seconds < {_num(p['short_abandon'])})"
    )


SHORT_ABANDON = Param(
    "short_abandon",
    "duration",
    0.0,
    "abandons that waited less than this are excluded from numerator and denominator",
)

DIRECTION = Param(
    "direction",
    "choice",
    "inbound",
    "which calls: inbound (as call_volume, ASA, abandonment and service level count them), "
    "outbound, or all (any direction, an empty one included)",
    ("inbound", "outbound", "all"),
)
DIRECTION_NOTE = (
    "Direction {direction}: inbound by default, like call_volume, ASA, abandonment and service "
    "level (a calls export without a direction column is taken as all inbound); outbound; or "
    "all."
)


def _direction(p: Mapping[str, Any]) -> str | None:
    """The calls of the KPI's `direction`; None for all of them."""
    return None if p["direction"] == "all" else f"direction = '{p['direction']}'"


def _answered(p: Mapping[str, Any]) -> str:
    """Answered calls of the KPI's direction."""
    return _and(_direction(p), "answered_at IS NOT NULL") or ""


CALL_VOLUME = KpiDef(
    id="call_volume",
    title="Calls offered",
    short="Calls",
    source="calls",
    unit="count",
    higher_is_better=None,
    anchor="queued_at",
    definition=(
        "Inbound calls offered: calls queued in the period, answered or not "
        "(a calls export without a direction column is taken as all inbound)."
    ),
    build=lambda p: Built(Count(INBOUND)),
)


def _handle_time(p: Mapping[str, Any]) -> Built:
    answered = _answered(p)
    calls = "" if p["direction"] == "all" else f" {p['direction']}"
    no_talk = QualityRule(
        f"answered{calls} call with an empty talk_seconds",
        f"{answered} AND talk_seconds IS NULL",
        column="talk_seconds",
    )
    return Built(Stat("handle_seconds", p["stat"], where=answered), quality=(no_talk,))


AVERAGE_HANDLE_TIME = KpiDef(
    id="average_handle_time",
    title="Average handle time",
    short="AHT",
    source="calls",
    unit="seconds",
    higher_is_better=False,
    anchor="queued_at",
    definition=(
        "{stat} of talk_seconds + hold_seconds + wrap_seconds over answered calls queued in the "
        "period. " + DIRECTION_NOTE + " The export needs all three columns; an empty hold or "
        "wrap value counts as 0; an answered call with an empty talk value, or any negative "
        "part, is excluded and reported in data_quality. A value that is not a finite number "
        "below 2^53 (inf, NaN, 1e308: it would overflow the sum) is read as missing and "
        "reported. With no usable call the value is null and n is 0."
    ),
    params=(_stat("mean"), DIRECTION),
    requires=("answered_at",),
    build=_handle_time,
)

AVERAGE_SPEED_OF_ANSWER = KpiDef(
    id="average_speed_of_answer",
    title="Average speed of answer",
    short="ASA",
    source="calls",
    unit="seconds",
    higher_is_better=False,
    anchor="queued_at",
    definition=(
        "{stat} of answered_at − queued_at, in {hours} time, over inbound calls queued in the "
        "period and answered."
    ),
    params=(_stat("mean"), HOURS),
    build=lambda p: Built(Stat(_measure("answer_seconds", p), p["stat"], where=INBOUND)),
)

ABANDONMENT_RATE = KpiDef(
    id="abandonment_rate",
    title="Abandonment rate",
    short="Abandoned",
    source="calls",
    unit="ratio",
    higher_is_better=False,
    anchor="queued_at",
    definition=(
        "Inbound calls queued in the period and never answered / inbound calls queued in the "
        "period, both excluding abandons that waited less than {short_abandon}."
    ),
    params=(SHORT_ABANDON,),
    build=lambda p: Built(Ratio("answered_at IS NULL", where=_and(INBOUND, _short_abandon(p)))),
)


def _service_level(p: Mapping[str, Any]) -> Built:
    within = f"answer_seconds IS NOT NULL AND answer_seconds <= {_num(p['threshold'])}"
    # an answered call whose answer time is unusable (answered before queued) is left out
    trusted = "NOT (answered_at IS NOT NULL AND answer_seconds IS NULL)"
    population = _and(INBOUND, trusted, _short_abandon(p))
    if p["abandons"] == "met":
        numerator = f"wait_seconds IS NOT NULL AND wait_seconds <= {_num(p['threshold'])}"
        return Built(Ratio(numerator, where=population))
    if p["abandons"] == "excluded":
        return Built(Ratio(within, denominator="answered_at IS NOT NULL", where=population))
    return Built(Ratio(within, where=population))


SERVICE_LEVEL = KpiDef(
    id="service_level",
    title="Service level",
    short="SL",
    source="calls",
    unit="ratio",
    higher_is_better=True,
    anchor="queued_at",
    definition=(
        "Inbound calls answered within {threshold} (inclusive) / inbound calls offered, "
        "excluding abandons shorter than {short_abandon}; abandoned calls are handled as "
        "'{abandons}' (missed: they count as misses, as Genesys; met: an abandon within "
        "{threshold} counts as met, as Amazon Connect; excluded: they leave the denominator). "
        "An answered call whose answered_at precedes queued_at is left out (data_quality)."
    ),
    params=(
        Param("threshold", "duration", 20.0, "answer-time target; a wait equal to it meets it"),
        Param(
            "abandons",
            "choice",
            "missed",
            "how abandoned calls count: missed, met or excluded",
            choices=("missed", "met", "excluded"),
        ),
        SHORT_ABANDON,
    ),
    build=_service_level,
)

# --- surveys ------------------------------------------------------------------------------


def _survey_where(survey_type: str, low: float, high: float) -> tuple[str, QualityRule]:
    in_scale = f"score >= {_num(low)} AND score <= {_num(high)}"
    rule = QualityRule(
        f"{survey_type} score outside {low:g}–{high:g}",
        f"survey_type = '{survey_type}' AND score IS NOT NULL AND NOT ({in_scale})",
        column="score",
    )
    return f"survey_type = '{survey_type}' AND {in_scale}", rule


def _csat(p: Mapping[str, Any]) -> Built:
    where, rule = _survey_where("csat", 1, p["scale"])
    if p["stat"] == "mean":
        return Built(Stat("score", "mean", where=where), quality=(rule,), unit="score")
    return Built(Ratio(f"score >= {_num(p['satisfied_min'])}", where=where), quality=(rule,))


def _csat_params(p: Mapping[str, Any]) -> Mapping[str, Any]:
    """satisfied_min follows the scale (top-2-box: scale − 1) unless given; it must lie on
    the scale."""
    scale = p["scale"]
    satisfied = scale - 1 if p["satisfied_min"] is None else p["satisfied_min"]
    if not 1 <= satisfied <= scale:
        raise ParamError(
            "satisfied_min",
            f"{satisfied:g} is not on the 1–{scale:g} scale: give a score from 1 to {scale:g} "
            "(or set scale:)",
        )
    return {**p, "satisfied_min": satisfied}


CSAT = KpiDef(
    id="csat",
    title="CSAT",
    short="CSAT",
    source="surveys",
    unit="ratio",
    higher_is_better=True,
    anchor="responded_at",
    definition=(
        "Share of csat responses in the period scoring at least {satisfied_min} on the "
        "1–{scale} scale when stat is share (by default the top two boxes: satisfied_min = "
        "scale − 1); the mean score when stat is mean. Scores outside 1–{scale} are excluded "
        "and reported in data_quality. Current stat: {stat}."
    ),
    params=(
        Param("stat", "choice", "share", "share (top-box share) or mean", ("share", "mean")),
        Param(
            "satisfied_min",
            "number",
            None,
            "lowest score that counts as satisfied, from 1 to scale (default: the top two "
            "boxes, scale − 1)",
            derived="scale − 1",
        ),
        Param("scale", "number", 5.0, "highest score of the scale (the lowest is 1)", minimum=2),
    ),
    build=_csat,
    resolve=_csat_params,
)


def _nps(p: Mapping[str, Any]) -> Built:
    where, rule = _survey_where("nps", 0, 10)
    return Built(NetScore("score", 9, 6, where=where), quality=(rule,))


NPS = KpiDef(
    id="nps",
    title="NPS",
    short="NPS",
    source="surveys",
    unit="nps",
    higher_is_better=True,
    anchor="responded_at",
    definition=(
        "Net Promoter Score: % promoters (9–10) − % detractors (0–6) over nps responses in the "
        "period (passives 7–8 count in the denominator only); from −100 to +100."
    ),
    build=_nps,
)


def _ces(p: Mapping[str, Any]) -> Built:
    where, rule = _survey_where("ces", 1, p["scale"])
    return Built(
        Stat("score", "mean", where=where),
        quality=(rule,),
        higher_is_better=bool(p["higher_is_better"]),
    )


CES = KpiDef(
    id="ces",
    title="Customer effort score",
    short="CES",
    source="surveys",
    unit="score",
    higher_is_better=True,
    anchor="responded_at",
    definition=(
        "Mean ces score of responses in the period, on a 1–{scale} scale "
        "(higher is better: {higher_is_better})."
    ),
    params=(
        Param("scale", "number", 7.0, "highest score of the scale (the lowest is 1)"),
        Param("higher_is_better", "bool", True, "false when the scale runs easy → difficult"),
    ),
    build=_ces,
)


# --- tickets: flow, quality and SLAs ---------------------------------------------------------

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
        "resolved in the period with a known reopens count."
    ),
    build=lambda p: Built(
        Ratio("reopens > 0", where="resolved_at IS NOT NULL AND reopens IS NOT NULL")
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
        f"WHEN priority = '{k.replace(chr(39), chr(39) * 2)}' THEN {_num(v)}"
        for k, v in targets.items()
    )
    return f"CASE {cases} END"


def _sla(p: Mapping[str, Any]) -> Built:
    target = _target_sql(p["targets"])
    frt, age = _measure("first_response_seconds", p), _measure("age_seconds", p)
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


def no_repeat(window: float) -> str:
    """No other contact of the customer from the contact's start to its end + window."""
    return f"next_contact_seconds IS NULL OR next_contact_seconds > {_num(window)}"


def judged(window: float) -> str:
    """A repeat was seen within the window, or the data extends to the window's end."""
    w = _num(window)
    return f"next_contact_seconds <= {w} OR followup_observed_seconds >= {w}"


#: contacts without a customer cannot be followed (excluded from repeat-contact KPIs)
NO_CUSTOMER = QualityRule("customer_id missing", "customer_id IS NULL", column="customer_id")


def _fcr(p: Mapping[str, Any]) -> Built:
    if p["method"] == "auto":
        # the export's own flag when it has one, else one_touch (DESIGN §5)
        return Built(_fcr_kind("flag", p["window"]), fallback=Built(_fcr_kind("one_touch", 0)))
    quality = (NO_CUSTOMER,) if p["method"] == "no_repeat" else ()
    return Built(_fcr_kind(p["method"], p["window"]), quality=quality)


WINDOW = Param("window", "duration", 7 * 86400.0, "how long after a contact a repeat counts")

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

CHANNEL_SWITCH_RATE = KpiDef(
    id="channel_switch_rate",
    title="Channel switching",
    short="Switched",
    source="contacts",
    unit="ratio",
    higher_is_better=False,
    anchor="contacted_at",
    definition=(
        "Customers with a contact (ticket or inbound call) in the period who used at least two "
        "channels within {window} (a contact followed by the customer's next other contact on "
        "another channel within {window}; a call and the ticket it is linked to are one "
        "contact) / customers with a contact in the period that can be judged: one who "
        "switched, or all of whose contacts' {window} windows the data has observed (up to the "
        "export time of tickets and calls). The value is provisional while the customers not "
        "yet judged are more than 5%."
    ),
    params=(WINDOW,),
    build=lambda p: Built(
        DistinctRatio(
            "customer_id",
            f"next_contact_seconds <= {_num(p['window'])} AND next_contact_channel <> channel",
            where="customer_id IS NOT NULL",
            judged=judged(p["window"]),
        )
    ),
)

GAVE_UP_RATE = KpiDef(
    id="gave_up_rate",
    title="Gave-up rate",
    short="Gave up",
    source="contacts",
    unit="ratio",
    higher_is_better=False,
    anchor="contacted_at",
    definition=(
        "Contacts in the period that ended without a resolution / contacts in the period: "
        "inbound calls never answered, plus tickets that ended without a resolved_at (a "
        "closed_at, or a status of closed, cancelled, rejected or abandoned: the same tickets "
        "that leave the backlog without a resolution). A call and the ticket it is linked to "
        "(calls.ticket_id) are one contact, decided by the ticket."
    ),
    build=lambda p: Built(Ratio("gave_up", where="gave_up IS NOT NULL")),
)

# --- calls: hold, transfers, first contact resolution ---------------------------------------


def _hold_time(p: Mapping[str, Any]) -> Built:
    answered = _answered(p)
    if p["over"] == "held":
        return Built(Stat("hold_seconds", p["stat"], where=f"{answered} AND hold_seconds > 0"))
    return Built(Stat("coalesce(hold_seconds, 0)", p["stat"], where=answered))


AVERAGE_HOLD_TIME = KpiDef(
    id="average_hold_time",
    title="Average hold time",
    short="Hold",
    source="calls",
    unit="seconds",
    higher_is_better=False,
    anchor="queued_at",
    definition=(
        "{stat} of hold_seconds over answered calls queued in the period ({over}: answered = "
        "every answered call, an empty hold counting as 0; held = only calls put on hold, as "
        "Amazon Connect's 'average customer hold time'). " + DIRECTION_NOTE + " A hold value "
        "that cannot be read, or is not a finite number below 2^53, is read as missing (so it "
        "counts as 0 over answered calls) and reported in data_quality."
    ),
    params=(
        _stat("mean"),
        Param("over", "choice", "answered", "which calls: answered or held", ("answered", "held")),
        DIRECTION,
    ),
    build=_hold_time,
)

CALL_REROUTE_RATE = KpiDef(
    id="call_reroute_rate",
    title="Call transfer rate",
    short="Transferred",
    source="calls",
    unit="ratio",
    higher_is_better=False,
    anchor="queued_at",
    definition=(
        "Answered calls queued in the period that were transferred at least once "
        "(transfers > 0) / answered calls queued in the period with a known transfers count. "
        + DIRECTION_NOTE
    ),
    params=(DIRECTION,),
    build=lambda p: Built(
        Ratio("transfers > 0", where=f"{_answered(p)} AND transfers IS NOT NULL")
    ),
)


def _call_fcr(p: Mapping[str, Any]) -> Built:
    answered = f"{INBOUND} AND answered_at IS NOT NULL"
    if p["method"] == "flag":
        return Built(Ratio("resolved", where=f"{answered} AND resolved IS NOT NULL"))
    return Built(
        Ratio(
            no_repeat(p["window"]),
            where=f"{answered} AND customer_id IS NOT NULL",
            judged=judged(p["window"]),
        ),
        quality=(NO_CUSTOMER,),
    )


CALL_FIRST_CONTACT_RESOLUTION = KpiDef(
    id="call_first_contact_resolution",
    title="Call first contact resolution",
    short="Call FCR",
    source="calls",
    unit="ratio",
    higher_is_better=True,
    anchor="queued_at",
    definition=(
        "Answered inbound calls queued in the period after which the same customer made no "
        "other contact (inbound call or ticket) within {window} of the call's end (ended_at, "
        "else queued_at) / answered calls that can be judged: a repeat was seen, or the data "
        "(the export time of tickets and calls) extends past the window's end; the ticket a "
        "call is linked to (calls.ticket_id) is the same contact, not a repeat. The value is "
        "provisional while more than 5% of the calls are not yet judged. Method {method}: "
        "no_repeat as described; flag = the export's resolved column."
    ),
    params=(
        Param("method", "choice", "no_repeat", "no_repeat or flag", ("no_repeat", "flag")),
        WINDOW,
    ),
    build=_call_fcr,
)

# --- surveys and customers -------------------------------------------------------------------


def _asat(p: Mapping[str, Any]) -> Built:
    where, rule = _survey_where("asat", 1, p["scale"])
    return Built(Stat("score", "mean", where=where), quality=(rule,))


ASAT = KpiDef(
    id="asat",
    title="Agent satisfaction",
    short="ASAT",
    source="surveys",
    unit="score",
    higher_is_better=True,
    anchor="responded_at",
    definition=(
        "Mean score of asat (agent-satisfaction) responses in the period on a 1–{scale} scale; "
        "scores outside the scale are excluded and reported."
    ),
    params=(Param("scale", "number", 5.0, "highest score of the scale (the lowest is 1)"),),
    build=_asat,
)

SURVEY_RESPONSES = KpiDef(
    id="survey_responses",
    title="Survey responses",
    short="Responses",
    source="surveys",
    unit="count",
    higher_is_better=None,
    anchor="responded_at",
    definition=(
        "Survey responses received in the period, of every type (slice with --by survey_type "
        "for the count per type)."
    ),
    build=lambda p: Built(Count()),
)

RETENTION_RATE = KpiDef(
    id="retention_rate",
    title="Customer retention rate",
    short="Retention",
    source="customers",
    unit="ratio",
    higher_is_better=True,
    anchor="started_at",
    definition=(
        "(E − N) / S: S = customers active at the start of the period (started before it, not "
        "churned before it), E = customers active at its end, N = customers who started during "
        "it and are still active at its end. Equals 1 − churn_rate. Needs a period start: over "
        "all the data S is 0 and the rate is null."
    ),
    requires=("churned_at",),
    build=lambda p: Built(Stock("started_at", "churned_at", "retention")),
)

CHURN_RATE = KpiDef(
    id="churn_rate",
    title="Customer churn rate",
    short="Churn",
    source="customers",
    unit="ratio",
    higher_is_better=False,
    anchor="started_at",
    definition=(
        "Customers active at the start of the period who churned during it / customers active "
        "at the start of the period (S). Needs a period start: over all the data it is null."
    ),
    requires=("churned_at",),
    build=lambda p: Built(Stock("started_at", "churned_at", "churn")),
)


# --- sentiment and social messages ----------------------------------------------------------

SENTIMENT_SOURCES = (
    ("surveys", "responded_at"),
    ("messages", "created_at"),
    ("tickets", "created_at"),
)
NEUTRAL = Param(
    "neutral",
    "number",
    0.05,
    "half-width of the neutral band, above 0 and below 1: a score ≤ −neutral is negative, "
    "≥ +neutral positive",
    minimum=0,
    maximum=1,
    exclusive=True,
)
TEXT_NOTE = (
    "Texts are scored offline by VADER (the `sentiment` extra) from −1 to +1: survey comments "
    "(source surveys), inbound message text (messages: customers, not the brand's replies) "
    "or ticket subjects (tickets); empty texts are not counted. VADER is a lexicon for short "
    "English social text: treat it as indicative (docs/sentiment.md measures it against human "
    "labels)."
)

SENTIMENT = KpiDef(
    id="sentiment",
    title="Sentiment",
    short="Sentiment",
    source="surveys",
    unit="score",
    higher_is_better=True,
    anchor="responded_at",
    definition="Mean sentiment score (−1…+1) of the texts in the period. " + TEXT_NOTE,
    alt_sources=SENTIMENT_SOURCES,
    build=lambda p: Built(Stat("sentiment", "mean", nonnegative=False)),
)

NEGATIVE_SHARE = KpiDef(
    id="negative_share",
    title="Negative share",
    short="Negative",
    source="surveys",
    unit="ratio",
    higher_is_better=False,
    anchor="responded_at",
    definition=(
        "Texts in the period scoring at most −{neutral} / texts with a score. " + TEXT_NOTE
    ),
    params=(NEUTRAL,),
    alt_sources=SENTIMENT_SOURCES,
    build=lambda p: Built(
        Ratio(f"sentiment <= {_num(-p['neutral'])}", where="sentiment IS NOT NULL")
    ),
)

POSITIVE_SHARE = KpiDef(
    id="positive_share",
    title="Positive share",
    short="Positive",
    source="surveys",
    unit="ratio",
    higher_is_better=True,
    anchor="responded_at",
    definition=(
        "Texts in the period scoring at least +{neutral} / texts with a score. " + TEXT_NOTE
    ),
    params=(NEUTRAL,),
    alt_sources=SENTIMENT_SOURCES,
    build=lambda p: Built(
        Ratio(f"sentiment >= {_num(p['neutral'])}", where="sentiment IS NOT NULL")
    ),
)

THREAD_NOTE = (
    "Ids match as text, except that an id written as a whole number with a zero fraction "
    "(3.0, as spreadsheets and pandas write integer ids next to empty cells) matches the "
    "integer (3); `cscli validate` reports an in_response_to column that matches no "
    "message_id at all."
)

MESSAGE_VOLUME = KpiDef(
    id="message_volume",
    title="Inbound messages",
    short="Messages",
    source="messages",
    unit="count",
    higher_is_better=None,
    anchor="created_at",
    definition="Inbound messages (inbound true: from customers) created in the period.",
    build=lambda p: Built(Count("inbound")),
)

MESSAGE_FIRST_RESPONSE_TIME = KpiDef(
    id="message_first_response_time",
    title="Social first response time",
    short="Social FRT",
    source="messages",
    unit="seconds",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "{stat} of the time from an inbound message that starts a conversation (in_response_to "
        "empty) to the first outbound message that replies to it (in_response_to = its "
        "message_id), over such messages created in the period that got a reply; slice by "
        "responder (the replying account, e.g. the brand) or channel. " + THREAD_NOTE
    ),
    params=(_stat("median"),),
    build=lambda p: Built(
        Stat("reply_seconds", p["stat"], where="inbound AND in_response_to IS NULL")
    ),
)

MESSAGE_RESPONSE_RATE = KpiDef(
    id="message_response_rate",
    title="Social response rate",
    short="Answered",
    source="messages",
    unit="ratio",
    higher_is_better=True,
    anchor="created_at",
    definition=(
        "Inbound messages that start a conversation and got a direct outbound reply / inbound "
        "messages that start a conversation, created in the period. " + THREAD_NOTE
    ),
    degenerate_by=(
        (
            "responder",
            "only answered messages have a responder, so every responder's rate would be "
            "100% and the unanswered ones would all sit in the empty group",
        ),
    ),
    build=lambda p: Built(
        Ratio("reply_seconds IS NOT NULL", where="inbound AND in_response_to IS NULL")
    ),
)


CATALOG: dict[str, KpiDef] = {
    k.id: k
    for k in (
        # tickets
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
        # calls
        CALL_VOLUME,
        AVERAGE_HANDLE_TIME,
        AVERAGE_SPEED_OF_ANSWER,
        ABANDONMENT_RATE,
        SERVICE_LEVEL,
        AVERAGE_HOLD_TIME,
        CALL_REROUTE_RATE,
        CALL_FIRST_CONTACT_RESOLUTION,
        # surveys
        CSAT,
        NPS,
        CES,
        ASAT,
        SURVEY_RESPONSES,
        # sentiment (surveys by default; messages or tickets with `source:`)
        SENTIMENT,
        NEGATIVE_SHARE,
        POSITIVE_SHARE,
        # social messages
        MESSAGE_VOLUME,
        MESSAGE_FIRST_RESPONSE_TIME,
        MESSAGE_RESPONSE_RATE,
        # contacts (tickets and calls together)
        CHANNEL_SWITCH_RATE,
        GAVE_UP_RATE,
        # customers
        RETENTION_RATE,
        CHURN_RATE,
    )
}

#: What a report shows when the config has no `kpis:` (those whose source is configured):
#: the numbers a support leader reads every week. Everything else is one `--kpi` away.
DEFAULT_KPIS: tuple[str, ...] = (
    "ticket_volume",
    "first_response_time",
    "resolution_time",
    "resolution_rate",
    "backlog",
    "first_contact_resolution",
    "reopen_rate",
    "call_volume",
    "average_handle_time",
    "average_speed_of_answer",
    "abandonment_rate",
    "service_level",
    "csat",
    "nps",
    "ces",
    "retention_rate",
    "churn_rate",
)
