"""Columns a source gains from other sources, or from the report window, before aggregation.

- surveys take the agent, team, channel, queue and priority of the ticket or call they rate;
- every ticket and inbound call becomes a *contact*; sorted per customer, each contact learns
  how long until that customer's next contact and on which channel (repeat contacts, channel
  switching), and how much of the data lies after it (can a 7-day window be judged yet?);
- `age_seconds`: how old a ticket is at the end of the window (SLA misses of unanswered tickets).

All of it stays lazy; the sorts and joins are only added when a requested KPI reads the columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from cscli.adapters.base import LoadedSource
from cscli.kpis.measures import seconds
from cscli.schema import CONTACTS, GAVE_UP_STATUSES, SURVEY_CONTACT_DIMENSIONS

if TYPE_CHECKING:
    from cscli.business_hours.model import Calendar
    from cscli.config import CalendarAssignment

#: surveys inherit dimensions from the contact they rate, by the key that links them
SURVEY_LINKS = (("tickets", "ticket_id"), ("calls", "call_id"))

#: columns built from the contacts of a customer (available where customer_id is): seconds
#: from the end of a contact to the customer's next *other* contact (negative when the customer
#: came back while a ticket was still open), that contact's channel, and the seconds of data
#: observed after the end of the contact (up to the export time of the contact sources)
CONTACT_MEASURES = frozenset(
    {"next_contact_seconds", "next_contact_channel", "followup_observed_seconds"}
)
#: how old a ticket is at the export time (SLA misses of unanswered tickets)
WINDOW_MEASURES = frozenset({"age_seconds", "business_age_seconds"})
#: how a ticket ended (available where resolved_at is): `ended_at` (resolved_at, else
#: closed_at), `ticket_end_unknown` (ended without a resolution and without an end instant),
#: `ticket_open` (neither resolved nor ended)
TICKET_ENDS = frozenset({"ended_at", "ticket_end_unknown", "ticket_open"})
#: per inbound message: its first direct reply (seconds to it, and who sent it)
MESSAGE_MEASURES = frozenset({"reply_seconds", "responder"})
MESSAGE_INPUTS = frozenset({"message_id", "created_at", "inbound", "in_response_to"})
#: the sentiment score of a source's text column (see TEXT_COLUMNS)
SENTIMENT_MEASURES = frozenset({"sentiment"})
TEXT_COLUMNS = {"surveys": "comment", "messages": "text", "tickets": "subject"}


#: the timestamp columns of each source, whose newest value is the source's export time
TIMESTAMPS = {
    "tickets": ("created_at", "first_response_at", "resolved_at", "closed_at"),
    "calls": ("queued_at", "answered_at", "ended_at"),
    "surveys": ("responded_at",),
    "messages": ("created_at",),
    "customers": ("started_at", "churned_at"),
}

CONTACT_SOURCES = ("tickets", "calls")

#: progress(done, total) while texts are scored
Progress = Callable[[int, int], None]


def survey_dimensions(sources: Mapping[str, LoadedSource]) -> set[str]:
    dims: set[str] = set()
    surveys = sources.get("surveys")
    if surveys is None:
        return dims
    for contact, key in SURVEY_LINKS:
        if contact in sources and key in surveys.columns:
            dims.update(d for d in sources[contact].dimensions if d in SURVEY_CONTACT_DIMENSIONS)
    return dims


def contacts_available(sources: Mapping[str, LoadedSource]) -> bool:
    return any(s in sources for s in CONTACT_SOURCES)


def contact_columns(sources: Mapping[str, LoadedSource]) -> frozenset[str]:
    """The columns of the derived contacts table, given the sources loaded."""
    cols = {"contact_id", "contacted_at", "kind", "gave_up"}
    for name in CONTACT_SOURCES:
        if name in sources:
            cols |= {
                c for c in ("customer_id", "channel", "agent", "team") if c in sources[name].columns
            }
    if "customer_id" in cols:
        cols |= CONTACT_MEASURES
    return frozenset(cols)


def source_end(name: str, columns: frozenset[str] | set[str]) -> pl.Expr:
    """The newest timestamp of a source (its export time, as far as the data can tell): the
    latest value of any of its timestamp columns, over every usable record."""
    stamps = [c for c in TIMESTAMPS.get(name, ()) if c in columns]
    return pl.max_horizontal(stamps).max()


def ticket_ended_unresolved(columns: frozenset[str] | set[str]) -> pl.Expr | None:
    """Tickets that ended without a resolution: no resolved_at, and a closed_at or a status
    that ends a ticket (closed, cancelled, rejected, abandoned). None when the export cannot
    tell (no resolved_at, or neither status nor closed_at)."""
    if "resolved_at" not in columns:
        return None
    ended: pl.Expr | None = None
    if "status" in columns:
        ended = pl.col("status").is_in(GAVE_UP_STATUSES).fill_null(False)
    if "closed_at" in columns:
        closed = pl.col("closed_at").is_not_null()
        ended = closed if ended is None else ended | closed
    if ended is None:
        return None
    return pl.col("resolved_at").is_null() & ended


def with_ticket_ends(frame: pl.LazyFrame, columns: frozenset[str] | set[str]) -> pl.LazyFrame:
    """Add TICKET_ENDS; backlog and gave-up rate read the same definition of an ended ticket."""
    ended = ticket_ended_unresolved(columns)
    closed = (
        pl.col("closed_at")
        if "closed_at" in columns
        else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    )
    unresolved = pl.col("resolved_at").is_null()
    return frame.with_columns(
        ended_at=pl.coalesce(pl.col("resolved_at"), closed),
        ticket_end_unknown=(ended & closed.is_null()) if ended is not None else pl.lit(False),
        ticket_open=(unresolved & ~ended) if ended is not None else unresolved,
    )


def contacts_frame(sources: Mapping[str, LoadedSource]) -> pl.LazyFrame:
    """Every ticket and every inbound call as one row of the contacts table (one row per
    record), with `_key` (records linked to each other, a call and the ticket it names, are
    one contact), `_ended` (when the contact ended: a ticket's resolution, a call's end) and
    `_horizon` (the export time of the contact sources: the earliest of their newest
    timestamps, so that a repeat on any channel could have been seen up to it)."""
    parts = []
    ends = []
    wanted = [c.name for c in CONTACTS.columns]
    for name, id_col, at_col in (
        ("tickets", "ticket_id", "created_at"),
        ("calls", "call_id", "queued_at"),
    ):
        if name not in sources:
            continue
        src = sources[name]
        lf = src.usable
        ends.append(lf.select(_end=source_end(name, src.columns)))
        if name == "calls":
            lf = lf.filter(pl.col("direction") == "inbound")
            gave_up = pl.col("answered_at").is_null() if "answered_at" in src.columns else None
            linked = pl.col("ticket_id") if "ticket_id" in src.columns else None
            key = (
                pl.concat_str(pl.lit("ticket:"), linked)
                if linked is not None
                else pl.lit(None, dtype=pl.String)
            )
            key = pl.coalesce(key, pl.concat_str(pl.lit("call:"), pl.col(id_col)))
            ended = (
                pl.coalesce("ended_at", "queued_at")
                if "ended_at" in src.columns
                else pl.col("queued_at")
            )
        else:
            gave_up = ticket_ended_unresolved(src.columns)
            key = pl.concat_str(pl.lit("ticket:"), pl.col(id_col))
            ended = (
                pl.col("resolved_at")
                if "resolved_at" in src.columns
                else pl.lit(None, dtype=pl.Datetime("us", "UTC"))
            )
        exprs = {
            "contact_id": pl.col(id_col),
            "contacted_at": pl.col(at_col),
            "kind": pl.lit(name[:-1]),
            "gave_up": gave_up if gave_up is not None else pl.lit(None, dtype=pl.Boolean),
        }
        for c in ("customer_id", "channel", "agent", "team"):
            exprs[c] = pl.col(c) if c in src.columns else pl.lit(None, dtype=pl.String)
        parts.append(
            lf.select(
                *(exprs[c].alias(c) for c in wanted),
                key.alias("_key"),
                ended.cast(pl.Datetime("us", "UTC")).alias("_ended"),
            )
        )
    frame = pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]
    horizon = pl.concat(ends, how="vertical_relaxed").select(_horizon=pl.col("_end").min())
    return frame.join(horizon, how="cross")


def with_next_contact(contacts: pl.LazyFrame) -> pl.LazyFrame:
    """Per contact record: the time and channel of the same customer's next *other* contact
    (`_next_at`, `_next_channel`), skipping records of the same contact (`_key`).

    Sorted by customer, time and key (ties in time are ordered by key, so the result never
    depends on file order), records run-length encoded by (customer, key): the next other
    contact of every record in a run is the first record of the following run of the same
    customer. One sort, no self-join, whatever the number of contacts per customer."""
    ordered = contacts.sort("customer_id", "contacted_at", "_key", nulls_last=True)
    customer, key = pl.col("customer_id"), pl.col("_key")
    last = pl.len() - 1
    # the row after the last record of each run: a fill backwards from the run's last row,
    # which never crosses into another run (each run's last row holds its own index)
    ends_run = ((key != key.shift(-1)) | (customer != customer.shift(-1))).fill_null(True)
    after = pl.when(ends_run).then(pl.int_range(pl.len(), dtype=pl.Int64)).backward_fill() + 1
    at = after.clip(upper_bound=last)
    same = (after <= last) & (customer.gather(at) == customer)
    return ordered.with_columns(
        _next_at=pl.when(same).then(pl.col("contacted_at").gather(at)),
        _next_channel=pl.when(same).then(pl.col("channel").gather(at)),
    ).with_columns(
        pl.when(customer.is_not_null()).then(pl.col(c)).alias(c)
        for c in ("_next_at", "_next_channel")
    )


def contact_measures(frame: pl.LazyFrame, start: str) -> pl.LazyFrame:
    """CONTACT_MEASURES counted from `start` (the contact's start or its end)."""
    known = pl.col("customer_id").is_not_null()
    return frame.with_columns(
        next_contact_seconds=pl.when(known).then(seconds(pl.col("_next_at") - pl.col(start))),
        next_contact_channel=pl.col("_next_channel"),
        followup_observed_seconds=pl.when(known).then(seconds(pl.col("_horizon") - pl.col(start))),
    )


def contacts_table(sources: Mapping[str, LoadedSource], measures: bool) -> pl.LazyFrame:
    """The contacts source: one row per contact (linked records merged: the earliest record
    gives the time, channel, agent and team; a ticket's outcome decides `gave_up` over its
    linked call's), with CONTACT_MEASURES from the contact's start when `measures`."""
    frame = contacts_frame(sources)
    if measures:
        frame = contact_measures(with_next_contact(frame), "contacted_at")
    helpers = ("_key", "_ended", "_horizon", "_next_at", "_next_channel")
    if not ("calls" in sources and "ticket_id" in sources["calls"].columns):
        # no call names a ticket: every record is a contact of its own, nothing to merge
        return frame.drop(helpers, strict=False)
    keep = [c for c in frame.collect_schema().names() if c not in ("_key", "gave_up")]
    first = [pl.col(c).sort_by("contacted_at", "kind").first() for c in keep]
    ticket_first = pl.col("gave_up").sort_by(pl.col("kind") != "ticket", "contacted_at").first()
    return (
        frame.group_by("_key")
        .agg(*first, ticket_first.alias("gave_up"))
        .drop(helpers, strict=False)
    )


def sentiment_unavailable() -> str | None:
    """Why texts cannot be scored here, or None when they can."""
    import importlib.util

    if importlib.util.find_spec("vaderSentiment") is None:
        return 'needs the sentiment extra: pip install "cscli[sentiment]"'
    return None


def with_sentiment(
    frame: pl.LazyFrame, text_col: str, progress: Progress | None = None
) -> pl.LazyFrame:
    """Add `sentiment` (−1…1) for `text_col`. The distinct texts are read and scored first (an
    extra read of that one column; scores are cached per text, so a re-run scores nothing),
    then joined back lazily."""
    from cscli.sentiment import SentimentCache, VaderScorer, sentiment_frame

    texts = frame.select(pl.col(text_col).cast(pl.String)).unique().collect()[text_col]
    scorer = VaderScorer()
    scored = sentiment_frame(
        texts.drop_nulls(), scorer, cache=SentimentCache.for_scorer(scorer), progress=progress
    )
    table = scored.select(pl.col("text").alias(text_col), "sentiment").unique(text_col)
    return frame.join(table.lazy(), on=text_col, how="left")


#: a whole number written with a zero fraction: `3.0` (pandas writes integer ids so when the
#: column has empty cells; polars reads such a column as floats)
ZERO_FRACTION = r"^([+-]?[0-9]+)\.0+$"


def thread_key(col: pl.Expr) -> pl.Expr:
    """An id as message threading compares it: text, trimmed, with `3.0` read as `3`, so that
    `in_response_to` 3.0 matches `message_id` 3."""
    return col.cast(pl.String).str.strip_chars().str.replace(ZERO_FRACTION, "$1")


def with_replies(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Per message: seconds to the first outbound message replying to it, and its author.
    Replies are matched by `thread_key` (3.0 matches 3)."""
    replies = (
        frame.filter(
            pl.col("inbound").not_().fill_null(False) & pl.col("in_response_to").is_not_null()
        )
        .group_by(thread_key(pl.col("in_response_to")).alias("_thread"))
        .agg(
            pl.col("created_at").min().alias("_first_reply_at"),
            pl.col("author").sort_by("created_at").first().alias("responder")
            if "author" in frame.collect_schema().names()
            else pl.lit(None, dtype=pl.String).alias("responder"),
        )
    )
    keyed = frame.with_columns(thread_key(pl.col("message_id")).alias("_thread"))
    joined = keyed.join(replies, on="_thread", how="left")
    return joined.with_columns(
        reply_seconds=seconds(pl.col("_first_reply_at") - pl.col("created_at"))
    ).drop("_first_reply_at", "_thread")


@dataclass(frozen=True)
class BusinessHours:
    """The calendars of a config and which applies to each source (`hours: business`)."""

    calendars: Mapping[str, Calendar]
    #: per source: a calendar name, an assignment by a column's value, or None
    assignment: Mapping[str, str | CalendarAssignment | None]

    def for_source(self, name: str) -> str | CalendarAssignment | None:
        return self.assignment.get(name)


def business_expr(
    start: pl.Expr, end: pl.Expr, hours: BusinessHours, source: str
) -> pl.Expr | None:
    """Business seconds from start to end under the source's calendar(s); None if it has none."""
    from cscli.engine.polars.business_time import business_seconds

    assigned = hours.for_source(source)
    if assigned is None:
        return None
    if isinstance(assigned, str):
        return business_seconds(start, end, hours.calendars[assigned])
    expr: Any = pl
    for value, cal in assigned.map.items():
        then = business_seconds(start, end, hours.calendars[cal])
        expr = expr.when(pl.col(assigned.by) == value).then(then)
    fallback = (
        business_seconds(start, end, hours.calendars[assigned.default])
        if assigned.default
        else pl.lit(None, dtype=pl.Float64)
    )
    return expr.otherwise(fallback)  # type: ignore[no-any-return]


def with_business(
    frame: pl.LazyFrame, source: str, needed: set[str], hours: BusinessHours
) -> pl.LazyFrame:
    """Add the business-time twins of the duration measures `needed` asks for; each is null
    where its calendar-time measure is (missing or negative)."""
    from cscli.kpis.measures import BUSINESS_MEASURES, MEASURES

    exprs = []
    for m in MEASURES:
        twin = BUSINESS_MEASURES.get(m.name)
        if m.table != source or twin not in needed or m.kind != "seconds_between":
            continue
        start, end, *fallback = m.inputs
        end_expr = pl.coalesce(end, *fallback) if fallback else pl.col(end)
        expr = business_expr(pl.col(start), end_expr, hours, source)
        if expr is not None:
            exprs.append(pl.when(pl.col(m.name).is_not_null()).then(expr).alias(twin))
    return frame.with_columns(exprs) if exprs else frame


def enriched(
    name: str,
    sources: Mapping[str, LoadedSource],
    by: Sequence[str],
    needed: set[str],
    progress: Progress | None = None,
    hours: BusinessHours | None = None,
) -> pl.LazyFrame:
    """The usable records of `name` with the derived columns that `needed` asks for."""
    if name == "contacts":
        return contacts_table(sources, bool(needed & CONTACT_MEASURES))
    frame = sources[name].usable
    if name == "tickets" and needed & TICKET_ENDS:
        frame = with_ticket_ends(frame, sources[name].columns)
    if hours is not None:
        frame = with_business(frame, name, needed, hours)
    if needed & SENTIMENT_MEASURES:
        frame = with_sentiment(frame, TEXT_COLUMNS[name], progress)
        if name == "messages" and "inbound" in sources[name].columns:
            # the customers' sentiment: a brand's own replies are not scored
            inbound = pl.col("inbound").fill_null(False)
            frame = frame.with_columns(sentiment=pl.when(inbound).then(pl.col("sentiment")))
    if name == "messages" and (needed | set(by)) & MESSAGE_MEASURES:
        frame = with_replies(frame)
    if name == "surveys":
        return _surveys(frame, sources, by)
    if name in CONTACT_SOURCES and needed & CONTACT_MEASURES:
        # a repeat is counted from the end of the contact: a ticket's resolution, a call's end
        nexts = (
            contact_measures(with_next_contact(contacts_frame(sources)), "_ended")
            .filter(pl.col("kind") == name[:-1])
            .select(
                pl.col("contact_id").alias(sources[name].table.id_column),
                *CONTACT_MEASURES,
            )
        )
        frame = frame.join(nexts, on=sources[name].table.id_column, how="left")
    return frame


def with_age(
    frame: pl.LazyFrame,
    columns: frozenset[str],
    hours: BusinessHours | None = None,
) -> pl.LazyFrame:
    """`age_seconds` = the export time (the newest timestamp of the tickets) − created_at, and
    `business_age_seconds` the same in business time when the tickets have a calendar. Never
    the report period's end: a period that runs past the data must not age a ticket into a
    future the data has not seen."""
    as_of = source_end("tickets", columns)
    age = seconds(as_of - pl.col("created_at"))
    exprs = [age.alias("age_seconds")]
    business = business_expr(pl.col("created_at"), as_of, hours, "tickets") if hours else None
    if business is not None:
        exprs.append(business.alias("business_age_seconds"))
    return frame.with_columns(exprs)


def _surveys(
    frame: pl.LazyFrame, sources: Mapping[str, LoadedSource], by: Sequence[str]
) -> pl.LazyFrame:
    survey = sources["surveys"]
    wanted = [d for d in by if d in SURVEY_CONTACT_DIMENSIONS]
    for contact, key in SURVEY_LINKS:
        if contact not in sources or key not in survey.columns:
            continue
        dims = [d for d in wanted if d in sources[contact].columns]
        if not dims:
            continue
        # one row per contact id, so a duplicated id cannot multiply survey responses; only
        # the contacts that some survey rates are grouped (a semi join first: 2M surveys
        # need not group 10M tickets)
        rated = frame.select(key).filter(pl.col(key).is_not_null())
        lookup = (
            sources[contact]
            .usable.select(key, *dims)
            .join(rated, on=key, how="semi")
            .group_by(key)
            .agg(pl.col(d).first().alias(f"_{contact}_{d}") for d in dims)
        )
        frame = frame.join(lookup, on=key, how="left")
    for d in wanted:
        parts = [d] if d in survey.columns else []
        parts += [
            f"_{c}_{d}"
            for c, k in SURVEY_LINKS
            if c in sources and k in survey.columns and d in sources[c].columns
        ]
        if parts:
            frame = frame.with_columns(pl.coalesce(parts).alias(d))
    return frame
