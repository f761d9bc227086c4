"""Report files (`report -o`): a golden file per renderer, the XLSX read back, hostile data,
atomic writes, placeholders, `-q`, and the HTML report in a real headless Chromium.

Golden files live in tests/golden/. After a deliberate change to a renderer, regenerate them
and review the diff:

    CSCLI_UPDATE_GOLDEN=1 pytest tests/test_report_files.py
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape as html_escape
from html.parser import HTMLParser
from itertools import accumulate
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from cscli import __version__, api
from cscli.cli import app
from cscli.errors import ConfigError
from cscli.kpis.columns import N_SUFFIX
from cscli.pipeline import PERIOD_COL, PREV_SUFFIX, ReportResult
from cscli.render import files
from cscli.render.html import render_html, write_html
from cscli.render.jsondoc import render_json
from cscli.render.terminal import period_label, render_report
from cscli.render.xlsx import build_workbook, write_xlsx

Write = Callable[[str, str], Path]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("CSCLI_UPDATE_GOLDEN"))
NOW = datetime(2026, 1, 19, 7, 30, tzinfo=UTC)
PERIOD = ["--from", "2026-01-05", "--to", "2026-01-18"]

# Two ISO weeks (W02: Jan 5–11, W03: Jan 12–18) and, for --compare, the 14 days before.
# Tickets in the period: 6 readable (T7 has no readable date: a data-quality note).
#   FRT minutes: T1 10, T2 30, T3 2, T4 60, T5 5 (T6 unanswered) → median 10m
#   chat W02 = T2 30m, T3 2m → median 16m; resolved: chat W02 1 of 2 = 50%; all 4 of 6 = 66.7%
# Surveys: CSAT S1 5, S2 2, S3 4 → 2 of 3 satisfied = 66.7% (S4 = 7 is off the 1–5 scale);
#   NPS S7 9, S5 10, S6 3 → (2 promoters − 1 detractor) / 3 = +33.3
TICKETS = """
    ticket_id,created_at,first_response_at,resolved_at,channel,agent
    T1,2026-01-05T09:00:00Z,2026-01-05T09:10:00Z,2026-01-05T12:00:00Z,email,Ana
    T2,2026-01-06T10:00:00Z,2026-01-06T10:30:00Z,,chat,Ben
    T3,2026-01-07T11:00:00Z,2026-01-07T11:02:00Z,2026-01-07T11:30:00Z,chat,Ana
    T4,2026-01-13T09:00:00Z,2026-01-13T10:00:00Z,2026-01-14T09:00:00Z,email,Ben
    T5,2026-01-14T15:00:00Z,2026-01-14T15:05:00Z,2026-01-14T16:00:00Z,chat,Ana
    T6,2026-01-15T08:00:00Z,,,email,Ben
    T7,not a date,,,email,Ana
    P1,2025-12-29T09:00:00Z,2025-12-29T09:20:00Z,2025-12-29T10:00:00Z,email,Ana
    P2,2025-12-30T09:00:00Z,2025-12-30T09:04:00Z,2025-12-30T09:30:00Z,chat,Ben
    """
SURVEYS = """
    response_id,responded_at,survey_type,score,ticket_id
    S1,2026-01-05T13:00:00Z,csat,5,T1
    S2,2026-01-06T12:00:00Z,csat,2,T2
    S3,2026-01-08T12:00:00Z,csat,4,T3
    S4,2026-01-14T12:00:00Z,csat,7,T4
    S5,2026-01-15T12:00:00Z,nps,10,T5
    S6,2026-01-16T12:00:00Z,nps,3,T6
    S7,2026-01-09T12:00:00Z,nps,9,T3
    S8,2025-12-30T12:00:00Z,csat,4,P2
    """
CONFIG = """
    timezone: UTC
    sources:
      tickets: {path: tickets.csv}
      surveys: {path: surveys.csv}
    kpis: [ticket_volume, first_response_time, resolution_rate, csat, nps]
    """
#: the views with golden files: the weekly breakdown with --compare, and the totals alone
VIEWS: dict[str, dict[str, Any]] = {
    "weekly": {"by": ["channel"], "grain": "week", "compare": True},
    "totals": {"by": [], "grain": None, "compare": False},
    # the intraday profile's cut: the weekday × hour heatmaps of ticket volume and FRT
    "intraday": {"by": ["weekday", "hour_of_day"], "grain": None, "compare": False},
}

HOSTILE = (
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "@SUM(A1)",
    "-2+3",
    "\tTab",
    "\rReturn",
    "<script>alert(1)</script>",
)
HOSTILE_TITLE = "=1+1 <b onmouseover=alert(2)>FRT</b>"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def config(write: Write) -> Path:
    write("tickets.csv", TICKETS)
    write("surveys.csv", SURVEYS)
    return write("cscli.yaml", CONFIG)


def report(config: Path, *, trend: bool = True, **view: Any) -> ReportResult:
    options = {**VIEWS["weekly"], **view}
    return api.report(config, date_from="2026-01-05", date_to="2026-01-18", trend=trend, **options)


@pytest.fixture
def weekly(config: Path) -> ReportResult:
    return report(config)


@pytest.fixture
def hostile(write: Write, tmp_path: Path) -> Path:
    """A channel per hostile value, and a KPI title from the config that is one too."""

    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    lines = ["ticket_id,created_at,first_response_at,resolved_at,channel"]
    for i, value in enumerate(HOSTILE):
        day = f"2026-01-{5 + i % 3:02d}"
        lines.append(f"H{i},{day}T09:00:00Z,{day}T09:1{i}:00Z,,{quoted(value)}")
    # written as is: the tab and the carriage return must reach the reader untouched
    (tmp_path / "tickets.csv").write_bytes(("\n".join(lines) + "\n").encode())
    title = HOSTILE_TITLE.replace('"', '\\"')
    return write(
        "cscli.yaml",
        f"""
        timezone: UTC
        sources:
          tickets: {{path: tickets.csv}}
        kpis:
          - ticket_volume
          - {{id: frt, kpi: first_response_time, title: "{title}"}}
        """,
    )


# --- golden files -------------------------------------------------------------------------


def assert_golden(name: str, text: str) -> None:
    """`text` equals tests/golden/<name> (the version number is masked)."""
    text = text.replace(__version__, "<version>")
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"no golden file {name}: run CSCLI_UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name} differs from its golden file; if the change is deliberate, regenerate with "
        "CSCLI_UPDATE_GOLDEN=1 pytest tests/test_report_files.py and review the diff"
    )


def terminal_text(result: ReportResult) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, force_terminal=False)
    render_report(result, console)
    return out.getvalue()


def metadata_text(result: ReportResult) -> str:
    meta = files.metadata(result)
    meta.pop("generated_at")  # the sidecar is stamped with the time of the run
    return json.dumps(meta, indent=2, ensure_ascii=False) + "\n"


def xlsx_text(result: ReportResult, tmp_path: Path) -> str:
    """Every sheet's cells (value and number format), panes and filter, as JSON text."""
    path = tmp_path / "golden.xlsx"
    build_workbook(result, path, now=NOW)
    return json.dumps(workbook_dump(path), indent=1, ensure_ascii=False) + "\n"


