"""The XLSX workbook: a Summary sheet, one sheet per source as in the terminal (Tickets, Calls,
Surveys…), a Trend sheet, Definitions and Data quality.

Numbers are real numbers with number formats, so a manager can sort, filter and chart at once:
durations are Excel time (seconds / 86400) shown `[h]:mm:ss`, ratios `0.0%`, NPS `+0.0`,
counts `#,##0`. Every text cell is written with `write_string` (the workbook also turns off
every string-to-formula, URL or number conversion), so a group value such as `=HYPERLINK(…)`
is a text cell, shown exactly as it is, without the `'` a CSV needs, and never a formula.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import xlsxwriter  # type: ignore[import-untyped]

from cscli import __version__
from cscli.kpis.spec import Kpi
from cscli.output import write_atomic
from cscli.render.labels import (
    by_period,
    by_source,
    change_tone,
    group_label,
    marked,
    period_label,
    with_records,
)
from cscli.results import PERIOD_COL, KpiValue, ReportResult, Row
from cscli.units import Unit, change

SECONDS_PER_DAY = 86400
NUMBER_FORMATS: dict[str, str] = {
    "seconds": "[h]:mm:ss",
    "ratio": "0.0%",
    "nps": "+0.0;-0.0;0.0",
    "score": "0.00",
    "count": "#,##0",
}
#: the change column: points for ratios (stored ×100), NPS and scores; relative otherwise
CHANGE_FORMATS: dict[str, str] = {
    "seconds": "+0%;-0%;0%",
    "count": "+0%;-0%;0%",
    "ratio": '+0.0" pp";-0.0" pp";0.0" pp"',
    "nps": "+0.0;-0.0;0.0",
    "score": "+0.00;-0.00;0.00",
}
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
GOOD, BAD, NEUTRAL = "#047857", "#B91C1C", "#4B5563"
HEADER_BG = "#F3F4F6"
BETTER = {True: "higher", False: "lower", None: "–"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
#: the columns of a KPI in a breakdown sheet
_Part = Literal["value", "previous", "n"]


def write_xlsx(result: ReportResult, path: Path, *, now: datetime | None = None) -> list[Path]:
    return [write_atomic(path, lambda tmp: build_workbook(result, tmp, now=now))]


def excel_value(value: Any, unit: Unit) -> float | None:
    """A KPI value as the cell stores it: seconds become days (Excel time), others as they are."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return number / SECONDS_PER_DAY if unit == "seconds" else number


