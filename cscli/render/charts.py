"""The HTML report's trend charts: one inline SVG per KPI, drawn here as plain geometry.

A chart shows a KPI over the buckets of the period. Without `by` it is the report's own rows
(a count as bars, anything else as a line); with `by`, one line per group for the groups with
the most records and one "other" line for the rest, never their sum. A bucket the period cuts,
or a provisional value, is a hollow marker; a point resting on fewer than `min_n` records is
faded, and so is the line into it (its change is not to be read). The template turns these
numbers into SVG.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from cscli.kpis.spec import Count, Kpi, NetScore, Ratio
from cscli.render.labels import by_period, group_label, period_label
from cscli.results import MIN_N, PERIOD_COL, ReportResult, Row
from cscli.units import Unit, format_value

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: series colours when the chart shows one line per group (colour-blind safe, Okabe–Ito)
PALETTE = ("#2563eb", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
MAX_SERIES = len(PALETTE)
#: the "other" line: the groups past the first MAX_SERIES - 1
OTHER, OTHER_COLOUR = "other", "#6b7280"
#: a point resting on fewer records than this is faded (its change is noise, not news)
#: chart canvas (SVG user units; the SVG scales to its card's width)
WIDTH, HEIGHT = 560, 210
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 12, 26


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    partial: bool
    faint: bool = False


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
    segments: list[str]  # polyline `points`, one per run of known values of one strength
    points: list[Point]
    faint: list[bool] = field(default_factory=list)  # per segment: it ends on a low-n point


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
    def has_faint(self) -> bool:
        return any(p.faint for s in self.series for p in s.points)

    @property
    def has_partial(self) -> bool:
        return any(b.partial for b in self.bars) or any(
            p.partial for s in self.series for p in s.points
        )


#: one line (or the bars): name, colour, value per bucket, n per bucket, provisional per bucket
SeriesData = tuple[str, str, list[float | None], list[Any], list[bool]]


def charts(result: ReportResult, *, min_n: int = MIN_N) -> tuple[list[Chart], str]:
    """One chart per KPI over the buckets: the rows themselves when ungrouped, else one line
    per group (the largest by records, the rest as "other"). Returns the charts and the note
    under them."""
    if not result.grain:
        return [], ""
    if result.by:
        return _group_charts(result, min_n)
    rows = by_period(result.rows)
    if not rows:
        return [], ""
    buckets = [r.group[PERIOD_COL] for r in rows]
    out = []
    for k in result.available:
        if not rows[0].has(k.id) or all(r.kpi(k.id).value is None for r in rows):
            continue
        values = [r.kpi(k.id) for r in rows]
        series: SeriesData = (
            "all",
            PALETTE[0],
            [_num(v.value) for v in values],
            [v.n for v in values],
            [v.provisional for v in values],
        )
        out.append(_chart(result, k, buckets, [series], min_n))
    return out, _faint_note(out, min_n)


def _faint_note(out: list[Chart], min_n: int) -> str:
    if not any(c.has_faint for c in out):
        return ""
    return f"A faded point rests on fewer than {min_n} records: its change is noise, not news."


def _series_name(row: Row, by: list[str]) -> str:
    return " · ".join(group_label(row.group[c], c, None) for c in by)


def _group_charts(result: ReportResult, min_n: int) -> tuple[list[Chart], str]:
    rows = result.rows
    if not rows:
        return [], ""
    by = list(result.by)
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(_series_name(r, by), []).append(r)
    buckets = list(dict.fromkeys(r.group[PERIOD_COL] for r in by_period(rows)))
    # the same groups, in the same colours, on every chart: the largest by records overall
    records = {
        name: sum(r.kpi(k.id).n for r in mine for k in result.available)
        for name, mine in groups.items()
    }
    ranked = sorted(records, key=lambda name: (-records[name], name))
    fits = len(ranked) <= MAX_SERIES
    shown = ranked if fits else ranked[: MAX_SERIES - 1]
    rest = [] if fits else ranked[MAX_SERIES - 1 :]
    colours = dict(zip(shown, PALETTE, strict=False))
    out = []
    no_other = []
    for k in result.available:
        if not rows[0].has(k.id):
            continue
        series: list[SeriesData] = []
        for name in shown:
            line = _group_series(k, buckets, groups[name])
            if line is not None:
                series.append((name, colours[name], *line))
        if rest and not result.overlapping:
            other = _other_series(k, buckets, [r for name in rest for r in groups[name]])
            if other is not None:
                series.append((OTHER, OTHER_COLOUR, *other))
            else:
                no_other.append(k.title)
        if series:
            out.append(_chart(result, k, buckets, series, min_n))
    note = f"One line per {', '.join(by)}"
    if rest and result.overlapping:
        note += (
            f": the {len(shown)} with the most records of {len(ranked)}; no “{OTHER}” line, "
            f"since by {', '.join(result.overlapping)} a record can be in several of the "
            "others, whose values cannot be added"
        )
    elif rest:
        note += (
            f": the {len(shown)} with the most records of {len(ranked)}, and the other "
            f"{len(rest)} together as “{OTHER}”"
        )
    note += "; the dashed line is the previous period over all of them."
    if no_other:
        note += (
            f" No “{OTHER}” line for {', '.join(no_other)}: a median or a level of several "
            "groups cannot be made from theirs."
        )
    faint = _faint_note(out, min_n)
    return out, f"{note} {faint}" if faint else note


#: a line's values, n and provisional flags per bucket
Line = tuple[list[float | None], list[Any], list[bool]]


def _group_series(kpi: Kpi, buckets: list[Any], rows: list[Row]) -> Line | None:
    mine = [r.kpi(kpi.id) for r in rows]
    if not sum(v.n for v in mine) or all(v.value is None for v in mine):
        return None  # no record of this KPI in this group (a survey-only row, say)
    at = {r.group[PERIOD_COL]: v for r, v in zip(rows, mine, strict=True)}
    return (
        [_num(at[b].value) if b in at else None for b in buckets],
        [at[b].n if b in at else None for b in buckets],
        [at[b].provisional if b in at else False for b in buckets],
    )


def _other_series(kpi: Kpi, buckets: list[Any], rows: list[Row]) -> Line | None:
    """The groups past the shown ones as one line: a count is their sum; a ratio or a net score
    is an average over records, so theirs weighted by n (the denominator) is exactly the value
    over their records together. A median or a level cannot be combined: None."""
    if not isinstance(kpi.kind, Count | Ratio | NetScore):
        return None
    values: list[float | None] = []
    ns: list[Any] = []
    maturing: list[bool] = []
    for b in buckets:
        mine = [
            v
            for v in (r.kpi(kpi.id) for r in rows if r.group[PERIOD_COL] == b)
            if v.n and _num(v.value) is not None
        ]
        n = sum(v.n for v in mine)
        if isinstance(kpi.kind, Count):
            values.append(float(sum(_num(v.value) or 0.0 for v in mine)) if mine else None)
        else:
            values.append(sum((_num(v.value) or 0.0) * v.n for v in mine) / n if n else None)
        ns.append(n)
        maturing.append(any(v.provisional for v in mine))
    if all(v is None for v in values):
        return None
    return values, ns, maturing


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _partial(bucket: Any, grain: str, start: date | None, end: date | None) -> bool:
    """A bucket only partly inside the period (a week cut by --from, the month still running)."""
    if not isinstance(bucket, date):
        return False
    if isinstance(bucket, datetime):  # an interval bucket lies within its local day
        day = bucket.date()
        return bool((start and day < start) or (end and day > end))
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
    buckets: list[Any],
    series: list[SeriesData],
    min_n: int = MIN_N,
) -> Chart:
    """`series`: (name, colour, value per bucket, n per bucket, provisional per bucket); one
    series called "all" is the total over the groups (drawn as bars for a count KPI). A
    bucket the period cuts, or a provisional value (its cohort still open), is hollow."""
    grain = result.grain or ""
    start, end = result.effective_period
    partial = [_partial(b, grain, start, end) for b in buckets]
    labels = [period_label(b, grain) for b in buckets]
    known = [v for _, _, values, _, _ in series for v in values if v is not None]
    total = result.total.kpi(kpi.id)
    reference = _num(total.previous) if kpi.unit != "count" else None
    bars = kpi.unit == "count" and len(series) == 1
    lo, hi, ticks = _scale(
        [*known, *([reference] if reference is not None else [])], kpi.unit, zero=bars
    )
    chart = Chart(
        id=kpi.id,
        title=kpi.title,
        total=format_value(total.value, kpi.unit),
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
    exact = isinstance(kpi.kind, Count)  # a count is its own n: never an estimate on few
    for name, colour, values, ns, maturing in series:
        points: list[Point] = []
        for i, v in enumerate(values):
            if v is None:
                continue
            x = round(chart.left + (i + 0.5) * band, 1)
            n = ns[i] if i < len(ns) and ns[i] is not None else 0
            faint = not exact and n < min_n
            tip = f"{labels[i]}: {format_value(v, kpi.unit)} (n={n:,})"
            if name != "all":
                tip = f"{name}, {tip}"
            if partial[i]:
                tip += f", partial {grain}"
            if maturing[i]:
                tip += ", provisional: its cohort is still open"
            if faint:
                tip += f", fewer than {min_n} records"
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
                points.append(Point(x, y_of(v), tip, hollow, faint))
        if not bars:
            segments, weak = _segments(points, band)
            chart.series.append(Series(name, colour, segments, points, weak))
    return chart


def _segments(points: list[Point], band: float) -> tuple[list[str], list[bool]]:
    """Polylines through neighbouring points (a gap where a bucket has no value), split where
    the strength changes: a step into or out of a faint point is drawn faint."""
    segments: list[str] = []
    faint: list[bool] = []
    run: list[Point] = []
    weak = False
    for a, b in pairwise(points):
        neighbours = b.x - a.x < band * 1.5
        step_weak = a.faint or b.faint
        if run and (not neighbours or step_weak != weak):
            segments.append(" ".join(f"{p.x},{p.y}" for p in run))
            faint.append(weak)
            run = []
        if neighbours:
            if not run:
                run = [a]
            run.append(b)
            weak = step_weak
    if run:
        segments.append(" ".join(f"{p.x},{p.y}" for p in run))
        faint.append(weak)
    return segments, faint


def _short_labels(buckets: list[Any], labels: list[str], grain: str) -> list[str]:
    """Axis labels without the year when every bucket is in the same year: W14, Apr, Q2;
    interval buckets as `09:30` when all on one local day, else `2 Mar 09:30`."""
    if buckets and all(isinstance(b, datetime) for b in buckets):
        one_day = len({b.date() for b in buckets}) == 1
        return [
            label[11:] if one_day else f"{b.day} {MONTHS[b.month - 1]} {label[11:]}"
            for b, label in zip(buckets, labels, strict=True)
        ]
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
    if unit == "count":
        step = max(step, 1.0)  # no half tickets on the axis
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
