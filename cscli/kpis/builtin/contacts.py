"""The contact KPIs: tickets and inbound calls together (channel switching, gave-up rate).

A call and the ticket it is linked to (calls.ticket_id) are one contact. Each is one `KpiDef`;
`KPIS` lists them in catalogue order (`cscli.kpis.catalog`).
"""

from __future__ import annotations

from cscli.kpis.builtin.common import WINDOW, judged, sql_num
from cscli.kpis.spec import Built, DistinctRatio, KpiDef, Ratio

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
            f"next_contact_seconds <= {sql_num(p['window'])} AND next_contact_channel <> channel",
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


KPIS: tuple[KpiDef, ...] = (CHANNEL_SWITCH_RATE, GAVE_UP_RATE)
