"""Replies in SQL (the twins of `cscli.engine.polars.enrich`'s message and comment builders):
an inbound message's first direct reply, a ticket's first public agent comment, and each
public end-user comment's wait for the next public agent comment on its ticket.

Ids are matched by `thread_key` (trimmed text, `3.0` as `3`). Of replies at one instant, the
lowest id decides (`first_by` over (time, id)); a NULL comment_id sorts first, as polars'
`sort_by` puts it.
"""

from __future__ import annotations

from sqlglot import exp

from cscli.derived import Derivation
from cscli.engine.sql.derive.common import (
    both,
    eq,
    fill_false,
    grouped,
    lit,
    not_null,
    null_of,
    null_safe,
    num,
    ordered,
    thread_key,
    when,
    window,
)
from cscli.engine.sql.relations import Relation, SqlContext, col


def with_replies(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """`reply_seconds` and `responder` per message: the first outbound message whose
    `in_response_to` names it (of replies at one instant, the lowest message_id's author)."""
    dia = ctx.d
    outbound = fill_false(exp.Not(this=exp.Paren(this=col("inbound"))))
    replies = rel.filter(both(outbound, not_null(col("in_response_to")))).with_columns(
        _thread=thread_key(col("in_response_to"), dia)
    )
    author = (
        dia.first_by(col("author"), [col("created_at"), col("message_id")])
        if "author" in rel.columns
        else null_of("TEXT")
    )
    firsts = grouped(
        replies,
        ["_thread"],
        [("_first_reply_at", exp.Min(this=col("created_at"))), ("responder", author)],
    )
    keyed = rel.with_columns(_thread=thread_key(col("message_id"), dia))
    joined = keyed.left_join(firsts, on=["_thread"], take=["_first_reply_at", "responder"])
    seconds = dia.seconds_between(col("_first_reply_at"), col("created_at"))
    return joined.with_columns(reply_seconds=seconds).drop("_first_reply_at", "_thread")


def _public(columns: frozenset[str] | set[str] | tuple[str, ...]) -> exp.Expr:
    """A public comment: `public` (NULL read as true), or every comment without the column."""
    if "public" in columns:
        return exp.func("COALESCE", col("public"), exp.true())
    return exp.true()


def _is_agent() -> exp.Expr:
    return eq(col("author_role"), lit("agent"))


def first_public_reply(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """A ticket's first public agent comment (`first_public_reply_at`, `first_responder`: of
    comments at one instant, the lowest comment_id) and its number of public agent comments
    (`public_replies`, 0 for none)."""
    dia = ctx.d
    comments = ctx.sources["ticket_comments"]
    cols = comments.columns
    ties = [col("created_at"), *(null_safe(col("comment_id")) if "comment_id" in cols else [])]
    author = dia.first_by(col("author"), ties) if "author" in cols else null_of("TEXT")
    agents = comments.relation(dia).filter(both(_public(cols), _is_agent()))
    firsts = grouped(
        agents.with_columns(_ticket=thread_key(col("ticket_id"), dia)),
        ["_ticket"],
        [
            ("first_public_reply_at", exp.Min(this=col("created_at"))),
            ("first_responder", author),
            ("public_replies", dia.bigint(exp.Count(this=exp.Star()))),
        ],
    )
    taken = ["first_public_reply_at", "first_responder", "public_replies"]
    keyed = rel.with_columns(_ticket=thread_key(col("ticket_id"), dia))
    joined = keyed.left_join(firsts, on=["_ticket"], take=taken).drop("_ticket")
    zero = dia.bigint(0)
    return joined.with_columns(public_replies=exp.func("COALESCE", col("public_replies"), zero))


def with_reply_waits(rel: Relation, d: Derivation, ctx: SqlContext) -> Relation:
    """`reply_wait_seconds` per public end-user comment: seconds to the next public agent
    comment on its ticket in time order (NULL on other comments and while none has come);
    `next_reply_wait`: the previous public comment on the ticket is an agent's.

    The order per ticket is polars': time, the customer's comment before the agent's at one
    instant, comment_id (NULL last). The next agent comment is the smallest agent time from
    this row on (times only grow in that order); the previous public role is read from the
    row numbers of the last public and the last public agent comment before this row."""
    dia = ctx.d
    cols = ctx.columns
    public = _public(cols)
    one, zero = num(1), num(0)
    keyed = rel.with_columns(
        _ticket=thread_key(col("ticket_id"), dia), _role=when(_is_agent(), one, zero)
    )
    by = [col("_ticket")]
    order = [ordered(col(c), nulls_first=False) for c in ("created_at", "_role")]
    if "comment_id" in cols:
        order.append(ordered(col("comment_id"), nulls_first=False))
    numbered = keyed.with_columns(
        _rn=window(exp.Anonymous(this="ROW_NUMBER", expressions=[]), by, order)
    )
    by_rn = [ordered(col("_rn"), nulls_first=False)]
    agent_at = when(both(public, _is_agent()), col("created_at"))
    rest = ("CURRENT ROW", None, "UNBOUNDED", "FOLLOWING")
    before = ("UNBOUNDED", "PRECEDING", "1", "PRECEDING")
    last_public = when(public.copy(), col("_rn"))
    last_agent = when(both(public.copy(), _is_agent()), col("_rn"))
    marked = numbered.with_columns(
        _next_agent=window(exp.Min(this=agent_at), by, by_rn, rest),
        _prev_public=window(exp.Max(this=last_public), by, by_rn, before),
        _prev_agent=window(exp.Max(this=last_agent), by, by_rn, before),
    )
    asks = both(public.copy(), eq(col("author_role"), lit("end_user")))
    prev_is_agent = both(not_null(col("_prev_public")), eq(col("_prev_agent"), col("_prev_public")))
    waits = marked.with_columns(
        reply_wait_seconds=when(asks, dia.seconds_between(col("_next_agent"), col("created_at"))),
        next_reply_wait=fill_false(both(asks.copy(), prev_is_agent)),
    )
    return waits.drop("_ticket", "_role", "_rn", "_next_agent", "_prev_public", "_prev_agent")
