"""The contacts: every ticket and inbound call as one contact, and each one's next contact.

Sorted per customer, each contact learns how long until that customer's next *other* contact
and on which channel (repeat contacts, channel switching), and how much of the data lies after
it (can a 7-day window be judged yet?). Records at the same instant are ordered by kind, then by
id, so that which one comes first never depends on file order, the engine or the thread count.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from cscli.derived import CONTACT_COPIES, CONTACT_MEASURES
from cscli.engine.polars.facts import source_end, ticket_ended_unresolved
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.measures import seconds
from cscli.schema import CONTACTS

#: (source, id column, time column) of the records that are contacts
_PARTS = (("tickets", "ticket_id", "created_at"), ("calls", "call_id", "queued_at"))
#: the order of a contact's records at one instant: by kind, then by id
_TIES = ("kind", "contact_id")


def contacts_frame(sources: Mapping[str, LoadedSource]) -> pl.LazyFrame:
    """Every ticket and every inbound call as one row of the contacts table (one row per
    record), with `_key` (records linked to each other, a call and the ticket it names, are
    one contact), `_ended` (when the contact ended: a ticket's resolution, a call's end) and
    `_horizon` (the export time of the contact sources: the earliest of their newest
    timestamps, so that a repeat on any channel could have been seen up to it)."""
    parts = []
    ends = []
    wanted = [c.name for c in CONTACTS.columns]
    for name, id_col, at_col in _PARTS:
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
        for c in CONTACT_COPIES:
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

    Sorted by customer, time and key, then kind and id: a total order, so the result never
    depends on file order or the engine (ties in time are ordered by key; the records of one
    contact at one instant by kind and id, which decides the channel of a next contact whose
    ticket and call came at the same instant: the call's, as `contacts_table` merges them).
    Records run-length encoded by (customer, key): the next other contact of every record in a
    run is the first record of the following run of the same customer. One sort, no
    self-join, whatever the number of contacts per customer."""
    ordered = contacts.sort("customer_id", "contacted_at", "_key", *_TIES, nulls_last=True)
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
    """The contacts source: one row per contact (linked records merged: the earliest record,
    by kind and id at one instant, gives the time, channel, agent and team; a ticket's outcome
    decides `gave_up` over its linked call's), with CONTACT_MEASURES from the contact's start
    when `measures` (computed while each record is still a row of its own)."""
    frame = contacts_frame(sources)
    if measures:
        frame = contact_measures(with_next_contact(frame), "contacted_at")
    helpers = ("_key", "_ended", "_horizon", "_next_at", "_next_channel")
    if not ("calls" in sources and "ticket_id" in sources["calls"].columns):
        # no call names a ticket: every record is a contact of its own, nothing to merge
        return frame.drop(helpers, strict=False)
    keep = [c for c in frame.collect_schema().names() if c not in ("_key", "gave_up")]
    first = [pl.col(c).sort_by("contacted_at", *_TIES).first() for c in keep]
    ticket_first = (
        pl.col("gave_up").sort_by(pl.col("kind") != "ticket", "contacted_at", *_TIES).first()
    )
    return (
        frame.group_by("_key")
        .agg(*first, ticket_first.alias("gave_up"))
        .drop(helpers, strict=False)
    )


def with_contact_measures(
    frame: pl.LazyFrame, sources: Mapping[str, LoadedSource], name: str
) -> pl.LazyFrame:
    """The records of contact source `name` with CONTACT_MEASURES, counted from the end of
    the contact (a ticket's resolution, a call's end): a repeat is a contact after that."""
    id_column = sources[name].table.id_column
    nexts = (
        contact_measures(with_next_contact(contacts_frame(sources)), "_ended")
        .filter(pl.col("kind") == name[:-1])
        .select(pl.col("contact_id").alias(id_column), *sorted(CONTACT_MEASURES))
    )
    return frame.join(nexts, on=id_column, how="left")
