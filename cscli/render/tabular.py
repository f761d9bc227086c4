"""The report as one flat table, for CSV and Parquet: the export edge.

One row per group (`scope` = group) plus the totals (`scope` = total), with `<kpi>`, `<kpi>_n`
and, with --compare, `<kpi>_previous` in machine units (and `<kpi>_open_share` for a maturing
KPI). It is built from the result's flat frames (`ReportResult.table` and `totals`), the one
renderer that reads them. Parquet embeds the report's metadata (period, definitions, data
quality) under the `cscli` key; a CSV gets it in a `<file>.meta.json` sidecar.

Spreadsheet formula injection: in a CSV every text cell and column name that begins with `=`,
`+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote `'`, so a spreadsheet
shows it as text instead of running it (OWASP's recommendation); see `safe.neutralise`. Numbers
are written as numbers, and a text that is a plain number (`-0.5`) is left as it is.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from cscli.kpis.columns import matures
from cscli.render import safe
from cscli.render.jsondoc import report_document
from cscli.results import Part, ReportResult, column

#: the flat frames' parts of a KPI, with the type a missing one gets
_PARTS: tuple[tuple[Part, type[pl.DataType]], ...] = (
    ("value", pl.Float64),
    ("n", pl.Int64),
    ("previous", pl.Float64),
    ("open_share", pl.Float64),
)


def flat_frame(result: ReportResult) -> pl.DataFrame:
    """Groups then totals, machine units: scope, group columns, <kpi>, <kpi>_n[, _previous]."""
    keys = list(result.group_columns)
    kpi_cols: list[pl.Expr] = []
    for k in result.available:
        kpi_cols.append(pl.col(k.id))
        kpi_cols.append(pl.col(column(k.id, "n")).alias(k.id + "_n"))
        if result.compare is not None:
            kpi_cols.append(pl.col(column(k.id, "previous")).alias(k.id + "_previous"))
        if matures(k.kind):
            kpi_cols.append(pl.col(column(k.id, "open_share")).alias(k.id + "_open_share"))
    parts = []
    if keys and result.table.height:
        table = _ensure(result.table, result)
        parts.append(table.select(pl.lit("group").alias("scope"), *keys, *kpi_cols))
    if result.totals.height:
        totals = _ensure(result.totals, result)
        parts.append(
            totals.select(
                pl.lit("total").alias("scope"),
                *(pl.lit(None, dtype=result.table.schema.get(k, pl.String)).alias(k) for k in keys),
                *kpi_cols,
            )
        )
    if not parts:
        return pl.DataFrame({"scope": []}, schema={"scope": pl.String})
    return pl.concat(parts, how="diagonal_relaxed")


def _ensure(frame: pl.DataFrame, result: ReportResult) -> pl.DataFrame:
    """Every KPI column exists (a KPI with no rows in a window still gets its columns)."""
    missing = []
    for k in result.available:
        for part, dtype in _PARTS:
            name = column(k.id, part)
            if name not in frame.columns:
                missing.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.with_columns(missing) if missing else frame


def metadata(result: ReportResult) -> dict[str, Any]:
    """The JSON contract without its rows: period, filters, definitions, data quality."""
    doc = report_document(result)
    doc.pop("rows")
    doc.pop("totals")
    return doc


def csv_frame(result: ReportResult) -> pl.DataFrame:
    """The flat frame with every formula-like text neutralised, as a CSV carries it."""
    frame: pl.DataFrame = safe.neutralise_frame(flat_frame(result))
    return frame


def flat_csv(result: ReportResult) -> str:
    """The flat report as CSV text (for stdout)."""
    return csv_frame(result).write_csv()
