"""The SLA targets (`schema.SLA_TARGETS`): one row per target of a ticket under its policy.

A ticket gets the first of the config's `sla_policies:` whose `where:` matches it (none: no
SLA row). Each target is a clock in the policy's hours, measured as B(t) — the open time up to
t (`business_time.business_clock`), or plain time for `hours: calendar` — so that elapsed time
is a difference of clocks and a due time is the inverse (`business_instant`) of the start's
clock plus the target:

- first_reply: created_at → the first public agent comment (ticket_comments), else the
  ticket's first_response_at. It never pauses.
- next_reply: each public end-user comment that follows a public agent comment → the next
  public agent comment (`enrich.with_reply_waits`, the replies KPIs' waits). It never pauses.
- resolution: created_at → the final solve (the start of the final run of solved/closed
  statuses), counting only the time in statuses that are neither solved/closed nor in the
  policy's `pause:` (fivetran's requester wait / agent work time SLAs: a ticket reopened after
  a solve runs again from the reopening). Without a status history (no ticket_events, or none
  for the ticket), created_at → resolved_at.

A clock that stopped is met when its elapsed time is at most the target. One still running at
the export time (`_as_of`: the earliest of the newest timestamps of the sources read, the
instant up to which all of them are observed) is breached when its due time has passed, and
pending otherwise (also while paused: a paused clock is never due). Every step is a window
(`.over`), a join or a group-by: no Python loop touches a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from cscli.adapters.base import FILE_COL, ROW_COL
from cscli.derived import SLA_COPIES, SLA_FIELDS
from cscli.engine.polars.compile import sql
from cscli.engine.polars.facts import source_end, thread_key
from cscli.engine.polars.lifecycle import SOLVED
from cscli.engine.polars.loader import LoadedSource

if TYPE_CHECKING:
    from cscli.business_hours.assignment import BusinessHours
    from cscli.business_hours.model import Calendar
    from cscli.config.sla import SlaPolicy

_US = 1_000_000
UTC_US = pl.Datetime("us", "UTC")
#: the issue counted for tickets whose policy has no target for their priority
UNMEASURED = "no SLA target for the ticket's priority"
TARGETS = ("first_reply", "next_reply", "resolution")


def _policy(policies: Sequence[SlaPolicy]) -> pl.Expr:
    """The name of the first policy whose `where:` matches (null: none)."""
    expr: Any = pl
    for p in policies:
        cond = sql(p.where).fill_null(False) if p.where else pl.lit(True)
        expr = expr.when(cond).then(pl.lit(p.name))
    return expr.otherwise(pl.lit(None, pl.String))  # type: ignore[no-any-return]


def _by_policy(
    policies: Sequence[SlaPolicy], value: Callable[[SlaPolicy], pl.Expr | None], dtype: Any
) -> pl.Expr:
    """`value(p)` for the ticket's policy `_policy` (null for a policy it gives None)."""
    expr: Any = pl
    given = False
    for p in policies:
        v = value(p)
        if v is not None:
            expr = expr.when(pl.col("_policy") == p.name).then(v)
            given = True
    if not given:
        return pl.lit(None, dtype)
    return expr.otherwise(pl.lit(None, dtype)).cast(dtype)  # type: ignore[no-any-return]


def _target_us(p: SlaPolicy, target: str, columns: frozenset[str]) -> pl.Expr | None:
    """The target of `p` in whole µs for the ticket's priority; None when `p` has none."""
    spec = p.targets.get(target)
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        return pl.lit(round(spec * _US), pl.Int64)
    if "priority" not in columns:
        return pl.lit(None, pl.Int64)
    us = {k: round(v * _US) for k, v in spec.items()}
    return pl.col("priority").replace_strict(us, default=None, return_dtype=pl.Int64)


def unmeasured(policies: Sequence[SlaPolicy], columns: frozenset[str]) -> pl.Expr:
    """Tickets whose policy sets a target per priority without one for theirs (null
    priority included): they are not measured for it."""
    missing = [
        (p.name, _target_us(p, t, columns))
        for p in policies
        for t in p.target_names()
        if isinstance(p.targets[t], Mapping)
    ]
    policy = _policy(policies)
    out = pl.lit(False)
    for name, us in missing:
        assert us is not None
        out = out | ((policy == name) & us.is_null()).fill_null(False)
    return out


# --- the clocks ---------------------------------------------------------------------------


