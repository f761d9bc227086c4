"""The canonical tables (DESIGN §4): what every adapter produces.

Kept free of polars so that config validation and `--help` stay fast; adapters translate the
logical types below into polars dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: `list`: a set of text codes per record (a ticket's tags): a list column in JSON/Parquet, or
#: text split at the source's `list_separator`; trimmed, lower-cased, empty and repeated
#: values dropped
LogicalType = Literal["string", "datetime", "float", "int", "bool", "list"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: LogicalType
    required: bool = False
    doc: str = ""
    #: a code whose spelling varies by vendor ('INBOUND', 'Inbound'): trimmed and lower-cased
    code: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    id_column: str
    #: a constant given to a column the export lacks, e.g. every call is a phone contact
    defaults: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)


def _c(
    name: str, type_: LogicalType, required: bool = False, doc: str = "", code: bool = False
) -> Column:
    return Column(name, type_, required, doc, code)


TICKETS = Table(
    "tickets",
    (
        _c("ticket_id", "string", True),
        _c("created_at", "datetime", True),
        _c("first_response_at", "datetime", doc="first public agent reply"),
        _c("resolved_at", "datetime", doc="null while unresolved"),
        _c(
            "closed_at",
            "datetime",
            doc="when a ticket ended without a resolution (closed, cancelled…); optional",
        ),
        _c("status", "string", code=True),
        _c("channel", "string"),
        _c("agent", "string"),
        _c("team", "string"),
        _c("priority", "string", code=True),
        _c("customer_id", "string"),
        _c("agent_replies", "int"),
        _c("reopens", "int"),
        _c("reassignments", "int"),
        _c("first_contact_resolved", "bool"),
        _c("kb_used", "bool"),
        _c("subject", "string"),
        _c("description", "string"),
        _c(
            "tags",
            "list",
            doc="the ticket's tags: a list (JSON/Parquet) or text split at `list_separator` "
            "(`,` unless set); cut by with `--by tag`",
        ),
    ),
    id_column="ticket_id",
)

CALLS = Table(
    "calls",
    (
        _c("call_id", "string", True),
        _c("queued_at", "datetime", True),
        _c("answered_at", "datetime", doc="null = not answered"),
        _c("ended_at", "datetime"),
        _c("talk_seconds", "float"),
        _c("hold_seconds", "float"),
        _c("wrap_seconds", "float"),
        _c("direction", "string", doc="'inbound' unless the export says otherwise", code=True),
        _c("queue", "string"),
        _c("agent", "string"),
        _c("team", "string"),
        _c("customer_id", "string"),
        _c("ticket_id", "string"),
        _c("transfers", "int"),
        _c("resolved", "bool"),
        _c("channel", "string", doc="'phone' unless the export says otherwise"),
    ),
    id_column="call_id",
    defaults=(("channel", "phone"), ("direction", "inbound")),
)

SURVEYS = Table(
    "surveys",
    (
        _c("responded_at", "datetime", True),
        _c("score", "float", True),
        _c("survey_type", "string", True, doc="csat | nps | ces | asat", code=True),
        _c("response_id", "string"),
        _c("comment", "string"),
        _c("ticket_id", "string"),
        _c("call_id", "string"),
        _c("customer_id", "string"),
        _c("agent", "string"),
        _c("team", "string"),
        _c("channel", "string"),
    ),
    id_column="response_id",
)

CUSTOMERS = Table(
    "customers",
    (
        _c("customer_id", "string", True),
        _c("started_at", "datetime", True),
        _c("churned_at", "datetime"),
        _c("segment", "string"),
    ),
    id_column="customer_id",
)

MESSAGES = Table(
    "messages",
    (
        _c("message_id", "string", True),
        _c("created_at", "datetime", True),
        _c("text", "string", True),
        _c("channel", "string"),
        _c("author", "string"),
        _c("inbound", "bool"),
        _c("in_response_to", "string"),
    ),
    id_column="message_id",
)

#: Not a source of its own: every ticket and every inbound call as one contact, built by the
#: pipeline from the tickets and calls sources (channel switching, repeat contacts, give-ups).
CONTACTS = Table(
    "contacts",
    (
        _c("contact_id", "string", True, doc="the ticket_id or call_id"),
        _c("contacted_at", "datetime", True, doc="created_at or queued_at"),
        _c("kind", "string", doc="ticket | call"),
        _c("customer_id", "string"),
        _c("channel", "string"),
        _c("agent", "string"),
        _c("team", "string"),
        _c("gave_up", "bool", doc="abandoned call, or ticket closed without a resolution"),
    ),
    id_column="contact_id",
)

#: One row per agent state interval (issue #16): an agent was in `state` from `started_at` to
#: `ended_at`. A row without `ended_at` lasts to the agent's next row; the agent's last one is
#: still in that state at the export time (the latest instant of the source). `state` is one
#: of AGENT_STATE_NAMES after the source's `states:` mapping (export names → canonical,
#: case-insensitive).
AGENT_STATES = Table(
    "agent_states",
    (
        _c("agent", "string", True),
        _c(
            "state",
            "string",
            True,
            doc="available | on_contact | after_contact_work | break | offline",
            code=True,
        ),
        _c("started_at", "datetime", True),
        _c("ended_at", "datetime", doc="null = until the agent's next row, or the export time"),
        _c("team", "string"),
        _c("queue", "string"),
        _c("state_id", "string", doc="the export's id of the state row, if any"),
    ),
    id_column="state_id",
)

AGENT_STATE_NAMES = ("available", "on_contact", "after_contact_work", "break", "offline")

#: One row per comment on a ticket (issue 17, the ticket lifecycle): who wrote it, when, and
#: whether the requester saw it. Reply waits and a ticket's first responder are derived from it.
TICKET_COMMENTS = Table(
    "ticket_comments",
    (
        _c("ticket_id", "string", True),
        _c("created_at", "datetime", True),
        _c("author_role", "string", True, doc="end_user | agent", code=True),
        _c("public", "bool", doc="seen by the requester; true when the export lacks it"),
        _c("comment_id", "string"),
        _c("author", "string"),
    ),
    id_column="comment_id",
)

#: the author roles of a comment; any other value is a data-quality finding
COMMENT_ROLES = ("end_user", "agent")

#: A ticket's status history (issue 17): one row per status change, from a status-history
#: export, an `event_log:` source's events, or Zendesk's `ticket_field_history`. Statuses follow
#: Zendesk's vocabulary (new, open, pending, hold, solved, closed); the interval of a status
#: runs from its change to the ticket's next change, in time order.
TICKET_EVENTS = Table(
    "ticket_events",
    (
        _c("ticket_id", "string", True),
        _c("at", "datetime", True, doc="when the ticket entered the status"),
        _c(
            "status", "string", True, doc="new | open | pending | hold | solved | closed", code=True
        ),
        _c("event_id", "string"),
        _c("actor", "string", doc="who changed the status"),
        _c("group", "string"),
        _c("assignee", "string"),
    ),
    id_column="event_id",
)

#: the statuses of `ticket_events` (Zendesk's vocabulary); any other value is a finding
TICKET_STATUSES = ("new", "open", "pending", "hold", "solved", "closed")

#: One row per survey invitation (issue 17): a survey sent, answered or not. `responded_at` is
#: when it was answered (null = no response yet), so the response rate needs no link to the
#: surveys source; an unanswered invitation is a row of its own, not a survey with no score.
SURVEY_INVITATIONS = Table(
    "survey_invitations",
    (
        _c("sent_at", "datetime", True),
        _c("survey_type", "string", True, doc="csat | nps | ces | asat", code=True),
        _c("responded_at", "datetime", doc="null = not answered (yet)"),
        _c("invitation_id", "string"),
        _c("response_id", "string"),
        _c("ticket_id", "string"),
        _c("call_id", "string"),
        _c("customer_id", "string"),
        _c("agent", "string"),
        _c("team", "string"),
        _c("channel", "string"),
    ),
    id_column="invitation_id",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        TICKETS,
        CALLS,
        SURVEYS,
        CUSTOMERS,
        MESSAGES,
        AGENT_STATES,
        TICKET_COMMENTS,
        TICKET_EVENTS,
        SURVEY_INVITATIONS,
    )
}
#: Not a source of its own (issue 17): one row per SLA target of a ticket under the first of
#: the config's `sla_policies:` that matches it (its first reply, each next-reply wait, its
#: resolution), built by the polars engine from tickets, ticket_comments and ticket_events.
SLA_TARGETS = Table(
    "sla_targets",
    (
        _c("sla_id", "string", True, doc="<ticket_id>/<target>/<n>"),
        _c("ticket_id", "string", True),
        _c("policy", "string", True, doc="the name of the policy that applies"),
        _c("target", "string", True, doc="first_reply | next_reply | resolution"),
        _c("hours", "string", doc="business | calendar"),
        _c("started_at", "datetime", doc="when the clock started"),
        _c("due_at", "datetime", doc="when the clock reaches the target (null: paused)"),
        _c("stopped_at", "datetime", doc="when the clock stopped (null: still running)"),
        _c("placed_at", "datetime", doc="the instant that places it in a period"),
        _c("target_seconds", "float", doc="null: no target for the ticket's priority"),
        _c("elapsed_seconds", "float", doc="on the clock, to its stop or the export time"),
        _c("sla_met", "bool", doc="null while pending, and when not measured"),
        _c("sla_state", "string", doc="met | breached | pending | unmeasured"),
        _c("channel", "string"),
        _c("agent", "string"),
        _c("team", "string"),
        _c("priority", "string"),
        _c("customer_id", "string"),
    ),
    id_column="sla_id",
)

DERIVED_TABLES: dict[str, Table] = {"contacts": CONTACTS, "sla_targets": SLA_TARGETS}

#: the timestamp that places a custom KPI's records in a period, per source
DEFAULT_ANCHOR = {
    "tickets": "created_at",
    "calls": "queued_at",
    "surveys": "responded_at",
    "customers": "started_at",
    "messages": "created_at",
    "ticket_comments": "created_at",
    "ticket_events": "at",
    "survey_invitations": "sent_at",
}

SURVEY_TYPES = ("csat", "nps", "ces", "asat")
#: the sources whose records have a survey type (`survey_type:` in a source's config)
SURVEY_SOURCES = ("surveys", "survey_invitations")

#: ticket statuses that end a ticket without a resolution (with no resolved_at)
GAVE_UP_STATUSES = ("closed", "cancelled", "canceled", "rejected", "abandoned")

#: Columns a survey inherits from the ticket or call it rates (DESIGN §4), so survey KPIs can
#: be cut by that contact's agent, team and channel.
SURVEY_CONTACT_DIMENSIONS = ("agent", "team", "channel", "queue", "priority")

#: Free-text columns: carried for sentiment and feedback, never offered as a dimension.
FREE_TEXT = frozenset({"subject", "description", "comment", "text"})


def is_dimension(table: Table, name: str) -> bool:
    """Whether a canonical column can slice a report (`--by`)."""
    c = table.column(name)
    return c.type == "string" and not name.endswith("_id") and name not in FREE_TEXT
