"""The command line's options: the ones several commands share, the `--format` choices, and
`--compare [MODE]`, an option whose value is optional (which click options cannot be).

`--compare` is rewritten before click parses the command line: a bare `--compare` becomes
`--compare previous` and `--no-compare` becomes `--compare off`, so that `report` declares one
plain `--compare MODE` option.

The `--format` choices are read from the registries (`cscli.render.formats`) at start-up,
which imports no renderer: `cscli --help` stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer's own click
from typer.core import TyperGroup

from cscli.render import formats

# --- options several commands share -------------------------------------------------------

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
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="NAME",
        help="Where the KPIs are computed: polars (default), duckdb or spark; overrides "
        "engine: in the config and $CSCLI_ENGINE.",
    ),
]
WidthOpt = Annotated[
    int | None, typer.Option("--width", metavar="N", help="Terminal width (default: detected).")
]


def _no_cache(ctx: typer.Context, value: bool) -> bool:
    """`--no-cache`: the source cache off until the command ends."""
    if value:
        from cscli import cache

        ctx.with_resource(cache.switched(False))
    return value


NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        callback=_no_cache,
        help="Read CSV/JSON exports afresh instead of their cached canonical form (also "
        "$CSCLI_NO_CACHE=1); see `cscli cache`.",
    ),
]


def split_values(values: list[str] | None) -> list[str] | None:
    """A repeatable option's values, comma-separated ones split: `--by a,b --by c`."""
    if values is None:
        return None
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


# --- the --format choices -----------------------------------------------------------------

# mypy cannot see the members of an enum built from data, hence the ignores
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


# --- --compare [MODE] ---------------------------------------------------------------------


class CompareMode(StrEnum):
    previous = "previous"
    yoy = "yoy"
    off = "off"


def compare_args(args: list[str]) -> list[str]:
    """`args` with a bare `--compare` as `--compare previous` and `--no-compare` as
    `--compare off`; nothing after `--` is touched."""
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


class CompareGroup(TyperGroup):
    """The command group that rewrites `--compare` before parsing, and reports a usage error
    (the group's or a command's: unknown option or command, bad choice, missing argument) as
    `error:`/`hint:`, exit 2, like every other error."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, compare_args(args))
        except UsageError as e:
            raise _usage_exit(e, ctx.command_path) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as e:
            # an option's missing value has no context: the command being parsed is the one
            command = " ".join(filter(None, [ctx.command_path, ctx.invoked_subcommand]))
            raise _usage_exit(e, command) from None


def _usage_exit(e: UsageError, command: str) -> UsageError | typer.Exit:
    """The exception that ends the run: click's own for `cscli` alone (it prints the help),
    else an exit 2 once the error is printed."""
    if isinstance(e, NoArgsIsHelpError):
        return e
    from cscli.console import _usage_failure

    return typer.Exit(_usage_failure(e, command))
