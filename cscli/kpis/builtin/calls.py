"""The call KPIs: volume, handle, answer and hold times, abandonment, service level, transfers
and first contact resolution.

Each is one `KpiDef`; `KPIS` lists them in catalogue order (`cscli.kpis.catalog`). Calls are
inbound unless a KPI's `direction` says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cscli.kpis.builtin.common import (
    HOURS,
    NO_CUSTOMER,
    WINDOW,
    all_of,
    judged,
    measure,
    no_repeat,
    sql_num,
    stat_param,
)
from cscli.kpis.spec import Built, Count, KpiDef, Param, QualityRule, Ratio, Stat

INBOUND = "direction = 'inbound'"


def _short_abandon(p: Mapping[str, Any]) -> str | None:
    """Records left in the population once short abandons are excluded."""
    if p["short_abandon"] <= 0:
        return None
    return (
        "NOT (answered_at IS NULL AND wait_seconds IS NOT NULL "
        f"AND wait_seconds < {sql_num(p['short_abandon'])})"
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
    return all_of(_direction(p), "answered_at IS NOT NULL") or ""


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
    params=(stat_param("mean"), DIRECTION),
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
    params=(stat_param("mean"), HOURS),
    build=lambda p: Built(Stat(measure("answer_seconds", p), p["stat"], where=INBOUND)),
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
    build=lambda p: Built(Ratio("answered_at IS NULL", where=all_of(INBOUND, _short_abandon(p)))),
)


def _service_level(p: Mapping[str, Any]) -> Built:
    within = f"answer_seconds IS NOT NULL AND answer_seconds <= {sql_num(p['threshold'])}"
    # an answered call whose answer time is unusable (answered before queued) is left out
    trusted = "NOT (answered_at IS NOT NULL AND answer_seconds IS NULL)"
    population = all_of(INBOUND, trusted, _short_abandon(p))
    if p["abandons"] == "met":
        numerator = f"wait_seconds IS NOT NULL AND wait_seconds <= {sql_num(p['threshold'])}"
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
        stat_param("mean"),
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


KPIS: tuple[KpiDef, ...] = (
    CALL_VOLUME,
    AVERAGE_HANDLE_TIME,
    AVERAGE_SPEED_OF_ANSWER,
    ABANDONMENT_RATE,
    SERVICE_LEVEL,
    AVERAGE_HOLD_TIME,
    CALL_REROUTE_RATE,
    CALL_FIRST_CONTACT_RESOLUTION,
)