def sheet_name(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique ignoring case."""
    base = _SHEET_FORBIDDEN.sub("_", title).strip("'")[:31] or "Sheet"
    name, i = base, 2
    while name.lower() in taken:
        suffix = f" ({i})"
        name, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(name.lower())
    return name


class _Formats:
    """Memoised cell formats (xlsxwriter wants one object per distinct format)."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.cache: dict[tuple[tuple[str, Any], ...], Any] = {}

    def __call__(self, **props: Any) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.workbook.add_format({"font_size": 11, **props})
        return self.cache[key]

    def header(self, **props: Any) -> Any:
        return self(
            bold=True,
            bg_color=HEADER_BG,
            bottom=1,
            text_wrap=True,
            valign="bottom",
            **props,
        )


@dataclass
class _Sheet:
    """Writes cells and remembers the widest text per column for the widths."""

    ws: Any
    widths: dict[int, float]

    def put(self, row: int, col: int, value: Any, fmt: Any = None) -> None:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            self.ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            self.ws.write_string(row, col, value, fmt)  # a string cell, never a formula
            self.fit(col, max((len(line) for line in value.splitlines()), default=0))
        elif isinstance(value, datetime):
            self.ws.write_datetime(row, col, value.replace(tzinfo=None), fmt)
        elif isinstance(value, date):
            self.ws.write_datetime(row, col, datetime.combine(value, time()), fmt)
        elif isinstance(value, bool):
            self.ws.write_boolean(row, col, value, fmt)
        else:
            self.ws.write_number(row, col, value, fmt)

    def fit(self, col: int, length: float) -> None:
        self.widths[col] = max(self.widths.get(col, 0), length)

    def set_widths(self, *, minimum: float = 8, maximum: float = 48) -> None:
        for col, length in self.widths.items():
            self.ws.set_column(col, col, min(max(length + 2, minimum), maximum))


def build_workbook(result: ReportResult, path: Path, *, now: datetime | None = None) -> None:
    """Write the workbook to `path` (a temporary name; `write_xlsx` renames it)."""
    generated = (now or datetime.now(UTC)).astimezone(ZoneInfo(result.timezone))
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            # nothing written as a string is ever turned into a formula, link or number
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": DATE_FORMAT,
        },
    )
    workbook.set_properties(
        {
            "title": "Customer service report",
            "author": "cscli",
            "comments": f"cscli {__version__}",
            "created": generated.astimezone(UTC).replace(tzinfo=None),
        }
    )
    fmt = _Formats(workbook)
    taken: set[str] = set()
    _summary(workbook.add_worksheet(sheet_name("Summary", taken)), result, fmt, generated)
    keys = list(result.group_columns)
    for title, kpis in by_source(result.available):
        mine = with_records(result.rows, kpis)
        if mine:
            ws = workbook.add_worksheet(sheet_name(title, taken))
            _breakdown(ws, result, kpis, keys, mine, result.total, fmt)
    if result.by and result.grain and result.trend_rows:
        ws = workbook.add_worksheet(sheet_name("Trend", taken))
        trend = by_period(result.trend_rows)
        _breakdown(ws, result, list(result.available), [PERIOD_COL], trend, None, fmt)
    _definitions(workbook.add_worksheet(sheet_name("Definitions", taken)), result, fmt)
    _quality(workbook.add_worksheet(sheet_name("Data quality", taken)), result, fmt)
    workbook.close()


def _span(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else '…'} → {end.isoformat() if end else '…'}"


def _number_format(kpi: Kpi, values: Sequence[Any]) -> str:
    if kpi.unit == "count" and any(
        v is not None and not float(v).is_integer() for v in values if isinstance(v, int | float)
    ):
        return "#,##0.00"
    return NUMBER_FORMATS.get(kpi.unit, "General")


def _summary(ws: Any, result: ReportResult, fmt: _Formats, generated: datetime) -> None:
    """Title and scope, the KPI table (frozen under its header), then where the numbers
    come from."""
    sheet = _Sheet(ws, {})
    start, end = result.effective_period
    period = _span(start, end) + ("" if result.period.start or result.period.end else " (all data)")
    breakdown = []
    if result.by:
        breakdown.append(f"by {', '.join(result.by)}")
    if result.grain:
        breakdown.append(f"per {result.grain}")
    scope = [f"{period}, {result.timezone}", *breakdown]
    if result.compare is not None:
        scope.append(f"compared with {_span(result.compare.start, result.compare.end)}")
    ws.write_string(0, 0, "Customer service report", fmt(bold=True, font_size=16))
    ws.set_row(0, 24)
    ws.write_string(1, 0, " · ".join(scope), fmt(font_color=NEUTRAL))
    header_row = 3
    compare = result.compare is not None
    headers = ["KPI", "Value"]
    if compare:
        headers += ["Previous", "Change"]
    headers += ["n", "Better", "Source", "ID"]
    for col, text in enumerate(headers):
        sheet.put(header_row, col, text, fmt.header(align="left" if col == 0 else "right"))
    row = header_row
    for row, k in enumerate(result.available, start=header_row + 1):
        v = result.total.kpi(k.id)
        value, previous = v.value, v.previous
        number = fmt(num_format=_number_format(k, [value, previous]))
        cells: list[tuple[Any, Any]] = [(k.title, None), (excel_value(value, k.unit), number)]
        if compare:
            delta = change(value, previous, k.unit)
            colour = {"good": GOOD, "bad": BAD}.get(change_tone(delta, k), NEUTRAL)
            stored = None if delta is None else delta * 100 if k.unit == "ratio" else delta
            cells += [
                (excel_value(previous, k.unit), number),
                (stored, fmt(num_format=CHANGE_FORMATS[k.unit], font_color=colour)),
            ]
        cells += [
            (v.n, fmt(num_format=COUNT_FORMAT)),
            (BETTER[k.higher_is_better], fmt(align="right")),
            (k.source, fmt(align="right")),
            (k.id, fmt(align="right", font_color=NEUTRAL)),
        ]
        for col, (cell, cell_format) in enumerate(cells):
            sheet.put(row, col, cell, cell_format)
        _mark_provisional(sheet, row, 1, v)
    for col in range(1, len(headers)):
        sheet.fit(col, 12)
    sheet.fit(0, 24)
    ws.freeze_panes(header_row + 1, 0)
    if result.available:
        ws.autofilter(header_row, 0, row, len(headers) - 1)
    # where the numbers come from, below the table; long values overflow to the right
    about: list[tuple[str, str]] = [("Period", period), ("Time zone", result.timezone)]
    if result.compare is not None:
        about.append(("Compared with", _span(result.compare.start, result.compare.end)))
    about.append(("Breakdown", ", ".join(breakdown) or "none (totals only)"))
    overlap = result.overlap_note()
    if overlap:
        about.append(("Groups", overlap[0].upper() + overlap[1:]))
    for s in result.sources:
        names = ", ".join(f.name for f in s.files)
        read = f"; {s.read}" if s.read else ""  # a database source: which rows, and why
        about.append((f"Source: {s.name}", f"{names} ({s.rows:,} rows read{read})"))
    about.append(("Config", result.config_path.name))
    about.append(("Generated", f"{generated:%Y-%m-%d %H:%M %Z} by cscli {__version__}"))
    label = fmt(bold=True, font_color=NEUTRAL)
    for i, (name, text) in enumerate(about, start=row + 2):
        sheet.put(i, 0, name, label)
        ws.write_string(i, 1, text)
    sheet.set_widths(maximum=40)


