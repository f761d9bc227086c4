"""The derivations of `cscli.derived` as SQL, the twins of the polars builders in
`cscli.engine.polars.enrich`, `contacts` and `lifecycle`, each equal to polars on every row.

`SQL_BUILDERS[name]` adds one derivation's columns to a source's `Relation`;
`SQL_SOURCES["contacts"]` builds the contacts from the tickets and calls. A derivation that is
not here is computed by the polars engine only: availability reports the KPIs that read it as
unavailable on a SQL engine (the business-time twins come from `cscli.engine.sql.business_time`;
the ticket ends and ages from `cscli.engine.sql.relations.CORE_BUILDERS`).
"""

from __future__ import annotations

from cscli.engine.sql.derive.contacts import contacts_table, with_contact_measures
from cscli.engine.sql.derive.surveys import invitation_observed, rated_contact
from cscli.engine.sql.derive.threads import first_public_reply, with_replies, with_reply_waits
from cscli.engine.sql.relations import SqlBuilder, SqlSourceBuilder

SQL_BUILDERS: dict[str, SqlBuilder] = {
    "replies": with_replies,
    "comment_replies": with_reply_waits,
    "first_public_reply": first_public_reply,
    "rated_contact": rated_contact,
    "next_contact": lambda rel, d, ctx: with_contact_measures(rel, ctx),
    "invitation_observed_seconds": invitation_observed,
}

SQL_SOURCES: dict[str, SqlSourceBuilder] = {"contacts": contacts_table}

__all__ = ["SQL_BUILDERS", "SQL_SOURCES"]
