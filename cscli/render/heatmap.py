"""The intraday heatmaps: weekday × hour of day, one per volume, speed and staffing KPI.

A report by `weekday, hour_of_day` (or `--profile intraday`) shows each of `HEAT_KPIS` that the
report computed as a grid: a row per weekday with records (Mon … Sun), a column per hour from
the first to the last hour with records (a quiet hour between them stays as an empty column),
each cell the value as text (a count is 0 in an hour without records; any other KPI has
no value there) and a shade 0–4 from the lowest to the highest value of that KPI.
The shade only repeats the number (NO_COLOR terminals and printouts keep the number).

With `agents_staffed` and `required_agents` both present, a "Staffing gap" grid follows:
staffed − required per cell (negative = under-staffed), shaded by how short the cell is.

The terminal and HTML renderers draw these grids; nothing here imports rich or polars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cscli.kpis.spec import Count, Kpi
from cscli.period import WEEKDAY_NAMES
from cscli.render.labels import with_records
from cscli.results import ReportResult, Row
from cscli.units import Unit, format_value

#: the KPIs drawn as heatmaps, in this order, when the report has them
HEAT_KPIS = (
    "call_volume",
    "average_speed_of_answer",
    "service_level",
    "ticket_volume",
    "first_response_time",
    "occupancy",
    "agents_staffed",
    "required_agents",
    "erlang_c_service_level",
)
#: the dimensions of the intraday profile
INTRADAY_BY = ("weekday", "hour_of_day")
GAP_TITLE = "Staffing gap (agents staffed − required)"
SHADES = 5


@dataclass(frozen=True)
class HeatCell:
    text: str  # "" for no value
    shade: int | None  # 0 (lowest) … SHADES - 1 (highest); None without a value


@dataclass(frozen=True)
class Heatmap:
    id: str
    title: str
    hours: list[int]
    #: (weekday label, a cell per hour)
    rows: list[tuple[str, list[HeatCell]]]


def is_intraday(result: ReportResult) -> bool:
    """A report by weekday and hour of day (in either order), without a grain."""
    return not result.grain and sorted(result.by) == sorted(INTRADAY_BY)


def heatmaps(result: ReportResult) -> list[Heatmap]:
    """The heatmaps of an intraday report (none for any other report)."""
    if not is_intraday(result):
        return []
    available = {k.id: k for k in result.available}
    maps = []
    for kpi_id in HEAT_KPIS:
        k = available.get(kpi_id)
        if k is None:
            continue
        # the weekdays and hours where its source has records
        cells = _cells(result, [s for s in result.available if s.source == k.source])
        if cells:
            maps.append(_heatmap(k, cells, *_axes(cells)))
    if has_gap(result.available):
        cells = _cells(result, [available["agents_staffed"], available["required_agents"]])
        if cells:
            maps.append(_gap(cells, *_axes(cells)))
    return maps


def _cells(result: ReportResult, kpis: Sequence[Kpi]) -> dict[tuple[int, int], Row]:
    cells: dict[tuple[int, int], Row] = {}
    for row in with_records(result.rows, kpis):
        day, hour = row.group.get("weekday"), row.group.get("hour_of_day")
        if isinstance(day, int) and isinstance(hour, int):
            cells[(day, hour)] = row
    return cells


def _axes(cells: dict[tuple[int, int], Row]) -> tuple[list[int], list[int]]:
    """The weekdays with records, and every hour from the first to the last with records."""
    days = sorted({d for d, _ in cells})
    hours = list(range(min(h for _, h in cells), max(h for _, h in cells) + 1))
    return days, hours


def _grid(
    id: str,
    title: str,
    values: dict[tuple[int, int], float | None],
    texts: dict[tuple[int, int], str],
    days: list[int],
    hours: list[int],
    *,
    invert: bool = False,
) -> Heatmap:
    known = [v for v in values.values() if v is not None]
    lo, hi = (min(known), max(known)) if known else (0.0, 0.0)

    def shade(v: float | None) -> int | None:
        if v is None:
            return None
        share = 0.5 if hi == lo else (v - lo) / (hi - lo)
        if invert:
            share = 1 - share
        return min(SHADES - 1, int(share * SHADES))

    rows = [
        (
            WEEKDAY_NAMES[d - 1],
            [HeatCell(texts.get((d, h), ""), shade(values.get((d, h)))) for h in hours],
        )
        for d in days
    ]
    return Heatmap(id, title, hours, rows)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and value == value else None


def _heatmap(
    k: Kpi, cells: dict[tuple[int, int], Row], days: list[int], hours: list[int]
) -> Heatmap:
    values = {key: _number(row.kpi(k.id).value) for key, row in cells.items()}
    if isinstance(k.kind, Count):  # an hour without records counted none: 0, not blank
        values |= {(d, h): 0.0 for d in days for h in hours if (d, h) not in values}
    unit, scale = _cell_unit(k.unit, [v for v in values.values() if v is not None])
    texts = {key: _compact(v / scale, k.unit) for key, v in values.items() if v is not None}
    title = f"{k.title} ({unit})" if unit else k.title
    return _grid(k.id, title, values, texts, days, hours)


def _cell_unit(unit: Unit, values: list[float]) -> tuple[str, float]:
    """What a heatmap's cells are counted in (named in its title) and the divisor that gets
    them there: a cell has room for a few digits, so durations are in seconds, minutes or
    hours by the largest one, ratios in whole percents."""
    if unit == "seconds":
        top = max((abs(v) for v in values), default=0.0)
        if top < 120:
            return "seconds", 1.0
        return ("minutes", 60.0) if top < 7200 else ("hours", 3600.0)
    return ("%", 0.01) if unit == "ratio" else ("", 1.0)


def _compact(value: float, unit: Unit) -> str:
    """A cell's number in three or four characters (one decimal below 10 for a duration)."""
    if unit == "seconds":
        return f"{value:.1f}" if abs(value) < 9.95 else f"{value:.0f}"
    if unit == "ratio" or (unit == "count" and float(value).is_integer()):
        return f"{value:.0f}"
    return format_value(value, unit)


def has_gap(kpis: Sequence[Kpi]) -> bool:
    """Whether a table of `kpis` gets a staffing gap column (both of its inputs present)."""
    ids = {k.id for k in kpis}
    return "agents_staffed" in ids and "required_agents" in ids


def staffing_gap(row: Row) -> float | None:
    """agents_staffed − required_agents of a row; None when either is missing."""
    staffed = _number(row.kpi("agents_staffed").value)
    required = _number(row.kpi("required_agents").value)
    if staffed is None or required is None:
        return None
    return staffed - required


def _gap(cells: dict[tuple[int, int], Row], days: list[int], hours: list[int]) -> Heatmap:
    values = {key: staffing_gap(row) for key, row in cells.items()}
    texts = {key: f"{v:+.1f}" for key, v in values.items() if v is not None}
    # the darkest shade where the most agents are missing
    return _grid("staffing_gap", GAP_TITLE, values, texts, days, hours, invert=True)