def workbook_dump(path: Path) -> list[dict[str, Any]]:
    def cell(c: Any) -> Any:
        value = c.value
        if isinstance(value, timedelta):
            value = f"{value.total_seconds():g}s"
        elif isinstance(value, datetime):
            value = value.isoformat()
        if c.number_format != "General" and value is not None:
            return [value, c.number_format]
        return value

    sheets = []
    for ws in openpyxl.load_workbook(path).worksheets:
        sheets.append(
            {
                "sheet": ws.title,
                "freeze": ws.freeze_panes,
                "autofilter": ws.auto_filter.ref,
                "rows": [[cell(c) for c in row] for row in ws.iter_rows()],
            }
        )
    return sheets


RENDERERS: dict[str, Callable[[ReportResult, Path], str]] = {
    "txt": lambda r, _: terminal_text(r),
    "csv": lambda r, _: files.flat_csv(r),
    "csv.meta.json": lambda r, _: metadata_text(r),
    "json": lambda r, _: render_json(r, now=NOW),
    "md": lambda r, _: files.render_markdown(r),
    "html": lambda r, _: render_html(r, now=NOW),
    "xlsx.json": xlsx_text,
}


@pytest.mark.parametrize("view", VIEWS)
def test_golden_files(config: Path, tmp_path: Path, view: str) -> None:
    result = report(config, **VIEWS[view])
    for ext, render in RENDERERS.items():
        assert_golden(f"{view}.{ext}", render(result, tmp_path))


def test_every_format_carries_the_terminal_numbers(weekly: ReportResult, tmp_path: Path) -> None:
    # FRT over the period: median of 10, 30, 2, 60, 5 minutes = 10m 00s (see the fixture)
    assert weekly.totals["first_response_time"][0] == 600
    for ext in ("txt", "md", "html"):
        assert "10m 00s" in RENDERERS[ext](weekly, tmp_path)
    assert "66.7%" in render_html(weekly, now=NOW)  # resolution rate 4/6 and CSAT 2/3
    assert "+33.3" in render_html(weekly, now=NOW)  # NPS (2 − 1) / 3
    # definitions, period and data-quality notes are in every human format
    markdown, page = files.render_markdown(weekly), render_html(weekly, now=NOW)
    assert "2026-01-05 → 2026-01-18" in markdown
    assert "5 Jan 2026 – 18 Jan 2026" in page and "22 Dec 2025 – 4 Jan 2026" in page
    for text in (markdown, page):
        assert "median of first_response_at" in text
        assert "tickets.csv:8" in text  # T7's unreadable date, row 8 of the file


