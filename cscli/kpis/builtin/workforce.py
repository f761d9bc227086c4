"""The workforce KPIs of the `agent_states` source: occupancy and agents staffed (issue #16).

Agent states are intervals, not events: a state row counts for its overlap with each bucket
and with the window (`StateTime`), split exactly at the bucket edges, so a state that began
before the window and ends inside it counts for the part inside. Each is one `KpiDef`; `KPIS`
lists them in catalogue order (`cscli.kpis.catalog`).
"""

from __future__ import annotations

from cscli.kpis.spec import Built, KpiDef, StateTime

BUSY = ("on_contact", "after_contact_work")
STAFFED = ("available", "on_contact", "after_contact_work")

SPLIT = (
    "Each state row is split exactly at the bucket edges and clipped to the report window "
    "[from, to); a row without ended_at lasts to the agent's next row, the agent's last one "
    "to the export time (the latest time in the source). n = the state rows overlapping the "
    "bucket. Rows with an unknown state or ending before they start are left out and "
    "overlapping rows of one agent both count (each is a data-quality finding)."
)

OCCUPANCY = KpiDef(
    id="occupancy",
    title="Occupancy",
    short="Occupancy",
    source="agent_states",
    unit="ratio",
    higher_is_better=None,
    anchor="started_at",
    definition=(
        "(on_contact + after_contact_work) / (on_contact + after_contact_work + available) "
        "agent seconds: the share of staffed, non-break time spent handling contacts. Null "
        "when no agent was available, on a contact or in wrap-up. " + SPLIT
    ),
    build=lambda p: Built(StateTime(BUSY, STAFFED)),
)

AGENTS_STAFFED = KpiDef(
    id="agents_staffed",
    title="Agents staffed",
    short="Staffed",
    source="agent_states",
    unit="count",
    higher_is_better=None,
    anchor="started_at",
    definition=(
        "The mean number of agents logged in and not on break or offline: seconds in "
        "available, on_contact or after_contact_work / the bucket's seconds (the part of the "
        "bucket inside the window and the data, from the first state start to the export "
        "time). On the totals row and on a day or coarser grain it is the mean over that whole "
        "stretch, nights included (e.g. 4 agents for 12 of 24 hours = 2.0); cut by agent it is "
        "the share of the time that agent was staffed. " + SPLIT
    ),
    build=lambda p: Built(StateTime(STAFFED)),
)

KPIS: tuple[KpiDef, ...] = (OCCUPANCY, AGENTS_STAFFED)
