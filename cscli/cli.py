"""The command line: parse options, call `cscli.api`, render, return an exit code.

This module is the only place errors are printed. Heavy modules (polars, the pipeline) are
imported inside the commands so that `cscli --help` starts fast.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import nullcontext, suppress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from cscli import __version__
from cscli.errors import CscliError, DataQualityError, ExitCode, Interrupted
from cscli.period import Grain
from cscli.render import formats, safe


class CompareMode(StrEnum):
    previous = "previous"
    yoy = "yoy"
    off = "off"


def _compare_args(args: list[str]) -> list[str]:
    """`--compare` takes an optional mode: a bare `--compare` means `--compare previous`,
    `--no-compare` means `--compare off` (click options cannot have optional values)."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg == "--compare" and (i + 1 >= len(args) or args[i + 1] not in set(CompareMode)):
            out += ["--compare", "previous"]
        elif arg == "--no-compare":
            out += ["--compare", "off"]
        else:
            out.append(arg)
    return out


class _Group(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _compare_args(args))


app = typer.Typer(
    cls=_Group,
    name="cscli",
    help="Customer-service KPIs from ticket, call and survey exports.",
    add_completion=False,
    no_args_is_help=True,
    # Our own boundary prints errors; rich's pretty tracebacks could print local variables,
    # which here hold customers' personal data.
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _State:
    debug = False


state = _State()


# The --format choices are the registries' (cscli.render.formats); mypy cannot see members
# built from data, hence the ignores.
ReportFormat = StrEnum(  # type: ignore[misc]
    "ReportFormat", [(n, n) for n, f in formats.REPORT_FORMATS.items() if f.on_stdout]
)
CheckFormat = StrEnum("CheckFormat", [(n, n) for n in formats.CHECK_FORMATS])  # type: ignore[misc]


class DataFormat(StrEnum):
    table = "table"
    json = "json"


class CatalogFormat(StrEnum):
    table = "table"
    md = "md"
    json = "json"


# Both consoles read no markup or emoji from any string and show control characters as
# escapes (`safe`): data, paths and library messages are printed literally.
def _stderr() -> Console:
    return safe.safe_console(stderr=True)


def _stdout(width: int | None) -> Console:
    if width is None and not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        width = 120  # pipes and cron: wide enough that tables are not cut at 80 columns
    return safe.safe_console(width=width)


def _emit(text: str) -> None:
    """Machine output (JSON, CSV, Markdown, JUnit…) on stdout, exact in a pipe or file; on a
    terminal, control characters from the data are shown as escapes instead of run."""
    sys.stdout.write(safe.terminal(text, lines=True) if sys.stdout.isatty() else text)


def _say(err: Console, text: str) -> None:
    """A line on stderr (`wrote PATH`) with the path printed literally."""
    err.print(safe.message(text), soft_wrap=True)


F = TypeVar("F", bound=Callable[..., Any])


def _boundary(func: F) -> F:
    """The one error boundary: CscliError → `error:`/`hint:` and its exit code; an interrupt
    (Ctrl-C, SIGTERM) or anything else (a bug) → exit 2. Tracebacks only with --debug, and never
    with local variables. Messages are printed literally (they quote paths, data and polars
    errors), and a failure while printing still exits 2: exit 1 always means "a check failed"."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = func(*args, **kwargs)
        except typer.Exit:
            raise
        except (Exception, KeyboardInterrupt, Interrupted, typer.Abort) as e:
            raise typer.Exit(_report_failure(e)) from None
        raise typer.Exit(int(code or ExitCode.OK))

    return wrapper  # type: ignore[return-value]


def _report_failure(e: BaseException) -> int:
    """Print `e` on stderr; its exit code (never 1 unless the error itself says so)."""
    code = int(e.exit_code) if isinstance(e, CscliError) else int(ExitCode.ERROR)
    try:
        if state.debug:
            traceback.print_exception(e)
        err = _stderr()
        for line in _failure_lines(e):
            err.print(line, soft_wrap=True)
    except Exception as printing:  # the console itself failed: plain text, still exit 2
        lines = [text.plain for text in _failure_lines(e)]
        lines.append(f"(and printing that failed: {type(printing).__name__})")
        with suppress(Exception):
            sys.stderr.write("\n".join(safe.terminal(line, lines=True) for line in lines) + "\n")
        return code if code != int(ExitCode.CHECK_FAILED) else int(ExitCode.ERROR)
    return code


def _failure_lines(e: BaseException) -> list[Any]:
    if isinstance(e, CscliError):
        lines = [safe.labelled("error:", "bold red", e.message)]
        lines += [safe.message(f"  {line}") for line in e.details()]
        if e.hint:
            lines.append(safe.labelled("hint:", "bold", e.hint))
        return lines
    if isinstance(e, KeyboardInterrupt | Interrupted | typer.Abort):
        return [safe.labelled("error:", "bold red", "interrupted (no file is left half-written)")]
    return [
        safe.labelled(
            "error:",
            "bold red",
            f"internal error ({type(e).__name__}: {e}). "
            "This is a bug in cscli; rerun with --debug for the traceback.",
        )
    ]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cscli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Customer-service KPIs from ticket, call and survey exports."""
    state.debug = debug


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "-c",
        "--config",
        metavar="PATH",
        help="Config file (default: $CSCLI_CONFIG, then ./cscli.yaml).",
        dir_okay=False,
    ),
]