# --- XLSX ---------------------------------------------------------------------------------


def excel_equal(got: Any, expected: Any, unit: str) -> bool:
    if expected is None:
        return got is None
    if unit == "seconds":
        return isinstance(got, timedelta) and got.total_seconds() == pytest.approx(expected)
    return bool(got == pytest.approx(expected))


def test_xlsx_reads_back_as_the_report(weekly: ReportResult, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    assert write_xlsx(weekly, path, now=NOW) == [path]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Summary",
        "Tickets",
        "Surveys",
        "Trend",
        "Definitions",
        "Data quality",
    ]
    rows = list(weekly.table.iter_rows(named=True))
    totals = weekly.totals.row(0, named=True)
    for sheet, source in (("Tickets", "tickets"), ("Surveys", "surveys")):
        ws = wb[sheet]
        kpis = [k for k in weekly.available if k.source == source]
        mine = [r for r in rows if any(r[k.id + N_SUFFIX] for k in kpis)]
        header = [c.value for c in ws[1]]
        got = list(ws.iter_rows(min_row=2, values_only=True))
        assert len(got) == len(mine) + 1  # the groups, then the total
        for expected, values in zip([*mine, totals], got, strict=True):
            cells = dict(zip(header, values, strict=True))
            if expected is totals:
                assert cells["channel"] == "Total"
            else:
                assert cells["channel"] == expected["channel"]
                assert cells["week"] == period_label(expected[PERIOD_COL], "week")
                assert cells["week start"].date() == expected[PERIOD_COL]
            for k in kpis:
                assert excel_equal(cells[k.title], expected[k.id], k.unit), (sheet, k.id)
                prev = cells[f"{k.title}, previous"]
                assert excel_equal(prev, expected.get(k.id + PREV_SUFFIX), k.unit), k.id
                assert cells[f"{k.title}, n"] == expected[k.id + N_SUFFIX]
        assert ws.freeze_panes == "D2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(mine) + 1}"
    # real number formats, not text
    tickets = wb["Tickets"]
    formats = {c.value: tickets.cell(2, c.column).number_format for c in tickets[1]}
    assert formats["First response time"] == "[h]:mm:ss"
    assert formats["Resolution rate"] == "0.0%"
    assert formats["Tickets"] == "#,##0"
    nps_col = next(c.column for c in wb["Surveys"][1] if c.value == "NPS")
    assert wb["Surveys"].cell(2, nps_col).number_format == "+0.0;-0.0;0.0"
    # the summary: one row per KPI with the totals, previous values and n
    summary = wb["Summary"]
    table = {
        row[0]: row
        for row in summary.iter_rows(values_only=True)
        if row[0] and row[-1] in {k.id for k in weekly.available}
    }
    header_row = next(r for r in summary.iter_rows() if r[0].value == "KPI")[0].row
    assert summary.freeze_panes == f"A{header_row + 1}"
    for k in weekly.available:
        row = table[k.title]
        assert excel_equal(row[1], totals[k.id], k.unit)
        assert excel_equal(row[2], totals[k.id + PREV_SUFFIX], k.unit)
        assert row[4] == totals[k.id + N_SUFFIX]
    # the trend sheet: one row per week over all channels
    trend = list(wb["Trend"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in trend] == ["2026-W02", "2026-W03"]
    assert weekly.trend is not None
    assert [r[2] for r in trend] == weekly.trend.sort(PERIOD_COL)["ticket_volume"].to_list()
    # definitions and data quality
    defs = list(wb["Definitions"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in defs] == [s.kpi.id for s in weekly.kpis]
    quality = list(wb["Data quality"].iter_rows(min_row=2, values_only=True))
    assert ("tickets", "created_at: cannot read as a date-time") in {r[:2] for r in quality}


def test_xlsx_sheet_names_follow_excel_rules() -> None:
    from cscli.render.xlsx import sheet_name

    taken: set[str] = set()
    assert sheet_name("Tickets", taken) == "Tickets"
    assert sheet_name("tickets", taken) == "tickets (2)"  # Excel ignores case
    name = sheet_name("A/B: [weird]*? \\ " + "x" * 40, taken)
    assert len(name) <= 31 and not set(name) & set("[]:*?/\\")


# --- hostile data -------------------------------------------------------------------------


def test_csv_neutralises_formula_injection(hostile: Path, tmp_path: Path) -> None:
    result = report(hostile, compare=False)
    path = tmp_path / "out.csv"
    files.write_csv(result, path)
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    # a row per channel and week (a quiet week included, with 0 tickets)
    channels = [r["channel"] for r in rows if r["scope"] == "group"]
    assert sorted(set(channels)) == sorted(files.neutralise(v) for v in HOSTILE)
    assert '\'=HYPERLINK("http://evil","x")' in channels
    for row in rows:
        for column in ("scope", "channel"):
            assert not row[column].startswith(FORMULA_START), row[column]


def test_xlsx_writes_formula_like_texts_as_plain_text_cells(hostile: Path, tmp_path: Path) -> None:
    """Issue #18: a text cell is a string cell, which Excel never evaluates, so it is shown as
    it was written, without the `'` a CSV needs; no cell is a formula."""
    result = report(hostile, compare=False)
    path = tmp_path / "out.xlsx"
    write_xlsx(result, path, now=NOW)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)
    wb = openpyxl.load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    # OOXML writes control characters as _xHHHH_ (Excel shows a CR for _x000D_)
                    texts.append(re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), c.value))
    for value in HOSTILE:
        assert value in texts
        assert "'" + value not in texts
    assert HOSTILE_TITLE in texts  # a KPI title from the config is a header cell


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data: str) -> None:
        self.text.append(data)


