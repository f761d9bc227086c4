"""The records behind KPIs on polars: those a group's value rests on, and those behind a breach.

`kpi_records` gives, lazily, the usable records of a KPI's source in a period and group,
enriched as the report was (`cscli feedback` reads them); `breach_records` keeps the ones
behind each failed check result (`compile.breach`) and lists them with their dimensions and
file and line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from cscli.business_hours.assignment import business_hours
from cscli.config import Config
from cscli.derived import CONTACT_MEASURES, CONTACT_SOURCES, MULTI_VALUED, WINDOW_MEASURES
from cscli.engine.base import BREACH_COLUMNS, BREACH_DIMENSIONS, Breach
from cscli.engine.polars.bands import with_business_bands
from cscli.engine.polars.compile import breach, with_as_of
from cscli.engine.polars.enrich import Progress, enriched, with_age
from cscli.engine.polars.sources import load_sources
from cscli.kpis.columns import columns_used
from cscli.kpis.spec import Kpi, Stock
from cscli.period import Period
from cscli.schema import DERIVED_TABLES, TABLES


def kpi_records(
    config: Config,
    items: Sequence[tuple[Kpi, Sequence[str], Mapping[str, object]]],
    period: Period,
    *,
    progress: Progress | None = None,
) -> list[pl.LazyFrame]:
    """The records behind KPIs in given groups: for each (kpi, by, group), the usable records
    of its source in the period (by its anchor; every record for stock KPIs), enriched as the
    report was, with `_file` and `_row` where the source has them. Lazy; the caller filters."""
    needed: set[str] = set()
    for kpi, by, _ in items:
        needed.add(kpi.source)
        if kpi.source == "contacts" or by or columns_used(kpi.kind) & CONTACT_MEASURES:
            needed |= set(CONTACT_SOURCES)
        if kpi.source == "sla_targets":
            needed |= {"tickets", "ticket_comments", "ticket_events"}
    sources = load_sources(config, {n for n in needed if n in config.sources})
    hours = business_hours(config)
    lo, hi = period.bounds_utc()
    out = []
    for kpi, by, group in items:
        frame = enriched(
            kpi.source, sources, by, columns_used(kpi.kind), progress, hours, config.sla_policies
        )
        if columns_used(kpi.kind) & WINDOW_MEASURES:
            frame = with_age(frame, frozenset(frame.collect_schema().names()), hours)
        frame = with_as_of(frame, kpi.kind, hi)  # over every record, before the group's
        frame = with_business_bands(frame, kpi.kind, hours, kpi.source)
        if not isinstance(kpi.kind, Stock):
            at = pl.col(kpi.anchor)
            frame = frame.filter(at.is_not_null())
            if lo is not None:
                frame = frame.filter(at >= lo)
            if hi is not None:
                frame = frame.filter(at < hi)
        for dim, value in group.items():
            col = pl.col(dim)
            if value is None:
                frame = frame.filter(col.is_null())
            elif dim in MULTI_VALUED:  # a record is in the group of each of its values
                frame = frame.filter(col.list.contains(pl.lit(value, pl.String)).fill_null(False))
            else:
                frame = frame.filter(col == value)
        out.append(frame)
    return out


def breach_records(
    config: Config, breaches: Sequence[Breach], period: Period, limit: int
) -> pl.DataFrame:
    """One row per record behind each breach (at most `limit` each), with `BREACH_COLUMNS`."""
    if not breaches:
        return pl.DataFrame(schema=dict.fromkeys(BREACH_COLUMNS, pl.String))
    frames = kpi_records(config, [(b.kpi, b.by, b.group) for b in breaches], period)
    _, hi = period.bounds_utc()
    queries = []
    for b, frame in zip(breaches, frames, strict=True):
        predicate, value = breach(b.kpi, b.condition, hi, frame.collect_schema())
        if b.kpi.source == "sla_targets":  # a target's own value: the time on its clock
            value = pl.col("elapsed_seconds")
        extra = _sla_columns() if b.kpi.source == "sla_targets" else []
        queries.append(_listed(frame, predicate, value, b, limit, extra))
    out = pl.concat(pl.collect_all(queries), how="diagonal_relaxed")
    if not any(b.kpi.source == "sla_targets" for b in breaches):
        return out
    return out.select(*BREACH_COLUMNS, *SLA_BREACH_COLUMNS)


#: the columns a breach of an SLA-policy KPI adds after BREACH_COLUMNS (null on other rows)
SLA_BREACH_COLUMNS = (
    "ticket_id",
    "policy",
    "target",
    "hours",
    "due_at",
    "stopped_at",
    "target_seconds",
    "elapsed_seconds",
)


def _sla_columns() -> list[pl.Expr]:
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return [
        pl.col(c).dt.to_string(stamp).alias(c)
        if c in ("due_at", "stopped_at")
        else pl.col(c).alias(c)
        for c in SLA_BREACH_COLUMNS
    ]


def _listed(
    frame: pl.LazyFrame,
    predicate: pl.Expr,
    value: pl.Expr | None,
    b: Breach,
    limit: int,
    extra: Sequence[pl.Expr] = (),
) -> pl.LazyFrame:
    """The first `limit` records of `frame` behind a breach, as rows of the records table."""
    kpi = b.kpi
    table = TABLES.get(kpi.source) or DERIVED_TABLES[kpi.source]
    names = frame.collect_schema().names()
    return (
        frame.filter(predicate)
        .head(limit)
        .select(
            pl.lit(b.check).alias("check"),
            pl.lit(kpi.id).alias("kpi"),
            pl.lit(b.label).alias("group"),
            pl.lit(b.status).alias("status"),
            pl.lit(kpi.source).alias("source"),
            pl.col(table.id_column).cast(pl.String).alias("id")
            if table.id_column in names
            else pl.lit(None, pl.String).alias("id"),
            pl.col(kpi.anchor).dt.to_string("%Y-%m-%dT%H:%M:%SZ").alias("at"),
            (value if value is not None else pl.lit(None, pl.Float64)).alias("value"),
            *(
                (pl.col(d) if d in names else pl.lit(None, pl.String)).cast(pl.String).alias(d)
                for d in BREACH_DIMENSIONS
            ),
            (pl.col("_file") if "_file" in names else pl.lit(None, pl.String)).alias("file"),
            (pl.col("_row") if "_row" in names else pl.lit(None, pl.Int64))
            .cast(pl.Int64)
            .alias("row"),
            *extra,
        )
    )
