"""Small readers of a ReportResult shared by the KPI tests."""

from __future__ import annotations

from typing import Any

import polars as pl

from cscli.pipeline import ReportResult


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
