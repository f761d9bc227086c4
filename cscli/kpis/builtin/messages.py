"""The social-message KPIs: inbound volume, first response time and response rate.

A conversation starts with an inbound message with no in_response_to; its reply is the first
outbound message whose in_response_to is its message_id. Each is one `KpiDef`; `KPIS` lists
them in catalogue order (`cscli.kpis.catalog`).
"""

from __future__ import annotations

from cscli.kpis.builtin.common import stat_param
from cscli.kpis.spec import Built, Count, KpiDef, Ratio, Stat

THREAD_NOTE = (
    "Ids match as text, except that an id written as a whole number with a zero fraction "
    "(3.0, as spreadsheets and pandas write integer ids next to empty cells) matches the "
    "integer (3); `cscli validate` reports an in_response_to column that matches no "
    "message_id at all."
)

MESSAGE_VOLUME = KpiDef(
    id="message_volume",
    title="Inbound messages",
    short="Messages",
    source="messages",
    unit="count",
    higher_is_better=None,
    anchor="created_at",
    definition="Inbound messages (inbound true: from customers) created in the period.",
    build=lambda p: Built(Count("inbound")),
)

MESSAGE_FIRST_RESPONSE_TIME = KpiDef(
    id="message_first_response_time",
    title="Social first response time",
    short="Social FRT",
    source="messages",
    unit="seconds",
    higher_is_better=False,
    anchor="created_at",
    definition=(
        "{stat} of the time from an inbound message that starts a conversation (in_response_to "
        "empty) to the first outbound message that replies to it (in_response_to = its "
        "message_id), over such messages created in the period that got a reply; slice by "
        "responder (the replying account, e.g. the brand) or channel. " + THREAD_NOTE
    ),
    params=(stat_param("median"),),
    build=lambda p: Built(
        Stat("reply_seconds", p["stat"], where="inbound AND in_response_to IS NULL")
    ),
)

MESSAGE_RESPONSE_RATE = KpiDef(
    id="message_response_rate",
    title="Social response rate",
    short="Answered",
    source="messages",
    unit="ratio",
    higher_is_better=True,
    anchor="created_at",
    definition=(
        "Inbound messages that start a conversation and got a direct outbound reply / inbound "
        "messages that start a conversation, created in the period. " + THREAD_NOTE
    ),
    degenerate_by=(
        (
            "responder",
            "only answered messages have a responder, so every responder's rate would be "
            "100% and the unanswered ones would all sit in the empty group",
        ),
    ),
    build=lambda p: Built(
        Ratio("reply_seconds IS NOT NULL", where="inbound AND in_response_to IS NULL")
    ),
)


KPIS: tuple[KpiDef, ...] = (MESSAGE_VOLUME, MESSAGE_FIRST_RESPONSE_TIME, MESSAGE_RESPONSE_RATE)
