"""One exception tree and the exit codes (DESIGN §2).

Every error cscli raises on purpose is a `CscliError`: it knows its exit code, where the problem
is (file, line, column or row) and the fix to try. The CLI catches it once, at its edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, in increasing precedence.

    OK             0  success; every check passed (warnings allowed unless --strict)
    CHECK_FAILED   1  a check failed (an SLA breach): the run itself worked
    ERROR          2  usage, config or data error, or a bug: the numbers cannot be trusted

    When several outcomes happen in one run, the most severe wins (see `worst`): an error hides
    a breach, because a breach computed from bad input is not a finding.
    """

    OK = 0
    CHECK_FAILED = 1
    ERROR = 2


def worst(codes: Iterable[ExitCode]) -> ExitCode:
    """The exit code of a run that produced all of `codes` (OK when there are none)."""
    return max(codes, default=ExitCode.OK)


class CscliError(Exception):
    """Base of every error cscli reports; `str()` is the one-line message."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def details(self) -> Sequence[str]:
        """Further lines printed under the message (e.g. one per config problem)."""
        return ()


class UsageError(CscliError):
    """Options that contradict each other or name things that do not exist."""


class UnknownDimension(UsageError):
    """`--by` names a dimension no source has: `--by <dimension>: <problem>`. A caller that
    asked for the cut on someone's behalf (a check's `by:`) words it for them."""

    def __init__(self, dimension: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"--by {dimension}: {problem}", hint=hint)
        self.dimension = dimension
        self.problem = problem


def dotted(path: Sequence[str | int]) -> str:
    """`("sources", "tickets", "columns")` → `sources.tickets.columns`; `("checks", 0)` →
    `checks[0]`."""
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a config: where it is and what.

    Where: `file:line:column` for a config file; for data that came from no file (a calendar
    spec given to `cscli.business_hours.parse` directly) its `path` in that data.
    """

    file: str
    line: int | None
    column: int | None
    message: str
    #: the path of the value at fault in the config's data, e.g. ("sources", "tickets", "path")
    path: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        where = self.file or dotted(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}" if where else self.message


class ConfigError(CscliError):
    """The config file is missing, unreadable or invalid. Carries every problem found."""

    def __init__(
        self,
        problems: Sequence[ConfigProblem] | str,
        *,
        hint: str | None = None,
    ) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem("config", None, None, problems)]
        self.problems = list(problems)
        file = self.problems[0].file
        if len(self.problems) == 1:
            message = str(self.problems[0])
        elif file:
            message = f"{len(self.problems)} problems in {file}"
        else:
            message = "; ".join(str(p) for p in self.problems)
        super().__init__(message, hint=hint)

    def details(self) -> Sequence[str]:
        return [str(p) for p in self.problems] if len(self.problems) > 1 else ()


class OutputError(CscliError):
    """An output file cannot be written (cscli.output): `cannot write PATH: reason`."""


class InputError(CscliError):
    """A data file cannot be used: missing, unreadable, or missing a required column."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if file:
            where.append(file)
        if row is not None:
            where.append(f"row {row:,}")
        if column:
            where.append(f'column "{column}"')
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full, hint=hint)
        self.file = file
        self.row = row
        self.column = column


class DataQualityError(CscliError):
    """`--strict` turned data-quality findings into an error."""


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM (raised by the CLI's signal handlers). A BaseException, so that no
    `except Exception` on the way swallows it; the CLI reports it and exits 2, never 1."""
