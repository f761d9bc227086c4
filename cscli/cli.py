"""The command line: parse options, call `cscli.api`, render, return an exit code.

The commands are declared here; what they print and how a failure is reported is
`cscli.console`, the one place errors are printed. Heavy modules (polars, the pipeline) are
imported inside the commands so that `cscli --help` starts fast. No `from __future__ import
annotations` here or in `cscli.cli_cache`: typer reads every command's annotations, and string
annotations cost it an `eval` (a compile) each, ~15 ms of `--help`'s startup.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cscli import __version__
from cscli.cli_cache import cache_app
from cscli.console import (
    _boundary,
    _check_notes,
    _deprecated_strict,
    _emit,
    _handle_interrupts,
    _report_failure,
    _say,
    _stderr,
    _stdout,
    state,
)
from cscli.errors import ExitCode
from cscli.options import (
    CatalogFormat,
    CheckFormat,
    CompareGroup,
    CompareMode,
    ConfigOpt,
    DataFormat,
    DemoOpt,
    EngineOpt,
    FromOpt,
    LastOpt,
    NoCacheOpt,
    ReportFormat,
    ToOpt,
    WidthOpt,
    split_values,
)
from cscli.period import Grain
from cscli.render import formats
from cscli.render.progress import progress_bar, spinner
from cscli.strict import DeprecatedStrictOpt, StrictDataOpt

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    cls=CompareGroup,
    name="cscli",
    help="Customer-service KPIs from ticket, call and survey exports.",
    add_completion=True,  # --install-completion, --show-completion
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
    no_args_is_help=True,
    # Our own boundary prints errors; rich's pretty tracebacks could print local variables,
    # which here hold customers' personal data.
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(cache_app)


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
            "--profile",
            metavar="NAME",
            help="A named view: scorecard (per agent), team, intraday (weekday × hour heatmaps).",
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
    strict_data: StrictDataOpt = False,
    strict: DeprecatedStrictOpt = False,
    engine: EngineOpt = None,
    no_cache: NoCacheOpt = False,
) -> ExitCode:
    """Compute the KPIs of the config and print them."""
    from cscli import api
    from cscli.render.terminal import render_notes
    from cscli.strict import data_flag, require_clean_report

    data_strict = data_flag(strict_data, strict)
    if strict and not strict_data:
        _deprecated_strict("report")

    err = _stderr()
    with spinner(err, "Computing KPIs…"):
        result = api.report(
            config,
            demo=demo,
            date_from=date_from,
            date_to=date_to,
            last=last,
            by=split_values(by),
            grain=grain,
            kpis=split_values(kpi) or (),
            compare=compare,
            profile=profile,
            trend=formats.needs_trend(fmt, output or ()),
            engine=engine,
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
        render_notes(result, err, reads=state.debug)
    if data_strict:
        require_clean_report(result, data_strict)
    return ExitCode.OK


def _terminal_report(
    result: Any, profile: str | None, console: "Console", *, limit: int, show_n: bool
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
    strict_data: StrictDataOpt = False,
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="Only the exit code and errors (files still written)."),
    ] = False,
    demo: DemoOpt = False,
    width: WidthOpt = None,
    engine: EngineOpt = None,
    no_cache: NoCacheOpt = False,
) -> ExitCode:
    """Evaluate the SLA rules of the config: exit 0 pass, 1 a rule failed, 2 an error."""
    from cscli import api
    from cscli.render import checks as out
    from cscli.strict import require_clean_findings

    err = _stderr()
    with spinner(err, "Checking…"):
        cfg = api.open_config(config, demo=demo, engine=engine)
        rules = split_values(rule) or ()
        result = api.check(cfg, date_from=date_from, date_to=date_to, last=last, rules=rules)
    chosen = formats.CHECK_FORMATS[fmt or formats.auto_check_format()]
    # the table goes to the terminal through rich; any other output (or -o) is text
    options = formats.Options(strict=strict, width=width)
    drawn = chosen.terminal and output is None
    text = chosen.text(result, options) if chosen.text and not drawn else None
    if quiet:
        pass  # -q: only the exit code and errors; the files asked for are still written
    elif text is None:
        out.render_table(result, _stdout(width))
    elif output is None:
        _emit(text)
    if chosen.name == "github":
        out.append_step_summary(result)
    records = api.breaches(cfg, result, strict=strict) if breaches is not None else None
    formats.write_check(output, text, breaches, records)
    if not quiet:
        _check_notes(result, err, output, breaches, records, annotated=chosen.name == "github")
    if strict_data:
        require_clean_findings(result.data_quality)
    return result.exit_code(strict=strict)


@app.command()
@_boundary
def validate(
    config: ConfigOpt = None,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = DataFormat.table,
    strict_data: StrictDataOpt = False,
    strict: DeprecatedStrictOpt = False,
    demo: DemoOpt = False,
    width: WidthOpt = None,
    engine: EngineOpt = None,
    no_cache: NoCacheOpt = False,
) -> ExitCode:
    """Load every source and print the data-quality report: rows, mappings, findings, KPIs."""
    from cscli import api
    from cscli.render import validation
    from cscli.strict import data_flag, require_clean_validation

    data_strict = data_flag(strict_data, strict)
    if strict and not strict_data:
        _deprecated_strict("validate")

    result = api.validate(config, demo=demo, engine=engine)
    if fmt is DataFormat.json:
        _emit(validation.validation_json(result))
    else:
        validation.render_validation(result, _stdout(width))
    if data_strict:
        require_clean_validation(result, data_strict)
    return ExitCode.OK


@app.command()
@_boundary
def ingest(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="DIR", file_okay=False, help="Folder to write the data to."
        ),
    ],
    config: ConfigOpt = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", "-s", metavar="NAME", help="Ingest only this source (repeatable)."
        ),
    ] = None,
    demo: DemoOpt = False,
) -> ExitCode:
    """Load the exports with their adapters and write them as canonical Parquet.

    Writes DIR/<source>/month=YYYY-MM/part-0.parquet (every record read, with _usable) and
    DIR/cscli-ingest.json (columns, findings, export time). Point a source at DIR/<source>
    (format: canonical) to report on it; see docs/ingest.md.
    """
    from cscli import api
    from cscli.render.ingest import render_ingest

    err = _stderr()
    names = split_values(source) or []
    with spinner(err, "Ingesting…") as status:

        def heard(name: str) -> None:
            if status is not None:
                status.update(f"Ingesting {name}…")

        manifest = api.ingest(config, out=out, sources=names, demo=demo, progress=heard)
    done = names or sorted(manifest.sources)
    render_ingest(manifest, sorted(set(done)), out.resolve(), _stdout(None))
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
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="URI",
            help="Propose sources from a database's tables (postgresql://, sqlite:///, "
            "duckdb:///); the config goes into FOLDER.",
        ),
    ] = None,
) -> ExitCode:
    """Detect the exports in a folder (vendor formats too) and write a starter cscli.yaml."""
    from cscli import api

    path, text = api.init(
        folder, force=force, timezone=timezone, write=not dry_run, database=database
    )
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
    no_cache: NoCacheOpt = False,
) -> ExitCode:
    """What customers say: sentiment labels, the most negative and positive comments (personal
    data masked), and the words and phrases that set complaints apart."""
    from cscli import api

    with progress_bar(_stderr(), "Scoring texts") as tick:
        report = api.feedback(
            config,
            demo=demo,
            source=source,
            by=split_values(by) or (),
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


def main() -> None:
    """Console-script entry point. Even an error outside the commands' boundary (while parsing
    the command line) exits 2, never 1 (which means "a check failed")."""
    _handle_interrupts()
    try:
        app()
    except SystemExit:
        raise
    except BaseException as e:
        raise SystemExit(_report_failure(e)) from None
