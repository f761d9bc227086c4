"""`PolarsEngine`: the engine seam (`cscli.engine.base.Engine`) on polars, the default.

One `aggregate` builds, per report, the enriched lazy records of each source its KPIs read,
then every window's queries (`window.add_window`), then one data-quality query per source
(which also finds the source's export time), and collects them all in a single
`pl.collect_all`. Every query reads a source through one cached node (`shared`), so each file
is scanned and parsed once per batch: left to itself, polars shares a scan only between
queries whose plans below the aggregation are equal, and the anchors' filters, the quality
counts and the survey lookups differ.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import polars as pl

from cscli.business_hours.assignment import business_hours
from cscli.config import Config
from cscli.engine.base import Aggregates, Breach, Plan
from cscli.engine.polars.batch import Batch
from cscli.engine.polars.enrich import Progress, enriched
from cscli.engine.polars.facts import TIMESTAMPS
from cscli.engine.polars.loader import LoadedSource
from cscli.engine.polars.quality import Check, quality_checks, quality_query, quality_results
from cscli.engine.polars.records import breach_records
from cscli.engine.polars.sla import UNMEASURED, unmeasured
from cscli.engine.polars.sources import load_sources
from cscli.engine.polars.window import add_window
from cscli.engine.reads import Reads, needed, with_export_time
from cscli.period import Period

#: why a database source is read whole when its newest record is older than the earliest window
STALE = Reads(why_all="its newest record is older than the report's earliest window")


def shared(sources: Mapping[str, LoadedSource]) -> dict[str, LoadedSource]:
    """The sources, each read through one cached node: the queries of a batch that read a
    source, whatever they filter, share its scan and its parsed columns (the node keeps the
    union of the columns they ask for; the streaming engine hands each of them the same
    morsels). Not on the in-memory engine (`POLARS_ENGINE_AFFINITY=in-memory`), which would
    hold the node whole, every column of every row at once: there polars' own sharing of
    equal subplans is kept."""
    if pl.Config.state().get("POLARS_ENGINE_AFFINITY") == "in-memory":
        return dict(sources)
    return {name: replace(source, frame=source.frame.cache()) for name, source in sources.items()}


#: the rows above which a source's queries are collected with one memory-intensive node at a
#: time (`cscli.engine.polars.batch`): below, the shared scan's buffering costs less than the
#: extra reads (at 10M rows +20% time for −1 GB); above, it grows to gigabytes
ONE_HEAVY_ROWS = 25_000_000
#: the bytes of CSV per row assumed when counting a CSV source's rows from its size
_CSV_ROW_BYTES = 100


def rows_hint(source: LoadedSource) -> int:
    """About how many rows a source's files hold: Parquet's metadata, a CSV's size over
    `_CSV_ROW_BYTES`; 0 for a database source (its reader narrows the rows)."""
    if source.reader is not None or not source.files:
        return 0
    parquet = [f for f in source.files if f.suffix.lower() == ".parquet"]
    rows = 0
    try:
        if parquet:
            rows = int(pl.scan_parquet(parquet).select(pl.len()).collect().item())
        others = [f for f in source.files if f.suffix.lower() != ".parquet"]
        return rows + sum(f.stat().st_size for f in others) // _CSV_ROW_BYTES
    except (OSError, pl.exceptions.PolarsError):  # the batch's read reports what is wrong
        return 0


def _reaches(end: object, start: datetime | None) -> bool:
    """Whether a source's export time is at or after the earliest window's start."""
    return start is None or (isinstance(end, datetime) and end >= start)


class PolarsEngine:
    """The sources of one config, aggregated with polars; `progress` hears of slow steps
    (scoring sentiment)."""

    name = "polars"
    #: the reference engine computes every derivation and kind
    derivations: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    refusals: Mapping[str, str] = {}

    def __init__(self, config: Config, *, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress
        self.version: str = pl.__version__

    def close(self) -> None:
        """Nothing to release: polars holds no session."""

    def load(self, names: Collection[str]) -> dict[str, LoadedSource]:
        return load_sources(self.config, names)

    def aggregate(self, sources: Mapping[str, LoadedSource], plan: Plan) -> Aggregates:
        return self._aggregate(sources, plan, frozenset())

    def _aggregate(
        self, sources: Mapping[str, LoadedSource], plan: Plan, whole: frozenset[str]
    ) -> Aggregates:
        """`whole`: the database sources read whole, their newest record being older than the
        earliest window (their export time is then not among the rows a bound reads)."""
        hours = business_hours(self.config)
        for name, source in sources.items():
            if source.reader is not None:  # a database source reads only what the plan needs
                reads = needed(plan, name, sources.keys()) if name not in whole else STALE
                stamps = [c for c in TIMESTAMPS.get(name, ()) if c in source.columns]
                source.reader.restrict(with_export_time(reads, stamps), plan.timezone)
        batch = Batch(one_heavy=max(map(rows_hint, sources.values()), default=0) > ONE_HEAVY_ROWS)
        planned = []
        read = shared(sources)
        for report in plan.reports:
            frames = {
                name: enriched(
                    name, read, report.by, cols, self.progress, hours, self.config.sla_policies
                )
                for name, cols in report.columns.items()
            }
            planned.append(
                [add_window(batch, frames, report, w, plan.timezone, hours) for w in report.windows]
            )
        checks = {
            name: quality_checks(sources[name], plan.kpis_of(name)) for name in sorted(sources)
        }
        sla = [k.id for k in plan.kpis_of("sla_targets")]
        if sla and "tickets" in checks:
            columns = sources["tickets"].columns
            predicate = unmeasured(self.config.sla_policies, columns)
            effect = f"not measured for that target by {', '.join(sla)}"
            checks["tickets"].append(Check(UNMEASURED, predicate, "priority", effect))
        quality = {name: batch.add(quality_query(read[name], checks[name])) for name in checks}
        try:
            batch.collect()
        except pl.exceptions.PolarsError as e:
            # a malformed line past the rows read up front: name the file and line
            from cscli.engine.polars.loader import explain_read_error

            raise explain_read_error(self.config.sources, self.config.base_dir, e) from e
        counts = {name: batch[i] for name, i in quality.items()}
        stale = {
            name
            for name, source in sources.items()
            if source.reader is not None
            and source.reader.pushed is not None
            and not _reaches(counts[name]["_end"][0], source.reader.start)
        }
        if stale:  # rare: a period after the data; read those sources again, whole
            return self._aggregate(sources, plan, whole | stale)
        issues, summaries = quality_results(sources, checks, counts)
        ends = {
            name: end
            for name, frame in counts.items()
            if isinstance(end := frame["_end"][0], datetime)
        }
        return Aggregates(
            reports=tuple(tuple(w.tables(batch) for w in windows) for windows in planned),
            issues=tuple(issues),
            sources=tuple(summaries),
            data_end=ends,
        )

    def records(self, breaches: Sequence[Breach], period: Period, limit: int) -> pl.DataFrame:
        return breach_records(self.config, breaches, period, limit)