def _per_calendar(hours: BusinessHours | None, fn: Callable[[Calendar], pl.Expr]) -> pl.Expr | None:
    """`fn` of the tickets' calendar (by its assignment column when there are several)."""
    assigned = hours.for_source("tickets") if hours is not None else None
    if hours is None or assigned is None:
        return None
    if isinstance(assigned, str):
        return fn(hours.calendars[assigned])
    expr: Any = pl
    for value, cal in assigned.map.items():
        expr = expr.when(pl.col(assigned.by) == value).then(fn(hours.calendars[cal]))
    default = fn(hours.calendars[assigned.default]) if assigned.default else None
    return expr.otherwise(default)  # type: ignore[no-any-return]


def _calendar_by(hours: BusinessHours | None) -> str | None:
    assigned = hours.for_source("tickets") if hours is not None else None
    return None if assigned is None or isinstance(assigned, str) else assigned.by


class Clock:
    """B(t) in µs under each row's hours (`_business`), and its inverse."""

    def __init__(self, hours: BusinessHours | None) -> None:
        self.hours = hours

    def at(self, instant: pl.Expr) -> pl.Expr:
        from cscli.engine.polars.business_time import business_clock

        business = _per_calendar(self.hours, lambda c: business_clock(instant, c))
        plain = instant.dt.epoch("us")
        if business is None:
            return pl.when(~pl.col("_business")).then(plain)
        return pl.when(pl.col("_business")).then(business).otherwise(plain)

    def instant(self, clock: pl.Expr) -> pl.Expr:
        from cscli.engine.polars.business_time import business_instant

        business = _per_calendar(self.hours, lambda c: business_instant(clock, c))
        plain = pl.from_epoch(clock, "us").dt.replace_time_zone("UTC")
        if business is None:
            return pl.when(~pl.col("_business")).then(plain)
        return pl.when(pl.col("_business")).then(business).otherwise(plain)


# --- the table ----------------------------------------------------------------------------


def _as_of(sources: Mapping[str, LoadedSource]) -> pl.LazyFrame:
    """One row: `_as_of`, the earliest newest timestamp of the sources an SLA clock reads."""
    ends = [
        sources[n].usable.select(_end=source_end(n, sources[n].columns))
        for n in ("tickets", "ticket_comments", "ticket_events")
        if n in sources
    ]
    return pl.concat(ends, how="vertical_relaxed").select(_as_of=pl.col("_end").min())


def _tickets(
    sources: Mapping[str, LoadedSource], policies: Sequence[SlaPolicy], hours: BusinessHours | None
) -> pl.LazyFrame:
    """The tickets a policy matches, with their policy, hours, targets (µs) and stops."""
    src = sources["tickets"]
    cols = src.columns
    frame = src.usable
    if "ticket_comments" in sources:
        from cscli.engine.polars.enrich import first_public_reply_at

        frame = first_public_reply_at(frame, sources["ticket_comments"])
        reply = pl.col("first_public_reply_at")
    elif "first_response_at" in cols:
        reply = pl.col("first_response_at")
    else:
        reply = pl.lit(None, UTC_US)
    business = [p.name for p in policies if p.hours == "business"]
    by = _calendar_by(hours)
    # the ticket's file and line: a breach lists where its ticket is
    marks = [FILE_COL, ROW_COL]
    names = {*cols, *frame.collect_schema().names()}
    keep = [c for c in (*sorted(SLA_COPIES), *([by] if by else []), *marks) if c in names]
    keep = list(dict.fromkeys(keep))
    targets = {f"_us_{t}": _by_policy(policies, _target_of(t, cols), pl.Int64) for t in TARGETS}
    configured = {
        f"_has_{t}": pl.col("_policy").is_in([p.name for p in policies if t in p.targets])
        for t in TARGETS
    }
    resolved = pl.col("resolved_at") if "resolved_at" in cols else pl.lit(None, UTC_US)
    return (
        frame.with_columns(_policy=_policy(policies))
        .filter(pl.col("_policy").is_not_null())
        .select(
            pl.col("ticket_id").cast(pl.String),
            *keep,
            _ticket=thread_key(pl.col("ticket_id")),
            _policy=pl.col("_policy"),
            _business=pl.col("_policy").is_in(business),
            _created=pl.col("created_at"),
            _reply=reply.cast(UTC_US),
            _resolved=resolved.cast(UTC_US),
        )
        .with_columns(**targets, **configured)
        .unique("_ticket", keep="first", maintain_order=True)
    )


def _target_of(target: str, columns: frozenset[str]) -> Callable[[SlaPolicy], pl.Expr | None]:
    return lambda p: _target_us(p, target, columns)


