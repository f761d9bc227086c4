"""Derived columns, each declared once: what a source gains before aggregation, and from what.

A derivation adds columns (`provides`) to one source when that source has its `inputs`, when
one of the other sources it reads (`needs_sources`) is loaded, and when its condition
(`requires`) holds. Availability (`cscli.availability`) reads this registry to tell which
columns and dimensions a source has and, for a KPI that cannot be computed, which export column
is missing; an engine builds each derivation, looked up by name (`cscli.engine.polars.enrich`).
Nothing here computes anything: the registry is engine-neutral, so that a second engine brings
its own builders for the same declarations.

Stages: `load` derivations come with the source from the loader (the duration measures, whose
negative values are data-quality findings); `enrich` ones are added before aggregation when a
KPI or a `--by` reads them; `window` ones by the queries that read them (a ticket's age at the
export time: an aggregate over the whole source, kept out of the queries that do not need it).
A derivation named after its source builds that source (the contacts, from tickets and calls).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cscli.kpis.measures import BUSINESS_MEASURES, MEASURES
from cscli.schema import SURVEY_CONTACT_DIMENSIONS

Stage = Literal["load", "enrich", "window"]

#: conditions beyond the data: a business calendar for the source (`calendars:` and
#: `calendar:`), or the sentiment extra installed (checked last: the data would allow the KPI)
Requirement = Literal["calendar", "sentiment extra"]
CALENDAR: Requirement = "calendar"
SENTIMENT_EXTRA: Requirement = "sentiment extra"


@dataclass(frozen=True, slots=True)
class Link:
    """Another source a derivation reads: every record, or (with `key`) the records that this
    source's `key` column names, which it can only do when it has that column."""

    source: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Derivation:
    name: str
    source: str
    provides: frozenset[str] = frozenset()
    inputs: frozenset[str] = frozenset()
    #: other sources read, any one of which must be loaded
    needs_sources: tuple[Link, ...] = ()
    requires: Requirement | None = None
    #: the columns it adds (provided or copied) that can cut a report (`--by`)
    dimensions: frozenset[str] = frozenset()
    #: columns taken from the linked sources that have them (a contact's customer and channel)
    copies: frozenset[str] = frozenset()
    #: dimensions taken from the linked sources that have them, to cut by only (a survey is cut
    #: by the agent of the ticket it rates; no KPI reads them)
    inherits: frozenset[str] = frozenset()
    stage: Stage = "enrich"
    #: for a business-time twin: the calendar-time measure it measures again
    twin_of: str | None = None
    doc: str = ""
    #: dimensions among `provides` whose value is a set (a ticket's tags): a report cut by
    #: one puts a record in the group of each of its values (none: the null group), so the
    #: groups overlap and do not sum to the totals, which count each record once
    multi_valued: frozenset[str] = frozenset()

    @property
    def builds_source(self) -> bool:
        return self.name == self.source

    @property
    def outputs(self) -> frozenset[str]:
        return self.provides | self.copies | self.inherits


#: per ticket, from its status history (`ticket_events`): seconds in each group of statuses
#: (Zendesk / fivetran dbt_zendesk), created → first and final solve, reopens, whether the
#: history still has it open, and the instant of its final solve (the KPIs' anchor)
STATUS_TIMES = frozenset(
    {
        "requester_wait_seconds",
        "agent_work_seconds",
        "agent_wait_seconds",
        "on_hold_seconds",
        "first_resolution_seconds",
        "full_resolution_seconds",
    }
)
HISTORY_FACTS = frozenset({"first_solved_at", "final_solved_at", "history_reopens", "history_open"})
BUSINESS_STATUS_TIMES = frozenset(f"business_{c}" for c in STATUS_TIMES)

#: the sources whose records are contacts
CONTACT_SOURCES = ("tickets", "calls")
#: per source, the text column whose sentiment is scored
TEXT_COLUMNS = {"surveys": "comment", "messages": "text", "tickets": "subject"}

