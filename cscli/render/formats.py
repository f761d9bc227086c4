"""The output formats: one registry for `cscli report`, one for `cscli check`.

A `Format` says what a format can do: print text on stdout, be drawn on the terminal (the
tables), write a file (chosen by one of its extensions), and whether it shows the trend. The
CLI's `--format` choices, the `-o` help and hint, `format_of`, `needs_trend` and
`write_report` all read the registries, so a new format is one entry here.

The CLI reads the registries to build its options at start-up, and `cscli --help` must stay
fast (no polars): every function here imports its renderer, or the file writing, when
called.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from cscli.errors import UsageError
from cscli.render import safe

if TYPE_CHECKING:
    import polars as pl

    from cscli.checks import CheckResult
    from cscli.pipeline import ReportResult

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Options:
    """What a text may depend on besides the result: `--strict` (JUnit and GitHub count a
    warning as a failure) and `--width` (a table written to a file)."""

    strict: bool = False
    width: int | None = None


@dataclass(frozen=True)
class Format(Generic[R]):
    """One output format of a command whose result is an `R` (`ReportResult`, `CheckResult`)."""

    #: the `--format` value
    name: str
    #: what it is, in a line, for whoever reads or extends the registry
    help: str
    #: the file extensions that select it for `-o` (the first is the one the help names)
    extensions: tuple[str, ...] = ()
    #: the text it prints on stdout (`cscli check` writes it to `-o` too)
    text: Callable[[R, Options], str] | None = None
    #: writes the `-o` file; returns the paths written (a CSV's sidecar too)
    write: Callable[[R, Path], list[Path]] | None = None
    #: on stdout it is drawn by the terminal renderer (rich), not printed as `text`
    terminal: bool = False
    #: it shows per-bucket totals over all groups (sparklines, charts): the report computes them
    needs_trend: bool = False

    @property
    def on_stdout(self) -> bool:
        """A `--format` choice: it prints text or is drawn on the terminal (not file-only)."""
        return self.text is not None or self.terminal


# --- cscli report -------------------------------------------------------------------------


def _report_json(result: ReportResult, _: Options) -> str:
    from cscli.render.jsondoc import render_json

    return render_json(result)


def _report_csv(result: ReportResult, _: Options) -> str:
    from cscli.render.files import flat_csv

    return flat_csv(result)


def _report_markdown(result: ReportResult, _: Options) -> str:
    from cscli.render.files import render_markdown

    return render_markdown(result)


def _writer(name: str) -> Callable[[ReportResult, Path], list[Path]]:
    """`cscli.render.files.<name>`, imported when a file is written (polars, jinja2 and
    xlsxwriter load only then)."""

    def write(result: ReportResult, path: Path) -> list[Path]:
        from cscli.render import files

        written: list[Path] = getattr(files, name)(result, path)
        return written

    return write


_REPORT: list[Format[ReportResult]] = [
    Format(
        "table",
        "tables on the terminal, with the trend's sparklines",
        terminal=True,
        needs_trend=True,
    ),
    Format(
        "json",
        "the stable output contract (docs/report.schema.json), machine units",
        (".json",),
        text=_report_json,
        write=_writer("write_json"),
    ),
    Format(
        "csv",
        "one row per group plus the totals, machine units; a file gets a .meta.json sidecar",
        (".csv",),
        text=_report_csv,
        write=_writer("write_csv"),
    ),
    Format(
        "parquet",
        "the CSV's rows, with the metadata embedded under the `cscli` key",
        (".parquet", ".pq"),
        write=_writer("write_parquet"),
    ),
    Format(
        "md",
        "GitHub-flavoured Markdown, human units, definitions and notes",
        (".md", ".markdown"),
        text=_report_markdown,
        write=_writer("write_markdown"),
    ),
    Format(
        "html",
        "one offline page: KPI tiles, a trend chart per KPI, breakdowns, notes",
        (".html", ".htm"),
        write=_writer("write_html"),
        needs_trend=True,
    ),
    Format(
        "xlsx",
        "a workbook: Summary, breakdowns, Trend, Definitions, Data quality",
        (".xlsx",),
        write=_writer("write_xlsx"),
        needs_trend=True,
    ),
]
REPORT_FORMATS: dict[str, Format[ReportResult]] = {f.name: f for f in _REPORT}
_BY_EXTENSION = {ext: f for f in _REPORT for ext in f.extensions}


def file_extensions() -> list[str]:
    """The extension that names each file format, in registry order (for help and hints)."""
    return [f.extensions[0] for f in _REPORT if f.write is not None]


def by_extension(path: str | Path) -> Format[ReportResult] | None:
    return _BY_EXTENSION.get(Path(path).suffix.lower())


def format_of(path: Path, fallback: str | None = None) -> Format[ReportResult]:
    """The format of an `-o` file: its extension's, else `--format`'s if it writes files."""
    found = by_extension(path)
    if found is not None:
        return found
    chosen = REPORT_FORMATS.get(fallback or "")
    if chosen is not None and chosen.write is not None:
        return chosen
    *most, last = file_extensions()
    raise UsageError(
        f"-o {path}: cannot tell the format from the extension {path.suffix or '(none)'}",
        hint=f"use {', '.join(most)} or {last}, or give --format",
    )


def needs_trend(fmt: str, outputs: Sequence[str] = ()) -> bool:
    """Whether a format asked for shows the trend: the stdout one or an `-o` file's (by its
    extension; a file whose format cannot be told fails later, when it is written)."""
    asked = [REPORT_FORMATS[fmt], *filter(None, map(by_extension, outputs))]
    return any(f.needs_trend for f in asked)


def write_report(
    result: ReportResult,
    templates: Sequence[str],
    *,
    fallback: str | None,
    today: date | None = None,
) -> list[Path]:
    """Write every `-o` file, all or none; returns the paths written (sidecars included).
    `today` fills `{date}` (default: today in the report's time zone)."""
    from cscli.output import atomic_batch
    from cscli.render.files import expand_path, now_local

    today = today or now_local(result.timezone).date()
    planned = []
    for template in templates:
        path = expand_path(template, result, today)
        planned.append((path, format_of(path, fallback)))
    written: list[Path] = []
    with atomic_batch():  # all the files appear, or none and the previous ones stay
        for path, fmt in planned:
            assert fmt.write is not None  # format_of returns file formats only
            written.extend(fmt.write(result, path))
    return written


# --- cscli check --------------------------------------------------------------------------


def _check_table(result: CheckResult, options: Options) -> str:
    from cscli.render.checks import render_table

    console = safe.safe_console(width=options.width or 120, record=True, file=io.StringIO())
    render_table(result, console)
    return console.export_text()


def _check_json(result: CheckResult, _: Options) -> str:
    from cscli.render.checks import render_json

    return render_json(result)


def _check_junit(result: CheckResult, options: Options) -> str:
    from cscli.render.checks import render_junit

    return render_junit(result, strict=options.strict)


def _check_github(result: CheckResult, options: Options) -> str:
    from cscli.render.checks import render_github

    return render_github(result, strict=options.strict)


def _check_markdown(result: CheckResult, _: Options) -> str:
    from cscli.render.checks import render_markdown

    return render_markdown(result)


_CHECK: list[Format[CheckResult]] = [
    Format(
        "table",
        "a table on the terminal; plain text (120 columns) in a file",
        text=_check_table,
        terminal=True,
    ),
    Format("json", "every rule × group result, machine units", text=_check_json),
    Format("junit", "JUnit XML: one testcase per rule × group", text=_check_junit),
    Format(
        "github",
        "GitHub Actions annotations on the config's lines, and the step summary",
        text=_check_github,
    ),
    Format("md", "a Markdown table for a PR comment or chat", text=_check_markdown),
]
CHECK_FORMATS: dict[str, Format[CheckResult]] = {f.name: f for f in _CHECK}


def auto_check_format() -> str:
    """`cscli check` without --format: `github` under GitHub Actions, else `table`."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "table"


def write_check(
    output: Path | None, text: str | None, breaches: Path | None, records: pl.DataFrame | None
) -> None:
    """Write `-o` (the text) and `--breaches` (the records as CSV, formula-safe): both files
    appear together or not at all."""
    from cscli.output import atomic_batch, write_atomic

    with atomic_batch():
        if output is not None and text is not None:
            write_atomic(output, text)
        if breaches is not None and records is not None:
            frame = safe.neutralise_frame(records)
            write_atomic(breaches, lambda p: frame.write_csv(p))
