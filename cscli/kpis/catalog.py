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
    KpiDef,
    NetScore,
    Param,
    QualityRule,
    Ratio,
    Stat,
)

STAT_DOC = "mean, median, min, max or pNN (linear interpolation between closest ranks)"


def _stat(default: str) -> Param:
    return Param("stat", "stat", default, STAT_DOC)


def _and(*predicates: str | None) -> str | None:
    parts = [f"({p})" for p in predicates if p]
    return " AND ".join(parts) if parts else None


def _num(value: float) -> str:
    """A SQL numeric literal."""
    return repr(float(value))


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
        "{stat} of first_response_at − created_at, in calendar time, over tickets created in "
        "the period that have a first response. Tickets without a response are not counted "
        "(see resolution_rate and backlog for those); negative durations are excluded and "
        "reported in data_quality."
    ),
    params=(_stat("median"),),
    requires=("first_response_at",),
    build=lambda p: Built(Stat("first_response_seconds", p["stat"])),
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
        "{stat} of resolved_at − created_at, in calendar time, over tickets resolved in the "
        "period (placed in the period of resolved_at). Negative durations are excluded and "
        "reported in data_quality."
    ),
    params=(_stat("median"),),
    requires=("resolved_at",),
    build=lambda p: Built(Stat("resolution_seconds", p["stat"])),
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
        "the data) / tickets created in the period."
    ),
    requires=("resolved_at",),
    build=lambda p: Built(Ratio("resolved_at IS NOT NULL")),
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
        "period. The export needs all three columns; an empty hold or wrap value counts as 0, an "
        "empty talk value or any negative part excludes the call (reported in data_quality)."
    ),
    params=(_stat("mean"),),
    requires=("answered_at",),
    build=lambda p: Built(Stat("handle_seconds", p["stat"], where="answered_at IS NOT NULL")),
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
        "{stat} of answered_at − queued_at over inbound calls queued in the period and answered."
    ),
    params=(_stat("mean"),),
    build=lambda p: Built(Stat("answer_seconds", p["stat"], where=INBOUND)),
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
        "1–{scale} scale (top-2-box on 1–5) when stat is share; the mean score when stat is "
        "mean. Scores outside the scale are excluded and reported in data_quality. "
        "Current stat: {stat}."
    ),
    params=(
        Param("stat", "choice", "share", "share (top-box share) or mean", ("share", "mean")),
        Param("satisfied_min", "number", 4.0, "lowest score that counts as satisfied"),
        Param("scale", "number", 5.0, "highest score of the scale (the lowest is 1)"),
    ),
    build=_csat,
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


CATALOG: dict[str, KpiDef] = {
    k.id: k
    for k in (
        TICKET_VOLUME,
        FIRST_RESPONSE_TIME,
        RESOLUTION_TIME,
        RESOLUTION_RATE,
        CALL_VOLUME,
        AVERAGE_HANDLE_TIME,
        AVERAGE_SPEED_OF_ANSWER,
        ABANDONMENT_RATE,
        SERVICE_LEVEL,
        CSAT,
        NPS,
        CES,
    )
}
