"""The derived columns of `cscli.derived`, built in polars before aggregation.

`enriched` applies, in registry order, the derivations of a source whose columns a report
asks for, each built by the function `BUILDERS` holds under the derivation's name; a source
built from others (the contacts) comes from `SOURCES`. The declarations, and which columns
exist at all, are engine-neutral (`cscli.derived`, `cscli.availability`); only how each
column is computed is here.

All of it stays lazy; the sorts and joins are only added when a requested KPI reads the columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from cscli.derived import DERIVATIONS, MULTI_VALUED, WINDOW_MEASURES, Derivation, plan
from cscli.engine.polars.contacts import contacts_table, with_contact_measures
from cscli.engine.polars.facts import source_end, thread_key, ticket_ended_unresolved
from cscli.engine.polars.lifecycle import with_business_status_times, with_status_times
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.measures import seconds
from cscli.engine.polars.sla import sla_targets_table
from cscli.kpis.measures import MEASURES

if TYPE_CHECKING:
    from cscli.business_hours.assignment import BusinessHours
    from cscli.config.sla import SlaPolicy

#: progress(done, total) while texts are scored
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Context:
    """What a builder reads besides the frame: the source, the others, the report's cuts."""

    name: str
    sources: Mapping[str, LoadedSource]
    #: the columns of the source as loaded
    columns: frozenset[str]
    by: Sequence[str] = ()
    progress: Progress | None = None
    hours: BusinessHours | None = None
    #: the config's `sla_policies:` (the sla_targets source)
    sla: Sequence[SlaPolicy] = ()


#: adds the columns of one derivation to the records of its source
Builder = Callable[[pl.LazyFrame, Derivation, Context], pl.LazyFrame]


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


