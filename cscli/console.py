"""The command line's consoles and its one error boundary.

The commands print through here: stdout (tables drawn by the renderers, or machine text written
exactly) and stderr (notes, `wrote PATH`), and every failure is reported here, as
`error:`/`hint:` lines with its exit code. Kept apart from the command declarations
(`cscli.cli`), whose private helpers these are, hence the leading underscores. The consoles
come from `cscli.render.safe`; what runs on them is the renderers'.

Exit 1 always means "a check failed": an error, an interrupt, a bug, even a failure while
printing the error, exits 2.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer._click.exceptions import UsageError as ClickUsageError  # typer's own click

from cscli.errors import ConfigError, CscliError, ExitCode, InputError, Interrupted
from cscli.render import annotations as gha
from cscli.render import safe
from cscli.render.annotations import annotation

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from cscli.checks import CheckResult


class _State:
    debug = False


#: the global options (`cscli --debug COMMAND`), set before the command runs
state = _State()


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


def _deprecated_strict(command: str) -> None:
    """The note that `report --strict` / `validate --strict` is the old `--strict-data`."""
    from cscli.strict import DEPRECATED_STRICT

    note = DEPRECATED_STRICT.format(command=command)
    _stderr().print(safe.labelled("warning:", "yellow", note), soft_wrap=True)


def _say(err: Console, text: str) -> None:
    """A line on stderr (`wrote PATH`) with the path printed literally."""
    err.print(safe.message(text), soft_wrap=True)


def _check_notes(
    result: CheckResult,
    err: Console,
    output: Path | None,
    breaches: Path | None,
    records: Any,
    *,
    annotated: bool,
) -> None:
    """`wrote …`, the data-quality findings (annotations under GitHub Actions unless the
    github output has them already, else `data:` notes) and "nothing checked", on stderr."""

    from cscli.render import checks as out

    if output is not None:
        _say(err, f"wrote {output}")
    if breaches is not None and records is not None:
        _say(err, f"wrote {breaches} ({records.height:,} records)")
    if not gha.in_github_actions():
        out.render_findings(result, err)
    elif not annotated or output is not None:
        found = gha.finding_annotations(result.data_quality, out.source_paths(result))
        sys.stderr.write("".join(line + "\n" for line in found))
    if result.all_skipped:
        err.print(safe.labelled("warning:", "yellow", _NOTHING_CHECKED), soft_wrap=True)


_NOTHING_CHECKED = (
    "no rule could be evaluated (every result is skipped): "
    "the exit code says pass, but nothing was checked"
)


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
        if gha.in_github_actions():
            sys.stderr.write("".join(line + "\n" for line in _failure_annotations(e)))
    except Exception as printing:  # the console itself failed: plain text, still exit 2
        lines = [text.plain for text in _failure_lines(e)]
        lines.append(f"(and printing that failed: {type(printing).__name__})")
        with suppress(Exception):
            sys.stderr.write("\n".join(safe.terminal(line, lines=True) for line in lines) + "\n")
        return code if code != int(ExitCode.CHECK_FAILED) else int(ExitCode.ERROR)
    return code


def _usage_failure(e: ClickUsageError, command: str) -> int:
    """A command-line mistake (unknown option, bad choice, missing argument) in the same
    `error:`/`hint:` form as every other error, exit 2, instead of click's usage box."""
    command = e.ctx.command_path if e.ctx is not None else command
    message = e.format_message().replace("Value error, ", "")  # typer's prefix on a bad choice
    return _report_failure(CscliError(message, hint=f"see `{command} --help`"))


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


def _failure_annotations(e: BaseException) -> list[str]:
    """Under GitHub Actions, the failure as `::error` workflow commands as well: one per config
    problem at its file, line and column; a data error at its file and row (or the `line N:`
    its message names). On stderr (stdout may be the command's data), which the runner reads
    for workflow commands as it reads stdout."""
    title = "cscli"
    if isinstance(e, ConfigError):
        hint = f" (hint: {e.hint})" if e.hint else ""
        return [
            annotation(
                "error",
                p.message + hint,
                # "config" stands for a config given as data, not a file
                file=p.file if p.line is not None or os.path.isfile(p.file) else None,
                line=p.line,
                col=p.column,
                title=title,
            )
            for p in e.problems
        ]
    if isinstance(e, InputError):
        line = e.row
        if line is None and (named := re.search(r"\bline (\d+):", e.message)):
            line = int(named.group(1))
        text = _one_line(e).removeprefix(f"{e.file}: ") if e.file else _one_line(e)
        return [annotation("error", text, file=e.file, line=line, title=title)]
    if isinstance(e, CscliError):
        return [annotation("error", _one_line(e), title=title)]
    text = " ".join(t.plain for t in _failure_lines(e)).removeprefix("error: ")
    return [annotation("error", text, title=title)]


def _one_line(e: CscliError) -> str:
    return e.message + (f" (hint: {e.hint})" if e.hint else "")


def _handle_interrupts() -> None:
    """Ctrl-C and SIGTERM raise `Interrupted`, which every boundary reports as exit 2."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def _interrupt(signum: int, frame: Any) -> None:
    # unwinds the stack (temporary files are removed on the way), then exit 2; not
    # KeyboardInterrupt, which click would turn into "Aborted!" and exit 1 outside a command
    raise Interrupted(signal.Signals(signum).name)
