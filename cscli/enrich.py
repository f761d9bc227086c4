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
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from cscli.adapters.base import LoadedSource
from cscli.schema import CONTACTS, SURVEY_CONTACT_DIMENSIONS

if TYPE_CHECKING:
    from cscli.calendar import Calendar
    from cscli.config import CalendarAssignment

#: surveys inherit dimensions from the contact they rate, by the key that links them
SURVEY_LINKS = (("tickets", "ticket_id"), ("calls", "call_id"))

#: columns built from the contacts of a customer (available where customer_id is)
CONTACT_MEASURES = frozenset(
    {"next_contact_seconds", "next_contact_channel", "followup_observed_seconds"}
)
#: columns that depend on the report window
WINDOW_MEASURES = frozenset({"age_seconds", "business_age_seconds"})
#: per inbound message: its first direct reply (seconds to it, and who sent it)
MESSAGE_MEASURES = frozenset({"reply_seconds", "responder"})
MESSAGE_INPUTS = frozenset({"message_id", "created_at", "inbound", "in_response_to"})
#: the sentiment score of a source's text column (see TEXT_COLUMNS)
SENTIMENT_MEASURES = frozenset({"sentiment"})
TEXT_COLUMNS = {"surveys": "comment", "messages": "text", "tickets": "subject"}

#: ticket statuses that end a ticket without a resolution (with no resolved_at)
GAVE_UP_STATUSES = ("closed", "cancelled", "canceled", "rejected", "abandoned")

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


def contacts_frame(sources: Mapping[str, LoadedSource]) -> pl.LazyFrame:
    """Every ticket and every inbound call as one row of the contacts table."""
    parts = []
    wanted = [c.name for c in CONTACTS.columns]
    for name, id_col, at_col in (
        ("tickets", "ticket_id", "created_at"),
        ("calls", "call_id", "queued_at"),
    ):
        if name not in sources:
            continue
        src = sources[name]
        lf = src.usable
        if name == "calls":
            lf = lf.filter(pl.col("direction") == "inbound")
            gave_up = pl.col("answered_at").is_null() if "answered_at" in src.columns else None
        elif "status" in src.columns and "resolved_at" in src.columns:
            gave_up = pl.col("resolved_at").is_null() & pl.col("status").is_in(GAVE_UP_STATUSES)
        else:
            gave_up = None
        exprs = {
            "contact_id": pl.col(id_col),
            "contacted_at": pl.col(at_col),
            "kind": pl.lit(name[:-1]),
            "gave_up": gave_up if gave_up is not None else pl.lit(None, dtype=pl.Boolean),
        }
        for c in ("customer_id", "channel", "agent", "team"):
            exprs[c] = pl.col(c) if c in src.columns else pl.lit(None, dtype=pl.String)
        parts.append(lf.select(**{c: exprs[c] for c in wanted}))
    return pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]


def with_next_contact(contacts: pl.LazyFrame) -> pl.LazyFrame:
    """Per contact: seconds until the same customer's next contact, its channel, and the
    seconds of data after it (up to the last contact of anyone)."""

    def seconds(e: pl.Expr) -> pl.Expr:
        return e.dt.total_microseconds() / 1_000_000

    ordered = contacts.sort("customer_id", "contacted_at", nulls_last=True)
    nxt = pl.col("contacted_at").shift(-1).over("customer_id")
    return ordered.with_columns(
        next_contact_seconds=pl.when(pl.col("customer_id").is_not_null()).then(
            seconds(nxt - pl.col("contacted_at"))
        ),
        next_contact_channel=pl.when(pl.col("customer_id").is_not_null()).then(
            pl.col("channel").shift(-1).over("customer_id")
        ),
        followup_observed_seconds=seconds(pl.col("contacted_at").max() - pl.col("contacted_at")),
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
    seconds = (pl.col("_first_reply_at") - pl.col("created_at")).dt.total_microseconds() / 1e6
    return joined.with_columns(reply_seconds=seconds).drop("_first_reply_at", "_thread")


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
    from cscli.calendar import business_seconds

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
        frame = contacts_frame(sources)
        return with_next_contact(frame) if needed & CONTACT_MEASURES else frame
    frame = sources[name].usable
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
        nexts = (
            with_next_contact(contacts_frame(sources))
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
    hi: datetime | None,
    hours: BusinessHours | None = None,
) -> pl.LazyFrame:
    """`age_seconds` = (end of the window, or the latest timestamp in the source) − created_at;
    `business_age_seconds` the same in business time when the tickets have a calendar."""
    if hi is not None:
        as_of: pl.Expr = pl.lit(hi, dtype=pl.Datetime("us", "UTC"))
    else:
        stamps = [c for c in ("created_at", "first_response_at", "resolved_at") if c in columns]
        as_of = pl.max_horizontal(stamps).max()
    age = (as_of - pl.col("created_at")).dt.total_microseconds() / 1e6
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