def with_replies(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Per message: seconds to the first outbound message replying to it, and its author (of
    replies at the same instant, the one with the lowest message_id). Replies are matched by
    `thread_key` (3.0 matches 3)."""
    replies = (
        frame.filter(
            pl.col("inbound").not_().fill_null(False) & pl.col("in_response_to").is_not_null()
        )
        .group_by(thread_key(pl.col("in_response_to")).alias("_thread"))
        .agg(
            pl.col("created_at").min().alias("_first_reply_at"),
            pl.col("author").sort_by("created_at", "message_id").first().alias("responder")
            if "author" in frame.collect_schema().names()
            else pl.lit(None, dtype=pl.String).alias("responder"),
        )
    )
    keyed = frame.with_columns(thread_key(pl.col("message_id")).alias("_thread"))
    joined = keyed.join(replies, on="_thread", how="left")
    return joined.with_columns(
        reply_seconds=seconds(pl.col("_first_reply_at") - pl.col("created_at"))
    ).drop("_first_reply_at", "_thread")


#: comments at one instant: the customer's first, then the agent's (an answer cannot precede
#: its question), then by comment_id
_ROLE_ORDER = pl.when(pl.col("author_role") == "agent").then(1).otherwise(0)


def _public(columns: frozenset[str] | set[str]) -> pl.Expr:
    return pl.col("public").fill_null(True) if "public" in columns else pl.lit(True)


def with_reply_waits(frame: pl.LazyFrame, columns: frozenset[str]) -> pl.LazyFrame:
    """`reply_wait_seconds` per public end-user comment: seconds to the next public agent
    comment on the same ticket, in time order (the file's order does not matter); null on
    every other comment and while no agent has answered. `next_reply_wait`: the comment opens
    a next-reply wait (the previous public comment on its ticket is an agent's)."""
    order = ["_ticket", "created_at", "_role", *(["comment_id"] if "comment_id" in columns else [])]
    public = _public(columns)
    agent_at = pl.when(public & (pl.col("author_role") == "agent")).then(pl.col("created_at"))
    asks = public & (pl.col("author_role") == "end_user")
    public_role = pl.when(public).then(pl.col("author_role"))
    return (
        frame.with_columns(_ticket=thread_key(pl.col("ticket_id")), _role=_ROLE_ORDER)
        .sort(order, nulls_last=True)
        .with_columns(
            _next_agent=agent_at.backward_fill().over("_ticket"),
            # the author role of the previous public comment on the ticket
            _prev=public_role.shift(1).forward_fill().over("_ticket"),
        )
        .with_columns(
            reply_wait_seconds=pl.when(asks).then(
                seconds(pl.col("_next_agent") - pl.col("created_at"))
            ),
            next_reply_wait=(asks & (pl.col("_prev") == "agent")).fill_null(False),
        )
        .drop("_ticket", "_role", "_next_agent", "_prev")
    )


def _first_public_reply(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    """A ticket's first public agent comment: when (`first_public_reply_at`) and by whom
    (`first_responder`; of comments at one instant, the lowest comment_id), and its number of
    public agent comments (`public_replies`, 0 for a ticket with none)."""
    return first_public_reply_at(frame, ctx.sources["ticket_comments"])


def first_public_reply_at(frame: pl.LazyFrame, comments: LoadedSource) -> pl.LazyFrame:
    """The tickets with FIRST_REPLY_COLUMNS from their comments (`_first_public_reply`)."""
    cols = comments.columns
    ties = ["created_at", *(["comment_id"] if "comment_id" in cols else [])]
    author = (
        pl.col("author").sort_by(ties).first()
        if "author" in cols
        else pl.lit(None, dtype=pl.String)
    )
    firsts = (
        comments.usable.filter(_public(cols) & (pl.col("author_role") == "agent"))
        .group_by(thread_key(pl.col("ticket_id")).alias("_ticket"))
        .agg(
            pl.col("created_at").min().alias("first_public_reply_at"),
            author.alias("first_responder"),
            pl.len().cast(pl.Int64).alias("public_replies"),
        )
    )
    keyed = frame.with_columns(_ticket=thread_key(pl.col("ticket_id")))
    joined = keyed.join(firsts, on="_ticket", how="left").drop("_ticket")
    return joined.with_columns(pl.col("public_replies").fill_null(0))


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


_MEASURES = {m.name: m for m in MEASURES}


def _business_twin(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    """The business-time twin of a duration measure: null where the measure is (missing or
    negative)."""
    assert d.twin_of is not None
    start, end, *fallback = _MEASURES[d.twin_of].inputs
    end_expr = pl.coalesce(end, *fallback) if fallback else pl.col(end)
    expr = business_expr(pl.col(start), end_expr, ctx.hours, ctx.name) if ctx.hours else None
    if expr is None:
        return frame
    return frame.with_columns(pl.when(pl.col(d.twin_of).is_not_null()).then(expr).alias(d.name))


def _sentiment(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    (text,) = d.inputs
    frame = with_sentiment(frame, text, ctx.progress)
    if d.source == "messages" and "inbound" in ctx.columns:
        # the customers' sentiment: a brand's own replies are not scored
        inbound = pl.col("inbound").fill_null(False)
        frame = frame.with_columns(sentiment=pl.when(inbound).then(pl.col("sentiment")))
    return frame


#: a dimension a survey inherits from a column of another name: the ticket's tags
_INHERITED = {"tag": "tags"}


def _inherited(dim: str) -> str:
    """The rated contact's column behind an inherited dimension."""
    return _INHERITED.get(dim, dim)


def _inherited_value(dim: str) -> pl.Expr:
    """The rated contact's value of an inherited dimension (tags: null when there are none)."""
    col = pl.col(_inherited(dim))
    return pl.when(col.list.len() > 0).then(col) if dim == "tag" else col


def _rated_contact(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    """A survey's `--by` dimensions that it lacks, from the ticket or call it rates."""
    wanted = [c for c in ctx.by if c in d.inherits]
    links = [
        (link.source, link.key)
        for link in d.needs_sources
        if link.source in ctx.sources and link.key is not None and link.key in ctx.columns
    ]
    # the rated ids come from the surveys as they are, before any lookup is joined: each
    # lookup then reads the survey records once, not again through the previous lookups
    surveys = frame
    for contact, key in links:
        dims = [c for c in wanted if _inherited(c) in ctx.sources[contact].columns]
        if not dims:
            continue
        # one row per contact id, so a duplicated id cannot multiply survey responses; only
        # the contacts that some survey rates are grouped (a semi join first: 2M surveys
        # need not group 10M tickets)
        rated = surveys.select(key).filter(pl.col(key).is_not_null())
        lookup = (
            ctx.sources[contact]
            .usable.select(key, *dict.fromkeys(_inherited(c) for c in dims))
            .join(rated, on=key, how="semi")
            .group_by(key)
            .agg(_inherited_value(c).first().alias(f"_{contact}_{c}") for c in dims)
        )
        frame = frame.join(lookup, on=key, how="left")
    for c in wanted:
        parts = [c] if c in ctx.columns else []
        parts += [f"_{s}_{c}" for s, _ in links if _inherited(c) in ctx.sources[s].columns]
        if parts:
            frame = frame.with_columns(pl.coalesce(parts).alias(c))
    return frame


def _age(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    as_of = source_end(ctx.name, ctx.columns)
    return frame.with_columns(seconds(as_of - pl.col("created_at")).alias(d.name))


def _business_age(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    as_of = source_end(ctx.name, ctx.columns)
    expr = business_expr(pl.col("created_at"), as_of, ctx.hours, ctx.name) if ctx.hours else None
    return frame if expr is None else frame.with_columns(expr.alias(d.name))


def _invitation_observed(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    as_of = source_end(ctx.name, ctx.columns)
    return frame.with_columns(seconds(as_of - pl.col("sent_at")).alias(d.name))


def _tag(frame: pl.LazyFrame, d: Derivation, ctx: Context) -> pl.LazyFrame:
    """`tag`: the ticket's tags (already trimmed, lower-cased and each once, by the loader),
    null for a ticket without any; the queries that group by it explode it (`exploded`)."""
    tags = pl.col("tags")
    return frame.with_columns(tag=pl.when(tags.list.len() > 0).then(tags))


def exploded(frame: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """One row per record and value of each multi-valued dimension in `by` (a ticket with two
    tags is in both tags' groups; one without any, in the null group). Only for the grouped
    queries: the totals read the records as they are, each once."""
    multi = [d for d in by if d in MULTI_VALUED]
    for d in multi:
        frame = frame.explode(d, empty_as_null=True, keep_nulls=True)
    return frame


BUILDERS: dict[str, Builder] = {
    "ticket_ends": lambda frame, d, ctx: with_ticket_ends(frame, ctx.columns),
    **{d.name: _business_twin for d in DERIVATIONS if d.twin_of and d.stage == "enrich"},
    "sentiment": _sentiment,
    "replies": lambda frame, d, ctx: with_replies(frame),
    "comment_replies": lambda frame, d, ctx: with_reply_waits(frame, ctx.columns),
    "first_public_reply": _first_public_reply,
    "rated_contact": _rated_contact,
    "next_contact": lambda frame, d, ctx: with_contact_measures(frame, ctx.sources, ctx.name),
    "status_times": with_status_times,
    "business_status_times": with_business_status_times,
    "age_seconds": _age,
    "business_age_seconds": _business_age,
    "invitation_observed_seconds": _invitation_observed,
    "tag": _tag,
}

#: the sources built from others, given the derivations asked of them: the contacts compute
#: their next contacts while each record is still a row of its own, before linked ones merge
SOURCES: dict[str, Callable[[Sequence[Derivation], Context], pl.LazyFrame]] = {
    "contacts": lambda steps, ctx: contacts_table(
        ctx.sources, any(d.name == "next_contact" for d in steps)
    ),
    "sla_targets": lambda steps, ctx: sla_targets_table(ctx.sources, ctx.sla, ctx.hours),
}


def enriched(
    name: str,
    sources: Mapping[str, LoadedSource],
    by: Sequence[str],
    needed: set[str],
    progress: Progress | None = None,
    hours: BusinessHours | None = None,
    sla: Sequence[SlaPolicy] = (),
) -> pl.LazyFrame:
    """The usable records of `name` with the derived columns that `needed` and `by` ask for
    (`sla`: the config's SLA policies, which the sla_targets source is built from)."""
    steps = plan(name, {*needed, *by})
    if name not in sources:
        return SOURCES[name](steps, Context(name, sources, frozenset(), by, progress, hours, sla))
    ctx = Context(name, sources, sources[name].columns, by, progress, hours, sla)
    frame = sources[name].usable
    for d in steps:
        frame = BUILDERS[d.name](frame, d, ctx)
    return frame


def with_age(
    frame: pl.LazyFrame,
    columns: frozenset[str],
    hours: BusinessHours | None = None,
) -> pl.LazyFrame:
    """`age_seconds` = the export time (the newest timestamp of the tickets) − created_at, and
    `business_age_seconds` the same in business time when the tickets have a calendar. Never
    the report period's end: a period that runs past the data must not age a ticket into a
    future the data has not seen. Added by the queries that read them (`window` stage)."""
    ctx = Context("tickets", {}, columns, hours=hours)
    for d in plan("tickets", WINDOW_MEASURES, "window"):
        frame = BUILDERS[d.name](frame, d, ctx)
    return frame
