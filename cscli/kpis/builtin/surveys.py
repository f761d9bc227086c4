"""The survey KPIs: CSAT, NPS, customer effort, agent satisfaction and the response count.

Each is one `KpiDef`; `KPIS` lists them in catalogue order (`cscli.kpis.catalog`). A score
outside its scale is excluded and reported in data_quality (`_survey_where`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.builtin.common import sql_num
from cscli.kpis.spec import (
    Built,
    Count,
    KpiDef,
    NetScore,
    Param,
    ParamError,
    QualityRule,
    Ratio,
    Stat,
)
from cscli.schema import SURVEY_TYPES


def _survey_where(survey_type: str, low: float, high: float) -> tuple[str, QualityRule]:
    in_scale = f"score >= {sql_num(low)} AND score <= {sql_num(high)}"
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
    return Built(Ratio(f"score >= {sql_num(p['satisfied_min'])}", where=where), quality=(rule,))


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


def _response_rate(p: Mapping[str, Any]) -> Built:
    """Invitations answered within the window among those the export can judge: answered
    within it, or sent at least a window before the export time (the others are open)."""
    w = sql_num(p["window"])
    kind = p["survey_type"]
    types = SURVEY_TYPES if kind == "all" else (kind,)
    listed = ", ".join(f"'{t}'" for t in types)
    return Built(
        Ratio(
            f"invitation_response_seconds <= {w}",
            # a response before its invitation is a finding, and the invitation is left out
            where=f"survey_type IN ({listed}) AND (responded_at IS NULL OR "
            "invitation_response_seconds IS NOT NULL)",
            judged=f"invitation_response_seconds <= {w} OR invitation_observed_seconds >= {w}",
        )
    )


SURVEY_RESPONSE_RATE = KpiDef(
    id="survey_response_rate",
    title="Survey response rate",
    short="Response rate",
    source="survey_invitations",
    unit="ratio",
    higher_is_better=True,
    anchor="sent_at",
    definition=(
        "Share of survey invitations ({survey_type} types) sent in the period that were "
        "answered within {window} of being sent (responses / invitations, from the "
        "survey_invitations source: one row per invitation, responded_at empty while "
        "unanswered). An unanswered invitation sent less than {window} before the export time "
        "(its newest sent_at or responded_at) may still be answered: it leaves the denominator "
        "and its share is the open share; a response later than {window} counts as none. No "
        "invitations → no value. Invitation types other than csat, nps, ces, asat, and "
        "responses dated before their invitation, are excluded and reported in data_quality."
    ),
    params=(
        Param(
            "survey_type",
            "choice",
            "all",
            "the survey type whose invitations count (all: every type; or --by survey_type)",
            ("all", *SURVEY_TYPES),
        ),
        Param(
            "window",
            "duration",
            7 * 86400.0,
            "how long after an invitation a response counts",
        ),
    ),
    requires=("responded_at",),
    build=_response_rate,
)


KPIS: tuple[KpiDef, ...] = (CSAT, NPS, CES, ASAT, SURVEY_RESPONSES, SURVEY_RESPONSE_RATE)
