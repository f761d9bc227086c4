"""One self-contained HTML report: KPI tiles, a trend chart per KPI, breakdowns, notes.

The file works offline and fetches nothing: CSS is inline, charts are inline SVG drawn here
(a polyline or bars per KPI, a few KB each, no JavaScript), and a Content-Security-Policy meta
forbids any network request. The page comes from a jinja2 template with autoescape on, so every
text from the data (group values such as agent names, KPI titles from the config, file names,
data-quality texts) is HTML-escaped; this module passes plain strings and numbers, never markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from cscli import __version__
from cscli.kpis.columns import N_SUFFIX
from cscli.kpis.spec import Kpi
from cscli.output import write_atomic
from cscli.pipeline import PERIOD_COL, PREV_SUFFIX, QualityIssue, ReportResult, is_provisional
from cscli.render.terminal import SOURCE_TITLES, period_label
from cscli.units import Unit, change, format_change, format_value

TEMPLATES = Path(__file__).with_name("templates")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
GRAIN_WORDS = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
#: series colours when the chart shows one line per group (colour-blind safe, Okabe–Ito)
PALETTE = ("#2563eb", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
MAX_SERIES = len(PALETTE)
#: chart canvas (SVG user units; the SVG scales to its card's width)
WIDTH, HEIGHT = 560, 210
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 12, 26


def write_html(result: ReportResult, path: Path, *, now: datetime | None = None) -> list[Path]:
    return [write_atomic(path, render_html(result, now=now))]


def render_html(result: ReportResult, *, now: datetime | None = None) -> str:
    """The report as one HTML document (UTF-8 text)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2").render(page=_page(result, now))


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
class Row:
    keys: list[str]  # a key equal to the row above's is blank, as in a pivot table
    cells: list[Cell]
    first: bool  # the first row of a new outer group: a rule above it


@dataclass(frozen=True)
class Breakdown:
    title: str
    keys: list[str]
    kpis: list[str]
    rows: list[Row]
    total: list[Cell]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    partial: bool


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    partial: bool


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    segments: list[str]  # polyline `points`, one per run of known values
    points: list[Point]


@dataclass
class Chart:
    id: str
    title: str
    total: str
    description: str
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    reference: tuple[float, str] | None = None
    baseline: float = HEIGHT - BOTTOM
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP

    @property
    def has_partial(self) -> bool:
        return any(b.partial for b in self.bars) or any(
            p.partial for s in self.series for p in s.points
        )


def _page(result: ReportResult, now: datetime | None) -> dict[str, Any]:
    start, end = result.effective_period
    generated = (now or datetime.now(UTC)).astimezone(ZoneInfo(result.timezone))
    totals = result.totals.row(0, named=True) if result.totals.height else {}
    kpis = result.available
    scope = []
    if result.by:
        scope.append(f"by {', '.join(result.by)}")
    if result.grain:
        scope.append(GRAIN_WORDS.get(result.grain, f"per {result.grain}"))
    compare = None
    if result.compare is not None:
        compare = _span(result.compare.start, result.compare.end)
    charts, chart_note = _charts(result, totals)
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
        "tiles": _tiles(kpis, totals, result.compare is not None),
        "charts": charts,
        "chart_note": chart_note,
        "grain": result.grain,
        "change_note": _change_note(result),
        "breakdowns": _breakdowns(result, totals),
        "unavailable": [(s.kpi.title, s.reason or "") for s in result.kpis if not s.available],
        "quality": [_quality(q) for q in result.data_quality],
        "notes": _notes(result),
        "sources": [
            (s.name, ", ".join(f.name for f in s.files), f"{s.rows:,}") for s in result.sources
        ],
        "definitions": [_definition(s.kpi, s.reason) for s in result.kpis],
        "empty": not kpis,
    }