FromOpt = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD (config time zone)."),
]
ToOpt = Annotated[
    str | None, typer.Option("--to", metavar="DATE", help="Last day, inclusive, YYYY-MM-DD.")
]
LastOpt = Annotated[
    str | None,
    typer.Option(
        "--last",
        metavar="N[dwmqy]",
        help="The N days/weeks/months ending --to or today: 30d, 4w, 3m.",
    ),
]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the bundled sample data and config.")]
WidthOpt = Annotated[
    int | None, typer.Option("--width", metavar="N", help="Terminal width (default: detected).")
]


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


@app.command()
@_boundary
def report(
    config: ConfigOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    last: LastOpt = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            metavar="DIM",
            help="Dimensions to slice by: channel, agent, team, queue… (repeat or comma-separate).",
        ),
    ] = None,
    grain: Annotated[
        Grain | None, typer.Option("--grain", help="Time buckets (ISO weeks start Monday).")
    ] = None,
    kpi: Annotated[
        list[str] | None,
        typer.Option("--kpi", metavar="ID", help="Only these KPI ids (repeatable)."),
    ] = None,
    compare: Annotated[
        CompareMode | None,
        typer.Option(
            "--compare",
            metavar="[yoy]",
            help="Add each KPI's previous value and the change: the previous calendar months "
            "for a period of whole months, else the window of equal length before (with "
            "--grain: each bucket vs the one before); `--compare yoy`: the same dates one "
            "year earlier. --no-compare turns a config's compare off.",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", metavar="NAME", help="A named view: scorecard (per agent), team."
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Output format on stdout.")
    ] = ReportFormat["table"],
    output: Annotated[
        list[str] | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help="Write a report file; the format follows the extension "
            f"({' '.join(formats.file_extensions())}). "
            "Repeatable; {date}, {from}, {to}, {grain} expand.",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="Nothing on stdout, no notes: for cron with -o."),
    ] = False,
    demo: DemoOpt = False,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", help="Rows per terminal table (0 = all).")
    ] = 200,
    show_n: Annotated[
        bool, typer.Option("--show-n", help="Show each value's n in grouped tables.")
    ] = False,
    width: WidthOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 when the data has any quality finding.")
    ] = False,
) -> ExitCode:
    """Compute the KPIs of the config and print them."""
    from cscli import api
    from cscli.render.terminal import render_notes

    err = _stderr()
    # a spinner keeps moving while polars works (it releases the GIL); only on a terminal
    with err.status("Computing KPIs…") if err.is_terminal else nullcontext():
        result = api.report(
            config,
            demo=demo,
            date_from=date_from,
            date_to=date_to,
            last=last,
            by=_split(by),
            grain=grain,
            kpis=_split(kpi) or (),
            compare=compare,
            profile=profile,
            trend=formats.needs_trend(fmt, output or ()),
        )
    written = formats.write_report(result, output, fallback=fmt) if output else []
    chosen = formats.REPORT_FORMATS[fmt]
    if not quiet:
        for path in written:
            _say(err, f"wrote {path}")
        if chosen.text is not None:
            _emit(chosen.text(result, formats.Options()))
        elif not output:
            _terminal_report(result, profile, _stdout(width), limit=limit, show_n=show_n)
        render_notes(result, err)
    if strict and result.data_quality:
        raise _findings_error(result.data_quality)
    return ExitCode.OK


