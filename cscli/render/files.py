"""Report files (`-o`): the path's placeholders and one writer per format, each file written
atomically; `render.formats` picks the writer by the extension.

The renderers build the content: CSV and Parquet the flat table (`render.tabular`), JSON the
contract (`render.jsondoc`), Markdown, HTML and XLSX the views for people (`render.markdown`,
`render.html`, `render.xlsx`). A CSV gets the report's metadata in a `<file>.meta.json`
sidecar; Parquet embeds it under the `cscli` key.

Several `-o` files are all-or-nothing (`output.atomic_batch`): all are written under temporary
names first and renamed only when every one succeeded.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

from cscli.errors import UsageError
from cscli.output import atomic_batch, write_atomic
from cscli.render import safe
from cscli.render.jsondoc import render_json
from cscli.render.markdown import render_markdown as render_markdown  # re-exported
from cscli.render.safe import FORMULA_START as FORMULA_START  # re-exported
from cscli.render.safe import neutralise as neutralise  # re-exported
from cscli.render.tabular import csv_frame
from cscli.render.tabular import flat_csv as flat_csv  # re-exported
from cscli.render.tabular import flat_frame as flat_frame  # re-exported
from cscli.render.tabular import metadata as metadata  # re-exported
from cscli.results import ReportResult

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


def write_csv(result: ReportResult, path: Path) -> list[Path]:
    frame = csv_frame(result)
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


def write_html(result: ReportResult, path: Path) -> list[Path]:
    from cscli.render.html import write_html  # jinja2 loads only when an HTML file is asked for

    return write_html(result, path)


def write_xlsx(result: ReportResult, path: Path) -> list[Path]:
    from cscli.render.xlsx import write_xlsx  # xlsxwriter loads only for an XLSX file

    return write_xlsx(result, path)


def now_local(timezone: str) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(timezone))
