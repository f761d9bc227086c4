"""Erlang C staffing KPIs of issue #16, from calls: offered traffic and required agents.

Each is an `Erlang` kind: the engine aggregates the offered calls and the mean handle time per
bucket, and the Erlang number is worked out from those on the small aggregated table
(`cscli.erlang`, `cscli.engine.polars.staffing`). They need an interval grain (15m, 30m or
hour): on a day or coarser, or without a grain, they are unavailable, never an average.
docs/workforce.md explains the formulas and their assumptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.spec import Built, Erlang, KpiDef, Param, ParamError, QualityRule

INBOUND = "direction = 'inbound'"
ANSWERED = "direction = 'inbound' AND answered_at IS NOT NULL"

_NO_TALK = QualityRule(
    "answered inbound call with an empty talk_seconds",
    f"{ANSWERED} AND talk_seconds IS NULL",
    column="talk_seconds",
)

_PARTS = (
    "Offered calls are the inbound calls queued in the interval, answered or not; the mean "
    "handle time (AHT) is the mean of talk_seconds + hold_seconds + wrap_seconds over those "
    "answered, as average_handle_time (an empty hold or wrap counts as 0; an answered call "
    "with an empty talk value is excluded and reported in data_quality). "
)
_INTERVAL = (
    " Needs --grain 15m, 30m or hour; the totals row is null (a non-additive number is never "
    "averaged over intervals). The model is Erlang C: Poisson arrivals, exponential handle "
    "times, no abandonment (docs/workforce.md). n is the offered calls."
)

TARGET = Param("target", "ratio", 0.8, "service level to meet, a share between 0 and 1")
THRESHOLD = Param("threshold", "duration", 20.0, "answer-time target of the service level")
MAX_OCCUPANCY = Param(
    "max_occupancy",
    "ratio",
    None,
    "optional cap on occupancy A/N: at least A ÷ max_occupancy agents",
    derived="none",
)
SHRINKAGE = Param(
    "shrinkage",
    "ratio",
    0.0,
    "share of paid time agents are not available for calls (breaks, training): the agents "
    "on the phones are divided by 1 − shrinkage, rounded up",
)
AGENTS = Param(
    "agents",
    "number",
    None,
    "agents on the phones in every interval; without it, agents_staffed of agent_states",
    minimum=0,
    derived="not set",
)


def _check(p: Mapping[str, Any]) -> Mapping[str, Any]:
    if "target" in p and not 0 < p["target"] < 1:
        raise ParamError("target", f"target must be between 0 and 1 (exclusive), got {p['target']}")
    occ = p.get("max_occupancy")
    if occ is not None and not 0 < occ <= 1:
        raise ParamError("max_occupancy", f"max_occupancy must be in (0, 1], got {occ}")
    if "shrinkage" in p and not 0 <= p["shrinkage"] < 1:
        raise ParamError("shrinkage", f"shrinkage must be in [0, 1), got {p['shrinkage']}")
    if p.get("threshold", 0) < 0:
        raise ParamError("threshold", f"threshold must be ≥ 0, got {p['threshold']}")
    return p


def _kind(measure: str, p: Mapping[str, Any]) -> Built:
    kind = Erlang(
        measure,  # type: ignore[arg-type]
        offered=INBOUND,
        handle="handle_seconds",
        answered=ANSWERED,
        target=p.get("target", 0.8),
        threshold=p.get("threshold", 20.0),
        max_occupancy=p.get("max_occupancy"),
        shrinkage=p.get("shrinkage", 0.0),
        agents=p.get("agents"),
    )
    return Built(kind, quality=(_NO_TALK,))


TRAFFIC_INTENSITY = KpiDef(
    id="traffic_intensity",
    title="Traffic intensity",
    short="Erlangs",
    source="calls",
    unit="count",
    higher_is_better=None,
    anchor="queued_at",
    definition=(
        "Offered traffic in Erlangs: offered calls × mean handle time ÷ interval length in "
        "seconds (100 calls in 30 min at AHT 180s: 100 × 180 ÷ 1800 = 10 Erlangs, the work of "
        "10 agents busy all the time). " + _PARTS + "An interval with no offered call has 0; "
        "with offered calls but none answered the AHT is unknown and the value is null." + _INTERVAL
    ),
    requires=("answered_at",),
    build=lambda p: _kind("traffic", p),
)

REQUIRED_AGENTS = KpiDef(
    id="required_agents",
    title="Required agents (Erlang C)",
    short="Req. agents",
    source="calls",
    unit="count",
    higher_is_better=None,
    anchor="queued_at",
    definition=(
        "The smallest number of agents N ≥ traffic_intensity A whose Erlang C service level "
        "1 − C(N, A)·exp(−(N − A)·{threshold} ÷ AHT) is at least {target} within {threshold} "
        "(and, with max_occupancy ({max_occupancy}), with A ÷ N at most it), then divided by "
        "1 − shrinkage ({shrinkage}) and rounded up. C(N, A) is the Erlang C probability of "
        "waiting, from the stable Erlang B recursion. " + _PARTS + "0 with no offered call; "
        "null when the AHT is unknown." + _INTERVAL
    ),
    params=(TARGET, THRESHOLD, MAX_OCCUPANCY, SHRINKAGE),
    requires=("answered_at",),
    resolve=_check,
    build=lambda p: _kind("required", p),
)

ERLANG_C_SERVICE_LEVEL = KpiDef(
    id="erlang_c_service_level",
    title="Erlang C service level",
    short="SL (Erlang C)",
    source="calls",
    unit="ratio",
    higher_is_better=True,
    anchor="queued_at",
    definition=(
        "The service level Erlang C predicts within {threshold} for the agents staffed N: "
        "agents: ({agents}) when set, else the interval's agents_staffed from the agent_states "
        "source, joined by bucket (and by the report's cuts, which agent_states must have; a "
        "fractional mean of agents is interpolated between the whole numbers either side): "
        "1 − C(N, A)·exp(−(N − A)·{threshold} ÷ AHT), with A the "
        "interval's traffic_intensity; 0 when N ≤ A (the queue grows without bound), 1 with "
        "no offered call. Read it beside service_level: a predicted level far above the actual "
        "one points at time not spent on calls, far below at luck or abandonment. "
        + _PARTS
        + "Unavailable without agents."
        + _INTERVAL
    ),
    params=(THRESHOLD, AGENTS),
    requires=("answered_at",),
    resolve=_check,
    build=lambda p: _kind("service_level", p),
)

KPIS = (TRAFFIC_INTENSITY, REQUIRED_AGENTS, ERLANG_C_SERVICE_LEVEL)
