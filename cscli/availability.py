"""Which KPIs a config's sources can compute, and if not, why: from the registry of derivations.

A column of a source is available when the export has it, or when a derivation of that source
(`cscli.derived`) provides it from available inputs, with the sources it reads loaded and its
condition met: a small fixpoint. A KPI that reads a column that is not available is explained by
the export columns it would take, naming a derived column's missing inputs in its place,
recursively ("tickets has no first_response_at column" for a missing first_response_seconds).
The reasons come in a fixed order, so that the first thing to fix is named: the source, the
columns (or the calendar of business-time columns), the dimensions, then the sentiment extra.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cscli.business_hours.assignment import BusinessHours as BusinessHours
from cscli.business_hours.assignment import business_hours as business_hours
from cscli.derived import (
    BUILT_SOURCES,
    CALENDAR,
    DERIVATIONS,
    MULTI_VALUED,
    SENTIMENT_EXTRA,
    WINDOW_MEASURES,
    Derivation,
    builder_of,
    for_source,
    plan,
    provider,
)
from cscli.errors import UnknownDimension
from cscli.kpis.columns import columns_used, pending_columns
from cscli.kpis.spec import Erlang, Kpi, Ratio, Stat, Stock
from cscli.period import TIME_DIMENSIONS, Grain
from cscli.suggest import did_you_mean

if TYPE_CHECKING:
    from cscli.engine.polars.loader import LoadedSource


@dataclass(frozen=True, slots=True)
class KpiStatus:
    kpi: Kpi
    reason: str | None = None  # None = available

    @property
    def available(self) -> bool:
        return self.reason is None


#: the kind name a capability lists for a Stock kept to an age band (backlog by age)
BANDED_STOCK = "Stock[banded]"


@dataclass(frozen=True, slots=True)
class Capability:
    """What an engine computes, declared by the engine as plain data: the names of the
    derivations (`cscli.derived`) it builds and of the kinds (`cscli.kpis.spec` classes) it
    compiles; None = all of them (the polars engine, the reference)."""

    engine: str
    derivations: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    #: derivations the engine has a builder for but refuses for this config, with why
    refusals: Mapping[str, str] = dataclasses.field(default_factory=dict)


def engine_unavailable(kpi: Kpi, by: Sequence[str], capability: Capability | None) -> str | None:
    """Why the engine cannot compute `kpi` cut `by` (a kind or derivation it lacks), or None."""
    if capability is None:
        return None
    prefix = f"unavailable on the {capability.engine} engine: "
    kind = type(kpi.kind).__name__
    if capability.kinds is not None and kind not in capability.kinds:
        return prefix + f"the {kind} kind is computed by the polars engine only"
    banded = isinstance(kpi.kind, Stock) and kpi.kind.banded
    if banded and capability.kinds is not None and BANDED_STOCK not in capability.kinds:
        return (
            prefix
            + "a level by age band (age_from/age_below) is computed by the polars engine only"
        )
    business_band = banded and isinstance(kpi.kind, Stock) and kpi.kind.age_hours == "business"
    if business_band and capability.kinds is not None:
        return prefix + (
            "a level by business-hours age band (hours: business) needs the instant each "
            "ticket reaches its band's open hours (the inverse of business time), which the "
            "polars engine only computes; use hours: calendar, or engine: polars"
        )
    erlang = kpi.kind if isinstance(kpi.kind, Erlang) else None
    staffed = erlang is not None and erlang.measure == "service_level" and erlang.agents is None
    if staffed and capability.kinds is not None and "StateTime" not in capability.kinds:
        return prefix + (
            "the agents staffed come from agent_states time (StateTime), which the polars "
            "engine only computes; set agents: in its kpis: entry"
        )
    if capability.derivations is None:
        return None
    for dim in (d for d in by if d in MULTI_VALUED):
        makers = [d.name for d in DERIVATIONS if dim in d.multi_valued]
        if any(m not in capability.derivations for m in makers):
            return prefix + (
                f"--by {dim} (a record in the group of each of its values) is computed by the "
                "polars engine only"
            )
    wanted = columns_used(kpi.kind) | {kpi.anchor} | set(by)
    steps = plan(kpi.source, wanted) + plan(kpi.source, wanted & WINDOW_MEASURES, "window")
    built = builder_of(kpi.source)
    if built is not None:
        steps.insert(0, built)
    refused = [capability.refusals[d.name] for d in steps if d.name in capability.refusals]
    if refused:
        return prefix + refused[0]
    lacking = [d.name for d in steps if d.name not in capability.derivations]
    if lacking:
        return prefix + f"{', '.join(dict.fromkeys(lacking))} is computed by the polars engine only"
    return None


def sentiment_unavailable() -> str | None:
    """Why texts cannot be scored here, or None when they can."""
    if importlib.util.find_spec("vaderSentiment") is None:
        return 'needs the sentiment extra: pip install "cscli[sentiment]"'
    return None


def _linked(
    d: Derivation, sources: Mapping[str, LoadedSource], columns: frozenset[str] | set[str]
) -> list[LoadedSource]:
    """The sources `d` reads that are loaded, and that this source can link to."""
    return [
        sources[link.source]
        for link in d.needs_sources
        if link.source in sources and (link.key is None or link.key in columns)
    ]


def _usable(
    d: Derivation,
    sources: Mapping[str, LoadedSource],
    columns: frozenset[str] | set[str],
    hours: BusinessHours | None,
) -> bool:
    """Whether `d` adds its columns: its inputs there, a source it reads loaded, a calendar
    where it needs one (the sentiment extra is not a fact of the data: `kpi_status` checks it
    last)."""
    if not d.inputs <= columns or (d.needs_sources and not _linked(d, sources, columns)):
        return False
    return d.requires != CALENDAR or (hours is not None and hours.for_source(d.source) is not None)


def has_source(name: str, sources: Mapping[str, LoadedSource]) -> bool:
    """Whether `name` is loaded, or can be built from the sources loaded (the contacts)."""
    if name in sources:
        return True
    built = builder_of(name)
    return built is not None and bool(_linked(built, sources, frozenset()))


def columns(
    name: str, sources: Mapping[str, LoadedSource], hours: BusinessHours | None = None
) -> frozenset[str]:
    """The columns of source `name`: its export's, and those its derivations add."""
    if not has_source(name, sources):
        return frozenset()
    cols = set(sources[name].columns) if name in sources else set()
    grown = True
    while grown:
        grown = False
        for d in for_source(name):
            if not _usable(d, sources, cols, hours):
                continue
            copied = {c for s in _linked(d, sources, cols) for c in d.copies & s.columns}
            added = d.provides | copied
            if not added <= cols:
                cols |= added
                grown = True
    return frozenset(cols)