#: seconds from the end of a contact to the customer's next *other* contact (negative when the
#: customer came back while a ticket was still open), that contact's channel, and the seconds of
#: data observed after the end of the contact (up to the export time of the contact sources)
CONTACT_MEASURES = frozenset(
    {"next_contact_seconds", "next_contact_channel", "followup_observed_seconds"}
)
#: how a ticket ended: `ended_at` (resolved_at, else closed_at), `ticket_end_unknown` (ended
#: without a resolution and without an end instant), `ticket_open` (neither resolved nor ended)
TICKET_ENDS = frozenset({"ended_at", "ticket_end_unknown", "ticket_open"})
#: per inbound message: its first direct reply (seconds to it, and who sent it)
MESSAGE_MEASURES = frozenset({"reply_seconds", "responder"})
MESSAGE_INPUTS = frozenset({"message_id", "created_at", "inbound", "in_response_to"})
#: per public end-user comment: seconds to the next public agent comment on its ticket (null
#: while none has come), and whether it opens a next-reply wait (the first customer comment
#: after a public agent comment)
COMMENT_MEASURES = frozenset({"reply_wait_seconds", "next_reply_wait"})
COMMENT_INPUTS = frozenset({"ticket_id", "created_at", "author_role", "public"})
#: per ticket: its first public agent comment (when, and by whom), and how many public agent
#: comments it has (0 for a ticket without any), from ticket_comments
FIRST_REPLY_COLUMNS = frozenset({"first_public_reply_at", "first_responder", "public_replies"})
SENTIMENT_MEASURES = frozenset({"sentiment"})
#: the columns of the contacts table of its own; the others are copied from tickets and calls
CONTACT_COLUMNS = frozenset({"contact_id", "contacted_at", "kind", "gave_up"})
CONTACT_COPIES = frozenset({"customer_id", "channel", "agent", "team"})

#: per SLA target of a ticket (`schema.SLA_TARGETS`, from the config's `sla_policies:`), in order
SLA_FIELDS = (
    "sla_id",
    "ticket_id",
    "policy",
    "target",
    "hours",
    "started_at",
    "due_at",
    "stopped_at",
    "placed_at",
    "target_seconds",
    "elapsed_seconds",
    "sla_met",
    "sla_state",
)
SLA_COLUMNS = frozenset(SLA_FIELDS)
SLA_COPIES = frozenset({"channel", "agent", "team", "priority", "customer_id"})


def _measures() -> tuple[Derivation, ...]:
    return tuple(
        Derivation(
            m.name, m.table, frozenset({m.name}), frozenset(m.inputs), stage="load", doc=m.doc
        )
        for m in MEASURES
    )


def _twins() -> tuple[Derivation, ...]:
    return tuple(
        Derivation(
            BUSINESS_MEASURES[m.name],
            m.table,
            frozenset({BUSINESS_MEASURES[m.name]}),
            frozenset({m.name}),
            requires=CALENDAR,
            twin_of=m.name,
            doc=f"{m.name} in business time",
        )
        for m in MEASURES
        if m.name in BUSINESS_MEASURES
    )


def _next_contact(source: str) -> Derivation:
    return Derivation(
        "next_contact",
        source,
        CONTACT_MEASURES,
        frozenset({"customer_id"}),
        needs_sources=tuple(Link(s) for s in CONTACT_SOURCES),
        doc="the customer's next other contact, counted from this contact's "
        + ("start" if source == "contacts" else "end"),
    )


