"""`sla_policies:` (issue 17): SLA policies with first-reply, next-reply and resolution targets.

A policy is checked top-down, the first whose `where:` matches a ticket applies (Zendesk's
rule). Each names its targets (one duration, or one per priority), whether they count in
business or calendar time, and the statuses during which the resolution clock stops
(`pause:`, read from the ticket_events history). What the clocks measure is in
docs/sla-policies.md and in the SLA KPIs' definitions (`cscli.kpis.builtin.sla`); the polars
engine computes them (`cscli.engine.polars.sla`).

Every problem is reported to the config's one `Problems` collector at its position, with a
hint; nothing here imports polars (the `where:` SQL is checked through `cscli.config.sql`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cscli.config.problems import Problems
from cscli.config.sql import check_one_sql, source_columns
from cscli.suggest import did_you_mean
from cscli.units import parse_duration

#: the targets a policy may set, in the order the SLA KPIs list them
TARGETS = ("first_reply", "next_reply", "resolution")
#: the statuses a policy may pause in (solved and closed always stop the resolution clock)
PAUSABLE = ("new", "open", "pending", "hold")
KEYS = ("name", "where", "targets", "hours", "pause")
DOC = "see docs/sla-policies.md"


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """One entry of `sla_policies:`. `targets`: per target, seconds for every ticket, or a
    mapping priority → seconds (a ticket of another priority is not measured for it)."""

    name: str
    where: str | None
    targets: Mapping[str, float | Mapping[str, float]]
    hours: Literal["business", "calendar"] = "calendar"
    pause: tuple[str, ...] = ()

    def target_names(self) -> tuple[str, ...]:
        return tuple(t for t in TARGETS if t in self.targets)


def _has_calendar(data: Mapping[str, Any]) -> bool:
    sources = data.get("sources")
    tickets = sources.get("tickets") if isinstance(sources, dict) else None
    own = tickets.get("calendar") if isinstance(tickets, dict) else None
    return bool(own or data.get("calendar"))


def _duration(raw: Any, path: tuple[str | int, ...], problems: Problems) -> float | None:
    try:
        seconds = parse_duration(raw)
    except (ValueError, TypeError):
        seconds = None
    if seconds is None or not seconds > 0:
        problems.add(
            path,
            f"expected a positive duration such as 4h, got {raw!r}",
            labelled=True,
            hint="a target is one duration (8h) or one per priority ({urgent: 1h, high: 4h})",
        )
        return None
    return seconds


def _targets(raw: Any, problems: Problems) -> dict[str, float | dict[str, float]] | None:
    """`targets:` of one policy (problems relative to the policy)."""
    if not isinstance(raw, dict) or not raw:
        problems.add(
            ("targets",),
            "targets: expected a mapping of first_reply, next_reply and/or resolution, "
            f"got {raw!r}",
            hint="e.g. targets: {first_reply: {urgent: 1h, normal: 8h}, resolution: 3d}",
        )
        return None
    out: dict[str, float | dict[str, float]] = {}
    for name, value in raw.items():
        if name not in TARGETS:
            problems.add(
                ("targets", name),
                f"unknown SLA target {name!r}{did_you_mean(str(name), TARGETS)}",
                key=True,
                hint=f"the targets are {', '.join(TARGETS)}",
            )
            continue
        if isinstance(value, dict):
            per: dict[str, float] = {}
            if not value:
                problems.add(("targets", name), "expected at least one priority", labelled=True)
            for priority, text in value.items():
                seconds = _duration(text, ("targets", name, priority), problems)
                if seconds is not None:
                    per[str(priority).strip().lower()] = seconds
            out[name] = per
        else:
            seconds = _duration(value, ("targets", name), problems)
            if seconds is not None:
                out[name] = seconds
    return out


def read_policies(data: Mapping[str, Any], problems: Problems) -> tuple[SlaPolicy, ...]:
    """`sla_policies:` as written, checked: names unique, `where:` SQL over the tickets
    source's columns, targets, hours (business needs a calendar for tickets) and pause
    (needs a ticket_events source)."""
    raw = data.get("sla_policies")
    if raw is None:
        return ()
    top = problems.within("sla_policies")
    if not isinstance(raw, list):
        top.add((), "sla_policies: expected a list of policies", hint=DOC)
        return ()
    sources = data.get("sources")
    names = set(sources) if isinstance(sources, dict) else set()
    if raw and "tickets" not in names:
        top.add(
            (), "sla_policies need a tickets source", hint="add a tickets source under sources:"
        )
    columns = source_columns("tickets", data, enriched=False)
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(raw):
        p = top.within(i)
        if not isinstance(entry, dict):
            p.add((), f"expected a policy (name, where, targets, hours, pause), got {entry!r}")
            continue
        for key in entry:
            if key not in KEYS:
                p.add(
                    (key,),
                    f"unknown key {key!r} in sla_policies[{i}]{did_you_mean(str(key), KEYS)}",
                    key=True,
                    hint=f"a policy has {', '.join(KEYS)}",
                )
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            p.add((), "missing required key 'name' (a policy's name)", hint=DOC)
            name = f"policy {i + 1}"
        elif name in seen:
            p.add(("name",), f"a second policy named {name!r}", hint="name each policy once")
        seen.add(name)
        where = entry.get("where")
        if where is not None:
            if not isinstance(where, str) or not where.strip():
                p.add(("where",), "where: expected a SQL predicate over the tickets source")
                where = None
            else:
                ok = check_one_sql(
                    where,
                    ("sla_policies", i, "where"),
                    f"sla_policies[{i}].where",
                    columns,
                    problems,
                    "tickets",
                )
                where = where if ok else None
        targets = _targets(entry.get("targets"), p)
        hours = entry.get("hours", "calendar")
        if hours not in ("business", "calendar"):
            p.add(("hours",), f"hours: expected business or calendar, got {hours!r}")
            hours = "calendar"
        elif hours == "business" and not _has_calendar(data):
            p.add(
                ("hours",),
                "hours: business needs a calendar for tickets",
                hint="define one under calendars: and name it with calendar: (top level or on "
                "the tickets source); see docs/business-hours.md",
            )
        pause = entry.get("pause", [])
        if isinstance(pause, str):
            pause = [pause]
        statuses: list[str] = []
        if not isinstance(pause, list):
            p.add(("pause",), f"pause: expected a list of statuses, got {pause!r}")
            pause = []
        for j, status in enumerate(pause):
            text = str(status).strip().lower()
            if text not in PAUSABLE:
                p.add(
                    ("pause", j),
                    f"pause: unknown status {status!r}{did_you_mean(text, PAUSABLE)}",
                    hint=f"a policy pauses in {', '.join(PAUSABLE)} (solved and closed always "
                    "stop the resolution clock)",
                )
            elif text not in statuses:
                statuses.append(text)
        if statuses and "ticket_events" not in names:
            p.add(
                ("pause",),
                "pause: needs a ticket_events source (the tickets' status history): without it "
                "the time spent in a status is unknown",
                hint="add a ticket_events source (docs/input-files.md), or remove pause:",
            )
        if targets is not None:
            out.append(SlaPolicy(name, where, targets, hours, tuple(statuses)))
    return tuple(out)