def dimensions(name: str, sources: Mapping[str, LoadedSource]) -> set[str]:
    """What a report over source `name` can be cut by."""
    cols = columns(name, sources)
    dims = set(sources[name].dimensions) if name in sources else set()
    dims.update(TIME_DIMENSIONS)  # from each KPI's anchor, on every source
    for d in for_source(name):
        if _usable(d, sources, cols, None):
            dims |= d.dimensions & cols
            for linked in _linked(d, sources, cols) if d.inherits else ():
                # the linked source's own dimensions and those its derivations give (tag)
                dims.update(c for c in dimensions(linked.name, sources) if c in d.inherits)
    return dims


def _explained(source: str, column: str, columns: frozenset[str], seen: set[str]) -> set[str]:
    """The missing export columns behind a column that is not available: its own name, or for
    a derived column the explanations of its missing inputs (nothing when only its condition
    fails)."""
    d = provider(source, column)
    if d is None or column in seen:
        return {column}
    seen.add(column)
    return {c for i in sorted(d.inputs - columns) for c in _explained(source, i, columns, seen)}


def missing(kpi: Kpi, columns: frozenset[str]) -> list[str]:
    """The export columns that `kpi` lacks, given the columns of its source (sorted)."""
    needed = columns_used(kpi.kind) | {kpi.anchor} | set(kpi.base.requires)
    out: set[str] = set()
    for column in needed - columns:
        out |= _explained(kpi.source, column, columns, set())
    return sorted(out)


