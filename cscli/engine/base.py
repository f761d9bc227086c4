"""The engine seam: what the pipeline asks of an engine, and the tables it gets back.

The pipeline plans (which KPIs, which windows, which groups, availability); an engine loads the
canonical sources and aggregates. What comes back per window is small (one row per group and
bucket), so it is handed over as polars DataFrames whatever the engine: merging the parts,
filling quiet buckets and attaching the previous window happen once, on the driver, in shared
code.

An engine does three things (`Engine`):

- `load(names)`: the canonical sources, whose columns and dimensions planning reads;
- `aggregate(sources, plan)`: every window of every report of a `Plan` in one pass, with the
  data-quality counts and each source's export time, as `Aggregates`;
- `records(breaches, period, limit)`: the records behind failed check results (`Breach`), as
  one small table with `BREACH_COLUMNS`.

The plan is plain data (KPI kinds are SQL text over canonical columns): nothing here imports
polars at runtime, so a DuckDB or Spark engine implements the same three calls.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from cscli.kpis.columns import columns_used, pending_columns
from cscli.kpis.spec import Kpi, StateTime, Stock

if TYPE_CHECKING:
    import polars as pl

    from cscli.conditions import Condition
    from cscli.period import Period
    from cscli.quality import QualityIssue, SourceSummary

#: the bucket column of a report by grain (the local date that starts the bucket)
PERIOD_COL = "period"

#: the dimensions a breach record lists, and every column of the records table
BREACH_DIMENSIONS = ("channel", "agent", "team", "queue", "priority")
BREACH_COLUMNS = (
    "check",
    "kpi",
    "group",
    "status",
    "source",
    "id",
    "at",
    "value",
    *BREACH_DIMENSIONS,
    "file",
    "row",
)


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """One window to aggregate: the records whose anchor falls in [lo, hi) (UTC; None = open),
    cut by `by` and, with a grain, by bucket (`PERIOD_COL`).

    `trend`: with a grain, also one row per bucket over all groups; `totals`: also one row over
    all groups (with the window's first and last local day of data)."""

    lo: datetime | None
    hi: datetime | None
    by: tuple[str, ...] = ()
    grain: str | None = None
    trend: bool = False
    totals: bool = True


@dataclass(frozen=True, slots=True)
class Flow:
    """The flow KPIs of one source placed in windows by the same anchor: one scan, one query
    per window and cut."""

    source: str
    anchor: str
    kpis: tuple[Kpi, ...]


@dataclass(frozen=True, slots=True)
class ReportPlan:
    """The KPIs of one report (all available) over its windows.

    `by` are the dimensions the records carry (a window may cut by fewer: the previous
    window of a report by grain gives only totals)."""

    kpis: tuple[Kpi, ...]
    by: tuple[str, ...]
    windows: tuple[WindowSpec, ...]

    @property
    def flows(self) -> list[Flow]:
        """The flow KPIs by (source, anchor), in the order they first appear."""
        groups: dict[tuple[str, str], list[Kpi]] = {}
        for k in self.kpis:
            if not isinstance(k.kind, Stock | StateTime):
                groups.setdefault((k.source, k.anchor), []).append(k)
        return [Flow(source, anchor, tuple(ks)) for (source, anchor), ks in groups.items()]

    @property
    def stocks(self) -> list[Kpi]:
        """The stock KPIs: levels over every record, one query each."""
        return [k for k in self.kpis if isinstance(k.kind, Stock)]

    @property
    def intervals(self) -> list[Kpi]:
        """The state-time KPIs: intervals split at bucket edges, not placed by an anchor."""
        return [k for k in self.kpis if isinstance(k.kind, StateTime)]

    @property
    def columns(self) -> dict[str, set[str]]:
        """Per source, every column its KPIs read (derived ones included)."""
        wanted: dict[str, set[str]] = {}
        for k in self.kpis:
            wanted.setdefault(k.source, set()).update(
                columns_used(k.kind) | pending_columns(k.kind)
            )
        return wanted


@dataclass(frozen=True, slots=True)
class Plan:
    """Every report of one run (the checks ask for one per `by`), aggregated in one pass."""

    reports: tuple[ReportPlan, ...]
    timezone: str

    def kpis_of(self, source: str) -> list[Kpi]:
        """The distinct KPIs (by id; the first wins) of one source over every report: whose
        data-quality rules apply to it."""
        seen: dict[str, Kpi] = {}
        for report in self.reports:
            for k in report.kpis:
                if k.source == source:
                    seen.setdefault(k.id, k)
        return list(seen.values())


# --- what comes back ----------------------------------------------------------------------


@dataclass
class WindowTables:
    """The aggregated results of one window (the period, or a previous one).

    grouped      per anchor: one row per group (and bucket, with a grain): group columns,
                 then `<id>`, `<id>__n` (and `<id>__open`) per KPI
    totals       per anchor: one row over all groups, plus `_first`/`_last` (local days)
    trend        with a grain, a `by` and a trend: per anchor, one row per bucket over all groups
    stock_rows   stock KPIs cut by a grain: (kpi, event counts, dims) to turn into levels
    stock_trend  the same over all groups, for the trend
    """

    grouped: list[pl.DataFrame] = field(default_factory=list)
    totals: list[pl.DataFrame] = field(default_factory=list)
    trend: list[pl.DataFrame] = field(default_factory=list)
    stock_rows: list[tuple[Kpi, pl.DataFrame, list[str]]] = field(default_factory=list)
    stock_trend: list[tuple[Kpi, pl.DataFrame]] = field(default_factory=list)


@dataclass(frozen=True)
class Aggregates:
    """The results of a `Plan`: per report, per window, the tables; the data-quality findings
    and a summary of every source loaded; per source, its export time (UTC)."""

    reports: tuple[tuple[WindowTables, ...], ...]
    issues: tuple[QualityIssue, ...]
    sources: tuple[SourceSummary, ...]
    data_end: Mapping[str, datetime]


@dataclass(frozen=True, slots=True)
class Breach:
    """A failed (or warned) check result whose records are wanted: `kpi` in the group `group`
    of a report by `by`. `condition` is the threshold that decided (None for a change rule:
    every record the KPI counts); `check`, `label` and `status` label the records."""

    kpi: Kpi
    by: tuple[str, ...]
    group: Mapping[str, object]
    condition: Condition | None
    check: str
    label: str
    status: str


# --- the engine ---------------------------------------------------------------------------

SourceT = TypeVar("SourceT")


class Engine(Protocol[SourceT]):
    """Where KPI kinds are computed; `SourceT` is the engine's handle of a loaded source.

    `name` and `version` label a report ("duckdb 2.0.1"); `derivations` and `kinds` are the
    names of the derivations and kinds the engine computes (None: all), for availability."""

    name: str
    version: str
    derivations: frozenset[str] | None
    kinds: frozenset[str] | None
    #: derivations refused for this config, with why (a calendar SQL cannot measure exactly)
    refusals: Mapping[str, str]

    def close(self) -> None:
        """Release what the engine holds (a database session, materialised files)."""
        ...

    def load(self, names: Collection[str]) -> Mapping[str, SourceT]:
        """The canonical sources of these names (raises UsageError / ConfigError)."""
        ...

    def aggregate(self, sources: Mapping[str, SourceT], plan: Plan) -> Aggregates:
        """Every window of every report of the plan, with the quality counts, in one pass."""
        ...

    def records(self, breaches: Sequence[Breach], period: Period, limit: int) -> pl.DataFrame:
        """The records behind each breach in the period (at most `limit` each), one row per
        record with `BREACH_COLUMNS`."""
        ...
