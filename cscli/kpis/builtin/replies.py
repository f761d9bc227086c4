"""The reply KPIs read from ticket comments (issue 17, the ticket lifecycle).

A comment export (`ticket_comments`: ticket_id, created_at, author_role end_user | agent,
public) gives every wait of a customer, not only the first: the derivation `comment_replies`
(`cscli.derived`) pairs each public end-user comment with the next public agent comment on its
ticket, in time order whatever the file order.
"""

from __future__ import annotations

from cscli.kpis.builtin.common import stat_param
from cscli.kpis.spec import Built, KpiDef, Ratio, Stat

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


#: never reopened, as first_contact_resolution's one_touch method reads it
NOT_REOPENED = "(reopens IS NULL OR reopens = 0)"
RESOLVED = "resolved_at IS NOT NULL"
TOUCH_NOTE = (
    "Replies are the ticket's public agent comments in ticket_comments. The three touch "
    "shares (one_touch_share, two_touch_share, multi_touch_share) split the same "
    "denominator, tickets resolved in the period, the way first_contact_resolution's "
    "one_touch method does: one-touch = exactly one reply and never reopened, two-touch = "
    "exactly two and never reopened, multi-touch = three or more, or reopened after at least "
    "one reply. A ticket resolved without any public reply is in none of them, so the three "
    "add up to 1 minus the share resolved without a reply."
)


def _touch(
    kpi_id: str, title: str, short: str, numerator: str, which: str, better: bool | None
) -> KpiDef:
    return KpiDef(
        id=kpi_id,
        title=title,
        short=short,
        source="tickets",
        unit="ratio",
        higher_is_better=better,
        anchor="resolved_at",
        definition=f"Tickets resolved in the period that were {which} / tickets resolved in "
        "the period. " + TOUCH_NOTE,
        build=lambda p: Built(Ratio(numerator, where=RESOLVED)),
    )


REPLIES_TO_RESOLVE = KpiDef(
    id="replies_to_resolve",
    title="Replies to resolve",
    short="Replies",
    source="tickets",
    unit="count",
    higher_is_better=False,
    anchor="resolved_at",
    definition=(
        "{stat} of the number of public agent comments (ticket_comments) on tickets resolved "
        "in the period, a ticket without any counting 0 (fivetran dbt_zendesk's "
        "count_agent_replies over solved tickets). Tickets still open are not counted: their "
        "replies are not final."
    ),
    params=(stat_param("mean"),),
    build=lambda p: Built(Stat("public_replies", p["stat"], where=RESOLVED)),
)

ONE_TOUCH_SHARE = _touch(
    "one_touch_share",
    "One-touch resolution share",
    "1-touch",
    f"public_replies = 1 AND {NOT_REOPENED}",
    "resolved with exactly one public agent reply and never reopened",
    True,
)
TWO_TOUCH_SHARE = _touch(
    "two_touch_share",
    "Two-touch resolution share",
    "2-touch",
    f"public_replies = 2 AND {NOT_REOPENED}",
    "resolved with exactly two public agent replies and never reopened",
    None,
)
MULTI_TOUCH_SHARE = _touch(
    "multi_touch_share",
    "Multi-touch resolution share",
    "Multi-touch",
    f"public_replies >= 3 OR (public_replies >= 1 AND NOT {NOT_REOPENED})",
    "resolved with three or more public agent replies, or reopened after a reply",
    False,
)

KPIS = (NEXT_REPLY_TIME, REPLIES_TO_RESOLVE, ONE_TOUCH_SHARE, TWO_TOUCH_SHARE, MULTI_TOUCH_SHARE)