def _day(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _span(start: date | None, end: date | None) -> str:
    return f"{_day(start) if start else '…'} – {_day(end) if end else '…'}"


def _shown(row: dict[str, Any], k: Kpi) -> str:
    """A value as shown; a provisional one (its cohort still open) is followed by `*`."""
    text = format_value(row.get(k.id), k.unit)
    return text + "*" if row.get(k.id) is not None and is_provisional(row, k) else text


def _change_note(result: ReportResult) -> str:
    if result.compare is None:
        return ""
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
    """Provisional values and a period that runs past the data."""
    notes = []
    if result.provisional():
        notes.append(
            "* provisional: more than 5% of the value's cohort is still open at the export "
            "time, so it will still move."
        )
    for name, day in result.data_ends().items():
        notes.append(
            f"{name}: data ends {_day(day)} (its newest record), before the period's end: "
            "the days after are unknown, not quiet."
        )
    return notes


def change_tone(delta: float | None, kpi: Kpi) -> str:
    """good / bad for the KPI's direction; neutral without a direction, or when the change
    rounds to zero as shown (`▼ -0%` is not a move)."""
    if delta is None or delta == 0 or kpi.higher_is_better is None:
        return "neutral"
    if format_change(delta, kpi.unit).lstrip("+-") == format_change(0.0, kpi.unit).lstrip("+-"):
        return "neutral"
    return "good" if (delta > 0) == kpi.higher_is_better else "bad"


def _change(row: dict[str, Any], kpi: Kpi) -> Change | None:
    delta = change(row.get(kpi.id), row.get(kpi.id + PREV_SUFFIX), kpi.unit)
    if delta is None:
        return None
    text = format_change(delta, kpi.unit)
    if delta == 0:
        return Change(f"= {text}", "neutral")
    return Change(f"{'▲' if delta > 0 else '▼'} {text}", change_tone(delta, kpi))


def _n(row: dict[str, Any], kpi: Kpi) -> str:
    return f"{row.get(kpi.id + N_SUFFIX) or 0:,}"


def _tiles(
    kpis: Sequence[Kpi], totals: dict[str, Any], compare: bool
) -> list[tuple[str, list[Tile]]]:
    groups = []
    for source, title in SOURCE_TITLES.items():
        tiles = [
            Tile(
                title=k.title,
                value=_shown(totals, k),
                n=_n(totals, k),
                change=_change(totals, k) if compare else None,
                previous=format_value(totals.get(k.id + PREV_SUFFIX), k.unit) if compare else None,
            )
            for k in kpis
            if k.source == source
        ]
        if tiles:
            groups.append((title, tiles))
    return groups


def _group_label(value: Any, column: str, grain: str | None) -> str:
    if value is None:
        return "(none)"
    if column == PERIOD_COL:
        return period_label(value, grain)
    return str(value)


def _cells(row: dict[str, Any], kpis: Sequence[Kpi], compare: bool) -> list[Cell]:
    return [
        Cell(
            value=_shown(row, k),
            change=_change(row, k) if compare else None,
            n=_n(row, k),
            missing=row.get(k.id) is None,
        )
        for k in kpis
    ]


def _breakdowns(result: ReportResult, totals: dict[str, Any]) -> list[Breakdown]:
    keys = list(result.group_columns)
    if not keys or not result.table.height:
        return []
    compare = result.compare is not None
    rows = list(result.table.iter_rows(named=True))
    out = []
    for source, title in SOURCE_TITLES.items():
        group = [k for k in result.available if k.source == source]
        # a group with no record of these KPIs adds nothing to the table (as in the terminal)
        mine = [r for r in rows if any(r.get(k.id + N_SUFFIX) for k in group)]
        if not group or not mine:
            continue
        out.append(
            Breakdown(
                title=title,
                keys=[result.grain if c == PERIOD_COL and result.grain else c for c in keys],
                kpis=[k.title for k in group],
                rows=_rows(mine, keys, group, result.grain, compare),
                total=_cells(totals, group, compare),
            )
        )
    return out


def _rows(
    rows: list[dict[str, Any]],
    keys: list[str],
    kpis: Sequence[Kpi],
    grain: str | None,
    compare: bool,
) -> list[Row]:
    out = []
    previous: list[str] = []
    for r in rows:
        labels = [_group_label(r[c], c, grain) for c in keys]
        shown = [
            "" if i < len(labels) - 1 and labels[: i + 1] == previous[: i + 1] else label
            for i, label in enumerate(labels)
        ]
        first = bool(previous) and len(keys) > 1 and labels[0] != previous[0]
        out.append(Row(shown, _cells(r, kpis, compare), first))
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


# --- charts -------------------------------------------------------------------------------


def _charts(result: ReportResult, totals: dict[str, Any]) -> tuple[list[Chart], str]:
    """One chart per KPI over the buckets: all groups together (the trend frame, or the table
    itself when ungrouped); without that frame, one line per group for up to six groups."""
    if not result.grain:
        return [], ""
    if not result.by:
        frame: pl.DataFrame | None = result.table
    else:
        frame = result.trend
    if frame is not None:
        if frame.is_empty() or PERIOD_COL not in frame.columns:
            return [], ""
        frame = frame.sort(PERIOD_COL)
        buckets = frame[PERIOD_COL].to_list()
        charts = []
        for k in result.available:
            if k.id not in frame.columns or frame[k.id].is_null().all():
                continue
            values = [_num(v) for v in frame[k.id].to_list()]
            ns = frame[k.id + N_SUFFIX].to_list() if k.id + N_SUFFIX in frame.columns else []
            maturing = [is_provisional(r, k) for r in frame.iter_rows(named=True)]
            charts.append(
                _chart(result, k, totals, buckets, [("all", PALETTE[0], values, ns, maturing)])
            )
        return charts, ""
    return _group_charts(result, totals)


def _group_charts(result: ReportResult, totals: dict[str, Any]) -> tuple[list[Chart], str]:
    table = result.table
    if table.is_empty() or PERIOD_COL not in table.columns:
        return [], ""
    by = list(result.by)
    label = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("(none)") for c in by], separator=" · "
    )
    table = table.with_columns(label.alias("_group"))
    buckets = table[PERIOD_COL].unique().sort().to_list()
    # the same groups, in the same colours, on every chart: the largest by records overall
    n_columns = [k.id + N_SUFFIX for k in result.available if k.id + N_SUFFIX in table.columns]
    ranked = (
        table.group_by("_group")
        .agg(pl.sum_horizontal(n_columns).sum().alias("n"))
        .sort(["n", "_group"], descending=[True, False])
    )
    shown = ranked["_group"].head(MAX_SERIES).to_list()
    colours = dict(zip(shown, PALETTE, strict=False))
    charts = []
    for k in result.available:
        if k.id not in table.columns:
            continue
        series = []
        for name in shown:
            mine = table.filter(pl.col("_group") == name)
            if not mine[k.id + N_SUFFIX].sum() or mine[k.id].is_null().all():
                continue  # no record of this KPI in this group (a survey-only row, say)
            values = dict(zip(mine[PERIOD_COL].to_list(), mine[k.id].to_list(), strict=True))
            ns = dict(zip(mine[PERIOD_COL].to_list(), mine[k.id + N_SUFFIX], strict=True))
            maturing = {r[PERIOD_COL]: is_provisional(r, k) for r in mine.iter_rows(named=True)}
            series.append(
                (
                    str(name),
                    colours[name],
                    [_num(values.get(b)) for b in buckets],
                    [ns.get(b) for b in buckets],
                    [maturing.get(b, False) for b in buckets],
                )
            )
        if series:
            charts.append(_chart(result, k, totals, buckets, series))
    note = f"One line per {', '.join(by)}"
    if ranked.height > MAX_SERIES:
        note += f": the {MAX_SERIES} with the most records of {ranked.height}"
    return charts, note + "; the dashed line is the previous period over all of them."


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _partial(bucket: Any, grain: str, start: date | None, end: date | None) -> bool:
    """A bucket only partly inside the period (a week cut by --from, the month still running)."""
    if not isinstance(bucket, date):
        return False
    if grain == "day":
        last = bucket
    elif grain == "week":
        last = bucket + timedelta(days=6)
    else:
        months = 1 if grain == "month" else 3
        month = bucket.month - 1 + months
        last = date(bucket.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return bool((start and bucket < start) or (end and last > end))


def _chart(
    result: ReportResult,
    kpi: Kpi,
    totals: dict[str, Any],
    buckets: list[Any],
    series: list[tuple[str, str, list[float | None], list[Any], list[bool]]],
) -> Chart:
    """`series`: (name, colour, value per bucket, n per bucket, provisional per bucket); one
    series called "all" is the total over the groups (drawn as bars for a count KPI). A
    bucket the period cuts, or a provisional value (its cohort still open), is hollow."""
    grain = result.grain or ""
    start, end = result.effective_period
    partial = [_partial(b, grain, start, end) for b in buckets]
    labels = [period_label(b, grain) for b in buckets]
    known = [v for _, _, values, _, _ in series for v in values if v is not None]
    reference = _num(totals.get(kpi.id + PREV_SUFFIX)) if kpi.unit != "count" else None
    bars = kpi.unit == "count" and len(series) == 1
    lo, hi, ticks = _scale(
        [*known, *([reference] if reference is not None else [])], kpi.unit, zero=bars
    )
    chart = Chart(
        id=kpi.id,
        title=kpi.title,
        total=format_value(totals.get(kpi.id), kpi.unit),
        description=f"{kpi.title} per {grain}, {labels[0]} to {labels[-1]}",
    )
    plot_w = chart.right - chart.left
    plot_h = chart.baseline - chart.top
    band = plot_w / max(len(buckets), 1)

    def y_of(v: float) -> float:
        return round(chart.baseline - (v - lo) / (hi - lo) * plot_h, 1)

    chart.y_ticks = [
        (y_of(t), _tick_label(t, kpi.unit, ticks)) for t in _tick_values(lo, hi, ticks)
    ]
    every = max(1, math.ceil(len(buckets) / 8))
    short = _short_labels(buckets, labels, grain)
    chart.x_ticks = [
        (round(chart.left + (i + 0.5) * band, 1), short[i])
        for i in range(len(buckets))
        if i % every == 0
    ]
    if reference is not None:
        chart.reference = (y_of(reference), format_value(reference, kpi.unit))
    for name, colour, values, ns, maturing in series:
        points = []
        segments: list[str] = []
        run: list[str] = []
        for i, v in enumerate(values):
            if v is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            x = round(chart.left + (i + 0.5) * band, 1)
            n = ns[i] if i < len(ns) and ns[i] is not None else 0
            tip = f"{labels[i]}: {format_value(v, kpi.unit)} (n={n:,})"
            if name != "all":
                tip = f"{name}, {tip}"
            if partial[i]:
                tip += f", partial {grain}"
            if maturing[i]:
                tip += ", provisional: its cohort is still open"
            hollow = partial[i] or maturing[i]
            if bars:
                top = y_of(v)
                chart.bars.append(
                    Bar(
                        x=round(chart.left + i * band + band * 0.15, 1),
                        y=top,
                        width=round(band * 0.7, 1),
                        height=round(chart.baseline - top, 1),
                        label=tip,
                        partial=hollow,
                    )
                )
            else:
                run.append(f"{x},{y_of(v)}")
                points.append(Point(x, y_of(v), tip, hollow))
        if run:
            segments.append(" ".join(run))
        if not bars:
            chart.series.append(Series(name, colour, segments, points))
    return chart


def _short_labels(buckets: list[Any], labels: list[str], grain: str) -> list[str]:
    """Axis labels without the year when every bucket is in the same year: W14, Apr, Q2."""
    years = {b.year for b in buckets if isinstance(b, date)}
    if len(years) != 1 or not all(isinstance(b, date) for b in buckets):
        return labels
    if grain == "week":
        return [label.split("-", 1)[1] for label in labels]
    if grain == "month":
        return [MONTHS[b.month - 1] for b in buckets]
    if grain == "quarter":
        return [label.split("-", 1)[1] for label in labels]
    if grain == "day":
        return [f"{b.day} {MONTHS[b.month - 1]}" for b in buckets]
    return labels


# Steps a duration axis may use: seconds, minutes, hours, days.
_DURATION_STEPS = (
    *(1, 2, 5, 10, 15, 30),
    *(60 * m for m in (1, 2, 5, 10, 15, 20, 30)),
    *(3600 * h for h in (1, 2, 3, 4, 6, 12)),
    *(86400 * d for d in (1, 2, 7, 14, 30)),
)


def _nice_step(raw: float, unit: Unit) -> float:
    if raw <= 0:
        return 1.0
    if unit == "seconds" and raw <= _DURATION_STEPS[-1]:
        return float(next(s for s in _DURATION_STEPS if s >= raw))
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


#: the least a line chart's axis spans: 5 points for ratios, 10 for NPS, else 20% of the value
MIN_SPAN: dict[str, float] = {"ratio": 0.05, "nps": 10.0}


def _scale(values: list[float], unit: Unit, *, zero: bool) -> tuple[float, float, float]:
    """A domain (lo, hi) on round numbers and its tick step, about four ticks."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if zero or unit == "count":
        lo = min(lo, 0.0)
    # a minimum span, so that noise (6.0% → 5.9%) does not fill the chart like a collapse
    least = MIN_SPAN.get(unit) or abs(hi) * 0.2 or 1.0
    if hi - lo < least:
        middle = (hi + lo) / 2
        lo, hi = middle - least / 2, middle + least / 2
    step = _nice_step((hi - lo) / 4, unit)
    lo = math.floor(lo / step + 1e-9) * step
    hi = math.ceil(hi / step - 1e-9) * step
    if unit in ("seconds", "ratio", "count") and lo < 0 <= min(values, default=0):
        lo = 0.0
    if unit == "ratio" and hi > 1 >= max(values, default=0):
        hi = 1.0
    if hi <= lo:
        hi = lo + step
    return lo, hi, step


def _tick_values(lo: float, hi: float, step: float) -> list[float]:
    count = round((hi - lo) / step)
    return [lo + i * step for i in range(count + 1)]


def _tick_label(value: float, unit: Unit, step: float) -> str:
    def decimals(scale: float) -> int:
        return max(0, -math.floor(math.log10(step * scale) + 1e-9)) if step * scale < 1 else 0

    if unit == "seconds":
        return _axis_duration(value)
    if unit == "ratio":
        return f"{value * 100:.{decimals(100)}f}%"
    if unit == "nps":
        return f"{value:+.{decimals(1)}f}" if round(value, 6) else "0"
    if unit == "count":
        return f"{value:,.{decimals(1)}f}"
    return f"{value:.{max(decimals(1), 1)}f}"


def _axis_duration(seconds: float) -> str:
    """Axis labels for durations: 30s, 15m, 1h 30m, 6h, 2d."""
    s = round(seconds)
    if s == 0:
        return "0"
    if s % 86400 == 0:
        return f"{s // 86400}d"
    if s >= 86400:
        return f"{s // 86400}d {s % 86400 // 3600}h"
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s % 60 == 0:
        return f"{s // 60}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"
