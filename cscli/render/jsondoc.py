"""The JSON output contract (DESIGN §6): a stable interface that scripts parse.

`docs/report.schema.json` describes it; a test validates real output against that schema.
Values are machine units; anything that cannot be computed is null, never NaN or infinity.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from cscli import __version__
from cscli.kpis.columns import N_SUFFIX, OPEN_SUFFIX
from cscli.pipeline import (
    PREV_SUFFIX,
    QualityIssue,
    ReportResult,
    is_provisional,
    open_share,
)
from cscli.render import safe


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def kpi_meta(result: ReportResult) -> list[dict[str, Any]]:
    out = []
    for status in result.kpis:
        k = status.kpi
        entry: dict[str, Any] = {
            "id": k.id,
            "title": k.title,
            "unit": k.unit,
            "higher_is_better": k.higher_is_better,
            "source": k.source,
            "definition": k.definition,
            "anchor": k.anchor,
            "params": dict(k.params_described),
        }
        if not status.available:
            entry["unavailable"] = status.reason
        out.append(entry)
    return out


def _values(row: dict[str, Any], result: ReportResult) -> dict[str, Any]:
    out = {}
    for k in result.available:
        if k.id not in row:
            continue
        entry = {"value": _clean(row.get(k.id)), "n": int(row.get(k.id + N_SUFFIX) or 0)}
        if result.compare is not None:
            entry["previous"] = _clean(row.get(k.id + PREV_SUFFIX))
        if k.id + OPEN_SUFFIX in row:
            entry["open_share"] = open_share(row, k)
            entry["provisional"] = is_provisional(row, k)
        out[k.id] = entry
    return out


def _issue(q: QualityIssue) -> dict[str, Any]:
    return {
        "source": q.source,
        "issue": q.issue,
        "rows": q.rows,
        "column": q.column,
        "effect": q.effect,
        "examples": [{"file": f, "row": r} for f, r in q.examples],
    }


def report_document(result: ReportResult, *, now: datetime | None = None) -> dict[str, Any]:
    start, end = result.effective_period
    generated = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    keys = result.group_columns
    rows = []
    if keys:
        for row in result.table.iter_rows(named=True):
            rows.append(
                {
                    "group": {k: _clean(row[k]) for k in keys},
                    "kpis": _values(row, result),
                }
            )
    totals = result.totals.row(0, named=True) if result.totals.height else {}
    return {
        "tool": "cscli",
        "version": __version__,
        "generated_at": generated.isoformat().replace("+00:00", "Z"),
        "period": {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
            "timezone": result.timezone,
        },
        "by": list(result.by),
        "grain": result.grain,
        "compare": (
            {
                "from": result.compare.start.isoformat(),
                "to": result.compare.end.isoformat(),
                "mode": result.compare_to,
            }
            if result.compare and result.compare.start and result.compare.end
            else None
        ),
        "data_end": {name: day.isoformat() for name, day in result.data_ends().items()},
        "kpis": kpi_meta(result),
        "rows": rows,
        "totals": {"kpis": _values(totals, result)},
        "data_quality": [_issue(q) for q in result.data_quality],
    }


def render_json(result: ReportResult, *, now: datetime | None = None) -> str:
    doc = report_document(result, now=now)
    return safe.json_text(doc, indent=2, allow_nan=False) + "\n"
