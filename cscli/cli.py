"""The command line: parse options, call `cscli.api`, render, return an exit code.

This module is the only place errors are printed. Heavy modules (polars, the pipeline) are
imported inside the commands so that `cscli --help` starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from cscli import __version__
from cscli.errors import CscliError, DataQualityError, ExitCode


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


class Grain(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    md = "md"


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"
    github = "github"
    md = "md"


class DataFormat(StrEnum):
    table = "table"
    json = "json"


class CatalogFormat(StrEnum):
    table = "table"
    md = "md"
    json = "json"


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _stdout(width: int | None) -> Console:
    if width is None and not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        width = 120  # pipes and cron: wide enough that tables are not cut at 80 columns
    return Console(width=width, highlight=False)


F = TypeVar("F", bound=Callable[..., Any])


def _boundary(func: F) -> F:
    """The one error boundary: CscliError → `error:`/`hint:` and its exit code; anything else
    is a bug (exit 2). Tracebacks only with --debug, and never with local variables."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        err = _stderr()
        try:
            code = func(*args, **kwargs)
        except CscliError as e:
            if state.debug:
                traceback.print_exc()
            err.print(f"[bold red]error:[/] {e.message}", soft_wrap=True)
            for line in e.details():
                err.print(f"  {line}", soft_wrap=True)
            if e.hint:
                err.print(f"[bold]hint:[/] {e.hint}", soft_wrap=True)
            raise typer.Exit(int(e.exit_code)) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as e:
            if state.debug:
                traceback.print_exc()
            err.print(
                f"[bold red]error:[/] internal error ({type(e).__name__}: {e}). "
                "This is a bug in cscli; rerun with --debug for the traceback.",
                soft_wrap=True,
            )
            raise typer.Exit(int(ExitCode.ERROR)) from None
        raise typer.Exit(int(code or ExitCode.OK))

    return wrapper  # type: ignore[return-value]


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
    ] = ReportFormat.table,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help="Write a report file; the format follows the extension (.csv .parquet .json "
            ".md .html .xlsx). Repeatable; {date}, {from}, {to}, {grain} expand.",
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

    if demo and config is not None:
        from cscli.errors import UsageError

        raise UsageError("--demo and --config cannot be combined")
    err = _stderr()
    # a spinner keeps moving while polars works (it releases the GIL); only on a terminal
    busy = err.status("Computing KPIs…") if err.is_terminal else nullcontext()
    with busy:
        result = api.report(
            config,
            demo=demo,
            date_from=date_from,
            date_to=date_to,
            last=last,
            by=_split(by),
            grain=grain.value if grain else None,
            kpis=_split(kpi) or (),
            compare=compare.value if compare else None,
            profile=profile,
            # the trend (per-bucket totals over all groups) feeds sparklines and file charts
            trend=fmt is ReportFormat.table
            or any(o.lower().endswith((".html", ".htm", ".xlsx")) for o in output or ()),
        )
    if output:
        from cscli.render.files import now_local, write_report

        written = write_report(
            result, output, fallback=fmt.value, today=now_local(result.timezone).date()
        )
        if not quiet:
            for path in written:
                err.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if quiet:
        pass
    elif fmt is ReportFormat.json:
        from cscli.render.jsondoc import render_json

        sys.stdout.write(render_json(result))
    elif fmt is ReportFormat.csv or fmt is ReportFormat.md:
        from cscli.render import files

        if fmt is ReportFormat.md:
            sys.stdout.write(files.render_markdown(result))
        else:
            sys.stdout.write(files.flat_csv(result))
    elif not output:
        from cscli.render.terminal import render_report

        chosen = api.get_profile(profile) if profile else None
        render_report(
            result,
            _stdout(width),
            limit=limit,
            show_n=show_n,
            combined=chosen.combined if chosen else False,
            n_columns=chosen.n_columns if chosen else (),
            title=chosen.title if chosen else None,
        )
    if not quiet:
        from cscli.render.terminal import render_notes

        render_notes(result, err)
    if strict and result.data_quality:
        total = sum(q.rows for q in result.data_quality)
        raise DataQualityError(
            f"--strict: {len(result.data_quality)} data-quality finding(s) on {total:,} rows",
            hint="fix the export, or drop --strict to report with those rows excluded",
        )
    return ExitCode.OK


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
    from cscli.output import write_atomic
    from cscli.render import checks as out

    if demo and config is not None:
        from cscli.errors import UsageError

        raise UsageError("--demo and --config cannot be combined")
    err = _stderr()
    busy = err.status("Checking…") if err.is_terminal else nullcontext()
    with busy:
        result = api.check(
            config,
            demo=demo,
            date_from=date_from,
            date_to=date_to,
            last=last,
            rules=_split(rule) or (),
        )
    if fmt is None:
        fmt = (
            CheckFormat.github
            if os.environ.get("GITHUB_ACTIONS") == "true"
            else (CheckFormat.table)
        )
    if fmt is CheckFormat.table and output is None:
        out.render_table(result, _stdout(width))
    else:
        text = {
            CheckFormat.table: lambda: _plain_table(result, width),
            CheckFormat.json: lambda: out.render_json(result),
            CheckFormat.junit: lambda: out.render_junit(result, strict=strict),
            CheckFormat.github: lambda: out.render_github(result, strict=strict),
            CheckFormat.md: lambda: out.render_markdown(result),
        }[fmt]()
        if output is not None:
            write_atomic(output, text)
            err.print(f"wrote {output}", highlight=False)
        else:
            sys.stdout.write(text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt is CheckFormat.github and summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(out.render_markdown(result))
    if breaches is not None:
        from cscli.checks import breach_records

        frame = breach_records(api.open_config(config, demo=demo), result, strict=strict)
        write_atomic(breaches, lambda p: frame.write_csv(p))
        err.print(f"wrote {breaches} ({frame.height:,} records)", highlight=False)
    if result.outcomes and all(o.status == "skipped" for o in result.outcomes):
        err.print(
            "[yellow]warning:[/] no rule could be evaluated (every result is skipped): "
            "the exit code says pass, but nothing was checked",
            soft_wrap=True,
        )
    return result.exit_code(strict=strict)


def _plain_table(result: Any, width: int | None) -> str:
    from cscli.render import checks as out

    console = Console(width=width or 120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    out.render_table(result, console)
    return console.export_text()


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
        sys.stdout.write(validation.validation_json(result))
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
        sys.stdout.write(text)
    else:
        _stderr().print(f"wrote {path}; next: cscli validate -c {path}", highlight=False)
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
        sys.stdout.write(out.feedback_json(report))
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
        sys.stdout.write(cat.catalog_json(defs))
    elif fmt is CatalogFormat.md:
        sys.stdout.write(cat.catalog_markdown(defs))
    else:
        from cscli.render.terminal import render_catalog

        render_catalog(defs, _stdout(width))
    return ExitCode.OK


def main() -> None:
    """Console-script entry point."""
    app()