#: every element and attribute the template itself writes; data must not add any
HTML_TAGS = {
    "html", "head", "meta", "link", "title", "style", "body", "main", "header", "div", "h1", "h2",
    "h3", "p", "span", "br", "time", "section", "figure", "figcaption", "svg", "line", "text",
    "rect", "polyline", "circle", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "ul",
    "li", "strong", "code", "small", "footer",
}  # fmt: skip


@pytest.mark.parametrize("trend", [True, False], ids=["total-trend", "line-per-group"])
def test_html_escapes_every_text_from_the_data(hostile: Path, trend: bool) -> None:
    result = report(hostile, compare=False, trend=trend)
    page = render_html(result, now=NOW)
    parsed = Tags()
    parsed.feed(page)
    assert parsed.tags <= HTML_TAGS, parsed.tags - HTML_TAGS
    assert not any(a.startswith("on") for a in parsed.attributes)
    assert "<script" not in page.lower() and "<b " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE_TITLE in "".join(parsed.text)  # shown as text, as it was written
    if not trend:  # the fallback chart draws a line per channel, named in its legend
        assert parsed.text.count("<script>alert(1)</script>") >= 2


def test_markdown_escapes_html_from_the_data(hostile: Path) -> None:
    text = files.render_markdown(report(hostile, compare=False))
    assert "<script>" not in text


# --- writing files: -o, placeholders, atomic writes, -q -----------------------------------


