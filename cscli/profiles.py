"""Named report profiles: a saved choice of KPIs, dimensions and layout (`--profile NAME`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    description: str
    kpis: tuple[str, ...]
    by: tuple[str, ...]
    #: KPIs whose n gets a column of its own (a CSAT of 100% on 2 surveys is not a finding)
    n_columns: tuple[str, ...] = ()
    #: one table for all KPIs instead of one per source
    combined: bool = True
    #: KPIs added only when the catalogue has them (built on other branches, or optional)
    optional: tuple[str, ...] = ()


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="scorecard",
            title="Agent scorecard",
            description=(
                "per agent: tickets, calls, first response time, handle time, first contact "
                "resolution, reopen rate and CSAT with its n, the view a team lead coaches from"
            ),
            kpis=(
                "ticket_volume",
                "call_volume",
                "first_response_time",
                "average_handle_time",
                "first_contact_resolution",
                "reopen_rate",
                "csat",
            ),
            by=("agent",),
            n_columns=("csat",),
        ),
        Profile(
            name="team",
            title="Team overview",
            description="per team: volume, speed, quality and satisfaction",
            kpis=(
                "ticket_volume",
                "first_response_time",
                "resolution_time",
                "sla_attainment",
                "service_level",
                "csat",
            ),
            by=("team",),
            n_columns=("csat",),
        ),
        Profile(
            name="intraday",
            title="Intraday profile",
            description=(
                "by weekday and hour of day: calls, speed of answer and service level as "
                "weekday × hour heatmaps, with occupancy, agents staffed against the Erlang C "
                "requirement and the staffing gap (staffed − required) where available"
            ),
            kpis=("call_volume", "average_speed_of_answer", "service_level"),
            by=("weekday", "hour_of_day"),
            combined=True,
            optional=(
                "occupancy",
                "agents_staffed",
                "required_agents",
                "erlang_c_service_level",
            ),
        ),
    )
}