DERIVATIONS: tuple[Derivation, ...] = (
    *_measures(),
    Derivation(
        "contacts",
        "contacts",
        CONTACT_COLUMNS,
        needs_sources=tuple(Link(s) for s in CONTACT_SOURCES),
        dimensions=frozenset({"kind", "channel", "agent", "team"}),
        copies=CONTACT_COPIES,
        doc="every ticket and inbound call as one contact; a call and the ticket it names are one",
    ),
    Derivation(
        "ticket_ends",
        "tickets",
        TICKET_ENDS,
        frozenset({"resolved_at"}),
        doc="how a ticket ended: resolved, ended without a resolution, or still open",
    ),
    *_twins(),
    *(
        Derivation(
            "sentiment",
            source,
            SENTIMENT_MEASURES,
            frozenset({text}),
            requires=SENTIMENT_EXTRA,
            doc=f"the sentiment score (−1…1) of {text}",
        )
        for source, text in TEXT_COLUMNS.items()
    ),
    Derivation(
        "replies",
        "messages",
        MESSAGE_MEASURES,
        MESSAGE_INPUTS,
        dimensions=frozenset({"responder"}),
        doc="an inbound message's first direct reply: seconds to it, and its author",
    ),
    Derivation(
        "comment_replies",
        "ticket_comments",
        COMMENT_MEASURES,
        COMMENT_INPUTS,
        doc="a public end-user comment's wait: seconds to the next public agent comment on "
        "its ticket (in time order, whatever the file order); null while unanswered",
    ),
    Derivation(
        "first_public_reply",
        "tickets",
        FIRST_REPLY_COLUMNS,
        frozenset({"ticket_id"}),
        needs_sources=(Link("ticket_comments"),),
        dimensions=frozenset({"first_responder"}),
        doc="a ticket's first public agent comment in ticket_comments (when, and its author) "
        "and its number of public agent comments",
    ),
    Derivation(
        "rated_contact",
        "surveys",
        needs_sources=(Link("tickets", "ticket_id"), Link("calls", "call_id")),
        inherits=frozenset({*SURVEY_CONTACT_DIMENSIONS, "tag"}),
        doc="the agent, team, channel, queue and priority of the ticket or call a survey rates "
        "(and the ticket's tags)",
    ),
    *(_next_contact(source) for source in ("contacts", *CONTACT_SOURCES)),
    Derivation(
        "status_times",
        "tickets",
        STATUS_TIMES | HISTORY_FACTS,
        frozenset({"ticket_id", "created_at"}),
        needs_sources=(Link("ticket_events", "ticket_id"),),
        doc="a ticket's time in each status group, first and final solve, and reopens, from "
        "its status history",
    ),
    Derivation(
        "business_status_times",
        "tickets",
        BUSINESS_STATUS_TIMES,
        frozenset({"ticket_id", "created_at"}),
        needs_sources=(Link("ticket_events", "ticket_id"),),
        requires=CALENDAR,
        doc="the status times in business time",
    ),
    Derivation(
        "age_seconds",
        "tickets",
        frozenset({"age_seconds"}),
        frozenset({"created_at"}),
        stage="window",
        doc="how old a ticket is at the export time (the newest timestamp of the tickets)",
    ),
    Derivation(
        "business_age_seconds",
        "tickets",
        frozenset({"business_age_seconds"}),
        frozenset({"age_seconds"}),
        requires=CALENDAR,
        stage="window",
        twin_of="age_seconds",
        doc="age_seconds in business time",
    ),
    Derivation(
        "tag",
        "tickets",
        frozenset({"tag"}),
        frozenset({"tags"}),
        dimensions=frozenset({"tag"}),
        multi_valued=frozenset({"tag"}),
        doc="a ticket's tags as a dimension: the ticket is in the group of each of its tags "
        "(an untagged ticket in the null group)",
    ),
    Derivation(
        "sla_targets",
        "sla_targets",
        SLA_COLUMNS,
        # tickets first: the one an SLA policy matches (its comments and history add clocks)
        needs_sources=(Link("tickets"), Link("ticket_comments"), Link("ticket_events")),
        dimensions=frozenset({"policy", "target", "channel", "agent", "team", "priority"}),
        copies=SLA_COPIES,
        doc="every SLA target of a ticket under the first sla_policies: entry matching it: "
        "first reply, each next-reply wait, resolution (docs/sla-policies.md)",
    ),
    Derivation(
        "invitation_observed_seconds",
        "survey_invitations",
        frozenset({"invitation_observed_seconds"}),
        frozenset({"sent_at"}),
        doc="how long after an invitation was sent the export still sees (its newest sent_at "
        "or responded_at − sent_at)",
    ),
)

#: the sources built from others
BUILT_SOURCES = tuple(d.source for d in DERIVATIONS if d.builds_source)
#: dimensions whose value is a set of values (`Derivation.multi_valued`): groups overlap
MULTI_VALUED = frozenset(c for d in DERIVATIONS for c in d.multi_valued)
#: columns added by the queries that read them (`window` derivations)
WINDOW_MEASURES = frozenset(c for d in DERIVATIONS if d.stage == "window" for c in d.provides)


def for_source(source: str) -> tuple[Derivation, ...]:
    """The derivations of `source`, in registry order (the order an engine applies them)."""
    return tuple(d for d in DERIVATIONS if d.source == source)


def builder_of(source: str) -> Derivation | None:
    """The derivation that builds `source` from others (the contacts), or None."""
    return next((d for d in for_source(source) if d.builds_source), None)


def provider(source: str, column: str) -> Derivation | None:
    """The derivation that provides `column` in `source`, or None."""
    return next((d for d in for_source(source) if column in d.provides), None)


def plan(source: str, wanted: Iterable[str], stage: Stage = "enrich") -> list[Derivation]:
    """The derivations of `source` at `stage` that add a `wanted` column, with those whose
    columns they read, in registry order."""
    todo = set(wanted)
    chosen: set[Derivation] = set()
    grown = True
    while grown:
        grown = False
        for d in for_source(source):
            if d.stage == stage and d not in chosen and d.outputs & todo:
                chosen.add(d)
                todo |= d.inputs
                grown = True
    return [d for d in for_source(source) if d in chosen]
