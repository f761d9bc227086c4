"""Report files: the format follows the extension; every file is written atomically.

CSV and Parquet flatten the report to one row per group (`scope` = group) plus the totals
(`scope` = total), with `<kpi>`, `<kpi>_n` and, with --compare, `<kpi>_previous` in machine
units. Parquet embeds the report's metadata (period, definitions, data quality) under the
`cscli` key; a CSV gets it in a `<file>.meta.json` sidecar. Markdown, HTML and XLSX are for
people: human units, definitions and notes included.

Spreadsheet formula injection: in a CSV every text cell and column name that begins with `=`,
`+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote `'`, so a spreadsheet
shows it as text instead of running it (OWASP's recommendation); see `safe.neutralise`. Numbers
are written as numbers, and a text that is a plain number (`-0.5`) is left as it is. XLSX needs
no quote: its text cells are strings, which Excel never evaluates.

Several `-o` files are all-or-nothing (`output.atomic_batch`): all are written under temporary
names first and renamed only when every one succeeded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from cscli.errors import UsageError
from cscli.kpis.columns import N_SUFFIX, OPEN_SUFFIX
from cscli.output import atomic_batch, write_atomic
from cscli.pipeline import PERIOD_COL, PREV_SUFFIX, ReportResult, is_provisional
from cscli.render import safe
from cscli.render.jsondoc import render_json, report_document
from cscli.render.safe import FORMULA_START as FORMULA_START  # re-exported
from cscli.render.safe import neutralise as neutralise  # re-exported
from cscli.units import change, format_change, format_value

EXTENSIONS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".xlsx": "xlsx",
}
PLACEHOLDER = re.compile(r"\{(date|from|to|grain)\}")


def expand_path(template: str, result: ReportResult, today: date) -> Path:
    """`reports/{date}.html` → `reports/2026-11-22.html`; also {from}, {to}, {grain}."""
    start, end = result.effective_period
    values = {
        "date": today.isoformat(),
        "from": start.isoformat() if start else "start",
        "to": end.isoformat() if end else "end",
        "grain": result.grain or "all",
    }
    unknown = re.findall(r"\{([^}]*)\}", PLACEHOLDER.sub("", template))
    if unknown:
        raise UsageError(
            f"-o {template}: unknown placeholder {{{unknown[0]}}}",
            hint="placeholders: {date}, {from}, {to}, {grain}",
        )
    return Path(PLACEHOLDER.sub(lambda m: values[m.group(1)], template))


def format_of(path: Path, fallback: str | None = None) -> str:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt:
        return fmt
    if fallback and fallback != "table":
        return fallback
    raise UsageError(
        f"-o {path}: cannot tell the format from the extension {path.suffix or '(none)'}",
        hint="use .csv, .parquet, .json, .md, .html or .xlsx, or give --format",
    )


def flat_frame(result: ReportResult) -> pl.DataFrame:
    """Groups then totals, machine units: scope, group columns, <kpi>, <kpi>_n[, _previous]."""
    keys = list(result.group_columns)
    kpi_cols: list[pl.Expr] = []
    for k in result.available:
        kpi_cols.append(pl.col(k.id))
        kpi_cols.append(pl.col(k.id + N_SUFFIX).alias(k.id + "_n"))
        if result.compare is not None:
            kpi_cols.append(pl.col(k.id + PREV_SUFFIX).alias(k.id + "_previous"))
        if open_share_of(k):
            kpi_cols.append(pl.col(k.id + OPEN_SUFFIX).alias(k.id + "_open_share"))
    parts = []
    if keys and result.table.height:
        table = _ensure(result.table, result)
        parts.append(table.select(pl.lit("group").alias("scope"), *keys, *kpi_cols))
    if result.totals.height:
        totals = _ensure(result.totals, result)
        parts.append(
            totals.select(
                pl.lit("total").alias("scope"),
                *(pl.lit(None, dtype=result.table.schema.get(k, pl.String)).alias(k) for k in keys),
                *kpi_cols,
            )
        )
    if not parts:
        return pl.DataFrame({"scope": []}, schema={"scope": pl.String})
    return pl.concat(parts, how="diagonal_relaxed")


def _ensure(frame: pl.DataFrame, result: ReportResult) -> pl.DataFrame:
    """Every KPI column exists (a KPI with no rows in a window still gets its columns)."""
    missing = []
    for k in result.available:
        for suffix, dtype in (
            ("", pl.Float64),
            (N_SUFFIX, pl.Int64),
            (PREV_SUFFIX, pl.Float64),
            (OPEN_SUFFIX, pl.Float64),
        ):
            if k.id + suffix not in frame.columns:
                missing.append(pl.lit(None, dtype=dtype).alias(k.id + suffix))
    return frame.with_columns(missing) if missing else frame


def metadata(result: ReportResult) -> dict[str, Any]:
    """The JSON contract without its rows: period, filters, definitions, data quality."""
    doc = report_document(result)
    doc.pop("rows")
    doc.pop("totals")
    return doc


def _csv_frame(result: ReportResult) -> pl.DataFrame:
    frame: pl.DataFrame = safe.neutralise_frame(flat_frame(result))
    return frame


def flat_csv(result: ReportResult) -> str:
    """The flat report as CSV text (for stdout)."""
    return _csv_frame(result).write_csv()


def write_csv(result: ReportResult, path: Path) -> list[Path]:
    frame = _csv_frame(result)
    meta = path.with_name(path.name + ".meta.json")
    with atomic_batch():  # the CSV and its sidecar appear together or not at all
        write_atomic(path, lambda p: frame.write_csv(p))
        write_atomic(meta, safe.json_text(metadata(result), indent=2) + "\n")
    return [path, meta]


def write_parquet(result: ReportResult, path: Path) -> list[Path]:
    frame = flat_frame(result)
    meta = {"cscli": json.dumps(metadata(result), ensure_ascii=False)}
    write_atomic(path, lambda p: frame.write_parquet(p, metadata=meta))
    return [path]


def write_json(result: ReportResult, path: Path) -> list[Path]:
    return [write_atomic(path, render_json(result))]


def write_markdown(result: ReportResult, path: Path) -> list[Path]:
    return [write_atomic(path, render_markdown(result))]


# --- Markdown -----------------------------------------------------------------------------


def _md(text: Any) -> str:
    """A table cell or text from the data or config: see `safe.markdown`."""
    return safe.markdown(text)


def _label(value: Any, column: str, grain: str | None) -> str:
    from cscli.render.terminal import period_label

    if value is None:
        return "(none)"
    if column == PERIOD_COL:
        return period_label(value, grain)
    return str(value)


def open_share_of(kpi: Any) -> bool:
    """Whether a KPI matures (reports an open share: `<kpi>_open_share` in CSV/Parquet)."""
    from cscli.kpis.columns import matures

    return matures(kpi.kind)


def _md_value(row: dict[str, Any], k: Any, compare: bool) -> str:
    text = format_value(row.get(k.id), k.unit)
    if row.get(k.id) is not None and is_provisional(row, k):
        text += "\\*"
    if compare:
        delta = change(row.get(k.id), row.get(k.id + PREV_SUFFIX), k.unit)
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
    totals = result.totals.row(0, named=True) if result.totals.height else {}
    kpis = result.available
    lines += ["| KPI | Value | n |", "| --- | ---: | ---: |"]
    for k in kpis:
        lines.append(
            f"| {_md(k.title)} | {_md_value(totals, k, compare)} | "
            f"{totals.get(k.id + N_SUFFIX) or 0:,} |"
        )
    keys = list(result.group_columns)
    if keys and result.table.height:
        from cscli.render.terminal import SOURCE_TITLES

        rows = list(result.table.iter_rows(named=True))
        for source, title in SOURCE_TITLES.items():
            group = [k for k in kpis if k.source == source]
            mine = [r for r in rows if any(r.get(k.id + N_SUFFIX) for k in group)]
            if not group or not mine:
                continue
            lines += ["", f"## {title}", ""]
            header = [*map(_md, keys), *(_md(k.title) for k in group)]
            lines.append("| " + " | ".join(header) + " |")
            lines.append("| " + " | ".join(["---"] * len(keys) + ["---:"] * len(group)) + " |")
            for r in mine:
                cells = [_md(_label(r[c], c, result.grain)) for c in keys]
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


def write_html(result: ReportResult, path: Path) -> list[Path]:
    from cscli.render.html import write_html  # jinja2 loads only when an HTML file is asked for

    return write_html(result, path)


def write_xlsx(result: ReportResult, path: Path) -> list[Path]:
    from cscli.render.xlsx import write_xlsx  # xlsxwriter loads only for an XLSX file

    return write_xlsx(result, path)


WRITERS: dict[str, Callable[[ReportResult, Path], list[Path]]] = {
    "csv": write_csv,
    "parquet": write_parquet,
    "json": write_json,
    "md": write_markdown,
    "html": write_html,
    "xlsx": write_xlsx,
}


def write_report(
    result: ReportResult, templates: Sequence[str], *, fallback: str | None, today: date
) -> list[Path]:
    """Write every `-o` file, all or none; returns the paths written (sidecars included)."""
    planned = []
    for template in templates:
        path = expand_path(template, result, today)
        planned.append((path, format_of(path, fallback)))
    written: list[Path] = []
    with atomic_batch():  # all the files appear, or none and the previous ones stay
        for path, fmt in planned:
            writer = WRITERS.get(fmt)
            if writer is None:
                raise UsageError(f"-o {path}: the {fmt} format is not available in this build")
            written.extend(writer(result, path))
    return written


def now_local(timezone: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone))
