"""The engine seam: what the pipeline asks of an engine, and the tables it gets back.

The pipeline plans (which KPIs, which windows, which groups, availability); an engine loads the
canonical sources and aggregates. What comes back per window is small (one row per group and
bucket), so it is handed over as polars DataFrames whatever the engine: merging the parts,
filling quiet buckets and attaching the previous window happen once, on the driver, in shared
code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from cscli.kpis.spec import Kpi


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
