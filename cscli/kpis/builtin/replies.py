"""The reply KPIs read from ticket comments (issue 17, the ticket lifecycle).

A comment export (`ticket_comments`: ticket_id, created_at, author_role end_user | agent,
public) gives every wait of a customer, not only the first: the derivation `comment_replies`
(`cscli.derived`) pairs each public end-user comment with the next public agent comment on its
ticket, in time order whatever the file order.
"""

from __future__ import annotations

from cscli.kpis.builtin.common import stat_param
from cscli.kpis.spec import Built, KpiDef, Stat

NEXT_REPLY_TIME = KpiDef(
    id="next_reply_time",
    title="Next reply time",
    short="Next reply",
    source="ticket_comments",
    unit="seconds",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "{stat} of the time from a public end-user comment that follows a public agent "
        "comment on its ticket (the first customer comment after each reply; the wait before "
        "the first reply is first_response_time) to the next public agent comment on the "
        "ticket, over such comments created in the period that got a reply (Zendesk Explore's "
        "next reply time, fivetran dbt_zendesk's reply times). Comments are taken in time "
        "order, whatever the file order; at one instant the customer's comment comes first. "
        "Comments still waiting for a reply are not counted; their share of the waits is the "
        "value's open share (provisional)."
    ),
    params=(stat_param("median"),),
    build=lambda p: Built(
        Stat(
            "reply_wait_seconds",
            p["stat"],
            where="next_reply_wait",
            pending="reply_wait_seconds IS NULL",
        )
    ),
)

KPIS = (NEXT_REPLY_TIME,)