def _blocked(kpi: Kpi, columns: frozenset[str]) -> bool:
    """Whether a business-time column the KPI reads lacks only its calendar."""
    return any(
        d is not None and d.requires == CALENDAR
        for d in (provider(kpi.source, c) for c in columns_used(kpi.kind) - columns)
    )


def _unlinked(kpi: Kpi, sources: Mapping[str, LoadedSource], columns: frozenset[str]) -> list[str]:
    """The sources to configure for a derived column the KPI reads (or is placed by) that comes
    from another source (a ticket's replies from ticket_comments, its status times from
    ticket_events), when none of them is loaded; in order of first need."""
    out: list[str] = []
    for c in sorted((columns_used(kpi.kind) | {kpi.anchor}) - columns):
        d = provider(kpi.source, c)
        if d is not None and d.needs_sources and not _linked(d, sources, columns):
            out += [link.source for link in d.needs_sources if link.source not in out]
    return out


def _a(noun: str) -> str:
    """The noun with its indefinite article (an agent_states source, a tickets source)."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _needs_extra(kpi: Kpi) -> bool:
    return any(
        d is not None and d.requires == SENTIMENT_EXTRA
        for d in (provider(kpi.source, c) for c in columns_used(kpi.kind))
    )


def erlang_unavailable(
    kpi: Kpi,
    grain: str | None,
    sources: Mapping[str, LoadedSource] | None = None,
    by: Sequence[str] = (),
) -> str | None:
    """Why an Erlang C KPI cannot be computed: it needs an interval grain, and the predicted
    service level the agents staffed (`agents:`, else agents_staffed of an agent_states source
    that can be cut like the report); None when it can (or for any other KPI)."""
    if not isinstance(kpi.kind, Erlang):
        return None
    if grain is None or not Grain(grain).is_interval:
        return "needs --grain 15m, 30m or hour"
    if kpi.kind.measure != "service_level" or kpi.kind.agents is not None:
        return None
    if sources is None or "agent_states" not in sources:
        return (
            "needs agents: (the number of agents staffed) in its kpis: entry, or an "
            "agent_states source"
        )
    no_dim = [d for d in by if d not in dimensions("agent_states", sources)]
    if no_dim:
        return (
            f"agent_states cannot be cut by {', '.join(no_dim)} (its agents_staffed is joined "
            "per bucket): set agents: in its kpis: entry"
        )
    return None


def kpi_status(
    kpi: Kpi,
    sources: Mapping[str, LoadedSource],
    by: Sequence[str],
    hours: BusinessHours | None = None,
    grain: str | None = None,
    capability: Capability | None = None,
) -> KpiStatus:
    """Whether `kpi` can be computed over `sources` cut `by` (by `grain`), as the KPI to
    compute (its fallback definition, or without its provisional mark, where the data needs
    it); `capability`: what the engine of the run computes (None: everything)."""
    why = erlang_unavailable(kpi, grain, sources, by)
    if why:
        return KpiStatus(kpi, why)
    business_band = isinstance(kpi.kind, Stock) and kpi.kind.age_hours == "business"
    if business_band and (hours is None or hours.for_source(kpi.source) is None):
        return KpiStatus(
            kpi,
            f"hours: business needs a calendar for {kpi.source}: define one under calendars: "
            "and name it with calendar: (top level or on the source)",
        )
    if not has_source(kpi.source, sources):
        built = builder_of(kpi.source)
        need = (
            " or ".join(link.source for link in built.needs_sources)
            if built is not None
            else kpi.source
        )
        return KpiStatus(kpi, f"needs {_a(need)} source in the config")
    cols = columns(kpi.source, sources, hours)
    absent = missing(kpi, cols)
    if not absent and _blocked(kpi, cols):
        return KpiStatus(
            kpi,
            f"hours: business needs a calendar for {kpi.source}: define one under calendars: "
            "and name it with calendar: (top level or on the source)",
        )
    unlinked = _unlinked(kpi, sources, cols)
    if (absent or unlinked) and kpi.built.fallback is not None:
        fallback = dataclasses.replace(kpi, built=kpi.built.fallback)
        if not missing(fallback, cols) and not _unlinked(fallback, sources, cols):
            kpi = fallback
            absent = unlinked = []
    if unlinked and not absent:
        return KpiStatus(kpi, f"needs {_a(' or '.join(unlinked))} source in the config")
    if absent:
        return KpiStatus(kpi, f"{kpi.source} has no {', '.join(absent)} column")
    if pending_columns(kpi.kind) - cols and isinstance(kpi.kind, Ratio | Stat):
        # the value is exact without it; only whether it is still maturing cannot be told
        kind = dataclasses.replace(kpi.kind, pending=None)
        kpi = dataclasses.replace(kpi, built=dataclasses.replace(kpi.built, kind=kind))
    no_dim = [d for d in by if d not in dimensions(kpi.source, sources)]
    if no_dim:
        return KpiStatus(kpi, f"{kpi.source} cannot be cut by {', '.join(no_dim)}")
    timed = [d for d in by if d in TIME_DIMENSIONS]
    if timed and isinstance(kpi.kind, Stock):
        return KpiStatus(
            kpi,
            f"a level has no single {' or '.join(timed)} (it spans them); "
            "use --grain hour for the level hour by hour",
        )
    refused = [f"{d}: {why}" for d, why in kpi.base.degenerate_by if d in by]
    if refused:
        return KpiStatus(kpi, f"cannot be cut by {'; '.join(refused)}")
    why = engine_unavailable(kpi, by, capability)
    if why:
        return KpiStatus(kpi, why)
    if _needs_extra(kpi):
        why = sentiment_unavailable()
        if why:
            return KpiStatus(kpi, why)
    return KpiStatus(kpi)


def check_dimensions(by: Sequence[str], sources: Mapping[str, LoadedSource]) -> None:
    """Refuse a `--by` that no source, loaded or built, can be cut by."""
    names = [*sources, *(name for name in BUILT_SOURCES if name not in sources)]
    everywhere: set[str] = set()
    for name in names:
        if has_source(name, sources):
            everywhere |= dimensions(name, sources)
    for d in by:
        derived = _derived_dimension(d, sources)
        if d not in everywhere and derived is not None:
            source, needed = derived
            raise UnknownDimension(
                d,
                f"{source} has no {', '.join(needed)} column, which the dimension {d!r} comes from",
                hint=f"map it on the {source} source: `columns: {{{needed[0]}: <export column>}}`",
            )
        if d not in everywhere:
            raise UnknownDimension(
                d,
                f"no source has a dimension called {d!r}" + did_you_mean(d, sorted(everywhere)),
                hint=f"dimensions: {', '.join(sorted(everywhere)) or 'none'}; add export "
                "columns as dimensions with `extra_columns:`",
            )


def _derived_dimension(
    dim: str, sources: Mapping[str, LoadedSource]
) -> tuple[str, list[str]] | None:
    """For a dimension a derivation gives (tag, from tickets' tags): the loaded source it
    belongs to and the columns it lacks for it; None for any other dimension."""
    for d in DERIVATIONS:
        if dim in d.dimensions and d.source in sources:
            lacking = sorted(d.inputs - columns(d.source, sources))
            if lacking:
                return d.source, lacking
    return None