def _terminal_report(
    result: Any, profile: str | None, console: Console, *, limit: int, show_n: bool
) -> None:
    """The report's tables on the terminal, laid out as the profile asks."""
    from cscli import api
    from cscli.render.terminal import render_report

    view = api.get_profile(profile) if profile else None
    render_report(
        result,
        console,
        limit=limit,
        show_n=show_n,
        combined=view.combined if view else False,
        n_columns=view.n_columns if view else (),
        title=view.title if view else None,
    )


def _findings_error(findings: Sequence[Any]) -> DataQualityError:
    """`report --strict` on data with quality findings: exit 2, after the report."""
    total = sum(q.rows for q in findings)
    return DataQualityError(
        f"--strict: {len(findings)} data-quality finding(s) on {total:,} rows",
        hint="fix the export, or drop --strict to report with those rows excluded",
    )


@app.command()
@_boundary
def check(
    config: ConfigOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    last: LastOpt = None,
    fmt: Annotated[
        CheckFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format (default: github under GitHub Actions, else table).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", metavar="PATH", help="Write the output to this file."),
    ] = None,
    breaches: Annotated[
        Path | None,
        typer.Option(
            "--breaches", metavar="PATH", help="Write the records behind each failed rule to a CSV."
        ),
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", metavar="NAME", help="Only rules with this name or KPI id."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    demo: DemoOpt = False,
    width: WidthOpt = None,
) -> ExitCode:
    """Evaluate the SLA rules of the config: exit 0 pass, 1 a rule failed, 2 an error."""
    from cscli import api
    from cscli.render import checks as out

    err = _stderr()
    with err.status("Checking…") if err.is_terminal else nullcontext():
        cfg = api.open_config(config, demo=demo)
        rules = _split(rule) or ()
        result = api.check(cfg, date_from=date_from, date_to=date_to, last=last, rules=rules)
    chosen = formats.CHECK_FORMATS[fmt or formats.auto_check_format()]
    # the table goes to the terminal through rich; any other output (or -o) is text
    options = formats.Options(strict=strict, width=width)
    drawn = chosen.terminal and output is None
    text = chosen.text(result, options) if chosen.text and not drawn else None
    if text is None:
        out.render_table(result, _stdout(width))
    elif output is None:
        _emit(text)
    if chosen.name == "github":
        out.append_step_summary(result)
    records = api.breaches(cfg, result, strict=strict) if breaches is not None else None
    formats.write_check(output, text, breaches, records)
    if output is not None:
        _say(err, f"wrote {output}")
    if breaches is not None and records is not None:
        _say(err, f"wrote {breaches} ({records.height:,} records)")
    if result.all_skipped:
        err.print(safe.labelled("warning:", "yellow", _NOTHING_CHECKED), soft_wrap=True)
    return result.exit_code(strict=strict)


_NOTHING_CHECKED = (
    "no rule could be evaluated (every result is skipped): "
    "the exit code says pass, but nothing was checked"
)


@app.command()
@_boundary
def validate(
    config: ConfigOpt = None,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = DataFormat.table,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 2 when the data has any quality finding.")
    ] = False,
    demo: DemoOpt = False,
    width: WidthOpt = None,
) -> ExitCode:
    """Load every source and print the data-quality report: rows, mappings, findings, KPIs."""
    from cscli import api
    from cscli.render import validation

    result = api.validate(config, demo=demo)
    if fmt is DataFormat.json:
        _emit(validation.validation_json(result))
    else:
        validation.render_validation(result, _stdout(width))
    if strict and not result.clean:
        raise DataQualityError(
            f"--strict: {len(result.issues)} data-quality finding(s)",
            hint="fix the export, or drop --strict",
        )
    return ExitCode.OK