def _breakdown(
    ws: Any,
    result: ReportResult,
    kpis: Sequence[Kpi],
    keys: Sequence[str],
    rows: Sequence[Row],
    totals: Row | None,
    fmt: _Formats,
) -> None:
    """One row per group: the group columns (the period as its label and its first day), then
    per KPI its value, the previous value with --compare, and its n. A total row below."""
    sheet = _Sheet(ws, {})
    compare = result.compare is not None and totals is not None
    grain = result.grain or ""
    headers: list[str] = []
    for key in keys:
        if key == PERIOD_COL:
            headers += [grain, f"{grain} start"]
        else:
            headers.append(key)
    n_keys = len(headers)
    columns: list[tuple[Kpi, _Part, str]] = []  # kpi, what of it, number format
    for k in kpis:
        number = _number_format(k, [r.kpi(k.id).value for r in rows])
        columns.append((k, "value", number))
        headers.append(k.title)
        if compare:
            columns.append((k, "previous", number))
            headers.append(f"{k.title}, previous")
        columns.append((k, "n", COUNT_FORMAT))
        headers.append(f"{k.title}, n")
    for col, text in enumerate(headers):
        sheet.put(0, col, text, fmt.header(align="left" if col < n_keys else "right"))
        sheet.widths[col] = 0  # a header wraps; its width does not count
    ws.set_row(0, 45)
    for i, r in enumerate(rows, start=1):
        _group_cells(sheet, i, r, keys, grain, None, fmt)
        for j, (k, part, number) in enumerate(columns, start=n_keys):
            _kpi_cell(sheet, i, j, r.kpi(k.id), k.unit, part, fmt(num_format=number))
    last = len(rows)
    if totals is not None:
        total_row = last + 1
        bold = {"bold": True, "top": 1}
        sheet.put(total_row, 0, "Total", fmt(**bold))
        for col in range(1, n_keys):
            sheet.put(total_row, col, None, fmt(**bold))
        for j, (k, part, number) in enumerate(columns, start=n_keys):
            cell_format = fmt(num_format=number, **bold)
            _kpi_cell(sheet, total_row, j, totals.kpi(k.id), k.unit, part, cell_format)
    for col in range(n_keys):
        sheet.fit(col, len(headers[col]))
    for col in range(n_keys, len(headers)):
        sheet.fit(col, 11)
    sheet.set_widths()
    ws.freeze_panes(1, n_keys)
    ws.autofilter(0, 0, max(last, 1), len(headers) - 1)


