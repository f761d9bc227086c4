"""The customer KPIs: retention and churn, stocks of active customers over a period.

Each is one `KpiDef`; `KPIS` lists them in catalogue order (`cscli.kpis.catalog`).
"""

from __future__ import annotations

from cscli.kpis.spec import Built, KpiDef, Stock

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


KPIS: tuple[KpiDef, ...] = (RETENTION_RATE, CHURN_RATE)
