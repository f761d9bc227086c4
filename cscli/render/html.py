"""One self-contained HTML report: KPI tiles, a trend chart per KPI, breakdowns, notes.

The file works offline and fetches nothing: CSS is inline, charts are inline SVG (`charts`
draws a polyline or bars per KPI, a few KB each, no JavaScript), and a Content-Security-Policy meta
forbids any network request. The page comes from a jinja2 template with autoescape on, so every
text from the data (group values such as agent names, KPI titles from the config, file names,
data-quality texts) is HTML-escaped; this module passes plain strings and numbers, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cscli import __version__
from cscli.kpis.spec import Count, Kpi
from cscli.output import write_atomic
from cscli.render.charts import MONTHS, charts
from cscli.render.heatmap import heatmaps
from cscli.render.labels import by_source, change_tone, group_labels, marked, with_records
from cscli.results import PERIOD_COL, ReportResult, Row
from cscli.units import change, format_change, format_value

if TYPE_CHECKING:
    from cscli.quality import QualityIssue

TEMPLATES = Path(__file__).with_name("templates")
GRAIN_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}


def write_html(
    result: ReportResult, path: Path, *, now: datetime | None = None, min_n: int | None = None
) -> list[Path]:
    return [write_atomic(path, render_html(result, now=now, min_n=min_n))]


def render_html(
    result: ReportResult, *, now: datetime | None = None, min_n: int | None = None
) -> str:
    """The report as one HTML document (UTF-8 text). A value resting on fewer than `min_n`
    records is drawn faded in the charts and its change is not coloured good or bad."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    page = _page(result, now, result.min_n if min_n is None else min_n)
    return env.get_template("report.html.j2").render(page=page)


# --- the view model: plain strings and numbers for the template ---------------------------


@dataclass(frozen=True)
class Change:
    text: str  # "▲ +8%"
    tone: str  # good | bad | neutral


@dataclass(frozen=True)
class Tile:
    title: str
    value: str
    n: str
    change: Change | None
    previous: str | None


@dataclass(frozen=True)
class Cell:
    value: str
    change: Change | None = None
    n: str = ""
    missing: bool = False


@dataclass(frozen=True)
class BreakdownRow:
    keys: list[str]  # a key equal to the row above's is blank, as in a pivot table
    cells: list[Cell]
    first: bool  # the first row of a new outer group: a rule above it


@dataclass(frozen=True)
class Breakdown:
    title: str
    keys: list[str]
    kpis: list[str]
    rows: list[BreakdownRow]
    total: list[Cell]
    wide: bool = False  # too many columns for A4 portrait: printed on landscape pages


#: a breakdown wider than this many value columns (a change counts as one) prints landscape
PORTRAIT_COLUMNS = 7


def _page(result: ReportResult, now: datetime | None, min_n: int) -> dict[str, Any]:
    start, end = result.effective_period
    generated = (now or datetime.now(UTC)).astimezone(ZoneInfo(result.timezone))
    totals = result.total
    kpis = result.available
    scope = []
    if result.by:
        scope.append(f"by {', '.join(result.by)}")
    if result.grain:
        scope.append(GRAIN_WORDS.get(result.grain, f"per {result.grain}"))
    compare = None
    if result.compare is not None:
        compare = _span(result.compare.start, result.compare.end)
    trend_charts, chart_note = charts(result, min_n=min_n)
    return {
        "title": "Customer service report",
        "period": _span(start, end) if start or end else "no records",
        "all_data": not (result.period.start or result.period.end),
        "days": (end - start).days + 1 if start and end else None,
        "timezone": result.timezone,
        "scope": scope,
        "compare": compare,
        "generated": f"{_day(generated.date())} {generated:%H:%M} {generated.tzname() or ''}",
        "generated_iso": generated.isoformat(timespec="seconds"),
        "version": __version__,
        "config": result.config_path.name,
        "tiles": _tiles(kpis, totals, result.compare is not None, min_n),
        "charts": trend_charts,
        "chart_note": chart_note,
        "grain": result.grain,
        "change_note": _change_note(result, min_n),
        "breakdowns": _breakdowns(result, totals, min_n),
        "heatmaps": heatmaps(result),
        "min_n": min_n,
        "unavailable": [(s.kpi.title, s.reason or "") for s in result.kpis if not s.available],
        "quality": [_quality(q) for q in result.data_quality],
        "notes": _notes(result),
        "sources": [
            (
                s.name,
                ", ".join(f.name for f in s.files) + (f" ({s.read})" if s.read else ""),
                f"{s.rows:,}",
            )
            for s in result.sources
        ],
        "definitions": [_definition(s.kpi, s.reason) for s in result.kpis],
        "empty": not kpis,
    }