def _group_cells(
    sheet: _Sheet,
    row: int,
    values: Row,
    keys: Sequence[str],
    grain: str,
    cell_format: Any,
    fmt: _Formats,
) -> None:
    col = 0
    for key in keys:
        value = values.group.get(key)
        if key == PERIOD_COL:
            # the label, blank without a bucket, and the bucket's first day as a date
            sheet.put(row, col, period_label(value, grain) if value is not None else None)
            sheet.put(row, col + 1, value, fmt(num_format=DATE_FORMAT, align="left"))
            sheet.fit(col + 1, 10)
            col += 2
        else:
            sheet.put(row, col, group_label(value, key, grain), cell_format)
            col += 1


def _kpi_cell(
    sheet: _Sheet, row: int, col: int, v: KpiValue, unit: Unit, part: _Part, fmt: Any
) -> None:
    if part == "n":
        sheet.put(row, col, v.n, fmt)
    elif part == "previous":
        sheet.put(row, col, excel_value(v.previous, unit), fmt)
    else:
        sheet.put(row, col, excel_value(v.value, unit), fmt)
        _mark_provisional(sheet, row, col, v)


def _mark_provisional(sheet: _Sheet, row: int, col: int, v: KpiValue) -> None:
    """A provisional value keeps its number (a formula can use it) and gets a cell note."""
    if marked(v):
        share = v.open_share or 0.0
        sheet.ws.write_comment(
            row,
            col,
            f"Provisional: {share * 100:.1f}% of the cohort is still open at the export time; "
            "the value will still move.",
        )


def _table(
    ws: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]], fmt: _Formats, wrap: int
) -> None:
    """A plain text table with a frozen, filtered header; column `wrap` wraps at 80 chars."""
    sheet = _Sheet(ws, {})
    for col, text in enumerate(headers):
        sheet.put(0, col, text, fmt.header())
    for i, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if col == wrap:
                cell_format = fmt(text_wrap=True, valign="top")
            elif isinstance(value, int):
                cell_format = fmt(num_format=COUNT_FORMAT, valign="top")
            else:
                cell_format = fmt(valign="top")
            sheet.put(i, col, value, cell_format)
    sheet.set_widths(maximum=30)
    ws.set_column(wrap, wrap, 80)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)


def _definitions(ws: Any, result: ReportResult, fmt: _Formats) -> None:
    rows = []
    for s in result.kpis:
        k = s.kpi
        params = ", ".join(f"{name}={value}" for name, value in k.params_described.items()) or None
        rows.append(
            [
                k.title,
                k.id,
                k.definition,
                k.unit,
                BETTER[k.higher_is_better],
                k.source,
                k.anchor,
                params,
                "computed" if s.available else f"unavailable: {s.reason}",
            ]
        )
    headers = ["KPI", "ID", "Definition", "Unit", "Better", "Source", "Anchor", "Parameters"]
    _table(ws, [*headers, "Status"], rows, fmt, wrap=2)


def _quality(ws: Any, result: ReportResult, fmt: _Formats) -> None:
    rows: list[list[Any]] = []
    for s in result.kpis:
        if not s.available:
            rows.append([s.kpi.source, f"{s.kpi.id} not computed", None, None, s.reason, None])
    for q in result.data_quality:
        where = ", ".join(f"{f}:{r}" for f, r in q.examples)
        more = ", …" if q.rows > len(q.examples) else ""
        rows.append([q.source, q.issue, q.column, q.rows, q.effect, where + more])
    if not rows:
        rows.append(
            [
                None,
                "No data-quality findings: every record was readable and used.",
                None,
                None,
                None,
                None,
            ]
        )
    _table(
        ws,
        ["Source", "Issue", "Column", "Rows", "Effect", "Examples (file:row)"],
        rows,
        fmt,
        wrap=4,
    )
