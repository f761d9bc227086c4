"""Which records of a source a run needs: what lets a database source read only those.

A flow KPI counts the records whose anchor falls in a window, so a run needs the records
anchored on or after the start of its earliest window (the previous window with `--compare`,
the whole buckets before it with a grain). A stock's level at an instant reads every record
opened before it and not yet closed, so a stock needs the records still open at the earliest
window's start: closed on or after it, not closed, or opened on or after it. The windows' ends
are not pushed down: the newest record is the export time (the data end, a ticket's age).

The records with any timestamp on or after that start are read too where the engine can
(`with_export_time`), so the export time stays the whole source's; a KPI measured against
it (a ticket's age) needs them.

A source gives no bound (every record is needed) when some KPI of the run reads it without an
anchor it can be cut by (agent-state intervals), or compares a record with the others of its
source (a message's first reply), or is a stock cut by a dimension (its groups are those of
every record), when a window has no start, when another source's derived
columns read it (a ticket's status history, the contacts a customer made), or when no KPI
reads it at all. The bound is plain data over canonical columns: an engine
turns it into its own predicate (`cscli.engine.polars.loader.pushdown` for SQL).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from cscli.derived import CONTACT_SOURCES, Stage
from cscli.derived import plan as derivations_for
from cscli.engine.base import Plan
from cscli.kpis.columns import columns_used, pending_columns
from cscli.kpis.spec import StateTime, Stock

STAGES: tuple[Stage, ...] = ("load", "enrich", "window")

#: a derived close time → the column whose "null or on or after lo" covers its own: a ticket's
#: `ended_at` is coalesce(resolved_at, closed_at), so ended_at ≥ lo or null implies
#: resolved_at ≥ lo or null (`cscli.derived` TICKET_ENDS)
STAND_INS = {("tickets", "ended_at"): "resolved_at"}


#: derivations that compare a record with the other records of its source (a message's first
#: reply, a comment's next agent comment): the records before the window may change them
OTHER_RECORDS = frozenset({"replies", "comment_replies"})
#: derivations measured against the export time (the newest timestamp): it must be exact
EXPORT_TIME = frozenset({"age_seconds", "business_age_seconds", "invitation_observed_seconds"})


@dataclass(frozen=True, slots=True)
class Term:
    """A record is needed when `column ≥ lo` (UTC), or when it is null with `nulls`."""

    column: str
    lo: datetime
    nulls: bool = False


@dataclass(frozen=True, slots=True)
class Reads:
    """The records of a source a run needs: those for which any term holds; with no terms,
    every record, for the reason `why_all`."""

    terms: tuple[Term, ...] = ()
    why_all: str = ""
    #: terms read when they can be pushed, and dropped otherwise (`with_export_time`)
    optional: tuple[Term, ...] = ()
    #: a KPI measures against the export time: its terms are not optional
    exact_end: bool = False

    @property
    def start(self) -> datetime | None:
        """The earliest instant a term reads from."""
        return min((t.lo for t in self.terms), default=None)


def needed(plan: Plan, source: str, loaded: Collection[str]) -> Reads:
    """The records of `source` every report of the plan needs (`loaded`: the run's sources)."""
    found: dict[str, Term] = {}

    def add(column: str, lo: datetime, nulls: bool = False) -> None:
        old = found.get(column)
        if old is not None:
            lo, nulls = min(lo, old.lo), nulls or old.nulls
        found[column] = Term(column, lo, nulls)

    exact_end = False
    for report in plan.reports:
        kpis = [k for k in report.kpis if k.source == source]
        if not kpis:
            continue
        starts = [w.lo for w in report.windows]
        if any(lo is None for lo in starts):
            return Reads(why_all="the report period has no start: no --from")
        lo = min(s for s in starts if s is not None)
        for k in kpis:
            wanted = columns_used(k.kind) | pending_columns(k.kind) | set(report.by)
            derived = {d.name for stage in STAGES for d in derivations_for(source, wanted, stage)}
            if derived & OTHER_RECORDS:
                name = sorted(derived & OTHER_RECORDS)[0]
                return Reads(why_all=f"{k.id} reads {name}, which compares records with others")
            exact_end = exact_end or bool(derived & EXPORT_TIME)
            if isinstance(k.kind, StateTime):
                return Reads(why_all=f"{k.id} reads every interval (agent state time)")
            if isinstance(k.kind, Stock) and report.by:
                # its groups come from every record: one whose records all closed before the
                # window is still listed (a level of 0)
                by = ", ".join(report.by)
                return Reads(why_all=f"{k.id} by {by} lists every group, older ones too")
            if isinstance(k.kind, Stock):
                add(STAND_INS.get((source, k.kind.closed), k.kind.closed), lo, nulls=True)
                add(k.kind.opened, lo)
            else:
                add(k.anchor, lo)
    readers = _linked_by(plan, loaded)
    if source in readers:
        return Reads(why_all=f"{readers[source]} reads it to derive its columns")
    if not found:
        return Reads(why_all="no KPI of the report reads it directly")
    return Reads(tuple(found.values()), exact_end=exact_end)


def with_export_time(reads: Reads, stamps: Collection[str]) -> Reads:
    """`reads` that also read the records with any of the source's timestamps (`stamps`, whose
    newest is the export time) on or after the earliest start, where that can be pushed: the
    export time (a ticket's age, what is still open) is then the whole table's whenever any
    record is that recent."""
    start = reads.start
    if start is None:
        return reads
    have = {t.column: t for t in reads.terms}
    terms = tuple(
        Term(t.column, min(t.lo, start), t.nulls) if t.column in stamps else t for t in reads.terms
    )
    extra = tuple(Term(c, start) for c in stamps if c not in have)
    if reads.exact_end:  # an age at the export time: every timestamp must be compared
        return Reads((*terms, *extra), reads.why_all, exact_end=True)
    return Reads(terms, reads.why_all, extra)


def _linked_by(plan: Plan, loaded: Collection[str]) -> dict[str, str]:
    """The sources another source's derivations read → which one (the first found)."""
    out: dict[str, str] = {}
    for report in plan.reports:
        for k in report.kpis:
            if k.source == "contacts":
                for s in CONTACT_SOURCES:
                    out.setdefault(s, f"the contacts ({k.id})")
            wanted = columns_used(k.kind) | pending_columns(k.kind) | {k.anchor} | set(report.by)
            for d in derivations_for(k.source, wanted):
                for link in d.needs_sources:
                    if link.source in loaded:
                        out.setdefault(link.source, f"{d.name} of {k.source} ({k.id})")
    return out
