"""The report as GitHub-flavoured Markdown, with human units: for a PR comment, a wiki page or
a chat message.

A summary table of the totals, one breakdown table per source, then the notes, the
definitions and the data-quality findings. Every text from the data or the config goes through
`safe.markdown`, so a value cannot become a link, an image, HTML or an extra table cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cscli.render import safe
from cscli.render.labels import by_source, group_labels, marked, with_records
from cscli.results import ReportResult, Row
from cscli.units import change, format_change, format_value

if TYPE_CHECKING:
    from cscli.kpis.spec import Kpi


def _md(text: object) -> str:
    """A table cell or text from the data or config: see `safe.markdown`."""
    return safe.markdown(text)


def _md_value(row: Row, k: Kpi, compare: bool) -> str:
    v = row.kpi(k.id)
    text = format_value(v.value, k.unit)
    if marked(v):
        text += "\\*"
    if compare:
        delta = change(v.value, v.previous, k.unit)
        if delta is not None:
            text += f" ({format_change(delta, k.unit)})"
    return text


def render_markdown(result: ReportResult) -> str:
    """GitHub-flavoured Markdown with human units, for a PR comment, wiki page or chat."""
    start, end = result.effective_period
    compare = result.compare is not None
    lines = [f"# cscli report: {start or '…'} → {end or '…'} ({_md(result.timezone)})", ""]
    scope = []
    if result.by:
        scope.append(f"by {_md(', '.join(result.by))}")
    if result.grain:
        scope.append(f"per {result.grain}")
    if result.compare is not None:
        scope.append(f"compared with {result.compare.start} → {result.compare.end}")
    if scope:
        lines += [" · ".join(scope), ""]
    totals = result.total
    kpis = result.available
    lines += ["| KPI | Value | n |", "| --- | ---: | ---: |"]
    for k in kpis:
        lines.append(
            f"| {_md(k.title)} | {_md_value(totals, k, compare)} | {totals.kpi(k.id).n:,} |"
        )
    keys = list(result.group_columns)
    for title, group in by_source(kpis):
        mine = with_records(result.rows, group)
        if not mine:
            continue
        lines += ["", f"## {title}", ""]
        header = [*map(_md, keys), *(_md(k.title) for k in group)]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("| " + " | ".join(["---"] * len(keys) + ["---:"] * len(group)) + " |")
        for r in mine:
            cells = [_md(label) for label in group_labels(r, result.grain)]
            cells += [_md_value(r, k, compare) for k in group]
            lines.append("| " + " | ".join(cells) + " |")
    lines += _notes_markdown(result)
    return "\n".join(lines) + "\n"


def _notes_markdown(result: ReportResult) -> list[str]:
    lines = []
    if result.provisional():
        lines += [
            "",
            "\\* provisional: more than 5% of the value's cohort is still open at the export "
            "time, so it will still move.",
        ]
    overlap = result.overlap_note()
    if overlap:
        lines += ["", f"Note: {_md(overlap)}."]
    for name, day in result.data_ends().items():
        lines += [
            "",
            f"Note: {_md(name)} data ends {day} (its newest record), before the period's end "
            f"{result.period.end}: the days after are unknown, not quiet.",
        ]
    lines += ["", "## Definitions", ""]
    for s in result.kpis:
        k = s.kpi
        extra = f" *Unavailable: {_md(s.reason)}.*" if not s.available else ""
        lines.append(f"- **{_md(k.title)}** (`{k.id}`): {_md(k.definition)}{extra}")
    if result.data_quality:
        lines += ["", "## Data quality", ""]
        for q in result.data_quality:
            where = ", ".join(f"{f}:{r}" for f, r in q.examples)
            lines.append(
                f"- {_md(q.source)}: {q.rows:,} row(s) {_md(q.issue)} ({_md(where)}): "
                f"{_md(q.effect)}"
            )
    return lines
