"""The contacts in SQL (the twin of `cscli.engine.polars.contacts`): every ticket and inbound
call as one contact (a UNION ALL), and each one's next *other* contact of the same customer.

The polars engine sorts by customer, time, key, kind and id, cuts the rows into runs of one
(customer, key) and gives every row of a run the first row of the following run. In SQL, with
the same total order per customer (time, key, kind, id):

1. `LEAD` gives each row the time and channel of the row after it, and a row starts a run
   when its key differs from the previous row's (`LAG`);
2. a running count of run starts numbers the runs;
3. every row of a run takes the `LEAD` values of the run's last row (`LAST_VALUE` over the
   run): the first row of the following run, or NULL for a customer's last run.

No self-join, whatever the number of contacts per customer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from cscli.derived import CONTACT_COPIES, CONTACT_MEASURES, Derivation
from cscli.engine.sql.derive.common import (
    concat,
    eq,
    is_null,
    lit,
    not_null,
    null_of,
    num,
    ordered,
    union_all,
    when,
    window,
)
from cscli.engine.sql.dialect import Dialect
from cscli.engine.sql.relations import (
    TIMESTAMPS,
    Relation,
    SqlContext,
    SqlSource,
    col,
    null_timestamp,
    subquery,
    ticket_ended_unresolved,
)
from cscli.schema import CONTACTS, TABLES

#: (source, id column, time column) of the records that are contacts
_PARTS = (("tickets", "ticket_id", "created_at"), ("calls", "call_id", "queued_at"))
#: the helper columns of the contacts frame
_HELPERS = ("_key", "_ended", "_horizon", "_next_at", "_next_channel")


def source_end_scalar(src: SqlSource, d: Dialect) -> exp.Expr:
    """The newest timestamp of a source's usable records, as a scalar subquery
    (`cscli.engine.polars.facts.source_end`: the greatest stamp of a row, the max of those)."""
    stamps = [col(c) for c in TIMESTAMPS.get(src.name, ()) if c in src.columns]
    newest = stamps[0] if len(stamps) == 1 else d.greatest(*stamps)
    query = exp.Select(expressions=[exp.Max(this=newest)]).from_(
        subquery(src.relation(d).query, "_e"), copy=False
    )
    return exp.Subquery(this=query)


def _part(name: str, id_col: str, at_col: str, src: SqlSource, d: Dialect) -> Relation:
    rel = src.relation(d)
    cols = src.columns
    if name == "calls":
        rel = rel.filter(eq(col("direction"), lit("inbound")))
        gave_up = is_null(col("answered_at")) if "answered_at" in cols else None
        key = concat("ticket:", col("ticket_id")) if "ticket_id" in cols else null_of("TEXT")
        key = exp.func("COALESCE", key, concat("call:", col(id_col)))
        ended: exp.Expr = (
            exp.func("COALESCE", col("ended_at"), col("queued_at"))
            if "ended_at" in cols
            else col("queued_at")
        )
    else:
        gave_up = ticket_ended_unresolved(cols)
        key = concat("ticket:", col(id_col))
        ended = col("resolved_at") if "resolved_at" in cols else null_timestamp(d)
    exprs: dict[str, exp.Expr] = {
        "contact_id": col(id_col),
        "contacted_at": col(at_col),
        "kind": lit(name[:-1]),
        "gave_up": gave_up if gave_up is not None else null_of("BOOLEAN"),
    }
    for c in CONTACT_COPIES:
        exprs[c] = col(c) if c in cols else null_of("TEXT")
    wanted = [c.name for c in CONTACTS.columns]
    return rel.select(*((c, exprs[c]) for c in wanted), ("_key", key), ("_ended", ended))


def contacts_frame(sources: Mapping[str, SqlSource], d: Dialect) -> Relation:
    """Every ticket and inbound call as one row, with `_key` (a call and the ticket it names
    share one), `_ended` (a ticket's resolution, a call's end) and `_horizon` (the earliest of
    the contact sources' export times)."""
    present = [(n, i, a) for n, i, a in _PARTS if n in sources]
    frame = union_all([_part(n, i, a, sources[n], d) for n, i, a in present])
    ends = [source_end_scalar(sources[n], d) for n, _, _ in present]
    horizon = ends[0] if len(ends) == 1 else d.least(*ends)
    return frame.with_columns(_horizon=horizon)


#: the order of a customer's contact records: a total order (time, key, kind, id)
_ORDER = ("contacted_at", "_key", "kind", "contact_id")


def with_next_contact(contacts: Relation) -> Relation:
    """`_next_at`, `_next_channel`: the time and channel of the customer's next record of
    another contact (NULL for a customer's last contact, and when the customer is unknown)."""
    by = [col("customer_id")]
    order = [ordered(col(c), nulls_first=False) for c in _ORDER]
    lag = exp.Anonymous(this="LAG", expressions=[col("_key")])
    step1 = contacts.with_columns(
        _start=when(eq(col("_key"), window(lag, by, order)), num(0), num(1)),
        _lead_at=window(exp.Anonymous(this="LEAD", expressions=[col("contacted_at")]), by, order),
        _lead_channel=window(exp.Anonymous(this="LEAD", expressions=[col("channel")]), by, order),
    )
    starts = exp.Count(this=when(eq(col("_start"), num(1)), num(1)))
    step2 = step1.with_columns(
        _run=window(starts, by, order, ("UNBOUNDED", "PRECEDING", "CURRENT ROW", None))
    )
    run = [col("customer_id"), col("_run")]
    whole = ("UNBOUNDED", "PRECEDING", "UNBOUNDED", "FOLLOWING")
    known = not_null(col("customer_id"))

    def last(c: str) -> exp.Expr:
        return when(known.copy(), window(exp.LastValue(this=col(c)), run, order, whole))

    step3 = step2.with_columns(_next_at=last("_lead_at"), _next_channel=last("_lead_channel"))
    return step3.drop("_start", "_lead_at", "_lead_channel", "_run")


def contact_measures(frame: Relation, start: str, d: Dialect) -> Relation:
    """CONTACT_MEASURES counted from `start` (the contact's start or its end)."""
    known = not_null(col("customer_id"))
    return frame.with_columns(
        next_contact_seconds=when(known, d.seconds_between(col("_next_at"), col(start))),
        next_contact_channel=col("_next_channel"),
        followup_observed_seconds=when(
            known.copy(), d.seconds_between(col("_horizon"), col(start))
        ),
    )


def contacts_table(
    sources: Mapping[str, SqlSource], steps: Sequence[Derivation], ctx: SqlContext
) -> Relation:
    """The contacts source (`cscli.engine.polars.contacts.contacts_table`): one row per
    contact, linked records merged (the earliest record by time, kind and id gives the
    values; a ticket's outcome decides `gave_up`), with CONTACT_MEASURES from the contact's
    start when asked for."""
    d = ctx.d
    frame = contacts_frame(sources, d)
    if any(s.name == "next_contact" for s in steps):
        frame = contact_measures(with_next_contact(frame), "contacted_at", d)
    if not ("calls" in sources and "ticket_id" in sources["calls"].columns):
        return frame.drop(*_HELPERS)
    keep = [c for c in frame.columns if c not in ("_key", "gave_up", *_HELPERS)]
    first_order = [col("contacted_at"), col("kind"), col("contact_id")]
    ticket_last = exp.NEQ(this=col("kind"), expression=lit("ticket"))
    aggs = [(c, d.first_by(col(c), [o.copy() for o in first_order])) for c in keep]
    aggs.append(("gave_up", d.first_by(col("gave_up"), [ticket_last, *first_order])))
    items = [exp.Alias(this=e, alias=exp.to_identifier(n, quoted=True)) for n, e in aggs]
    query = (
        exp.Select(expressions=items)
        .from_(subquery(frame.query, "_r"), copy=False)
        .group_by(col("_key"), copy=False)
    )
    return Relation(query, tuple(n for n, _ in aggs))


def with_contact_measures(rel: Relation, ctx: SqlContext) -> Relation:
    """The records of contact source `ctx.name` with CONTACT_MEASURES counted from the end of
    the contact (a repeat is a contact after it)."""
    id_column = TABLES[ctx.name].id_column
    measures = sorted(CONTACT_MEASURES)
    nexts = (
        contact_measures(with_next_contact(contacts_frame(ctx.sources, ctx.d)), "_ended", ctx.d)
        .filter(eq(col("kind"), lit(ctx.name[:-1])))
        .select((id_column, col("contact_id")), *measures)
    )
    return rel.left_join(nexts, on=[id_column], take=measures)
