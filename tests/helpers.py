"""Small readers of a ReportResult shared by the KPI tests, and a KPI of any kind."""

from __future__ import annotations

from typing import Any

import polars as pl

from cscli.kpis.spec import Built, Kind, Kpi, KpiDef, instantiate
from cscli.pipeline import ReportResult


def kpi_of(kind: Kind, kpi_id: str = "k", good: bool | None = True) -> Kpi:
    """A tickets KPI of `kind` as it is, anchored at created_at."""
    base = KpiDef(
        id=kpi_id,
        title=kpi_id,
        short=kpi_id,
        source="tickets",
        unit="count",
        higher_is_better=good,
        anchor="created_at",
        definition="a test KPI",
        build=lambda _params: Built(kind),
    )
    return instantiate(base)


def totals(result: ReportResult) -> dict[str, Any]:
    """The totals row as a dict."""
    assert result.totals.height == 1
    return result.totals.row(0, named=True)


def row(result: ReportResult, **keys: Any) -> dict[str, Any]:
    """The one row of the grouped table whose group columns equal `keys` (None = null)."""
    table = result.table
    for column, value in keys.items():
        table = table.filter(pl.col(column).is_null() if value is None else pl.col(column) == value)
    assert table.height == 1, f"expected one row for {keys}, got:\n{result.table}"
    return table.row(0, named=True)


def vn(values: dict[str, Any], kpi: str) -> tuple[Any, int]:
    """(value, n) of one KPI in a totals or table row."""
    return values[kpi], values[kpi + "__n"]