@app.command()
@_boundary
def init(
    folder: Annotated[
        Path, typer.Argument(help="Folder with the exports (default: here).", file_okay=False)
    ] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace an existing cscli.yaml.")] = False,
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone", metavar="ZONE", help="Zone for days and weeks, e.g. Europe/Berlin."
        ),
    ] = "UTC",
    dry_run: Annotated[
        bool, typer.Option("--print", help="Print the config instead of writing it.")
    ] = False,
) -> ExitCode:
    """Detect the exports in a folder (vendor formats too) and write a starter cscli.yaml."""
    from cscli import api

    path, text = api.init(folder, force=force, timezone=timezone, write=not dry_run)
    if dry_run:
        _emit(text)
    else:
        _say(_stderr(), f"wrote {path}; next: cscli validate -c {path}")
    return ExitCode.OK


@app.command()
@_boundary
def feedback(
    config: ConfigOpt = None,
    source: Annotated[
        str,
        typer.Option(
            "--source", metavar="SOURCE", help="surveys (comments), messages or tickets (subject)."
        ),
    ] = "surveys",
    by: Annotated[
        list[str] | None, typer.Option("--by", metavar="DIM", help="Count labels per dimension.")
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where", metavar="SQL", help="SQL filter, e.g. \"channel = 'email' AND score <= 2\"."
        ),
    ] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    last: LastOpt = None,
    examples: Annotated[int, typer.Option("--examples", help="Texts shown per side.")] = 5,
    terms: Annotated[int, typer.Option("--terms", help="Terms shown per side.")] = 15,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="table or json.")
    ] = DataFormat.table,
    demo: DemoOpt = False,
    width: WidthOpt = None,
) -> ExitCode:
    """What customers say: sentiment labels, the most negative and positive comments (personal
    data masked), and the words and phrases that set complaints apart."""
    from cscli import api

    err = _stderr()
    progress_bar = None
    if err.is_terminal:
        from rich.progress import Progress

        progress_bar = Progress(console=err, transient=True)
    task: list[Any] = []

    def tick(done: int, total: int) -> None:
        if progress_bar is None or total == 0:
            return
        if not task:
            task.append(progress_bar.add_task("Scoring texts", total=total))
        progress_bar.update(task[0], completed=done)

    with progress_bar if progress_bar is not None else nullcontext():
        report = api.feedback(
            config,
            demo=demo,
            source=source,
            by=_split(by) or (),
            where=where,
            date_from=date_from,
            date_to=date_to,
            last=last,
            examples=examples,
            top_terms=terms,
            progress=tick,
        )
    from cscli.render import feedback as out

    if fmt is DataFormat.json:
        _emit(out.feedback_json(report))
    else:
        out.render_feedback(report, _stdout(width))
    return ExitCode.OK


@app.command()
@_boundary
def kpis(
    fmt: Annotated[
        CatalogFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CatalogFormat.table,
    width: WidthOpt = None,
) -> ExitCode:
    """List the KPI catalogue: id, unit, direction, time anchor, parameters, definition."""
    from cscli import api
    from cscli.render import catalog as cat

    defs = api.kpi_catalog()
    if fmt is CatalogFormat.json:
        _emit(cat.catalog_json(defs))
    elif fmt is CatalogFormat.md:
        _emit(cat.catalog_markdown(defs))
    else:
        from cscli.render.terminal import render_catalog

        render_catalog(defs, _stdout(width))
    return ExitCode.OK


def _interrupt(signum: int, frame: Any) -> None:
    # unwinds the stack (temporary files are removed on the way), then exit 2; not
    # KeyboardInterrupt, which click would turn into "Aborted!" and exit 1 outside a command
    raise Interrupted(signal.Signals(signum).name)


def main() -> None:
    """Console-script entry point. Even an error outside the commands' boundary (while parsing
    the command line) exits 2, never 1 (which means "a check failed")."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        app()
    except SystemExit:
        raise
    except BaseException as e:
        raise SystemExit(_report_failure(e)) from None