def test_every_format_in_one_run(runner: CliRunner, config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    names = ["r.csv", "r.parquet", "r.json", "r.md", "r.html", "r.xlsx"]
    args = ["report", "-c", str(config), *PERIOD, "--by", "channel", "--grain", "week"]
    for name in names:
        args += ["-o", str(out / name)]
    result = runner.invoke(app, [*args, "--compare"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # with -o the table is not printed; notes go to stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, "r.csv.meta.json"])
    for name in [*names, "r.csv.meta.json"]:
        assert f"wrote {out / name}" in result.stderr
    weekly = report(config)
    flat = files.flat_frame(weekly)
    assert pl.read_parquet(out / "r.parquet").equals(flat)
    meta = json.loads(pl.read_parquet_metadata(out / "r.parquet")["cscli"])
    assert meta["period"] == {"from": "2026-01-05", "to": "2026-01-18", "timezone": "UTC"}
    assert pl.read_csv(out / "r.csv", try_parse_dates=True).equals(flat)
    doc = json.loads((out / "r.json").read_text())
    assert doc["totals"]["kpis"]["first_response_time"]["value"] == 600
    assert (out / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_placeholders_and_missing_directories(
    runner: CliRunner, config: Path, tmp_path: Path
) -> None:
    from cscli.render.files import now_local

    before = now_local("UTC").date()
    templates = [
        str(tmp_path / "a" / "b" / "{grain}" / "{from}_{to}.json"),
        str(tmp_path / "daily" / "{date}.md"),
    ]
    args = ["report", "-c", str(config), *PERIOD, "--grain", "week"]
    result = runner.invoke(app, [*args, "-o", templates[0], "-o", templates[1]])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "b" / "week" / "2026-01-05_2026-01-18.json").is_file()
    days = {before, now_local("UTC").date()}  # the run may cross midnight
    assert {p.name for p in (tmp_path / "daily").iterdir()} <= {f"{d}.md" for d in days}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{month}.csv", "unknown placeholder {month}"),
        ("report.txt", "cannot tell the format from the extension .txt"),
    ],
)
def test_bad_output_path_is_exit_2_and_writes_nothing(
    runner: CliRunner, config: Path, tmp_path: Path, target: str, message: str
) -> None:
    out = tmp_path / "out"
    # the good file comes first: every path is checked before any file is written
    args = ["report", "-c", str(config), "-o", str(out / "ok.json"), "-o", str(out / target)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr and "hint:" in result.stderr
    assert not out.exists()


def test_quiet_prints_nothing(runner: CliRunner, config: Path, tmp_path: Path) -> None:
    # T7 has an unreadable date: without -q that is a note on stderr
    args = ["report", "-c", str(config), *PERIOD, "-o", str(tmp_path / "r.html")]
    loud = runner.invoke(app, args)
    assert loud.exit_code == 0 and "tickets.csv:8" in loud.stderr
    quiet = runner.invoke(app, [*args, "-q"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and quiet.stderr == ""
    assert (tmp_path / "r.html").is_file()


def _fail_csv(self: pl.DataFrame, path: Any = None, **kwargs: Any) -> None:
    Path(path).write_text("scope,channel\ngroup,ha")  # half a report, then the disk fills up
    raise OSError(28, "No space left on device")


def _fail_xlsx(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("boom")  # after the Summary and the breakdown sheets were added


@pytest.mark.parametrize(
    ("name", "target", "patch", "replacement"),
    [
        ("csv", "report.csv", "polars.DataFrame.write_csv", _fail_csv),
        ("xlsx", "report.xlsx", "cscli.render.xlsx._definitions", _fail_xlsx),
        ("html", "report.html", "cscli.render.html._definition", _fail_xlsx),
    ],
)
def test_failed_write_leaves_the_old_report_and_no_temporary_file(
    runner: CliRunner,
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    target: str,
    patch: str,
    replacement: Callable[..., None],
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / target).write_bytes(b"yesterday's report")
    seen: list[list[str]] = []
    real = files.write_atomic

    def watching(path: Path, data: Any) -> Path:
        def spy(tmp: Path) -> None:
            seen.append(sorted(p.name for p in out.iterdir()))  # the temporary file exists
            data(tmp) if callable(data) else tmp.write_bytes(data)

        return real(path, spy)

    monkeypatch.setattr("cscli.render.files.write_atomic", watching)
    monkeypatch.setattr("cscli.render.xlsx.write_atomic", watching)
    monkeypatch.setattr("cscli.render.html.write_atomic", watching)
    monkeypatch.setattr(patch, replacement)
    args = ["report", "-c", str(config), *PERIOD, "--by", "channel", "--grain", "week"]
    result = runner.invoke(app, [*args, "-o", str(out / target), "-o", str(out / "new.json")])
    assert result.exit_code == 2
    assert ("cannot write" if name == "csv" else "internal error") in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [target]  # no temporary file, no new.json
    assert (out / target).read_bytes() == b"yesterday's report"
    if name != "html":  # the HTML fails while rendering, before any file is opened
        assert any(n.startswith(f".{target}.") and n.endswith(".tmp") for n in seen[0])


def test_a_new_report_appears_whole(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cscli.render.xlsx as xlsx

    path = tmp_path / "r.xlsx"
    seen: list[bool] = []

    def build(result: ReportResult, tmp: Path, *, now: datetime | None = None) -> None:
        build_workbook(result, tmp, now=now)
        seen.append(path.exists())  # written in full under the temporary name first

    monkeypatch.setattr(xlsx, "build_workbook", build)
    xlsx.write_xlsx(report(config), path, now=NOW)
    assert seen == [False] and path.is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# --- the HTML report in headless Chromium -------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


def chromium(page: Path, tmp_path: Path) -> tuple[int, str, list[str], list[str], bytes]:
    """Open `page` headless: (exit code, DOM, console messages, page requests, PNG)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    shot, netlog = tmp_path / f"{page.stem}.png", tmp_path / f"{page.stem}.netlog.json"
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={netlog}",
            "--hide-scrollbars",
            "--force-device-scale-factor=0.5",
            "--window-size=1280,1800",
            f"--screenshot={shot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.returncode, proc.stdout, console, page_requests(netlog), shot.read_bytes()


def page_requests(netlog: Path) -> list[str]:
    """URLs the page asked the network for. The browser's own background requests (update
    checks, clock sync) carry no initiator and are not the page's doing."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start
        and "url" in e.get("params", {})
        and e["params"].get("initiator") != "not an origin"
    ]


def png_colours(data: bytes) -> set[bytes]:
    """The distinct RGB colours of an 8-bit RGB/RGBA PNG (zlib + the five PNG row filters)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, bytearray()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
    assert depth == 8 and colour_type in (2, 6), (depth, colour_type)
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(bytes(idat)), width * bpp
    prev, colours = bytes(stride), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]
        if kind == 0:
            cur = bytes(line)
        elif kind == 1:  # Sub: a running sum per channel
            row = bytearray(line)
            for c in range(bpp):
                row[c::bpp] = bytes(accumulate(line[c::bpp], lambda a, b: (a + b) & 255))
            cur = bytes(row)
        elif kind == 2:  # Up
            cur = bytes((a + b) & 255 for a, b in zip(line, prev, strict=True))
        else:  # Average, Paeth
            row = bytearray(stride)
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                if kind == 3:
                    p = (a + b) >> 1
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[i] = (line[i] + p) & 255
            cur = bytes(row)
        colours.update(cur[i : i + 3] for i in range(0, stride, bpp))
        prev = cur
    return colours


def test_html_report_renders_offline_in_chromium(weekly: ReportResult, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_html(weekly, page, now=NOW)
    code, dom, console, requests, png = chromium(page, tmp_path)
    assert code == 0
    assert console == []
    assert requests == []
    # a chart per KPI with a value in some week (all five here), bars for the count KPI
    assert weekly.trend is not None
    charted = [k.id for k in weekly.available if weekly.trend[k.id].is_not_null().any()]
    assert dom.count('<svg class="trend-chart"') == len(charted) == 5
    # by channel: a line per channel on every chart, the count too (never their sum as bars;
    # test_html_ungrouped_count_is_bars has the bars)
    assert dom.count('<rect class="bar"') == 0
    assert dom.count('<polyline class="line') >= 3 * 2
    assert "First response time" in dom and "Data quality" in dom
    colours = png_colours(png)
    assert len(colours) > 50, "the screenshot is blank"
    assert bytes((0x25, 0x63, 0xEB)) in colours  # the chart blue made it to the screen


def test_chromium_check_sees_console_errors_and_requests(tmp_path: Path) -> None:
    # the control: without our CSP, an image from the network and a console error are caught
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><img src="http://example.invalid/x.png">'
        '<script>console.error("boom")</script>'
    )
    code, _, console, requests, _ = chromium(page, tmp_path)
    assert code == 0
    assert any('"boom"' in line for line in console)
    assert requests == ["http://example.invalid/x.png"]


def test_html_has_a_policy_against_network_fetches(weekly: ReportResult) -> None:
    page = render_html(weekly, now=NOW)
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<script" not in page


def test_html_charts_need_a_grain(config: Path) -> None:
    page = render_html(report(config, grain=None), now=NOW)
    assert "trend-chart" not in page and "Breakdown" in page


def test_html_marks_partial_buckets(config: Path) -> None:
    # --from on a Wednesday: the first ISO week starts before the period and is drawn hollow
    result = api.report(config, date_from="2026-01-07", date_to="2026-01-18", grain="week")
    page = render_html(result, now=NOW)
    assert "partial week" in page


def test_no_stray_golden_files() -> None:
    expected = {f"{view}.{ext}" for view in VIEWS for ext in RENDERERS}
    assert {p.name for p in GOLDEN.iterdir()} <= expected


# --- the HTML report on a phone and on A4 paper (headless Chromium) -----------------------

#: measures the laid-out page and writes the result into the DOM (`--dump-dom` reads it):
#: the document's scroll width, the viewport, every element that sticks out of the viewport
#: without a scrolling ancestor, and every table wider than the card it sits in
PROBE = """<script>
addEventListener("load", () => {
  const vw = document.documentElement.clientWidth, out = [], cut = [];
  const scrolls = (e) => { for (let a = e.parentElement; a; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX; if (o === "auto" || o === "scroll") return true; }
    return false; };
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    const outside = r.right > vw + 0.5 || r.left < -0.5;
    if (r.width && outside && !scrolls(e)) out.push(e.tagName + "." + e.className);
  }
  for (const t of document.querySelectorAll("table")) {
    if (t.offsetWidth > t.parentElement.clientWidth + 0.5) cut.push(t.parentElement.className);
  }
  const p = document.createElement("pre"); p.id = "probe";
  p.textContent = JSON.stringify({scroll: document.scrollingElement.scrollWidth, vw, out, cut});
  document.body.append(p);
});
</script>"""


def probe(page: Path, tmp_path: Path, width: int, height: int) -> dict[str, Any]:
    """Lay `page` out at width × height CSS px and return what PROBE measured. The probe copy
    differs from the report only by the script and a policy that lets it run; it is laid out
    in a frame of that size (headless Chromium's window is at least 500 px wide)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    html = page.read_text(encoding="utf-8")
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    inner = html_escape(html.replace("</body>", PROBE + "</body>"), quote=True)
    copy = tmp_path / f"{page.stem}-probe-{width}.html"
    copy.write_text(
        f'<!DOCTYPE html><body style="margin:0"><iframe id="f" width="{width}" '
        f'height="{height}" style="border:0;display:block" srcdoc="{inner}"></iframe>'
        '<script>document.getElementById("f").addEventListener("load", () => {'
        'const p = document.createElement("pre"); p.id = "probe"; p.textContent = '
        'document.getElementById("f").contentDocument.getElementById("probe").textContent;'
        "document.body.append(p); });</script></body>",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--hide-scrollbars",
            "--window-size=1280,1000",
            "--dump-dom",
            copy.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    measured: dict[str, Any] = json.loads(found.group(1).replace("&quot;", '"'))
    return measured


def print_pdf(page: Path, tmp_path: Path) -> bytes:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    pdf = tmp_path / f"{page.stem}.pdf"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
        check=True,
    )
    return pdf.read_bytes()


#: a breakdown by channel and agent, weekly, with changes: 2 keys + 5 KPIs × 2 = 12 columns
PHONE_VIEWS = {
    "weekly": {},
    "by-agent": {"by": ["channel", "agent"]},
    "totals": {"by": [], "grain": None, "compare": False},
    # the intraday profile's cut: the weekday × hour heatmaps of ticket volume and FRT
    "intraday": {"by": ["weekday", "hour_of_day"], "grain": None, "compare": False},
}


@pytest.mark.parametrize("view", PHONE_VIEWS)
def test_html_report_fits_a_phone(config: Path, tmp_path: Path, view: str) -> None:
    page = tmp_path / "report.html"
    write_html(report(config, **PHONE_VIEWS[view]), page, now=NOW)
    measured = probe(page, tmp_path, 390, 844)
    assert measured["vw"] == 390  # the probe saw a phone's viewport
    assert measured["scroll"] <= 390  # the page never scrolls sideways
    assert measured["out"] == []  # only a table inside its card's scroller may be wider
    # every breakdown here is wider than a phone (6 to 12 columns): it scrolls in its card; a
    # landscape ("wide") one except the intraday table (weekday, hour and 5 KPIs: A4 portrait)
    assert "card table-card wide" in measured["cut"] or view in ("totals", "intraday")
    assert "card table-card" in measured["cut"]


@pytest.mark.parametrize("view", PHONE_VIEWS)
def test_html_report_tables_fit_their_printed_page(config: Path, tmp_path: Path, view: str) -> None:
    # A4 is 210 × 297 mm; less the print margins (12 mm portrait, 10 mm landscape) the printed
    # width is 186 mm = 703 px portrait and 277 mm = 1047 px landscape (96 px per 25.4 mm).
    # The print rules laid out at those widths: every table fits the card it is printed in.
    result = report(config, **PHONE_VIEWS[view])
    html = render_html(result, now=NOW)
    printed = html.replace("@media print {", "@media all {").replace(
        "</style>", ".table-card.wide { width: 1047px; }\n</style>"
    )
    page = tmp_path / "printed.html"
    page.write_text(printed, encoding="utf-8")
    measured = probe(page, tmp_path, 703, 1000)
    assert measured["cut"] == []
    # and a real print to PDF: portrait pages, landscape ones for a wide breakdown
    source = tmp_path / "report.html"
    source.write_text(html, encoding="utf-8")
    pdf = print_pdf(source, tmp_path)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    boxes = [
        (float(w), float(h))
        for w, h in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    ]
    assert pages >= 1 and len(boxes) >= pages
    # A4 in PDF points (72 per inch): 595 × 842
    portrait = [b for b in boxes if round(b[0]) in (595, 596) and round(b[1]) in (841, 842, 843)]
    landscape = [b for b in boxes if round(b[1]) in (595, 596) and round(b[0]) in (841, 842, 843)]
    assert len(portrait) + len(landscape) == len(boxes), boxes
    assert portrait  # the headline and charts
    wide = 'class="card table-card wide"' in html
    assert bool(landscape) == wide
    # 12 columns weekly, 3 for the totals, 7 for the intraday table (its 25-column heatmaps
    # fit a portrait page: `cut` is empty above)
    assert wide == (view not in ("totals", "intraday"))


# --- charts per group: the largest groups, "other", faint low-n points, hollow provisional --

#: eight agents over two ISO weeks, every ticket answered after 10 minutes. By records
#: (tickets × the three KPIs): A 5, B 4, C 4, D 3, E 3 are drawn; F 2, G 2, H 1 are "other".
#:   other W02: F1 resolved, G1 open, H1 resolved → 3 tickets, 2 of 3 resolved = 66.7%
#:   other W03: F2 open, G2 resolved             → 2 tickets, 1 of 2 resolved = 50.0%
AGENTS = {"A": 5, "B": 4, "C": 4, "D": 3, "E": 3}
OTHERS = [("F1", "F", 5, True), ("G1", "G", 6, False), ("H1", "H", 7, True)]
OTHERS += [("F2", "F", 12, False), ("G2", "G", 13, True)]


@pytest.fixture
def agents(write: Write) -> Path:
    lines = ["ticket_id,created_at,first_response_at,resolved_at,channel,agent"]
    tickets = [(f"{a}{i}", a, 5 + i % 5, True) for a, count in AGENTS.items() for i in range(count)]
    for tid, agent, day, resolved in [*tickets, *OTHERS]:
        at = f"2026-01-{day:02d}T09:00:00Z"
        done = f"2026-01-{day:02d}T11:00:00Z" if resolved else ""
        lines.append(f"{tid},{at},2026-01-{day:02d}T09:10:00Z,{done},email,{agent}")
    write("tickets.csv", "\n".join(lines))
    return write(
        "cscli.yaml",
        """
        timezone: UTC
        sources:
          tickets: {path: tickets.csv}
        kpis: [ticket_volume, resolution_rate, first_response_time]
        """,
    )


def legend(page: str, kpi: str) -> list[str]:
    figure = page.split(f'id="chart-{kpi}"', 1)[1].split("</figure>", 1)[0]
    return re.findall(
        r'<span class="swatch" style="border-color:#[0-9a-f]+"></span>([^<]+)<', figure
    )


def test_html_by_draws_the_largest_groups_and_other(agents: Path) -> None:
    result = report(agents, by=["agent"], compare=False)
    page = render_html(result, now=NOW)
    assert legend(page, "ticket_volume") == ["A", "B", "C", "D", "E", "other"]
    assert legend(page, "resolution_rate") == ["A", "B", "C", "D", "E", "other"]
    # the rest's count is their sum, a ratio theirs over their records together (see AGENTS)
    assert "other, 2026-W02: 3 (n=3)" in page and "other, 2026-W03: 2 (n=2)" in page
    assert "other, 2026-W02: 66.7% (n=3)" in page and "other, 2026-W03: 50.0% (n=2)" in page
    # a median of several groups cannot be made from theirs: no "other" line, and a note says so
    assert legend(page, "first_response_time") == ["A", "B", "C", "D", "E"]
    assert "the 5 with the most records of 8, and the other 3 together as “other”" in page
    assert "No “other” line for First response time" in page


def test_html_ungrouped_count_is_bars(config: Path) -> None:
    page = render_html(report(config, by=[], compare=False), now=NOW)
    # T1 T2 T3 in W02 (Jan 5–11), T4 T5 T6 in W03; T7 has no readable date
    assert page.count('<rect class="bar"') == 2
    assert "2026-W02: 3 (n=3)" in page and "2026-W03: 3 (n=3)" in page


def circles(page: str, kpi: str) -> dict[str, str]:
    """Per point (its tooltip up to the n): the circle's class."""
    figure = page.split(f'id="chart-{kpi}"', 1)[1].split("</figure>", 1)[0]
    found = re.findall(r'<circle class="([^"]+)"[^>]*><title>([^<(]+)\(', figure)
    return {tip.strip(): cls for cls, tip in found}


def test_html_fades_low_n_points_and_their_changes(config: Path) -> None:
    # FRT chat: W02 rests on T2 and T3 (n=2), W03 on T5 (n=1); email W03 on T4 (n=1, T6 still
    # unanswered: provisional). With min_n=2 only the n=1 points fade, and the line into them.
    result = report(config)
    page = render_html(result, now=NOW, min_n=2)
    frt = circles(page, "first_response_time")
    assert frt["chat, 2026-W02: 16m 00s"] == "point"
    assert frt["chat, 2026-W03: 5m 00s"] == "point faint"
    assert frt["email, 2026-W03: 1h 00m"] == "point hollow faint"
    figure = page.split('id="chart-first_response_time"', 1)[1].split("</figure>", 1)[0]
    assert figure.count('<polyline class="line faint"') == 2  # both channels step into n=1
    assert "fewer than 2 records" in page
    # a count is exact: never faint, whatever its n
    assert "faint" not in circles(page, "ticket_volume")["chat, 2026-W03: 1"]
    # changes: every row rests on fewer than 30 records by default, so none is green or red
    default = render_html(result, now=NOW)
    assert "chg good" not in default and "chg bad" not in default
    assert "chg faint" in default
    assert "chg good" in render_html(result, now=NOW, min_n=0)


def test_report_min_n_from_the_config_reaches_the_html(write: Write) -> None:
    # the same data and view as test_html_fades_low_n_points_and_their_changes, with
    # `report.min_n: 2` in the config instead of the renderer's argument: the same marks
    write("tickets.csv", TICKETS)
    write("surveys.csv", SURVEYS)
    config = write("cscli.yaml", CONFIG.rstrip() + "\n    report: {min_n: 2}\n")
    result = report(config)
    assert result.min_n == 2
    page = render_html(result, now=NOW)
    assert page == render_html(result, now=NOW, min_n=2)
    assert circles(page, "first_response_time")["chat, 2026-W03: 5m 00s"] == "point faint"
    assert circles(page, "first_response_time")["chat, 2026-W02: 16m 00s"] == "point"
    assert "fewer than 2 records" in page


def test_report_min_n_must_be_positive(write: Write) -> None:
    write("tickets.csv", TICKETS)
    write("surveys.csv", SURVEYS)
    config = write("cscli.yaml", CONFIG.rstrip() + "\n    report: {min_n: 0}\n")
    with pytest.raises(ConfigError, match=r"report\.min_n"):
        report(config)
