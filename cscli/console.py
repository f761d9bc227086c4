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
import signal
import sys
import traceback
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer._click.exceptions import UsageError as ClickUsageError  # typer's own click

from cscli.errors import CscliError, ExitCode, Interrupted
from cscli.render import safe

if TYPE_CHECKING:
    from rich.console import Console


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


def _handle_interrupts() -> None:
    """Ctrl-C and SIGTERM raise `Interrupted`, which every boundary reports as exit 2."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def _interrupt(signum: int, frame: Any) -> None:
    # unwinds the stack (temporary files are removed on the way), then exit 2; not
    # KeyboardInterrupt, which click would turn into "Aborted!" and exit 1 outside a command
    raise Interrupted(signal.Signals(signum).name)
