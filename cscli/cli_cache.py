"""`cscli cache`: where the source cache lives, what it holds, and clearing it.

The cache itself is `cscli.cache` (docs/cache.md); these commands only show and clear it,
and import no polars.
"""

from typing import TYPE_CHECKING, Annotated

import typer

from cscli.console import _boundary, _emit
from cscli.errors import ExitCode
from cscli.options import CompareGroup, DataFormat

if TYPE_CHECKING:
    from datetime import datetime

cache_app = typer.Typer(
    name="cache",
    cls=CompareGroup,
    help="The source cache: CSV/JSON exports kept as canonical Parquet between runs.",
    no_args_is_help=True,
)


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


@cache_app.command("path")
@_boundary
def path() -> ExitCode:
    """Print the cache folder ($CSCLI_CACHE_DIR, else $XDG_CACHE_HOME/cscli or ~/.cache/cscli)."""
    from cscli import cache

    _emit(f"{cache.cache_dir()}\n")
    return ExitCode.OK


@cache_app.command("info")
@_boundary
def info(
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = DataFormat.table,
) -> ExitCode:
    """Show the cache folder, whether the cache is on, its entries and their size."""
    from cscli import cache

    found = cache.info()
    if fmt is DataFormat.json:
        import json

        doc = {
            "folder": str(found.folder),
            "enabled": found.enabled,
            "max_bytes": found.max_bytes,
            "bytes": found.size,
            "sources": [
                {
                    "key": e.key,
                    "source": e.source,
                    "config_file": e.config_file,
                    "files": list(e.files),
                    "rows": e.rows,
                    "bytes": e.size,
                    "created_at": _stamp(e.created_at),
                    "used_at": _stamp(e.used_at),
                }
                for e in found.entries
            ],
            "sentiment_files": [str(p) for p in found.sentiment_files],
            "facts_files": [str(p) for p in found.facts_files],
        }
        _emit(json.dumps(doc, indent=2) + "\n")
        return ExitCode.OK
    state = "on" if found.enabled else "off ($CSCLI_NO_CACHE)"
    lines = [
        f"cache folder: {found.folder}",
        f"source cache: {state}; {len(found.entries)} entries, "
        f"{_mib(sum(e.size for e in found.entries))} (cap {_mib(found.max_bytes)})",
    ]
    for e in found.entries:
        files = ", ".join(e.files[:2]) + (f" (+{len(e.files) - 2})" if len(e.files) > 2 else "")
        lines.append(
            f"  {e.source}: {e.rows:,} rows, {_mib(e.size)}, used {_stamp(e.used_at)} ← {files}"
        )
    if found.sentiment_files:
        size = sum(p.stat().st_size for p in found.sentiment_files if p.exists())
        lines.append(f"sentiment scores: {len(found.sentiment_files)} file(s), {_mib(size)}")
    if found.facts_files:
        size = sum(p.stat().st_size for p in found.facts_files if p.exists())
        lines.append(f"parquet facts: {len(found.facts_files)} file(s), {_mib(size)}")
    _emit("\n".join(lines) + "\n")
    return ExitCode.OK


@cache_app.command("clear")
@_boundary
def clear(
    keep_scores: Annotated[
        bool,
        typer.Option(
            "--keep-scores",
            help="Keep the sentiment scores (only the sources and Parquet facts go).",
        ),
    ] = False,
) -> ExitCode:
    """Remove the cached sources and Parquet facts (and the sentiment scores): the next run
    reads the exports."""
    from cscli import cache

    n, size = cache.clear(sentiment=not keep_scores)
    _emit(f"removed {n} cached item(s), {_mib(size)}, from {cache.cache_dir()}\n")
    return ExitCode.OK


def _stamp(at: "datetime") -> str:
    from datetime import UTC

    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
