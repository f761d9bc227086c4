"""The built-in KPIs (DESIGN §5): one `KpiDef` entry each, gathered from `cscli.kpis.builtin`.

Adding a KPI means adding one entry to its subject's module (`cscli.kpis.builtin.tickets`, …)
and to that module's `KPIS`: its explanation as data and a `build` function that returns a kind
(`cscli.kpis.spec`). Definitions are templates over the parameters' described values, so
`cscli kpis` and every report print the definition actually computed.

The catalogue's order is the subjects' order below, then each module's `KPIS` order: it is the
order of `cscli kpis` and docs/kpis.md.
"""

from __future__ import annotations

from cscli.kpis.builtin import (
    backlog_age,
    calls,
    contacts,
    customers,
    lifecycle,
    messages,
    replies,
    sentiment,
    sla,
    staffing,
    surveys,
    tickets,
    workforce,
)
from cscli.kpis.spec import KpiDef

SUBJECTS = (
    tickets,
    calls,
    surveys,
    sentiment,
    messages,
    contacts,
    customers,
    workforce,
    staffing,
    replies,
    lifecycle,
    sla,
    backlog_age,
)

CATALOG: dict[str, KpiDef] = {k.id: k for subject in SUBJECTS for k in subject.KPIS}

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
    "survey_response_rate",
    "retention_rate",
    "churn_rate",
    "occupancy",
    "agents_staffed",
)

#: added to the defaults when the config has `sla_policies:`
SLA_KPIS: tuple[str, ...] = tuple(k.id for k in sla.KPIS)