def _replies(
    tickets: pl.LazyFrame, sources: Mapping[str, LoadedSource], clock: Clock
) -> list[pl.LazyFrame]:
    """The first-reply and next-reply targets: start, stop, due and elapsed (µs)."""
    first = tickets.filter(pl.col("_has_first_reply")).with_columns(
        target=pl.lit("first_reply"),
        _n=pl.lit(1, pl.Int64),
        _us=pl.col("_us_first_reply"),
        started_at=pl.col("_created"),
        stopped_at=pl.col("_reply"),
    )
    parts = [first]
    if "ticket_comments" in sources:
        from cscli.engine.polars.enrich import with_reply_waits

        comments = sources["ticket_comments"]
        waits = (
            with_reply_waits(comments.usable, comments.columns)
            .filter(pl.col("next_reply_wait"))
            .select(
                _ticket=thread_key(pl.col("ticket_id")),
                started_at=pl.col("created_at").cast(UTC_US),
                _wait=pl.col("reply_wait_seconds"),
            )
            .sort("_ticket", "started_at")
            .with_columns(_n=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_ticket"))
        )
        stop = pl.col("started_at") + pl.duration(
            microseconds=(pl.col("_wait") * _US).round().cast(pl.Int64)
        )
        parts.append(
            tickets.filter(pl.col("_has_next_reply"))
            .join(waits, on="_ticket", how="inner")
            .with_columns(
                target=pl.lit("next_reply"),
                _us=pl.col("_us_next_reply"),
                stopped_at=pl.when(pl.col("_wait").is_not_null()).then(stop),
            )
        )
    out = []
    for part in parts:
        start = clock.at(pl.col("started_at"))
        end = pl.coalesce(pl.col("stopped_at"), pl.max_horizontal("_as_of", "started_at"))
        out.append(
            part.with_columns(
                due_at=clock.instant(start + pl.col("_us")),
                _elapsed=clock.at(end) - start,
            )
        )
    return out


def _resolution(
    tickets: pl.LazyFrame,
    sources: Mapping[str, LoadedSource],
    clock: Clock,
    policies: Sequence[SlaPolicy],
) -> pl.LazyFrame:
    """The resolution targets from the status history (see the module docstring)."""
    measured = tickets.filter(pl.col("_has_resolution"))
    by = _calendar_by(clock.hours)
    extra = [by] if by is not None and by in measured.collect_schema().names() else []
    info = measured.select(
        "_ticket", "_business", "_policy", "_created", "_us_resolution", "_as_of", *extra
    )
    events_schema = pl.Schema(
        {"_ticket": pl.String(), "at": UTC_US, "status": pl.String(), "_order": pl.Int64()}
    )
    synthetic = [
        measured.select(
            "_ticket", at=pl.col("_created"), status=pl.lit("new"), _order=pl.lit(-1, pl.Int64)
        )
    ]
    solved_only = measured.filter(pl.col("_resolved").is_not_null()).select(
        "_ticket", at=pl.col("_resolved"), status=pl.lit("solved"), _order=pl.lit(-1, pl.Int64)
    )
    if "ticket_events" in sources:
        ev = sources["ticket_events"]
        rows = ROW_COL in ev.usable.collect_schema().names()
        order = pl.col(ROW_COL).cast(pl.Int64) if rows else pl.lit(0, pl.Int64)
        real = (
            ev.usable.filter(pl.col("ticket_id").is_not_null() & pl.col("at").is_not_null())
            .select(
                _ticket=thread_key(pl.col("ticket_id")),
                at=pl.col("at").cast(UTC_US),
                status=pl.col("status"),
                _order=order,
            )
            .join(measured.select("_ticket"), on="_ticket", how="semi")
        )
        synthetic.append(real)
        solved_only = solved_only.join(real.select("_ticket"), on="_ticket", how="anti")
    synthetic.append(solved_only)
    events = pl.concat([s.select(*events_schema).cast(events_schema) for s in synthetic])
    events = events.join(info, on="_ticket", how="inner")
    at = pl.max_horizontal("at", "_created")
    # ticket, time, the row in the file, then the status: a total order (as `lifecycle`)
    events = events.with_columns(at=at).sort("_ticket", "at", "_order", "status", nulls_last=True)
    paused = _by_policy(
        policies, lambda p: pl.col("status").is_in(list(p.pause)) if p.pause else None, pl.Boolean
    ).fill_null(False)
    solved = pl.col("status").is_in(list(SOLVED)).fill_null(False)
    # the ticket's next change: the next row, the events being sorted by ticket (no window)
    ticket = pl.col("_ticket")
    nxt = pl.when(ticket == ticket.shift(-1)).then(pl.col("at").shift(-1))
    end = pl.coalesce(nxt, pl.max_horizontal("_as_of", "at"))
    events = events.with_columns(
        _solved=solved,
        _last=nxt.is_null(),
        _run=~solved & ~paused,
        _c0=clock.at(pl.col("at")),
        _c1=clock.at(end),
    ).with_columns(_len=pl.when(pl.col("_run")).then(pl.col("_c1") - pl.col("_c0")).otherwise(0))
    target = pl.col("_us_resolution")
    # in the group-by below, per ticket in time order: the running time before each interval,
    # and the interval in which the clock reaches the target (the last one runs on forever)
    before = pl.col("_len").cum_sum() - pl.col("_len")
    cross = pl.col("_run") & ((before + pl.col("_len") >= target) | pl.col("_last")).fill_null(
        False
    )
    position = pl.int_range(pl.len())
    s = pl.col("_solved")
    last_open = position.filter(~s).max()
    final = pl.col("at").filter(s & (last_open.is_null() | (position > last_open))).min()
    per_ticket = events.group_by("_ticket").agg(
        _elapsed=pl.col("_len").sum(),
        _due_clock=(pl.col("_c0") + target - before).filter(cross).first(),
        _final=final,
        _closed=s.last(),
    )
    joined = measured.join(per_ticket, on="_ticket", how="left").with_columns(
        target=pl.lit("resolution"),
        _n=pl.lit(1, pl.Int64),
        _us=target,
        started_at=pl.col("_created"),
        stopped_at=pl.when(pl.col("_closed")).then(pl.col("_final")),
    )
    # a met clock: due when it would have reached the target had it kept running
    met_due = clock.at(pl.col("stopped_at")) + pl.col("_us") - pl.col("_elapsed")
    return joined.with_columns(due_at=clock.instant(pl.coalesce("_due_clock", met_due)))


def _finish(frame: pl.LazyFrame, columns: Sequence[str]) -> pl.LazyFrame:
    """State, placement, seconds and the id of every target row. A target without a clock
    (business hours for a ticket the calendar assignment leaves without a calendar, a
    finding of the loader's) is not measured, like one without a target."""
    measured = pl.col("_us").is_not_null() & pl.col("_elapsed").is_not_null()
    stopped = pl.col("stopped_at").is_not_null()
    due_passed = (pl.col("due_at") <= pl.col("_as_of")).fill_null(False)
    met = (
        pl.when(~measured)
        .then(pl.lit(None, pl.Boolean))
        .when(stopped)
        .then(pl.col("_elapsed") <= pl.col("_us"))
        .when(due_passed)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
    )
    state = (
        pl.when(~measured)
        .then(pl.lit("unmeasured"))
        .when(pl.col("sla_met"))
        .then(pl.lit("met"))
        .when(~pl.col("sla_met"))
        .then(pl.lit("breached"))
        .otherwise(pl.lit("pending"))
    )
    placed = (
        pl.when(stopped)
        .then(pl.col("stopped_at"))
        .when(pl.col("sla_state") == "breached")
        .then(pl.col("due_at"))
        .when(pl.col("sla_state") == "pending")
        .then(pl.col("_as_of"))
        .otherwise(pl.col("started_at"))
    )
    return (
        frame.with_columns(
            sla_met=met,
            policy=pl.col("_policy"),
            hours=pl.when(pl.col("_business"))
            .then(pl.lit("business"))
            .otherwise(pl.lit("calendar")),
            target_seconds=pl.col("_us") * (1 / _US),
            elapsed_seconds=pl.col("_elapsed") * (1 / _US),
            sla_id=pl.concat_str("ticket_id", pl.lit("/"), "target", pl.lit("/"), pl.col("_n")),
        )
        .with_columns(sla_state=state)
        .with_columns(placed_at=placed)
        .select(*columns)
    )


def sla_targets_table(
    sources: Mapping[str, LoadedSource],
    policies: Sequence[SlaPolicy],
    hours: BusinessHours | None,
) -> pl.LazyFrame:
    """The sla_targets source: one row per target of every ticket a policy matches."""
    # business lookups only when a policy counts in business hours
    clock = Clock(hours if any(p.hours == "business" for p in policies) else None)
    # read by the three kinds of target: computed once (polars does not always find the
    # common subplan itself: measured 7.1 s → 5.0 s at 100k tickets)
    tickets = _tickets(sources, policies, hours).join(_as_of(sources), how="cross").cache()
    parts = [*_replies(tickets, sources, clock), _resolution(tickets, sources, clock, policies)]
    names = tickets.collect_schema().names()
    copies = [c for c in (*sorted(SLA_COPIES), FILE_COL, ROW_COL) if c in names]
    columns = [*SLA_FIELDS, *copies]
    return pl.concat([_finish(p, columns) for p in parts], how="vertical_relaxed")
