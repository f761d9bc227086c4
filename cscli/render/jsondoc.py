"""The JSON output contract (DESIGN §6): a stable interface that scripts parse.

`docs/report.schema.json` describes it; a test validates real output against that schema.
Values are machine units; anything that cannot be computed is null, never NaN or infinity.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from cscli import __version__
from cscli.render import safe
from cscli.results import ReportResult, Row

if TYPE_CHECKING:
    from cscli.quality import QualityIssue


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


def _values(row: Row, result: ReportResult) -> dict[str, Any]:
    out = {}
    for k in result.available:
        if not row.has(k.id):
            continue
        v = row.kpi(k.id)
        entry: dict[str, Any] = {"value": _clean(v.value), "n": v.n}
        if result.compare is not None:
            entry["previous"] = _clean(v.previous)
        if v.matures:
            entry["open_share"] = v.open_share
            entry["provisional"] = v.provisional
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
    rows = [
        {"group": {k: _clean(v) for k, v in row.group.items()}, "kpis": _values(row, result)}
        for row in result.rows
    ]
    doc: dict[str, Any] = {
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
        "totals": {"kpis": _values(result.total, result)},
        "data_quality": [_issue(q) for q in result.data_quality],
    }
    if result.overlapping:  # the rows do not sum to the totals (a ticket in each tag's group)
        doc["overlapping"] = list(result.overlapping)
    # a database source read only the rows since a day: what the findings count
    read = {s.name: s.read for s in result.sources if s.read.startswith("rows read: since")}
    if read:
        doc["rows_read"] = read
    return doc


def render_json(result: ReportResult, *, now: datetime | None = None) -> str:
    doc = report_document(result, now=now)
    return safe.json_text(doc, indent=2, allow_nan=False) + "\n"