def _day(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _span(start: date | None, end: date | None) -> str:
    return f"{_day(start) if start else '…'} – {_day(end) if end else '…'}"


def _shown(row: Row, k: Kpi) -> str:
    """A value as shown; a provisional one (its cohort still open) is followed by `*`."""
    v = row.kpi(k.id)
    text = format_value(v.value, k.unit)
    return text + "*" if marked(v) else text


def _change_note(result: ReportResult, min_n: int) -> str:
    if result.compare is None:
        return ""
    faint = (
        f" A change resting on fewer than {min_n} records is grey, not green or red: it is noise."
    )
    return _compare_note(result) + faint


def _compare_note(result: ReportResult) -> str:
    if result.grain:
        step = (
            "the same bucket a year earlier"
            if result.compare_to == "yoy"
            else (f"the previous whole {result.grain}")
        )
        return (
            f"Changes compare each row with {step} of the same group (none for a {result.grain} "
            "the period cuts)."
        )
    return "Changes compare each row with the same group in the previous period."


def _notes(result: ReportResult) -> list[str]:
    """Provisional values, overlapping groups and a period that runs past the data."""
    notes = []
    if result.provisional():
        notes.append(
            "* provisional: more than 5% of the value's cohort is still open at the export "
            "time, so it will still move."
        )
    overlap = result.overlap_note()
    if overlap:
        notes.append(overlap[0].upper() + overlap[1:] + ".")
    for name, day in result.data_ends().items():
        notes.append(
            f"{name}: data ends {_day(day)} (its newest record), before the period's end: "
            "the days after are unknown, not quiet."
        )
    return notes


def _change(row: Row, kpi: Kpi, min_n: int) -> Change | None:
    """The change against the previous value; on fewer than `min_n` records (a count is exact,
    never few) it is shown faint instead of good or bad."""
    v = row.kpi(kpi.id)
    delta = change(v.value, v.previous, kpi.unit)
    if delta is None:
        return None
    text = format_change(delta, kpi.unit)
    if delta == 0:
        return Change(f"= {text}", "neutral")
    few = not isinstance(kpi.kind, Count) and v.n < min_n
    tone = "faint" if few else change_tone(delta, kpi)
    return Change(f"{'▲' if delta > 0 else '▼'} {text}", tone)


def _n(row: Row, kpi: Kpi) -> str:
    return f"{row.kpi(kpi.id).n:,}"


def _tiles(
    kpis: Sequence[Kpi], totals: Row, compare: bool, min_n: int
) -> list[tuple[str, list[Tile]]]:
    return [
        (
            title,
            [
                Tile(
                    title=k.title,
                    value=_shown(totals, k),
                    n=_n(totals, k),
                    change=_change(totals, k, min_n) if compare else None,
                    previous=format_value(totals.kpi(k.id).previous, k.unit) if compare else None,
                )
                for k in mine
            ],
        )
        for title, mine in by_source(kpis)
    ]


def _cells(row: Row, kpis: Sequence[Kpi], compare: bool, min_n: int) -> list[Cell]:
    return [
        Cell(
            value=_shown(row, k),
            change=_change(row, k, min_n) if compare else None,
            n=_n(row, k),
            missing=row.kpi(k.id).value is None,
        )
        for k in kpis
    ]


def _breakdowns(result: ReportResult, totals: Row, min_n: int) -> list[Breakdown]:
    keys = list(result.group_columns)
    compare = result.compare is not None
    out = []
    for title, group in by_source(result.available):
        # a group with no record of these KPIs adds nothing to the table (as in the terminal)
        mine = with_records(result.rows, group)
        if not mine:
            continue
        out.append(
            Breakdown(
                title=title,
                keys=[result.grain if c == PERIOD_COL and result.grain else c for c in keys],
                kpis=[k.title for k in group],
                rows=_rows(mine, len(keys), group, result.grain, compare, min_n),
                total=_cells(totals, group, compare, min_n),
                wide=len(keys) + len(group) * (2 if compare else 1) > PORTRAIT_COLUMNS,
            )
        )
    return out


def _rows(
    rows: list[Row],
    n_keys: int,
    kpis: Sequence[Kpi],
    grain: str | None,
    compare: bool,
    min_n: int,
) -> list[BreakdownRow]:
    out = []
    previous: list[str] = []
    for r in rows:
        labels = group_labels(r, grain)
        shown = [
            "" if i < len(labels) - 1 and labels[: i + 1] == previous[: i + 1] else label
            for i, label in enumerate(labels)
        ]
        first = bool(previous) and n_keys > 1 and labels[0] != previous[0]
        out.append(BreakdownRow(shown, _cells(r, kpis, compare, min_n), first))
        previous = labels
    return out


def _quality(q: QualityIssue) -> dict[str, str]:
    where = ", ".join(f"{f}:{r}" for f, r in q.examples)
    more = ", …" if q.rows > len(q.examples) else ""
    return {
        "source": q.source,
        "rows": f"{q.rows:,} row{'s' if q.rows != 1 else ''}",
        "issue": q.issue,
        "where": f"{where}{more}",
        "effect": q.effect,
    }


def _definition(kpi: Kpi, reason: str | None) -> dict[str, str]:
    better = {True: "higher is better", False: "lower is better", None: "no direction"}
    return {
        "title": kpi.title,
        "id": kpi.id,
        "definition": kpi.definition,
        "unit": kpi.unit,
        "better": better[kpi.higher_is_better],
        "source": kpi.source,
        "unavailable": reason or "",
    }
